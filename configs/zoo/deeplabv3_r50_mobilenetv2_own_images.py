# A model-zoo segmentor teacher, a model-zoo student and a folder of your
# own images: the segmentation form of ./resnet18_mobilenetv2_own_images.py.
#
# Teacher: mmseg's DeepLabV3 with a ResNet-50 (dilated to 1/8) for
# Cityscapes' 19 classes; student: mmseg's DeepLabV3 with a MobileNetV2
# backbone (18 M parameters, a quarter of the teacher's 68 M). Both come by
# reference (cfg_path): only the `model` of each zoo config enters this one
# (with its data preprocessor and scope), not its datasets, schedule or
# runtime, which stay mmmosaic's: iteration-based, seed 0, atomic
# checkpoints. Same commands as the classification recipe:
#
#   python tools/analysis/ood_report.py CONFIG \
#       --cfg-options model.teacher_ckpt=TEACHER.pth
#   python tools/train.py CONFIG --cfg-options model.teacher_ckpt=TEACHER.pth
#
# TEACHER.pth is the teacher's weights (a path or a URL, loaded
# weights-only); `teacher=dict(cfg_path=..., pretrained=True)` takes the
# checkpoint the zoo lists for that config instead (downloaded once). The
# student starts from the zoo's ImageNet MobileNetV2 (downloaded once);
# `--cfg-options model.student.pretrained=None` starts it from scratch.
#
# Length: 20,000 outer iterations of 5 student updates on 8 generated and
# 8 of your images each, at 256x512 crops: a multi-day run on one GPU,
# impractical on a CPU (shrink the crop, the batch and max_iters there).
# After its first few iterations a run logs a "Duration estimate" line
# (the time an iteration takes on this machine, and the whole run's).
_base_ = ['../_base_/default_runtime.py']

# Your images: every image file under this folder, any size, no labels.
ood_images = 'data/my_images'
# (H, W) of the crops the teacher sees, the generator makes and the
# student trains on. Your images are resized to a short side of 512 first,
# so that portrait photos still give full crops.
crop_size = (256, 512)
synthetic_batch_size = 8
student_steps = 5
ood_batch_size = 8
max_iters = 20000

model = dict(
    type='MosaicKD',
    teacher=dict(
        cfg_path='mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-80k_cityscapes'
        '-512x1024.py',
        # Its weights come from teacher_ckpt, not from ImageNet.
        pretrained=None,
        data_preprocessor=dict(size=crop_size)),
    # Other keys override the zoo model's, as in a config inheriting it:
    # set decode_head.num_classes of both to your teacher's class count.
    student=dict(
        cfg_path='mmseg::mobilenet_v2/mobilenet-v2-d8_deeplabv3_4xb2-80k'
        '_cityscapes-512x1024.py',
        # Only the decode head's logits are distilled.
        auxiliary_head=None,
        data_preprocessor=dict(size=crop_size)),
    teacher_ckpt=None,  # --cfg-options model.teacher_ckpt=PATH or URL
    # 256x512 images from 8x16 through 5 upsamplings.
    generator=dict(
        type='DCGANGenerator',
        img_size=crop_size,
        latent_dim=100,
        base_channels=16,
        num_upsamples=5),
    # 3 stride-2 layers: each logit judges a 22x22-pixel patch.
    discriminator=dict(
        type='PatchDiscriminator', base_channels=64, num_downsamples=3),
    loss_weights=dict(adv=1, align=1, local=1, balance=10),
    student_steps=student_steps,
    synthetic_batch_size=synthetic_batch_size,
    ood_batch_size=ood_batch_size)

resize = dict(type='mmseg.Resize', scale=(4096, 512), keep_ratio=True)
train_dataloader = dict(
    num_workers=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='OODDataset',
        source=dict(
            type='UnlabeledImageFolder',
            data_root=ood_images,
            pipeline=[dict(type='LoadImageFromFile')]),
        # The discriminator's real images: a crop of your resized image.
        real_pipeline=[
            resize,
            dict(type='mmseg.RandomCrop', crop_size=crop_size),
            dict(type='mmseg.PackSegInputs')
        ],
        student_pipeline=[
            dict(
                type='RandomResize',
                scale=(4096, 512),
                ratio_range=(1.0, 1.5),
                keep_ratio=True),
            dict(type='mmseg.RandomCrop', crop_size=crop_size),
            dict(type='mmseg.RandomFlip', prob=0.5),
            dict(type='mmseg.PackSegInputs')
        ]))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)

adam = dict(type='Adam', lr=1e-3, betas=(0.5, 0.999))
optim_wrapper = dict(
    constructor='PlayerOptimWrapperConstructor',
    generator=dict(optimizer=adam),
    discriminator=dict(optimizer=adam),
    student=dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4)))
# Every player's: a cosine to 0 over train_cfg.max_iters (mmengine's default
# end).
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=2000))
custom_hooks = [dict(type='MosaicVisualizationHook', interval=1000)]
# No in-domain data, so no validation: the exported student's test
# pipeline is the teacher's view of your images without its random crop
# (whole images, short side 512). With labelled test images, add
# val_dataloader / val_evaluator / val_cfg as mmseg configs do.
