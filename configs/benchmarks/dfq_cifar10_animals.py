# Baseline: DFQ on the CIFAR-10 benchmark: dfad_cifar10_animals.py with the
# generator terms of dfq_mnist.py (teacher BatchNorm statistics and class
# balance); no discriminator, no OOD image.
_base_ = ['./dfad_cifar10_animals.py']

model = dict(loss_weights=dict(balance=6.02, bn=1.0))
