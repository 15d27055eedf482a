# Teacher: VGG-11 with BatchNorm (paper's teacher: 71.32 top-1) on CIFAR-100.
_base_ = [
    './_base_/cifar100_supervised.py',
    '../_base_/models/vgg11_bn_cifar100.py',
]

model = _base_.vgg11_bn_cifar100
