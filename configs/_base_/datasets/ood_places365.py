# Places365 images, resized by tools/dataset_converters/places365.py, as
# out-of-domain data, as variables a distillation config applies:
# `train_dataloader = dict(dataset=dict(_base_.places365_32_ood, ...))`.
#
#   python tools/dataset_converters/places365.py SRC/data_256 \
#       data/places365_32 --size 32        # (and --size 64 -> places365_64)
#
# Paper: Places365 is an OOD set of the CIFAR-100 table (32x32) with the
# teacher's high-entropy subset (tools/select_ood_subset.py, N = the
# in-domain train-set size). Inferred (the authors' related data-free KD
# code, which has Places365 at 32x32 and 64x64): 64x64 Places365 as the OOD
# set of the 64x64 fine-grained teachers, and the student's crop (padding 4
# at 32, 8 at 64) and flip.
places365_32_root = 'data/places365_32'
places365_64_root = 'data/places365_64'
places365_preparation = (
    'resize the official Places365 train images with python '
    'tools/dataset_converters/places365.py SRC/data_256 data/places365_{size} '
    '--size {size}, then write the teacher\'s high-entropy subset with python '
    'tools/select_ood_subset.py CONFIG --num N --out SUBSET_FILE '
    '--cfg-options model.teacher_ckpt=TEACHER_CKPT')


def _places365(root, size, padding, pipeline):
    return dict(
        source=dict(
            _delete_=True,
            type='UnlabeledImageFolder',
            data_root=root,
            pipeline=pipeline),
        real_pipeline=[dict(type='mmpretrain.PackInputs')],
        student_pipeline=[
            dict(
                type='mmpretrain.RandomCrop', crop_size=size, padding=padding),
            dict(
                type='mmpretrain.RandomFlip', prob=0.5,
                direction='horizontal'),
            dict(type='mmpretrain.PackInputs'),
        ])


# 32x32 for teachers on RGB arrays (CIFAR-100, ImageNet 32x32): image files
# load as BGR, hence the round trip through PIL.
places365_32_ood = _places365(places365_32_root, 32, 4, [
    dict(type='mmpretrain.LoadImageFromFile'),
    dict(type='mmpretrain.NumpyToPIL', to_rgb=True),
    dict(type='mmpretrain.PILToNumpy'),
])
# 64x64 for the fine-grained teachers, whose preprocessors swap BGR files
# to RGB themselves.
places365_64_ood = _places365(places365_64_root, 64, 8,
                              [dict(type='mmpretrain.LoadImageFromFile')])
