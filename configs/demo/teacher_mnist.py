# The demo's teacher: a small CNN trained on MNIST with labels (supervised).
_base_ = ['../_base_/default_runtime.py', './_base_/mnist_fashion.py']

model = _base_.teacher
train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _scope_='mmpretrain',
        type='MNIST',
        data_root=_base_.mnist_root,
        split='train',
        pipeline=[
            dict(type='RandomCrop', crop_size=28, padding=2),
            dict(type='PackInputs')
        ]))
max_iters = 900
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=300)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
# A cosine to 0 over train_cfg.max_iters (mmengine's default end).
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False)]
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=300))
