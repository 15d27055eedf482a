# Teacher: ResNet-34 (CIFAR variant) on CUB-200-2011 at 64x64, trained from
# scratch with labels; the teacher of ../mosaickd/resnet34_resnet18_cub200.py,
# which distils its last checkpoint (epoch_240.pth).
#
#   tar xzf CUB_200_2011.tgz -C data
#   python tools/train.py configs/teachers/resnet34_cub200.py
#
# The paper does not give its teachers' training; ours: the recipe of our
# CIFAR-100 teachers (./_base_/sgd_240e.py: SGD 0.1, weight decay 5e-4, batch
# 128, 240 epochs).
_base_ = [
    './_base_/sgd_240e.py',
    '../_base_/models/resnet34_resnet18_fine_grained.py',
]

in_domain_data = ('tar xzf CUB_200_2011.tgz -C data')
data_preparation = dict(
    train_dataloader=in_domain_data,
    val_dataloader=in_domain_data,
    test_dataloader=in_domain_data)

model = _base_.resnet34_cub200
train_dataloader = _base_.cub200_train
val_dataloader = _base_.cub200_test
test_dataloader = _base_.cub200_test
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
