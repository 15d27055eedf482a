# Baseline: data-free adversarial KD (DFAD) at the long budget of
# mosaickd_cifar10_animals_long.py: 128 synthetic images per student
# update, 5,000 updates, no discriminator and no OOD image.
_base_ = ['./dfad_cifar10_animals.py']

max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=50)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=100))
custom_hooks = [
    dict(type='MosaicVisualizationHook', interval=250, num_samples=120),
]
