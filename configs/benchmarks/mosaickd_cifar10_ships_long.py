# MosaicKD with a coverage-poor OOD set: the animal teacher distilled from
# the 5,000 CIFAR-10 ship images only (water, sky and hulls; the paper's
# regime, where the OOD images show few of the teacher's classes), for
# 1,000 outer iterations (5,000 student updates) instead of the vehicle
# config's 200: the budget of the cifar10_animals_long benchmark setting.
_base_ = ['./mosaickd_cifar10_animals.py']

max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=50)
default_hooks = dict(logger=dict(interval=50))
custom_hooks = [
    dict(type='MosaicVisualizationHook', interval=250, num_samples=120),
]
train_dataloader = dict(dataset=dict(source=dict(classes=('ship', ))))
