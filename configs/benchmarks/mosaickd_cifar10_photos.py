# MosaicKD on the ten-class CIFAR-10 benchmark with far-domain OOD images:
# distil the CIFAR-10 teacher into a student of 1/7 its parameters from
# general photographs only (landscapes, buildings, people, scenes; no
# CIFAR-10 image, no label): our stand-in for the paper's Places365.
#
# Each OOD image is a random crop of a photo, resized to 32x32: a crop of
# 10 % to 100 % of the photo's area, aspect ratio 3/4 to 4/3, for both the
# discriminator's real images and the student's (which is also flipped).
# Give the photos with --cfg-options
#   train_dataloader.dataset.source.data_root=DIR
# (any tree of .jpg/.png files) and the teacher with model.teacher_ckpt.
_base_ = ['../_base_/mosaickd_small.py', './_base_/cifar10.py']

data_preparation = dict(
    train_dataloader='a folder of unlabeled photos (any tree of .jpg/.png '
    'files), e.g. BSDS500, Urban100 or SUN images')

synthetic_batch_size = 64
student_steps = 5
max_iters = 1000

model = dict(
    teacher=_base_.teacher,
    student=_base_.student,
    generator=dict(
        img_size=32, out_channels=3, base_channels=32, num_upsamples=2),
    discriminator=dict(in_channels=3, base_channels=32, num_downsamples=2),
    student_steps=student_steps,
    synthetic_batch_size=synthetic_batch_size,
    # N = B OOD images beside G's B in each student update; the loader's
    # batch follows: D's B real images, then k chunks of N.
    ood_batch_size=synthetic_batch_size)

photo_crop = dict(
    type='mmpretrain.RandomResizedCrop',
    scale=32,
    crop_ratio_range=(0.1, 1.0),
    aspect_ratio_range=(3. / 4., 4. / 3.))
ood_source = dict(
    type='UnlabeledImageFolder',
    data_root='data/scene-photos',
    pipeline=[dict(type='mmpretrain.LoadImageFromFile')])
train_dataloader = dict(
    dataset=dict(
        type='OODDataset',
        source=ood_source,
        # 680 photos of about 256x380 pixels: decode each once (about
        # 200 MB) instead of at every draw.
        cache_decoded=True,
        real_pipeline=[photo_crop,
                       dict(type='mmpretrain.PackInputs')],
        student_pipeline=[
            photo_crop,
            dict(type='mmpretrain.RandomFlip', prob=0.5),
            dict(type='mmpretrain.PackInputs')
        ]))

train_cfg = dict(max_iters=max_iters, val_interval=50)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=100))
custom_hooks = [
    # work_dir/mosaics/iter_*.png: the generator's images, one row per
    # class the teacher sees in them.
    dict(type='MosaicVisualizationHook', interval=250, num_samples=120),
]
