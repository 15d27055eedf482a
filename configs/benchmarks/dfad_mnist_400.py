# DFAD on the MNIST benchmark with the demo's budget, 400 outer iterations
# (2000 student updates), as configs/demo/mosaickd_mnist_fashion.py.
_base_ = ['./dfad_mnist.py']

max_iters = 400
train_cfg = dict(max_iters=max_iters, val_interval=50)
custom_hooks = [
    dict(type='MosaicVisualizationHook', interval=100, num_samples=200),
]
