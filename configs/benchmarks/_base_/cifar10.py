# CIFAR-10, all ten classes: the in-domain task of the cifar10_photos and
# cifar10_digits benchmarks, whose OOD images come from far domains (scene
# photographs; MNIST digits). data_root holds train/<class>/*.jpg and
# test/<class>/*.jpg (any CIFAR-10 image folder in that layout);
# benchmarks/quality.py sets it with --data-root.
cifar10_root = 'data/cifar10'
classes = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck')
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
    num_classes=10)


def _classifier(channels):
    # mmmosaic's SmallConvNet (two convs a stage, VGG-like) and a linear
    # head.
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
            num_classes=10,
            in_channels=channels[-1],
            loss=dict(type='CrossEntropyLoss')))


# A VGG-like teacher of about 290k parameters, and a student of about 41k
# (1/7 of the teacher's; the paper's WRN-40-2 -> WRN-16-1 is about 1/13).
# On two CPU threads the teacher trains at about 490 images/s, the student
# at about 2,100.
teacher = _classifier((32, 64, 128))
student = _classifier((12, 24, 48))

cifar10_train = dict(
    type='ClassFolderSubset',
    data_root=cifar10_root,
    split='train',
    classes=classes,
    pipeline=[
        dict(type='mmpretrain.LoadImageFromFile'),
        dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
        dict(type='mmpretrain.RandomFlip', prob=0.5),
        dict(type='mmpretrain.PackInputs')
    ])
cifar10_test = dict(
    batch_size=500,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ClassFolderSubset',
        data_root=cifar10_root,
        split='test',
        classes=classes,
        pipeline=[
            dict(type='mmpretrain.LoadImageFromFile'),
            dict(type='mmpretrain.PackInputs')
        ]))
val_dataloader = cifar10_test
test_dataloader = cifar10_test
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_evaluator = val_evaluator
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
