# The teacher and the student of the segmentation settings (the MNIST-canvas
# demo, ../../demo/_base_/mnist_canvas.py, and the CamVid benchmark,
# ../../benchmarks/_base_/camvid.py): mmseg UNets with an FCN head at full
# resolution, trained from scratch (pretrained=None and no init_cfg that
# fetches weights). This file holds what all four networks share; each
# setting's base gives its data preprocessor, the UNet's depth, widths and
# dilations, the head's input and class count and the loss options, which
# mmengine merges into the dicts below.
norm_cfg = dict(type='BN', requires_grad=True)
# Ours: PyTorch's default conv initialisation for the decode head. Demo:
# with mmseg's default N(0, 0.01) for conv_seg the digit classes were
# learned several times more slowly in our runs. CamVid (as in the
# segmentation demo): mmseg's N(0, 0.01) for conv_seg learns more slowly.
head_init = dict(
    type='Kaiming',
    layer='Conv2d',
    a=5**0.5,
    mode='fan_in',
    nonlinearity='leaky_relu',
    distribution='uniform')

teacher = dict(
    _scope_='mmseg',
    type='EncoderDecoder',
    pretrained=None,
    backbone=dict(
        type='UNet',
        norm_cfg=norm_cfg,
        upsample_cfg=dict(type='InterpConv'),
        init_cfg=None),
    decode_head=dict(
        type='FCNHead',
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.0,
        norm_cfg=norm_cfg,
        align_corners=False,
        init_cfg=head_init,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
student = teacher
