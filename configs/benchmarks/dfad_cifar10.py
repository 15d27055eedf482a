# Baseline: data-free adversarial KD (DFAD) on the ten-class CIFAR-10
# benchmark: the generator only maximises the teacher/student disagreement;
# no discriminator, no OOD image. 128 synthetic images per student update
# (MosaicKD: 64 synthetic + 64 OOD), the same 5,000 updates. It reads no OOD
# image, so cifar10_photos and cifar10_digits share its runs.
_base_ = ['./mosaickd_cifar10_photos.py']

model = dict(
    discriminator=None,
    ood_batch_size=None,
    synthetic_batch_size=128,
    loss_weights=dict(adv=1.0, align=0.0, local=0.0, balance=0.0))
# The training loop needs a dataloader; this one yields empty batches.
train_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=False),
    dataset=dict(type='NoImagesDataset'))
optim_wrapper = dict(
    _delete_=True,
    constructor='PlayerOptimWrapperConstructor',
    generator=_base_.optim_wrapper.generator,
    student=_base_.optim_wrapper.student)
