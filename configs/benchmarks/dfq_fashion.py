# Baseline: DFQ on the Fashion-MNIST benchmark: dfad_fashion.py with the
# generator terms of dfq_mnist.py (teacher BatchNorm statistics and class
# balance).
_base_ = ['./dfad_fashion.py']

model = dict(loss_weights=dict(balance=6.02, bn=1.0))
