# Teacher of the CIFAR-10 benchmark: the six animal classes, supervised.
_base_ = ['../_base_/default_runtime.py', './_base_/cifar10_animals.py']

model = _base_.teacher
train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='ClassFolderSubset',
        data_root=_base_.cifar10_root,
        split='train',
        classes=_base_.animals,
        pipeline=[
            dict(type='mmpretrain.LoadImageFromFile'),
            dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
            dict(type='mmpretrain.RandomFlip', prob=0.5),
            dict(type='mmpretrain.PackInputs')
        ]))
max_iters = 1500
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
# A cosine to 0 over train_cfg.max_iters (mmengine's default end).
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False)]
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=500))
