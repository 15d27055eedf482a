# ImageNet 32x32 (the downsampled ImageNet release: 1,281,167 train and
# 50,000 val images, 1000 classes), the in-domain data of the paper's
# ImageNet 32x32 row, as variables the teacher and distillation configs
# use. DownsampledImageNet reads the release's batch files as they are
# (without running pickled code):
#
#   unzip Imagenet32_train.zip -d data/imagenet32
#   unzip Imagenet32_val.zip -d data/imagenet32
#
# Inferred (the paper does not give this protocol; the authors' related
# data-free KD code has ImageNet at 32x32): training images randomly
# cropped with padding 4 and flipped, test images as they are; mean and std
# 0.5 (127.5 on the 0-255 scale). Batch sizes: ours.
imagenet32_root = 'data/imagenet32'
imagenet32_preparation = (
    'unzip Imagenet32_train.zip and Imagenet32_val.zip (the official '
    'downsampled ImageNet release) into data/imagenet32')
# The release's arrays are RGB: no channel swap.
imagenet32_preprocessor = dict(
    _scope_='mmpretrain',
    type='ClsDataPreprocessor',
    num_classes=1000,
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    to_rgb=False)


def _loader(split, pipeline, train):
    return dict(
        batch_size=128 if train else 256,
        num_workers=4 if train else 2,
        persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=train),
        dataset=dict(
            _scope_='mmpretrain',
            type='mmmosaic.DownsampledImageNet',
            data_root=imagenet32_root,
            split=split,
            pipeline=pipeline))


imagenet32_train = _loader('train', [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
], True)
imagenet32_val = _loader('val', [dict(type='PackInputs')], False)
