# Baseline "KD on OOD data" on CIFAR-100 with Places365 as OOD data: ./
# kd_ood_cifar100.py with Places365 images at 32x32 (see
# ../../_base_/datasets/ood_places365.py); each setting's config names the
# teacher's high-entropy subset (subset_file), the same one MosaicKD uses.
_base_ = ['./kd_ood_cifar100.py', '../../_base_/datasets/ood_places365.py']

data_preparation = dict(
    train_dataloader=_base_.places365_preparation.format(size=32))
train_dataloader = dict(dataset=_base_.places365_32_ood)
