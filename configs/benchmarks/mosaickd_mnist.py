# The MNIST <- Fashion-MNIST benchmark: the demo's MosaicKD config
# (configs/demo/mosaickd_mnist_fashion.py) with twice its budget, 800 outer
# iterations (4000 student updates); the schedules follow max_iters.
_base_ = ['../demo/mosaickd_mnist_fashion.py']

max_iters = 800
train_cfg = dict(max_iters=max_iters, val_interval=100)
custom_hooks = [
    dict(type='MosaicVisualizationHook', interval=200, num_samples=200),
]
