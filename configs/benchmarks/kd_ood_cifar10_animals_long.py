# Baseline: plain KD on the vehicle images (temperature 5) at the long
# budget of mosaickd_cifar10_animals_long.py: same student, same 5,000
# student updates of 128 images, no generator and no discriminator.
_base_ = ['./kd_ood_cifar10_animals.py']

max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=50)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=100))
