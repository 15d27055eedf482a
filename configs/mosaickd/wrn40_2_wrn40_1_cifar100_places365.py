# MosaicKD, WRN-40-2 -> WRN-40-1 on CIFAR-100, a Places365 subset as
# out-of-domain data (paper figure not recorded here; teacher 75.83).
# The OOD images are the 50,000 of Places365 this teacher is least sure about:
# write the subset file once per teacher with tools/select_ood_subset.py (see
# the base).
_base_ = [
    './_base_/mosaickd_cifar100_places365.py',
    '../_base_/models/wrn40_2_cifar100.py',
    '../_base_/models/wrn40_1_cifar100.py',
]

model = dict(teacher=_base_.wrn40_2_cifar100, student=_base_.wrn40_1_cifar100)
train_dataloader = dict(
    dataset=dict(
        subset_file='data/ood_subsets/places365_32_wrn40_2_cifar100.json'))
