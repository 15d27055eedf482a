# Baseline: DFAD on the Fashion-MNIST benchmark (see dfad_mnist.py), with
# the budget of mosaickd_fashion_mnist.py (400 outer iterations).
_base_ = ['./dfad_mnist.py', './_base_/fashion_mnist.py']

max_iters = 400
train_cfg = dict(max_iters=max_iters, val_interval=50)
cosine = [dict(type='CosineAnnealingLR', T_max=max_iters, by_epoch=False)]
param_scheduler = dict(generator=cosine, student=cosine)
custom_hooks = [
    dict(type='SafeCheckpointHook'),
    dict(type='RandomStateHook'),
    dict(type='PreemptionHook'),
    dict(type='MosaicVisualizationHook', interval=100, num_samples=200),
]
model = dict(
    teacher=dict(data_preprocessor={{_base_.fashion_preprocessor}}),
    student=dict(data_preprocessor={{_base_.fashion_preprocessor}}))
# mmengine's Runner hands the top-level data_preprocessor to a model that
# has none (MosaicKD's own); replace the demo's MNIST one.
data_preprocessor = {{_base_.fashion_preprocessor}}
val_dataloader = {{_base_.fashion_test}}
test_dataloader = {{_base_.fashion_test}}
