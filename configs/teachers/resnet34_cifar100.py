# Teacher: ResNet-34 (CIFAR variant) on CIFAR-100; the paper's has 78.05 top-1.
_base_ = [
    './_base_/cifar100_supervised.py',
    '../_base_/models/resnet34_cifar100.py',
]

model = _base_.resnet34_cifar100
