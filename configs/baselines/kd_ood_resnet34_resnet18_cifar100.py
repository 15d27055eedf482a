# Baseline "KD on OOD data", ResNet-34 -> ResNet-18 on CIFAR-100, CIFAR-10 as
# out-of-domain data (paper: 73.55 top-1 with a 78.05 teacher).
_base_ = [
    './_base_/kd_ood_cifar100.py',
    '../_base_/models/resnet34_cifar100.py',
    '../_base_/models/resnet18_cifar100.py',
]

model = dict(
    teacher=_base_.resnet34_cifar100, student=_base_.resnet18_cifar100)
