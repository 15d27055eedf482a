# MosaicKD on the CIFAR-10 benchmark: distil the animal teacher into a
# student with half its width from vehicle images only (no animal image,
# no label).
_base_ = ['../_base_/mosaickd_small.py', './_base_/cifar10_animals.py']

synthetic_batch_size = 64
student_steps = 5
max_iters = 200

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

ood_source = dict(
    type='ClassFolderSubset',
    data_root=_base_.cifar10_root,
    split='train',
    classes=_base_.vehicles,
    pipeline=[dict(type='mmpretrain.LoadImageFromFile')])
train_dataloader = dict(
    dataset=dict(
        type='OODDataset',
        source=ood_source,
        real_pipeline=[dict(type='mmpretrain.PackInputs')],
        student_pipeline=[
            dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
            dict(type='mmpretrain.RandomFlip', prob=0.5),
            dict(type='mmpretrain.PackInputs')
        ]))

train_cfg = dict(max_iters=max_iters, val_interval=25)
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=100))
custom_hooks = [
    # work_dir/mosaics/iter_*.png: the generator's images, one row per
    # class the teacher sees in them.
    dict(type='MosaicVisualizationHook', interval=100, num_samples=120),
]
