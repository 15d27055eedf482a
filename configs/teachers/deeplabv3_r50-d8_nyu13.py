# Teacher for configs/mosaickd/deeplabv3_nyu.py: DeepLabV3-R50-D8 trained
# with labels on NYUv2 (13 classes, 255 = ignore), plain mmseg training.
#
#   python tools/dataset_converters/nyu.py SRC data/nyuv2
#   python tools/train.py configs/teachers/deeplabv3_r50-d8_nyu13.py
#
# The model is mmseg's own DeepLabV3-R50-D8 (model zoo base config). Offline
# there are no ImageNet weights, so the backbone starts from random
# initialisation (pretrained=None: nothing tries to download). Where the
# download works, a much stronger teacher comes from
#   --cfg-options model.pretrained=open-mmlab://resnet50_v1c
# (NYUv2 has only 795 training images).
# Everything about the training recipe here is ours; the paper and the
# authors' DFAD code do not publish how their teacher was trained.
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py',
    '../_base_/default_runtime.py',
]

# Registers NYUv2Dataset even where mmmosaic.datasets does not import it
# (and lets mmseg's own tools/train.py run this config).
custom_imports = dict(
    imports=['mmmosaic.datasets.nyu'], allow_failed_imports=False)
data_root = 'data/nyuv2'
data_preparation = dict(
    train_dataloader='python tools/dataset_converters/nyu.py SRC data/nyuv2',
    val_dataloader='python tools/dataset_converters/nyu.py SRC data/nyuv2',
    test_dataloader='python tools/dataset_converters/nyu.py SRC data/nyuv2')
num_classes = 13
crop_size = (128, 128)
# Images are resized so that their short side is 256 (DFAD's protocol:
# 128 crops from images resized to 256); 2048 only bounds the long side.
img_scale = (2048, 256)
# Plain BN: one process usually trains this; SyncBN also works on GPUs.
norm_cfg = dict(type='BN', requires_grad=True)

data_preprocessor = dict(size=crop_size)
model = dict(
    _scope_='mmseg',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(norm_cfg=norm_cfg),
    decode_head=dict(num_classes=num_classes, norm_cfg=norm_cfg),
    auxiliary_head=dict(num_classes=num_classes, norm_cfg=norm_cfg))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.LoadAnnotations'),
    dict(
        type='mmseg.RandomResize',
        scale=img_scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='mmseg.RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='mmseg.RandomFlip', prob=0.5),
    dict(type='mmseg.PhotoMetricDistortion'),
    dict(type='mmseg.PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    # Labels are loaded after the resize: the metric runs at full size.
    dict(type='mmseg.LoadAnnotations'),
    dict(type='mmseg.PackSegInputs')
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='NYUv2Dataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='images/train', seg_map_path='annotations/train'),
        pipeline=train_pipeline))
nyu_test = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='NYUv2Dataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='images/test', seg_map_path='annotations/test'),
        test_mode=True,
        pipeline=test_pipeline))
val_dataloader = nyu_test
test_dataloader = nyu_test
# mIoU: nan-mean of the per-class IoU over the 13 classes, 255 ignored.
val_evaluator = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

max_iters = 20000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    clip_grad=None)
# Poly decay over train_cfg.max_iters (mmengine's default end).
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=2000))
