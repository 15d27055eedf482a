# Teacher: ResNet-34 (CIFAR variant) on ImageNet 32x32, trained from scratch
# with labels; the teacher of ../mosaickd/resnet34_resnet18_imagenet32.py,
# which distils its last checkpoint (epoch_40.pth).
#
#   unzip Imagenet32_train.zip -d data/imagenet32
#   unzip Imagenet32_val.zip -d data/imagenet32
#   python tools/train.py configs/teachers/resnet34_imagenet32.py
#
# The paper does not give its teachers' training; ours: SGD 0.1, weight decay
# 5e-4, batch 128, 40 epochs.
_base_ = [
    './_base_/sgd_240e.py',
    '../_base_/models/resnet34_resnet18_imagenet32.py',
]

in_domain_data = ('unzip Imagenet32_train.zip -d data/imagenet32; unzip '
                  'Imagenet32_val.zip -d data/imagenet32')
data_preparation = dict(
    train_dataloader=in_domain_data,
    val_dataloader=in_domain_data,
    test_dataloader=in_domain_data)

model = _base_.resnet34_imagenet32
train_dataloader = _base_.imagenet32_train
val_dataloader = _base_.imagenet32_val
test_dataloader = _base_.imagenet32_val
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, 5))
test_evaluator = val_evaluator

# Ours: 40 epochs (ImageNet 32x32 has 25 times CIFAR-100's images), the
# learning rate divided by 10 at epochs 20, 30 and 35.
param_scheduler = dict(milestones=[20, 30, 35])
train_cfg = dict(max_epochs=40)
