# Baseline: plain KD on the photos (temperature 5) at the budget of
# mosaickd_camvid_long.py: the same student, 900 student updates of 32
# photos, no generator and no discriminator.
_base_ = ['./kd_ood_camvid.py']

max_iters = 180
train_cfg = dict(max_iters=max_iters, val_interval=10)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=30))
