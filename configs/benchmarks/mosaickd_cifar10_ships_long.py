# MosaicKD with a coverage-poor OOD set: the animal teacher distilled from
# the 5,000 CIFAR-10 ship images only (water, sky and hulls; the paper's
# regime, where the OOD images show few of the teacher's classes). Long
# budget as mosaickd_cifar10_animals_long.py.
_base_ = ['./mosaickd_cifar10_animals_long.py']

train_dataloader = dict(dataset=dict(source=dict(classes=('ship', ))))
