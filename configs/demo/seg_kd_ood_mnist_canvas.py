# Segmentation demo baseline: plain KD (temperature 5) on the Fashion-MNIST
# canvases only. Same student, same number of student updates and images
# per update as seg_mosaickd_mnist_canvas.py; no generator, no
# discriminator.
_base_ = ['./seg_mosaickd_mnist_canvas.py']

model = dict(
    generator=None,
    discriminator=None,
    # 2 x 32 OOD images per student step (MosaicKD: 32 synthetic + 32 OOD),
    # 5 student steps an iteration.
    ood_batch_size=2 * 32,
    student_loss=dict(type='KLDivergenceLoss', temperature=5.0))
optim_wrapper = dict(
    _delete_=True,
    constructor='PlayerOptimWrapperConstructor',
    student=_base_.optim_wrapper.student)
