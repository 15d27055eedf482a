# MosaicKD on a 64x64 fine-grained data set (CUB-200, Stanford Dogs) with
# Places365 at 64x64 as out-of-domain data: the CIFAR-100 recipe
# (./mosaickd_cifar100.py) with players for 64x64 images and the ResNet-34 /
# ResNet-18 of ../../_base_/models/resnet34_resnet18_fine_grained.py. Each
# setting's config adds its teacher and student, its Places365 subset
# (subset_file), its test split and its schedule (200 epochs of the subset).
#
# Inferred: Places365 at 64x64 as the OOD data (see the settings' configs).
# Ours: the generator starts at 8x8 with 3 upsamplings (the official one has
# 2 for 32x32); the discriminator has 3 stride-2 layers (22x22-pixel patches
# on 64x64 images, about the patch / image ratio of the official 10-pixel
# patches on 32x32).
_base_ = [
    './mosaickd_cifar100.py',
    '../../_base_/datasets/ood_places365.py',
    '../../_base_/models/resnet34_resnet18_fine_grained.py',
]

data_preparation = dict(
    train_dataloader=_base_.places365_preparation.format(size=64))

model = dict(
    generator=dict(img_size=64, num_upsamples=3),
    discriminator=dict(num_downsamples=3))
train_dataloader = dict(dataset=_base_.places365_64_ood)
