# Baseline "KD on OOD data" on CIFAR-100 with ImageNet as OOD data: ./
# kd_ood_cifar100.py with ImageNet images at 32x32 (see
# ../../_base_/datasets/ood_imagenet.py); each setting's config names the
# teacher's high-entropy subset (subset_file), the same one MosaicKD uses.
_base_ = ['./kd_ood_cifar100.py', '../../_base_/datasets/ood_imagenet.py']

data_preparation = dict(train_dataloader=_base_.imagenet_preparation)
train_dataloader = dict(dataset=_base_.imagenet_ood)
