# MosaicKD on CIFAR-100 with Places365 as out-of-domain data: the CIFAR-10
# setting (./mosaickd_cifar100.py) with Places365 images at 32x32 (see
# ../../_base_/datasets/ood_places365.py). Each setting's config names the
# teacher's high-entropy subset of 50,000 images (subset_file): as many as
# CIFAR-10's train set, so the schedule (196 iterations an epoch, 200
# epochs) is the CIFAR-10 setting's.
_base_ = ['./mosaickd_cifar100.py', '../../_base_/datasets/ood_places365.py']

data_preparation = dict(
    train_dataloader=_base_.places365_preparation.format(size=32))
train_dataloader = dict(dataset=_base_.places365_32_ood)
