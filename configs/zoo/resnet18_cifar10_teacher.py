# The teacher of ./resnet18_mobilenetv2_own_images.py, trained here when
# you have no checkpoint of it: mmpretrain's CIFAR-10 ResNet-18 (the model
# of mmpretrain::resnet/resnet18_8xb16_cifar10.py, written out) with the
# recipe's normalisation for image files, supervised on a CIFAR-10 image
# folder (data_root with train/<class>/*.png|jpg and test/<class>/...).
#
#   python tools/train.py configs/zoo/resnet18_cifar10_teacher.py \
#       --cfg-options train_dataloader.dataset.data_root=CIFAR10_FOLDER \
#       val_dataloader.dataset.data_root=CIFAR10_FOLDER
#
# then give work_dirs/resnet18_cifar10_teacher/iter_39000.pth as the
# recipe's model.teacher_ckpt. Length: 39,000 iterations of 128 images
# (about 100 epochs), a GPU job (weeks on a CPU); the "Duration estimate"
# line after its first few iterations gives the time it takes on your
# machine.
_base_ = ['../_base_/default_runtime.py', '../benchmarks/_base_/cifar10.py']

model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    # The recipe's: CIFAR-10's statistics, images loaded BGR from files.
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=10,
        mean=[125.307, 122.961, 113.8575],
        std=[51.5865, 50.847, 51.255],
        to_rgb=True),
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
data_preprocessor = None  # the model's, not the base's

train_dataloader = dict(
    batch_size=128,
    num_workers=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=_base_.cifar10_train)
max_iters = 39000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=3000)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=500),
    # From the warm-up's end to train_cfg.max_iters (mmengine's default end;
    # the cosine's period is end - begin).
    dict(type='CosineAnnealingLR', by_epoch=False, begin=500)
]
default_hooks = dict(checkpoint=dict(interval=3000))
# Validation on test/ is all it needs (tools/test.py would want these).
test_dataloader = None
test_evaluator = None
test_cfg = None
