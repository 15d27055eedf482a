# Baseline: data-free adversarial KD (DFAD, Fang et al. 2019) on CIFAR-100:
# everything but the teacher and the student. The generator only maximises
# the teacher/student disagreement (the adversarial term); there is no
# discriminator and no OOD data, so the student learns from synthetic
# images alone. Generator, student optimisers and schedule as in MosaicKD.
_base_ = ['../../mosaickd/_base_/mosaickd_cifar100.py']

model = dict(
    discriminator=None,
    ood_batch_size=None,
    loss_weights=dict(adv=1, align=0, local=0, balance=0))

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
