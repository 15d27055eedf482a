# MosaicKD on NYUv2 (13 classes): distil a DeepLabV3-R50-D8 teacher into a
# DeepLabV3-MobileNetV2 student using only out-of-domain (OOD) images.
#
#   python tools/dataset_converters/nyu.py SRC data/nyuv2   # test split
#   python tools/train.py configs/teachers/deeplabv3_r50-d8_nyu13.py
#   ln -s /path/to/unlabeled/images data/ood_images          # any folder
#   python tools/train.py configs/mosaickd/deeplabv3_nyu.py
#
# The paper reports 45.4 mIoU for MosaicKD on NYUv2 but the authors
# released no segmentation code, so the choices below have three origins:
#
# From the paper (and its official classification code):
#   - the game: 1 D, 1 G and 5 S updates per iteration; S learns from
#     G's images plus augmented OOD images; D sees un-augmented OOD images
#   - generator loss weights adv 1, align 1, local 1, balance 10 (the
#     values behind the reported numbers, used unchanged for segmentation)
#   - student loss KL at temperature 1; z ~ N(0, I) with 100 dimensions
#   - G and D: Adam, betas (0.5, 0.999); student SGD with momentum 0.9;
#     cosine annealing to 0 over all iterations
# From the first author's earlier DFAD protocol on NYUv2 (data-free KD):
#   - 13 classes + 255 ignore, metric mIoU (nan-mean over classes)
#   - teacher DeepLabV3-ResNet50, student DeepLabV3-MobileNetV2
#   - generator output 128x128; 128 crops from images resized to 256
#   - batch 64; student SGD lr 0.1, weight decay 5e-5; G Adam lr 1e-3
# Ours:
#   - dense losses: KL and entropy averaged over pixels and batch, class
#     balance over batch and pixels, student logits resized (bilinear) to
#     the teacher's when the sizes differ
#   - the architectures' details: mmseg's DeepLabV3-R50-D8 (ASPP 512
#     channels), MobileNetV2-D8 with a 256-channel ASPP head and no
#     auxiliary head; DCGAN generator from 8x8 with 4 upsamplings and
#     ngf 64; patch discriminator with ndf 64 and 4 stride-2 layers
#     (46x46-pixel patches, 8x8 logits on a 128 crop: about the patch /
#     image ratio of the official 10 px patches on 32x32 images)
#   - D's real view: short side 256, centre 128 crop (no augmentation);
#     the student's OOD view: short side 256, random 128 crop, flip
#   - D learning rate 1e-3; 20k iterations; validation every 1000
#   - the OOD folder (data/ood_images): any unlabeled images, e.g.
#     ImageNet, ADE20K or Places images
_base_ = ['../teachers/deeplabv3_r50-d8_nyu13.py']

teacher_config = 'configs/teachers/deeplabv3_r50-d8_nyu13.py'
teacher_ckpt = 'work_dirs/deeplabv3_r50-d8_nyu13/iter_20000.pth'
ood_root = 'data/ood_images'
data_preparation = dict(
    train_dataloader=f'ln -s /path/to/unlabeled/images {ood_root}',
    teacher_ckpt=f'python tools/train.py {teacher_config}')

# B, k and N: D's real batch, then k student updates on B mosaics and N
# OOD images each; the loader's batch, B + k x N, follows from them.
synthetic_batch_size = 64
student_steps = 5
ood_batch_size = 64
max_iters = 20000
crop_size = (128, 128)
img_scale = (2048, 256)
patch_depth = 4  # stride-2 layers of D: 2 -> 10 px, 3 -> 22, 4 -> 46
norm_cfg = dict(type='BN', requires_grad=True)

student = dict(
    _scope_='mmseg',
    type='EncoderDecoder',
    data_preprocessor=_base_.data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='MobileNetV2',
        widen_factor=1.,
        strides=(1, 2, 2, 1, 1, 1, 1),
        dilations=(1, 1, 1, 2, 2, 4, 4),
        out_indices=(1, 2, 4, 6),  # 24, 32, 96 and 320 channels
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='ASPPHead',
        in_channels=320,
        in_index=3,
        channels=256,
        dilations=(1, 12, 24, 36),
        dropout_ratio=0.1,
        num_classes=_base_.num_classes,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

model = dict(
    _delete_=True,
    _scope_='mmmosaic',
    type='MosaicKD',
    teacher=_base_.model,
    student=student,
    teacher_ckpt=teacher_ckpt,
    generator=dict(
        type='DCGANGenerator',
        img_size=crop_size,
        out_channels=3,
        latent_dim=100,
        base_channels=64,
        num_upsamples=4),
    discriminator=dict(
        type='PatchDiscriminator',
        in_channels=3,
        base_channels=64,
        num_downsamples=patch_depth),
    loss_weights=dict(adv=1.0, align=1.0, local=1.0, balance=10.0),
    student_loss=dict(type='KLDivergenceLoss', temperature=1.0),
    student_steps=student_steps,
    synthetic_batch_size=synthetic_batch_size,
    ood_batch_size=ood_batch_size)

train_dataloader = dict(
    _delete_=True,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='OODDataset',
        source=dict(
            type='UnlabeledImageFolder',
            data_root=ood_root,
            pipeline=[dict(type='LoadImageFromFile')]),
        real_pipeline=[
            dict(type='Resize', scale=img_scale, keep_ratio=True),
            dict(type='CenterCrop', crop_size=crop_size),
            dict(type='mmseg.PackSegInputs')
        ],
        student_pipeline=[
            dict(type='Resize', scale=img_scale, keep_ratio=True),
            dict(type='mmseg.RandomCrop', crop_size=crop_size),
            dict(type='mmseg.RandomFlip', prob=0.5),
            dict(type='mmseg.PackSegInputs')
        ]))

train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=1000)
adam = dict(type='Adam', lr=1e-3, betas=(0.5, 0.999))
optim_wrapper = dict(
    _delete_=True,
    constructor='PlayerOptimWrapperConstructor',
    generator=dict(optimizer=adam),
    discriminator=dict(optimizer=adam),
    student=dict(
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-5)))
# Every player's (replacing the teacher's poly schedule): a cosine to 0 over
# train_cfg.max_iters (mmengine's default end).
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=1000))

custom_hooks = [
    # work_dir/mosaics/iter_*.png: generated images sorted by the class the
    # teacher predicts (with its predicted masks for segmentation).
    dict(type='MosaicVisualizationHook', interval=1000),
]
