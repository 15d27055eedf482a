# MosaicKD on the CamVid benchmark at three times the budget of
# mosaickd_camvid.py: 180 outer iterations (900 student updates) instead of
# 60, to see whether the learning curves have flattened and whether a
# maturing generator changes the comparison with KD on the photos.
# Everything else as in mosaickd_camvid.py.
_base_ = ['./mosaickd_camvid.py']

max_iters = 180
train_cfg = dict(max_iters=max_iters, val_interval=10)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=30))
custom_hooks = [
    dict(type='MosaicVisualizationHook', interval=60, num_samples=64),
]
