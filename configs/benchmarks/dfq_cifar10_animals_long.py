# Baseline: DFQ at the long budget of mosaickd_cifar10_animals_long.py
# (5,000 student updates): dfad_cifar10_animals_long.py with the generator
# terms of dfq_mnist.py (teacher BatchNorm statistics and class balance).
_base_ = ['./dfad_cifar10_animals_long.py']

model = dict(loss_weights=dict(balance=6.02, bn=1.0))
