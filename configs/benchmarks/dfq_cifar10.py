# Baseline: DFQ on the ten-class CIFAR-10 benchmark: dfad_cifar10.py with
# the generator terms of dfq_mnist.py (the teacher's BatchNorm statistics,
# and the class balance at the authors' weight: 20 x sum p log10 p is 6.02 x
# our log2 term); no discriminator, no OOD image.
_base_ = ['./dfad_cifar10.py']

model = dict(loss_weights=dict(balance=6.02, bn=1.0))
