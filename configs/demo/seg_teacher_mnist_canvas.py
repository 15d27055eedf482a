# Segmentation demo, step 1: the teacher, a small mmseg UNet trained with
# labels on the MNIST canvases (supervised, plain mmseg training).
_base_ = ['../_base_/default_runtime.py', './_base_/mnist_canvas.py']

model = _base_.teacher
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='MNISTCanvasDataset',
        data_root=_base_.canvas_root,
        data_prefix=dict(
            img_path='images/train', seg_map_path='annotations/train'),
        pipeline=[
            dict(type='LoadImageFromFile', color_type='grayscale'),
            dict(type='mmseg.LoadAnnotations'),
            dict(type='mmseg.PackSegInputs')
        ]))
max_iters = 1000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=3e-3, weight_decay=0.0))
# A cosine to 0 over train_cfg.max_iters (mmengine's default end).
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False)]
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=500))
