# MosaicKD on the CIFAR-10 benchmark at a longer budget: 1,000 outer
# iterations (5,000 student updates) instead of 200, so that the generator
# has time to mature before the comparison is read. Everything else as in
# mosaickd_cifar10_animals.py.
_base_ = ['./mosaickd_cifar10_animals.py']

max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=50)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=100))
custom_hooks = [
    dict(type='MosaicVisualizationHook', interval=250, num_samples=120),
]
