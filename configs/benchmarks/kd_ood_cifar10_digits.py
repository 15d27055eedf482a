# Baseline: plain KD on the MNIST digits of mosaickd_cifar10_digits.py
# (temperature 5), the same student, number of student updates and images
# per update, no generator and no discriminator.
_base_ = ['./mosaickd_cifar10_digits.py']

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
custom_hooks = []
