# DFQ on the MNIST benchmark with the demo's budget, 400 outer iterations
# (2000 student updates): dfad_mnist_400.py with the generator terms of
# dfq_mnist.py (teacher BatchNorm statistics and class balance).
_base_ = ['./dfad_mnist_400.py']

model = dict(loss_weights=dict(balance=6.02, bn=1.0))
