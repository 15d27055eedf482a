# CIFAR-10 split into an in-domain task and out-of-domain images: the
# teacher classifies the six animal classes; the four vehicle classes'
# training images are the OOD data (their labels are never read). data_root
# holds train/<class>/*.jpg and test/<class>/*.jpg (any CIFAR-10 image
# folder in that layout); benchmarks/quality.py sets it with --data-root.
cifar10_root = 'data/cifar10'
animals = ('bird', 'cat', 'deer', 'dog', 'frog', 'horse')
vehicles = ('airplane', 'automobile', 'ship', 'truck')
data_preparation = dict(
    train_dataloader='a CIFAR-10 image folder with train/<class>/*.jpg '
    'and test/<class>/*.jpg',
    val_dataloader='a CIFAR-10 image folder with test/<class>/*.jpg',
    test_dataloader='a CIFAR-10 image folder with test/<class>/*.jpg')

# CIFAR-10 statistics on the 0-255 scale, RGB.
data_preprocessor = dict(
    _scope_='mmpretrain',
    type='ClsDataPreprocessor',
    mean=[125.3, 123.0, 113.9],
    std=[63.0, 62.1, 66.7],
    to_rgb=True,
    num_classes=6)


def _classifier(channels):
    # mmmosaic's SmallConvNet (two convs a stage) and a linear head.
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=data_preprocessor,
        backbone=dict(
            type='mmmosaic.SmallConvNet',
            in_channels=3,
            channels=channels,
            convs_per_stage=2),
        head=dict(
            type='LinearClsHead',
            num_classes=6,
            in_channels=channels[-1],
            loss=dict(type='CrossEntropyLoss')))


# A VGG-like teacher (about 290k parameters) and a student with half its
# width (about 1/4 of its parameters).
teacher = _classifier((32, 64, 128))
student = _classifier((16, 32, 64))

animals_test = dict(
    batch_size=500,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ClassFolderSubset',
        data_root=cifar10_root,
        split='test',
        classes=animals,
        pipeline=[
            dict(type='mmpretrain.LoadImageFromFile'),
            dict(type='mmpretrain.PackInputs')
        ]))
val_dataloader = animals_test
test_dataloader = animals_test
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_evaluator = val_evaluator
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
