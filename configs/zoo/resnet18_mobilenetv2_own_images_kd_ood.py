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
# Any MosaicKD config takes the same form with --cfg-options baseline=kd_ood
# (or a file that inherits it and sets this key).
_base_ = ['./resnet18_mobilenetv2_own_images.py']

baseline = 'kd_ood'
# No generator, so no mosaics (checkpoint, random-state and interruption
# hooks are added by tools/train.py to every training run).
custom_hooks = []
