# MosaicKD, WRN-40-2 -> WRN-16-2 on CIFAR-100, SVHN as out-of-domain data
# (paper: 44.40 top-1 with a 75.83 teacher).
_base_ = [
    './_base_/mosaickd_cifar100_svhn.py',
    '../_base_/models/wrn40_2_cifar100.py',
    '../_base_/models/wrn16_2_cifar100.py',
]

model = dict(teacher=_base_.wrn40_2_cifar100, student=_base_.wrn16_2_cifar100)
