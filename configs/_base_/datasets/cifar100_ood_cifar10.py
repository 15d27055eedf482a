# Distillation towards CIFAR-100 with CIFAR-10 as the out-of-domain (OOD) data.
#
# Evaluation stays on the CIFAR-100 test split (from ./cifar100.py); the
# labelled CIFAR-100 train loader is replaced by unlabelled CIFAR-10 train
# images (OODDataset drops CIFAR-10's labels) in MosaicKD's two views:
# `real`, what the discriminator sees as real (no augmentation), and
# `student`, the augmented images added to the student's inputs.
_base_ = ['./cifar100.py']

# B: images the generator makes per step, and real OOD images per D step.
synthetic_batch_size = 256
# k: student updates per outer iteration, each with B more OOD images.
student_steps = 5

train_dataloader = dict(
    _delete_=True,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='OODDataset',
        source=dict(
            _scope_='mmpretrain',
            type='CIFAR10',
            data_root='data/cifar10',
            split='train',
            pipeline=[]),
        real_pipeline=[dict(type='mmpretrain.PackInputs')],
        student_pipeline=[
            dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
            dict(
                type='mmpretrain.RandomFlip', prob=0.5,
                direction='horizontal'),
            dict(type='mmpretrain.PackInputs'),
        ]))
