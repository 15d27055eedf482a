# Baseline "KD on OOD data", ResNet-34 -> ResNet-18 on CIFAR-100, a Places365
# subset as out-of-domain data (paper figure not recorded here; teacher 78.05).
# The OOD images are the 50,000 of Places365 this teacher is least sure about:
# write the subset file once per teacher with tools/select_ood_subset.py (see
# the base).
_base_ = [
    './_base_/kd_ood_cifar100_places365.py',
    '../_base_/models/resnet34_cifar100.py',
    '../_base_/models/resnet18_cifar100.py',
]

model = dict(
    teacher=_base_.resnet34_cifar100, student=_base_.resnet18_cifar100)
train_dataloader = dict(
    dataset=dict(
        subset_file='data/ood_subsets/places365_32_resnet34_cifar100.json'))
