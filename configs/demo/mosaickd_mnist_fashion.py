# MosaicKD on the demo: distil the MNIST teacher into a 4x smaller student
# using only Fashion-MNIST images (no MNIST image, no label).
_base_ = ['../_base_/mosaickd_small.py', './_base_/mnist_fashion.py']

synthetic_batch_size = 64
student_steps = 5
max_iters = 400

model = dict(
    teacher=_base_.teacher,
    student=_base_.student,
    generator=dict(
        img_size=28, out_channels=1, base_channels=16, num_upsamples=2),
    discriminator=dict(in_channels=1, base_channels=32, num_downsamples=2),
    student_steps=student_steps,
    synthetic_batch_size=synthetic_batch_size,
    # N = B OOD images beside G's B in each student update; the loader's
    # batch follows: D's B real images, then k chunks of N.
    ood_batch_size=synthetic_batch_size)

ood_source = dict(
    _scope_='mmpretrain',
    type='FashionMNIST',
    data_root=_base_.fashion_root,
    split='train',
    pipeline=[])
train_dataloader = dict(
    dataset=dict(
        type='OODDataset',
        source=ood_source,
        real_pipeline=[dict(type='mmpretrain.PackInputs')],
        student_pipeline=[
            dict(type='mmpretrain.RandomCrop', crop_size=28, padding=2),
            dict(type='mmpretrain.RandomFlip', prob=0.5),
            dict(type='mmpretrain.PackInputs')
        ]))

train_cfg = dict(max_iters=max_iters, val_interval=50)
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=100))
custom_hooks = [
    # work_dir/mosaics/iter_*.png: the generator's images, one row per
    # class the teacher sees in them.
    dict(type='MosaicVisualizationHook', interval=100, num_samples=200),
]
