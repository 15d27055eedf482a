# MosaicKD, VGG-11-BN -> ResNet-18 on CIFAR-100, SVHN as out-of-domain data
# (paper: 37.63 top-1 with a 71.32 teacher).
_base_ = [
    './_base_/mosaickd_cifar100_svhn.py',
    '../_base_/models/vgg11_bn_cifar100.py',
    '../_base_/models/resnet18_cifar100.py',
]

model = dict(
    teacher=_base_.vgg11_bn_cifar100, student=_base_.resnet18_cifar100)
