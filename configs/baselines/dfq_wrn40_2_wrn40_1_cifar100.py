# Baseline: DFQ-style data-free KD, WRN-40-2 -> WRN-40-1 on CIFAR-100, no image
# at all (paper: 54.43 top-1 with a 75.83 teacher).
_base_ = [
    './_base_/dfq_cifar100.py',
    '../_base_/models/wrn40_2_cifar100.py',
    '../_base_/models/wrn40_1_cifar100.py',
]

model = dict(teacher=_base_.wrn40_2_cifar100, student=_base_.wrn40_1_cifar100)
