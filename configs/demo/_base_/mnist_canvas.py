# Segmentation demo, shared parts. In-domain task: 64x64 grey canvases with
# 1-3 MNIST digits, per-pixel labels background + 10 digit classes (strokes
# brighter than 127). Out-of-domain data: the same canvases made of
# Fashion-MNIST items, no labels. Both are written by
# mmmosaic.datasets.mnist_canvas.build_canvas_dataset (seconds, idempotent)
# from the IDX files of tools/dataset_converters/fetch_mnist.py.
canvas_root = 'data/mnist_canvas'
ood_root = canvas_root + '/ood'
canvas_size = 64
_build = ('python -c "from mmmosaic.datasets.mnist_canvas import '
          "build_canvas_dataset; build_canvas_dataset('data/mnist_canvas')\"")
data_preparation = dict(
    train_dataloader=_build, val_dataloader=_build, test_dataloader=_build)

num_classes = 11
# Mean / std of the training canvases on the 0-255 scale (grey, 1 channel).
# size: mmseg's SegDataPreProcessor needs a fixed size in training mode.
data_preprocessor = dict(
    _scope_='mmseg',
    type='SegDataPreProcessor',
    mean=[12.6],
    std=[51.0],
    pad_val=0,
    seg_pad_val=255,
    size=(canvas_size, canvas_size))
norm_cfg = dict(type='BN', requires_grad=True)


def _unet(width, num_convs):
    # mmseg UNet, 4 stages (output stride 1), FCN head at full resolution:
    # digit strokes are 2-3 pixels wide, so a d8 model would blur them.
    return dict(
        _scope_='mmseg',
        type='EncoderDecoder',
        data_preprocessor=data_preprocessor,
        pretrained=None,
        backbone=dict(
            type='UNet',
            in_channels=1,
            base_channels=width,
            num_stages=4,
            strides=(1, 1, 1, 1),
            enc_num_convs=(num_convs, ) * 4,
            dec_num_convs=(num_convs, ) * 3,
            downsamples=(True, True, True),
            enc_dilations=(1, 1, 1, 1),
            dec_dilations=(1, 1, 1),
            norm_cfg=norm_cfg,
            upsample_cfg=dict(type='InterpConv'),
            init_cfg=None),
        decode_head=dict(
            type='FCNHead',
            in_channels=width,
            in_index=3,
            channels=width,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.1,
            num_classes=num_classes,
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


teacher = _unet(16, 2)  # 0.45 M parameters
student = _unet(8, 1)  # 0.03 M parameters, ~1/15 of the teacher

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
