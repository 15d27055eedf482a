# Baseline "KD on OOD data" (the KD rows of the MosaicKD paper; 47.47 top-1
# for WRN-40-2 -> WRN-16-1 with CIFAR-10): the student imitates the teacher
# at temperature 5 on augmented CIFAR-10 images only. Same MosaicKD class,
# with neither generator nor discriminator; schedule and student optimiser as
# in MosaicKD, so both baselines make the same number of student updates.
_base_ = [
    '../mosaickd/_base_/mosaickd_cifar100.py',
    '../_base_/models/wrn40_2_cifar100.py',
    '../_base_/models/wrn16_1_cifar100.py',
]

# Each student step sees 512 OOD images, as many as MosaicKD's 256 synthetic
# plus 256 OOD ones.
ood_images_per_student_step = 512

model = dict(
    teacher=_base_.wrn40_2_cifar100,
    student=_base_.wrn16_1_cifar100,
    generator=None,
    discriminator=None,
    student_loss=dict(type='KLDivergenceLoss', temperature=5))

# Without a discriminator the whole batch feeds the k student steps.
train_dataloader = dict(batch_size=ood_images_per_student_step *
                        _base_.student_steps)

optim_wrapper = dict(
    _delete_=True,
    constructor='PlayerOptimWrapperConstructor',
    student=_base_.optim_wrapper.student)
param_scheduler = dict(_delete_=True, student=_base_.param_scheduler.student)
