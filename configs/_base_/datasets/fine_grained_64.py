# The 64x64 protocol of the fine-grained rows (CUB-200, Stanford Dogs), as
# variables ./cub200.py and ./stanford_dogs.py use.
#
# The paper does not give it; inferred from the authors' related data-free
# KD code, which trains both data sets at 64x64: short side resized to 64;
# training images randomly cropped to 64x64 with padding 8 and flipped;
# test images centre-cropped to 64x64; mean and std 0.5 (127.5 on the
# 0-255 scale). Batch sizes (128 for training, 256 for testing): ours, as
# our CIFAR-100 settings.
fine_grained_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=64, edge='short'),
    dict(type='RandomCrop', crop_size=64, padding=8),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
fine_grained_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=64, edge='short'),
    dict(type='CenterCrop', crop_size=64),
    dict(type='PackInputs'),
]


def _preprocessor(num_classes):
    # Image files load as BGR; the models see RGB.
    return dict(
        _scope_='mmpretrain',
        type='ClsDataPreprocessor',
        num_classes=num_classes,
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        to_rgb=True)


def _loader(dataset, root, split, pipeline, train):
    return dict(
        batch_size=128 if train else 256,
        num_workers=4 if train else 2,
        persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=train),
        dataset=dict(
            _scope_='mmpretrain',
            type=f'mmmosaic.{dataset}',
            data_root=root,
            split=split,
            pipeline=pipeline))


cub200_root = 'data/CUB_200_2011'
cub200_preprocessor = _preprocessor(200)
cub200_train = _loader('CUB200', cub200_root, 'train',
                       fine_grained_train_pipeline, True)
cub200_test = _loader('CUB200', cub200_root, 'test',
                      fine_grained_test_pipeline, False)

stanford_dogs_root = 'data/StanfordDogs'
stanford_dogs_preprocessor = _preprocessor(120)
stanford_dogs_train = _loader('StanfordDogs', stanford_dogs_root, 'train',
                              fine_grained_train_pipeline, True)
stanford_dogs_test = _loader('StanfordDogs', stanford_dogs_root, 'test',
                             fine_grained_test_pipeline, False)
