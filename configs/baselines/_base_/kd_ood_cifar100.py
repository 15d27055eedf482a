# Baseline "KD on OOD data" (the KD rows of the MosaicKD paper) on CIFAR-100
# with CIFAR-10 as OOD data: everything but the teacher and the student.
# The student imitates the teacher at temperature 5 on augmented OOD images
# only. Same MosaicKD class, with neither generator nor discriminator;
# schedule and student optimiser as in MosaicKD, so that the baselines make
# the same number of student updates.
_base_ = ['../../mosaickd/_base_/mosaickd_cifar100.py']

model = dict(
    generator=None,
    discriminator=None,
    student_loss=dict(type='KLDivergenceLoss', temperature=5),
    # Each student step sees 512 OOD images, as many as MosaicKD's 256
    # synthetic plus 256 OOD ones.
    ood_batch_size=512)

optim_wrapper = dict(
    _delete_=True,
    constructor='PlayerOptimWrapperConstructor',
    student=_base_.optim_wrapper.student)
