# A model-zoo teacher, a model-zoo student and a folder of your own images.
#
# Teacher: mmpretrain's ResNet-18 for CIFAR-10; student: mmpretrain's
# MobileNetV2 with a 10-class head. Both come by reference (cfg_path): only
# the `model` of each zoo config enters this one (with its data
# preprocessor and its scope), not its datasets, schedule or runtime, which
# stay mmmosaic's: iteration-based, seed 0, atomic checkpoints.
#
#   python tools/analysis/ood_report.py CONFIG \
#       --cfg-options model.teacher_ckpt=TEACHER.pth
#   python tools/train.py CONFIG --cfg-options model.teacher_ckpt=TEACHER.pth
#
# TEACHER.pth is the teacher's weights (a path or a URL, loaded
# weights-only); `teacher=dict(cfg_path=..., pretrained=True)` takes the
# checkpoint the zoo lists for that config instead (downloaded once).
#
# Length: 20,000 outer iterations, each a D and a G update and 5 student
# updates on 128 generated and 128 of your images: 100,000 student
# updates, the paper's budget, hours on a GPU but weeks on a CPU. After
# its first few iterations (a minute or two at most) a run logs a
# "Duration estimate" line: the time an iteration takes on this machine and
# the whole run's; on a CPU, lower max_iters (the schedules follow it) or
# the batch sizes below.
_base_ = ['../_base_/default_runtime.py']

# Where a missing teacher comes from (said when model.teacher_ckpt is not
# given or does not exist).
data_preparation = dict(teacher_ckpt='python tools/train.py '
                        'configs/zoo/resnet18_cifar10_teacher.py')

# Your images: every image file under this folder, any size, no labels.
ood_images = 'data/my_images'
# B: images the generator makes per step (and real images D sees per step);
# k: student updates per outer iteration, each on B generated + N of yours.
# The loader's batch, B + k x N, follows from them.
synthetic_batch_size = 128
student_steps = 5
ood_batch_size = 128
max_iters = 20000

# CIFAR-10's normalisation, which the teacher was trained with. The zoo
# config says to_rgb=False because mmpretrain's CIFAR10 dataset gives RGB
# arrays; image files load as BGR, hence to_rgb=True for your images (and
# for the exported student's inputs).
cifar10_preprocessor = dict(
    num_classes=10,
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=True)

model = dict(
    type='MosaicKD',
    teacher=dict(
        cfg_path='mmpretrain::resnet/resnet18_8xb16_cifar10.py',
        data_preprocessor=cifar10_preprocessor),
    # Other keys override the zoo model's, as in a config inheriting it.
    student=dict(
        cfg_path='mmpretrain::mobilenet_v2/mobilenet-v2_8xb32_in1k.py',
        head=dict(num_classes=10),
        data_preprocessor=cifar10_preprocessor),
    teacher_ckpt=None,  # --cfg-options model.teacher_ckpt=PATH or URL
    generator=dict(
        type='DCGANGenerator', img_size=32, latent_dim=100, base_channels=64),
    discriminator=dict(
        type='PatchDiscriminator', base_channels=128, num_downsamples=2),
    loss_weights=dict(adv=1, align=1, local=1, balance=10),
    student_steps=student_steps,
    synthetic_batch_size=synthetic_batch_size,
    ood_batch_size=ood_batch_size)

# The teacher's input size: the short edge to 32 pixels, the centre 32x32.
to_32 = [
    dict(type='mmpretrain.ResizeEdge', scale=32, edge='short'),
    dict(type='mmpretrain.CenterCrop', crop_size=32),
]
train_dataloader = dict(
    num_workers=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='OODDataset',
        source=dict(
            type='UnlabeledImageFolder',
            data_root=ood_images,
            pipeline=[dict(type='LoadImageFromFile')]),
        real_pipeline=[*to_32, dict(type='mmpretrain.PackInputs')],
        student_pipeline=[
            *to_32,
            dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
            dict(type='mmpretrain.RandomFlip', prob=0.5),
            dict(type='mmpretrain.PackInputs'),
        ]))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)

adam = dict(type='Adam', lr=1e-3, betas=(0.5, 0.999))
optim_wrapper = dict(
    constructor='PlayerOptimWrapperConstructor',
    generator=dict(optimizer=adam),
    discriminator=dict(optimizer=adam),
    student=dict(
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4)))
# Every player's: a cosine to 0 over train_cfg.max_iters (mmengine's default
# end).
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=2000))
custom_hooks = [dict(type='MosaicVisualizationHook', interval=1000)]
# No in-domain data, so no validation: the exported student's test
# pipeline is the teacher's view of your images. With a labelled test set,
# add val_dataloader / val_evaluator / val_cfg as mmpretrain configs do.
