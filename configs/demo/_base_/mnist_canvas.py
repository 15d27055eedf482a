# Segmentation demo, shared parts. In-domain task: 48x48 grey canvases with
# 1-3 MNIST digits, per-pixel labels background + 10 digit classes (strokes
# brighter than 127). Out-of-domain data: the same canvases made of
# Fashion-MNIST items, no labels. Both are written by
# tools/dataset_converters/mnist_canvas.py (seconds, idempotent) from the
# IDX files of tools/dataset_converters/fetch_mnist.py.
_base_ = ['../../_base_/models/seg_unet.py']

# Registers MNISTCanvasDataset even where mmmosaic.datasets does not
# import it.
custom_imports = dict(
    imports=['mmmosaic.datasets.mnist_canvas'], allow_failed_imports=False)
canvas_root = 'data/mnist_canvas'
ood_root = canvas_root + '/ood'
canvas_size = 48
_build = 'python tools/dataset_converters/mnist_canvas.py'
data_preparation = dict(
    train_dataloader=_build, val_dataloader=_build, test_dataloader=_build)

num_classes = 11
# Mean / std of the training canvases on the 0-255 scale (grey, 1 channel).
# size: mmseg's SegDataPreProcessor needs a fixed size in training mode.
data_preprocessor = dict(
    _scope_='mmseg',
    type='SegDataPreProcessor',
    mean=[16.9],
    std=[58.3],
    pad_val=0,
    seg_pad_val=255,
    size=(canvas_size, canvas_size))


def _unet(width, context_convs):
    # mmseg UNet with 3 stages: full, 1/2 and 1/4 resolution; the 1/4 stage
    # stacks dilated convs (dilation 4) so each pixel sees a whole digit.
    # FCN head at full resolution: the strokes are 2-3 pixels wide. Merged
    # into the UNet of ../../_base_/models/seg_unet.py (norm, upsampling,
    # head, init).
    return dict(
        data_preprocessor=data_preprocessor,
        backbone=dict(
            in_channels=1,
            base_channels=width,
            num_stages=3,
            strides=(1, 1, 1),
            enc_num_convs=(1, 1, context_convs),
            dec_num_convs=(1, 1),
            downsamples=(True, True),
            enc_dilations=(1, 1, 4),
            dec_dilations=(1, 1)),
        decode_head=dict(
            in_channels=width,
            in_index=2,
            channels=width,
            num_classes=num_classes,
            # Only used when the teacher is trained with labels: digit
            # strokes are ~5% of the pixels, so background weighs 0.2.
            loss_decode=dict(class_weight=[0.2] + [1.0] * 10)))


teacher = _unet(16, 3)  # 126k parameters
student = _unet(10, 3)  # 49k parameters, 2.5x fewer

canvas_test = dict(
    batch_size=100,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='MNISTCanvasDataset',
        data_root=canvas_root,
        data_prefix=dict(
            img_path='images/test', seg_map_path='annotations/test'),
        test_mode=True,
        pipeline=[
            dict(type='LoadImageFromFile', color_type='grayscale'),
            dict(type='mmseg.LoadAnnotations'),
            dict(type='mmseg.PackSegInputs')
        ]))
val_dataloader = canvas_test
test_dataloader = canvas_test
val_evaluator = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
