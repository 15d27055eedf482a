# MosaicKD, ResNet-34 -> ResNet-18 on CIFAR-100, SVHN as out-of-domain data
# (paper: 47.18 top-1 with a 78.05 teacher).
_base_ = [
    './_base_/mosaickd_cifar100_svhn.py',
    '../_base_/models/resnet34_cifar100.py',
    '../_base_/models/resnet18_cifar100.py',
]

model = dict(
    teacher=_base_.resnet34_cifar100, student=_base_.resnet18_cifar100)
