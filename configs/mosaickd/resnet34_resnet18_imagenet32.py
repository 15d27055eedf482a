# MosaicKD, ResNet-34 -> ResNet-18 on ImageNet 32x32, Places365 at 32x32 as
# out-of-domain data (paper: 26.51 top-1).
#
#   unzip Imagenet32_train.zip -d data/imagenet32
#   unzip Imagenet32_val.zip -d data/imagenet32
#   python tools/train.py configs/teachers/resnet34_imagenet32.py
#   python tools/dataset_converters/places365.py SRC/data_256 \
#       data/places365_32 --size 32
#   python tools/select_ood_subset.py \
#       configs/mosaickd/resnet34_resnet18_imagenet32.py --num 1281167 --out \
#       data/ood_subsets/places365_32_resnet34_imagenet32.json --cfg-options \
#       model.teacher_ckpt=work_dirs/resnet34_imagenet32/epoch_40.pth
#   python tools/train.py configs/mosaickd/resnet34_resnet18_imagenet32.py \
#       --cfg-options \
#       model.teacher_ckpt=work_dirs/resnet34_imagenet32/epoch_40.pth
#
# From the paper and its official code: the game (1 D, 1 G, 5 S updates an
# iteration), loss weights adv 1, align 1, local 1, balance 10, student KL at
# temperature 1, optimisers and cosine schedules, batch 256, z of 100
# dimensions, the 32x32 generator and discriminator, and the OOD subset rule:
# the teacher's most uncertain OOD images, as many as the in-domain train set
# (1,281,167; tools/select_ood_subset.py).
# Inferred (the paper does not give this protocol; the authors' related
# data-free KD code has ImageNet and Places365 at 32x32): Places365 at 32x32 as
# the OOD data, the data protocol (../_base_/datasets/imagenet32.py) and
# ResNet-34 -> ResNet-18.
# Ours: 20 epochs of the OOD subset instead of the paper's 200 (200 epochs of
# 1.28 million images would be a million iterations); the teacher's recipe
# (configs/teachers/).
# The CIFAR-100 recipe with Places365 at 32x32 as the OOD data
# (./_base_/mosaickd_cifar100_places365.py); the task, its OOD subset and
# its schedule are this file's.
_base_ = [
    './_base_/mosaickd_cifar100_places365.py',
    '../_base_/models/resnet34_resnet18_imagenet32.py',
]

teacher_config = 'configs/teachers/resnet34_imagenet32.py'
in_domain_data = ('unzip Imagenet32_train.zip -d data/imagenet32; unzip '
                  'Imagenet32_val.zip -d data/imagenet32')
data_preparation = dict(
    val_dataloader=in_domain_data,
    test_dataloader=in_domain_data,
    teacher_ckpt=f'python tools/train.py {teacher_config}')

# 20 epochs of the 1,281,167-image OOD subset in batches of 256.
iters_per_epoch = 5005
max_iters = 20 * iters_per_epoch
val_interval = 5 * iters_per_epoch

model = dict(
    teacher=_base_.resnet34_imagenet32, student=_base_.resnet18_imagenet32)
train_dataloader = dict(
    dataset=dict(
        subset_file='data/ood_subsets/places365_32_resnet34_imagenet32.json'))
val_dataloader = dict(_base_.imagenet32_val, _delete_=True)
test_dataloader = val_dataloader

train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
default_hooks = dict(checkpoint=dict(interval=val_interval))
