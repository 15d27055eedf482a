# Plain KD on your own images: the recipe of
# ./resnet18_mobilenetv2_own_images.py without generator and
# discriminator. The student learns the teacher's outputs (temperature 5)
# on your images alone, with as many images per student update as the
# MosaicKD recipe gives it (its generated ones replaced by yours) and the
# same number of updates. The OOD report recommends it (or both) when the
# teacher sees most of its classes in your images. Same commands:
#
#   python tools/train.py CONFIG --cfg-options model.teacher_ckpt=TEACHER.pth
#
# A copy of your own recipe takes the same form: inherit it through
# _base_ and set these keys.
_base_ = ['./resnet18_mobilenetv2_own_images.py']

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
# No generator, so no mosaics (checkpoint, random-state and interruption
# hooks are added by tools/train.py to every training run).
custom_hooks = []
