# MosaicKD on CIFAR-100 with SVHN as out-of-domain data: the CIFAR-10
# setting (./mosaickd_cifar100.py) with SVHN's cropped digits as the OOD
# images and the schedule the authors' loop gives them, 200 epochs of SVHN
# (see ../../_base_/datasets/ood_svhn.py).
_base_ = ['./mosaickd_cifar100.py', '../../_base_/datasets/ood_svhn.py']

data_preparation = dict(train_dataloader=_base_.svhn_preparation)
train_dataloader = dict(dataset=_base_.svhn_ood)
train_cfg = dict(
    max_iters=_base_.svhn_max_iters, val_interval=_base_.svhn_val_interval)
default_hooks = dict(checkpoint=dict(interval=_base_.svhn_val_interval))
