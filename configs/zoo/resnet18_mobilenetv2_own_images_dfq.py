# DFQ, data-free: the recipe of ./resnet18_mobilenetv2_own_images.py
# without discriminator and without your images. The generator matches the
# teacher's BatchNorm statistics, disagrees with the student and keeps the
# teacher's classes balanced (DFQ's terms); the student learns the teacher
# on the generator's images alone, as many per update as the MosaicKD
# recipe gives it (your images replaced by generated ones), for the same
# number of updates; the loader yields empty batches. The OOD report
# recommends it when your images are far from what the teacher's BatchNorm
# layers remember. Same commands:
#
#   python tools/train.py CONFIG --cfg-options model.teacher_ckpt=TEACHER.pth
#
# Any MosaicKD config takes the same form with --cfg-options baseline=dfq
# (or a file that inherits it and sets this key).
_base_ = ['./resnet18_mobilenetv2_own_images.py']

baseline = 'dfq'
