# MosaicKD on the CamVid benchmark: distil the CamVid UNet teacher into a
# UNet of half its width (1/4 of its parameters) from general photos only
# (no CamVid frame, no label). Give the teacher with --cfg-options
#   model.teacher_ckpt=work_dirs/teacher_camvid/iter_1600.pth
# (and the data folders, see ./_base_/camvid.py).
_base_ = ['../_base_/mosaickd_small.py', './_base_/camvid.py']

data_preparation = dict(
    train_dataloader='a folder of unlabeled photos (any tree of .jpg/.png '
    'files), e.g. BSDS500, Urban100 or SUN images')

synthetic_batch_size = 16
student_steps = 5
# 300 student updates: what our 2-core CPU could afford for three methods
# in one session. Measured on one CPU thread (CPU time an iteration):
# MosaicKD 11.6 s, KD on OOD 9.9 s, DFAD 12.7 s, so a MosaicKD run takes
# about 12 minutes with its 6 evaluations (~5 s each). A GPU affords far
# more: set train_cfg.max_iters (the schedules follow it).
max_iters = 60

model = dict(
    teacher=_base_.teacher,
    student=_base_.student,
    # 96x128 images, from 6x8 through 4 upsamplings, 256 -> 16 channels.
    generator=dict(
        img_size=_base_.crop_size,
        out_channels=3,
        base_channels=16,
        num_upsamples=4),
    # 3 stride-2 layers: each logit judges a 22x22-pixel patch (12x16
    # logits a crop), about a car or a pedestrian in a 96x128 crop (a
    # quarter of its height) while road, buildings and sky span many
    # patches: like the official 10-pixel patches, a part of an object.
    discriminator=dict(in_channels=3, base_channels=32, num_downsamples=3),
    student_steps=student_steps,
    synthetic_batch_size=synthetic_batch_size,
    # N = B OOD images beside G's B in each student update; the loader's
    # batch follows: D's B real images, then k chunks of N.
    ood_batch_size=synthetic_batch_size)

train_dataloader = dict(
    dataset=dict(
        type='OODDataset',
        source=_base_.ood_source,
        real_pipeline=_base_.ood_real_pipeline,
        student_pipeline=_base_.ood_student_pipeline))

train_cfg = dict(max_iters=max_iters, val_interval=10)
# The student optimiser of all three CamVid methods (KD on OOD and DFAD use
# the same): the paper's SGD, lr 0.1, momentum 0.9. In a short KD-on-OOD
# trial (150 updates) it taught this 1.4M-parameter UNet faster than the
# segmentation demo's Adam 3e-3, which suits the demo's far smaller UNets.
# It is the base's (../_base_/mosaickd_small.py), named here.
student_sgd = _base_.optim_wrapper.student.optimizer
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=30))
custom_hooks = [
    # work_dir/mosaics/iter_*.png: generated images next to the teacher's
    # predicted masks, one row per dominant class.
    dict(type='MosaicVisualizationHook', interval=30, num_samples=64),
]
