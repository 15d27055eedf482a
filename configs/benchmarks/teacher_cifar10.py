# Teacher of the ten-class CIFAR-10 benchmarks (cifar10_photos,
# cifar10_digits): supervised on the 50,000 training images, 8,000
# iterations of 128 (about 20 epochs), SGD with Nesterov momentum, a short
# linear warm-up, then cosine decay.
_base_ = ['../_base_/default_runtime.py', './_base_/cifar10.py']

model = _base_.teacher
train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=_base_.cifar10_train)
max_iters = 8000
warmup = 200
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
        end=warmup),
    # From the warm-up's end to train_cfg.max_iters (mmengine's default end;
    # the cosine's period is end - begin).
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup)
]
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=1000))
