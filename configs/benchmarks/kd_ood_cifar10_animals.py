# Baseline: plain KD on the vehicle images (temperature 5), the same student,
# the same number of student updates and images per update as
# mosaickd_cifar10_animals.py, no generator and no discriminator.
_base_ = ['./mosaickd_cifar10_animals.py']

model = dict(
    generator=None,
    discriminator=None,
    student_loss=dict(type='KLDivergenceLoss', temperature=5.0),
    # 2 x 64 OOD images per student step (MosaicKD: 64 synthetic + 64 OOD).
    ood_batch_size=2 * 64)
optim_wrapper = dict(
    _delete_=True,
    constructor='PlayerOptimWrapperConstructor',
    student=_base_.optim_wrapper.student)
# No generator, so no mosaics (the checkpoint, random-state and SIGTERM
# hooks are added by tools/train.py for every training run).
custom_hooks = []
