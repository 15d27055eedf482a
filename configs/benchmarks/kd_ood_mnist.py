# Baseline of the MNIST <- Fashion-MNIST benchmark: the demo's KD-on-OOD
# config with the budget of mosaickd_mnist.py (800 outer iterations).
_base_ = ['../demo/kd_ood_mnist_fashion.py']

max_iters = 800
train_cfg = dict(max_iters=max_iters, val_interval=100)
