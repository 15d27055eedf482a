# Baseline "KD on OOD data", ResNet-34 -> ResNet-18 on ImageNet 32x32: the
# student imitates the teacher at temperature 5 on the augmented OOD images of
# ../mosaickd/resnet34_resnet18_imagenet32.py (the same Places365 subset) only.
# Same MosaicKD class, with neither generator nor discriminator; schedule and
# student optimiser as in MosaicKD.
_base_ = ['../mosaickd/resnet34_resnet18_imagenet32.py']

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
