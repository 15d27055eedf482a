# VGG-11 with BatchNorm for CIFAR-100: the convolutional part of mmpretrain's
# VGG (its five max-pools take 32x32 to 1x1x512) without the 4096-wide fully
# connected layers of the ImageNet model; pooling and a linear layer classify.
# Only this one variable is defined, so a distillation config can take a
# teacher and a student from two such files without key clashes; a plain
# training config uses `model = _base_.vgg11_bn_cifar100`.
vgg11_bn_cifar100 = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    # CIFAR-100 channel statistics on the 0-255 scale. mmpretrain's CIFAR
    # datasets already give RGB arrays, hence no channel swap (to_rgb=False).
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=100,
        mean=[129.304, 124.070, 112.434],
        std=[68.170, 65.392, 70.418],
        to_rgb=False),
    backbone=dict(
        type='VGG', depth=11, norm_cfg=dict(type='BN'), num_classes=-1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
