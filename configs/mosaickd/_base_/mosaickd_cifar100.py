# MosaicKD on CIFAR-100 with CIFAR-10 as out-of-domain data (Fang et al.,
# NeurIPS 2021): everything but the teacher and the student, which each
# setting's config adds. The values are the ones the paper's numbers were
# produced with (the paper's loss weights and schedule), not the official
# script's command-line defaults.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/datasets/cifar100_ood_cifar10.py',
]

# One epoch of the official loader: CIFAR-10's 50,000 images in batches of
# 256 (the last one partial) is 196 outer iterations; training lasts 200.
iters_per_epoch = 196
max_iters = 200 * iters_per_epoch
val_interval = 5 * iters_per_epoch

model = dict(
    type='MosaicKD',
    # The trained teacher (configs/teachers/): pass
    # `--cfg-options model.teacher_ckpt=PATH`. Left unset, MosaicKD stops
    # with an error instead of distilling a random network.
    teacher_ckpt=None,
    generator=dict(
        type='DCGANGenerator', img_size=32, latent_dim=100, base_channels=64),
    # Two stride-2 layers: each of the 8x8 logits judges a 10x10 patch.
    discriminator=dict(
        type='PatchDiscriminator', base_channels=128, num_downsamples=2),
    loss_weights=dict(adv=1, align=1, local=1, balance=10),
    student_steps=_base_.student_steps,
    synthetic_batch_size=_base_.synthetic_batch_size,
    # N = B OOD images beside G's B in each student update; the loader's
    # batch follows: D's B real images, then k chunks of N.
    ood_batch_size=_base_.synthetic_batch_size,
    student_loss=dict(type='KLDivergenceLoss', temperature=1))

optim_wrapper = dict(
    constructor='PlayerOptimWrapperConstructor',
    generator=dict(optimizer=dict(type='Adam', lr=1e-3, betas=(0.5, 0.999))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=1e-3, betas=(0.5, 0.999))),
    student=dict(
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4)))

# Every player's learning rate follows a cosine to 0 over the whole run,
# stepped once per outer iteration: one list for every optimiser, with no
# end, which mmengine then takes from train_cfg.max_iters (a cosine's
# period is end - begin), so a setting that changes max_iters changes the
# schedules with it.
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0, by_epoch=False)]

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# Checkpoint at each validation; the paper reports the best test accuracy,
# the last checkpoint gives the honest number.
default_hooks = dict(
    checkpoint=dict(
        interval=val_interval, save_best='accuracy/top1', rule='greater'))

custom_hooks = [
    # work_dir/mosaics/iter_*.png: generated images sorted by the class the
    # teacher predicts (with its predicted masks for segmentation).
    dict(type='MosaicVisualizationHook', interval=980),
]
