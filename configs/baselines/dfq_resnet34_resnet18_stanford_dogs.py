# Baseline: DFQ-style data-free KD, ResNet-34 -> ResNet-18 on Stanford Dogs at
# 64x64, no image at all: the generator of
# ../mosaickd/resnet34_resnet18_stanford_dogs.py plays against the student
# through the teacher (adversarial term), matches the teacher's BatchNorm
# statistics and balances its classes; weights as ./_base_/dfq_cifar100.py
# explains. No discriminator; generator and student optimisers and schedule as
# in MosaicKD.
_base_ = ['../mosaickd/resnet34_resnet18_stanford_dogs.py']

model = dict(
    discriminator=None,
    ood_batch_size=None,
    loss_weights=dict(adv=1, align=0, local=0, balance=6.02, bn=1.0))

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
