# DFQ, data-free: the recipe of ./deeplabv3_r50_mobilenetv2_own_images.py
# without discriminator and without your images. The generator matches the
# teacher's BatchNorm statistics, disagrees with the student and keeps the
# teacher's classes balanced (DFQ's terms); the student learns the
# teacher's per-pixel outputs on the generator's images alone, as many per
# update as the MosaicKD recipe gives it, for the same number of updates.
# The OOD report recommends it when your images are far from what the
# teacher's BatchNorm layers remember. Same commands as the recipe.
_base_ = ['./deeplabv3_r50_mobilenetv2_own_images.py']

model = dict(
    discriminator=None,
    # B + N generated images a student update, none of yours.
    synthetic_batch_size=_base_.synthetic_batch_size + _base_.ood_batch_size,
    ood_batch_size=None,
    loss_weights=dict(adv=1.0, align=0.0, local=0.0, balance=6.02, bn=1.0))
# No image is read: the loader yields empty batches.
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
