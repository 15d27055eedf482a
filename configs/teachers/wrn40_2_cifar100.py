# Teacher: WRN-40-2 (paper's teacher: 75.83 top-1) on CIFAR-100.
_base_ = [
    './_base_/cifar100_supervised.py',
    '../_base_/models/wrn40_2_cifar100.py',
]

model = _base_.wrn40_2_cifar100
