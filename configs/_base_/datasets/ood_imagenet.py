# ImageNet images as out-of-domain data for a 32x32 teacher, as a variable
# a distillation config applies: `train_dataloader = dict(dataset=dict(
# _base_.imagenet_ood, subset_file=...))`.
#
# Paper: the OOD set is ImageNet at 32x32, of which the teacher's 50,000
# (CIFAR-100's train-set size) most uncertain images are kept: the subset
# tools/select_ood_subset.py writes, one per teacher. The folder may be the
# ILSVRC-2012 train folder (resized here on the fly) or a folder of ImageNet
# images already at 32x32; files are read in sorted order, so the subset's
# indices stay valid for the same folder.
# Ours: the resizing (short side to 32 with area interpolation, centre
# crop); the student's view adds the paper's crop (padding 4) and flip.
imagenet_root = 'data/imagenet/train'
imagenet_preparation = (
    'link an ImageNet image folder (e.g. ILSVRC-2012 train/) at '
    'data/imagenet/train, then write the teacher\'s high-entropy subset with '
    'python tools/select_ood_subset.py CONFIG --num 50000 --out SUBSET_FILE '
    '--cfg-options model.teacher_ckpt=TEACHER_CKPT')
# The CIFAR models take RGB arrays (mmpretrain's CIFAR datasets give them);
# image files load as BGR, hence the round trip through PIL.
imagenet_load_rgb = [
    dict(type='mmpretrain.LoadImageFromFile'),
    dict(type='mmpretrain.NumpyToPIL', to_rgb=True),
    dict(type='mmpretrain.PILToNumpy'),
]
imagenet_to_32 = [
    dict(
        type='mmpretrain.ResizeEdge',
        scale=32,
        edge='short',
        interpolation='area'),
    dict(type='mmpretrain.CenterCrop', crop_size=32),
]
imagenet_ood = dict(
    source=dict(
        _delete_=True,
        type='UnlabeledImageFolder',
        data_root=imagenet_root,
        pipeline=imagenet_load_rgb),
    real_pipeline=imagenet_to_32 + [dict(type='mmpretrain.PackInputs')],
    student_pipeline=imagenet_to_32 + [
        dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
        dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='mmpretrain.PackInputs'),
    ])
