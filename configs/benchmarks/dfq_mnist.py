# Baseline: DFQ-style data-free KD (Choi et al. 2020, the paper's "DFQ" row)
# on the MNIST benchmark: DFAD (dfad_mnist.py: the same generator and
# adversarial term, no discriminator, no OOD image) plus two generator terms,
# the teacher's BatchNorm statistics on the generated images (bn) and the
# class balance of the teacher's predictions (balance).
#
# Weights: adv 1 and bn 1 as the authors' data-free script; its class
# balance is 20 x sum p log10 p, which is 6.02 x our log2 balance term.
# That script also has a one-hot term (0.5 x cross-entropy of the teacher
# with its own argmax), which we leave out. Ours: the bn loss sums one
# Euclidean norm per BatchNorm layer (BNStatisticsLoss).
_base_ = ['./dfad_mnist.py']

model = dict(loss_weights=dict(balance=6.02, bn=1.0))
