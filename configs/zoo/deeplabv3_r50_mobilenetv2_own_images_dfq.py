# DFQ, data-free: the recipe of ./deeplabv3_r50_mobilenetv2_own_images.py
# without discriminator and without your images (baseline='dfq'). The
# generator matches the teacher's BatchNorm statistics, disagrees with the
# student and keeps the teacher's classes balanced (DFQ's terms); the
# student learns the teacher's per-pixel outputs on the generator's images
# alone, as many per update as the MosaicKD recipe gives it, for the same
# number of updates; the loader yields empty batches. The OOD report
# recommends it when your images are far from what the teacher's BatchNorm
# layers remember. Same commands as the recipe.
_base_ = ['./deeplabv3_r50_mobilenetv2_own_images.py']

baseline = 'dfq'
