# Baseline: data-free adversarial KD (DFAD) at the budget of
# mosaickd_camvid_long.py: 32 synthetic images per student update, 900
# updates, no discriminator and no photo.
_base_ = ['./dfad_camvid.py']

max_iters = 180
train_cfg = dict(max_iters=max_iters, val_interval=10)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=30))
custom_hooks = [
    dict(type='MosaicVisualizationHook', interval=60, num_samples=64),
]
