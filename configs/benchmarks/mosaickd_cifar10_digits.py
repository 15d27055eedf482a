# MosaicKD on the ten-class CIFAR-10 benchmark from a far domain: MNIST
# training digits (no CIFAR-10 image, no label) as 3-channel 32x32 images,
# our stand-in for the paper's SVHN. Everything else as in
# mosaickd_cifar10_photos.py. `python tools/dataset_converters/fetch_mnist.py`
# (make data) writes data/mnist.
#
# Each 28x28 digit is repeated into three channels and padded by 2 pixels
# to 32x32 (the discriminator's real images); the student's view is a
# random 32x32 crop of the digit padded by 4, flipped half the time.
_base_ = ['./mosaickd_cifar10_photos.py']

data_preparation = dict(
    train_dataloader='python tools/dataset_converters/fetch_mnist.py')

to_color = dict(type='GrayToColor', channels=3)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='OODDataset',
        source=dict(
            _scope_='mmpretrain',
            type='MNIST',
            data_root='data/mnist',
            split='train',
            pipeline=[]),
        real_pipeline=[
            to_color,
            dict(type='mmpretrain.RandomCrop', crop_size=32, padding=2),
            dict(type='mmpretrain.PackInputs')
        ],
        student_pipeline=[
            to_color,
            dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
            dict(type='mmpretrain.RandomFlip', prob=0.5),
            dict(type='mmpretrain.PackInputs')
        ]))
