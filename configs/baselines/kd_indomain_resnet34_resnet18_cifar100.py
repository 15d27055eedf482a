# Baseline: KD on the teacher's own training images (the paper's in-domain
# KD row: 77.87 top-1 for ResNet-34 -> ResNet-18 on CIFAR-100, with a 78.05
# teacher). KD on OOD data (./_base_/kd_ood_cifar100.py) with CIFAR-100's
# train images instead of OOD images; their labels are never read
# (OODDataset drops them), the student learns from the teacher only.
#
# Paper: the figure, and the KD baseline's temperature (5). Inferred: the
# rest of the KD baseline's recipe (512 images per student update, 5
# updates an iteration, the student's SGD and cosine schedule over 200
# epochs of 50,000 images; the train images augmented with the crop and
# flip of the OOD view).
_base_ = [
    './_base_/kd_ood_cifar100.py',
    '../_base_/models/resnet34_cifar100.py',
    '../_base_/models/resnet18_cifar100.py',
]

model = dict(
    teacher=_base_.resnet34_cifar100, student=_base_.resnet18_cifar100)
train_dataloader = dict(
    dataset=dict(
        source=dict(
            _delete_=True,
            _scope_='mmpretrain',
            type='CIFAR100',
            data_root='data/cifar100',
            split='train',
            pipeline=[])))
