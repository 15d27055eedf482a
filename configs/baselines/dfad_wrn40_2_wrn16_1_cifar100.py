# Baseline: data-free adversarial KD (DFAD), WRN-40-2 -> WRN-16-1 on
# CIFAR-100 (not a row of the MosaicKD paper; its data-free row is DFQ,
# dfq_wrn40_2_wrn16_1_cifar100.py).
_base_ = [
    './_base_/dfad_cifar100.py',
    '../_base_/models/wrn40_2_cifar100.py',
    '../_base_/models/wrn16_1_cifar100.py',
]

model = dict(teacher=_base_.wrn40_2_cifar100, student=_base_.wrn16_1_cifar100)
