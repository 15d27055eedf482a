# MosaicKD in the small, CPU-sized settings of configs/demo and
# configs/benchmarks: the parts their MosaicKD configs share. Each of them
# adds the teacher and the student, the players' sizes (generator image
# size, channels and upsamplings; discriminator depth), the OOD data, B and k
# (synthetic_batch_size, student_steps; see configs/README.md) and the
# budget (max_iters, intervals and hooks).
#
# As in the CIFAR-100 recipe (../mosaickd/_base_/mosaickd_cifar100.py): the
# loss weights (adv 1, align 1, local 1, balance 10), the student's KL loss
# at temperature 1, z of 100 dimensions, Adam (lr 1e-3, betas (0.5, 0.999))
# for G and D, SGD (lr 0.1, momentum 0.9, weight decay 1e-4) for the
# student. A setting that departs from them says so where it does.
_base_ = ['./default_runtime.py']

model = dict(
    type='MosaicKD',
    teacher_ckpt=None,  # --cfg-options model.teacher_ckpt=PATH
    generator=dict(type='DCGANGenerator', latent_dim=100),
    discriminator=dict(type='PatchDiscriminator'),
    loss_weights=dict(adv=1.0, align=1.0, local=1.0, balance=10.0),
    student_loss=dict(type='KLDivergenceLoss', temperature=1.0))

# num_workers=0: the data are loaded in the main process.
train_dataloader = dict(
    num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True))
train_cfg = dict(type='IterBasedTrainLoop')

adam = dict(type='Adam', lr=1e-3, betas=(0.5, 0.999))
optim_wrapper = dict(
    constructor='PlayerOptimWrapperConstructor',
    generator=dict(optimizer=adam),
    discriminator=dict(optimizer=adam),
    student=dict(
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4)))

# Every player's learning rate follows a cosine to 0 over the whole run,
# stepped once per outer iteration: one list for every optimiser, with no
# end, which mmengine then takes from train_cfg.max_iters (a cosine's
# period is end - begin), so the schedules follow a change of max_iters.
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False)]
