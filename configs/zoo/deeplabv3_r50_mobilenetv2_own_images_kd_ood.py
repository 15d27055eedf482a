# Plain KD on your own images: the recipe of
# ./deeplabv3_r50_mobilenetv2_own_images.py without generator and
# discriminator (baseline='kd_ood'). The student learns the teacher's
# per-pixel outputs (temperature 5) on your images alone, with as many images
# per student update as the MosaicKD recipe gives it (its generated ones
# replaced by yours) and the same number of updates. Same commands as the
# recipe.
_base_ = ['./deeplabv3_r50_mobilenetv2_own_images.py']

baseline = 'kd_ood'
# No generator, so no mosaics.
custom_hooks = []
