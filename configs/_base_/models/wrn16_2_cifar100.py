# WRN-16-2 for CIFAR-100 (32x32 input, 8x8x128 final feature map).
# Only this one variable is defined, so a distillation config can take a
# teacher and a student from two such files without key clashes; a plain
# training config uses `model = _base_.wrn16_2_cifar100`.
wrn16_2_cifar100 = dict(
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
    backbone=dict(type='mmmosaic.WideResNet_CIFAR', depth=16, widen_factor=2),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
