# Baseline: plain KD on the ship images only, the long budget (see
# mosaickd_cifar10_ships_long.py).
_base_ = ['./kd_ood_cifar10_animals_long.py']

train_dataloader = dict(dataset=dict(source=dict(classes=('ship', ))))
