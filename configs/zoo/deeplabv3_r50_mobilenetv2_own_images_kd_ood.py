# Plain KD on your own images: the recipe of
# ./deeplabv3_r50_mobilenetv2_own_images.py without generator and
# discriminator. The student learns the teacher's per-pixel outputs
# (temperature 5) on your images alone, with as many images per student
# update as the MosaicKD recipe gives it (its generated ones replaced by
# yours) and the same number of updates. Same commands as the recipe.
_base_ = ['./deeplabv3_r50_mobilenetv2_own_images.py']

model = dict(
    generator=None,
    discriminator=None,
    student_loss=dict(type='KLDivergenceLoss', temperature=5.0),
    # B + N images a student update, all of them yours.
    ood_batch_size=_base_.synthetic_batch_size + _base_.ood_batch_size)
optim_wrapper = dict(
    _delete_=True,
    constructor='PlayerOptimWrapperConstructor',
    student=_base_.optim_wrapper.student)
# No generator, so no mosaics.
custom_hooks = []
