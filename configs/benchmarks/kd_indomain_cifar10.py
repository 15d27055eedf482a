# Upper bound: KD on the in-domain CIFAR-10 training images (the paper's
# "in-domain KD" row; their labels are never read), with the same student,
# temperature (5), number of student updates and images per update as KD on
# the OOD images (mosaickd_cifar10_photos.py with baseline='kd_ood'). Shared
# by cifar10_photos and cifar10_digits.
_base_ = ['./mosaickd_cifar10_photos.py']

baseline = 'kd_ood'

data_preparation = dict(
    train_dataloader='a CIFAR-10 image folder with train/<class>/*.jpg')

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='OODDataset',
        source=dict(
            type='ClassFolderSubset',
            data_root=_base_.cifar10_root,
            split='train',
            classes=_base_.classes,
            pipeline=[dict(type='mmpretrain.LoadImageFromFile')]),
        real_pipeline=[dict(type='mmpretrain.PackInputs')],
        student_pipeline=[
            dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
            dict(type='mmpretrain.RandomFlip', prob=0.5),
            dict(type='mmpretrain.PackInputs')
        ]))
