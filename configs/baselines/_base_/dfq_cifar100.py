# Baseline: DFQ-style data-free KD (Choi et al. 2020; the paper's "DFQ"
# row) on CIFAR-100: DFAD (./dfad_cifar100.py: the same generator and
# adversarial term, no discriminator, no OOD image) plus two generator
# terms, the teacher's BatchNorm statistics on the generated images (bn)
# and the class balance of the teacher's predictions (balance).
#
# Paper: the DFQ row of the CIFAR-100 table. The authors' data-free script
# (theirs produced that row): adv 1, bn 1, and a class balance of
# 20 x sum p log10 p, which is 6.02 x our log2 balance term; schedule,
# batch and optimisers here are MosaicKD's, not that script's.
# Left out: the script's one-hot term (0.5 x cross-entropy of the teacher
# with its own argmax). Ours: the bn loss sums one Euclidean norm per
# BatchNorm layer (BNStatisticsLoss), where that script takes one norm
# over all layers' statistics at once.
_base_ = ['./dfad_cifar100.py']

model = dict(loss_weights=dict(balance=6.02, bn=1.0))
