# Teacher of the CamVid benchmark: an mmseg UNet (5.7M parameters) trained
# from scratch with labels on the CamVid training frames at 160x120
# (supervised, plain mmseg training, plain cross-entropy). 1600 iterations
# of 8 crops (35 epochs): 0.66 s an iteration on one CPU thread, so about
# 18 minutes; about 12 on two threads (estimated, not measured).
# mmseg 1.2.2's CrossEntropyLoss fails with class_weight when labels hold
# 255 (it indexes the weights with every label), so classes are not
# re-weighted.
_base_ = ['../_base_/default_runtime.py', './_base_/camvid.py']

model = _base_.teacher
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='CamVidDataset',
        data_root=_base_.camvid_root,
        split='train',
        pipeline=_base_.train_pipeline))
max_iters = 1600
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=400)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=3e-3, weight_decay=0.0))
# A cosine to 0 over train_cfg.max_iters (mmengine's default end).
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False)]
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=400))
