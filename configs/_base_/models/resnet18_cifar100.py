# ResNet-18 for CIFAR-100, CIFAR variant: mmpretrain's ResNet_CIFAR (3x3 stem,
# no max-pool; 32x32 input gives a 4x4x512 final feature map).
# Only this one variable is defined, so a distillation config can take a
# teacher and a student from two such files without key clashes; a plain
# training config uses `model = _base_.resnet18_cifar100`.
resnet18_cifar100 = dict(
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
        type='ResNet_CIFAR', depth=18, num_stages=4, out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
