# SVHN's cropped digits (train split, 73,257 images) as out-of-domain data
# for a 32x32 teacher, as variables a distillation config applies:
# `train_dataloader = dict(dataset=_base_.svhn_ood)`, and the run's length
# (svhn_max_iters; the schedules follow train_cfg.max_iters).
#
# Paper: SVHN is one of the OOD sets of the CIFAR-100 table. The authors'
# code gives the student SVHN images without augmentation (no crop, no
# flip, which would mirror digits); so do we. Their loop runs 200 epochs of
# the OOD set in batches of 256: 287 iterations an epoch for SVHN.
svhn_root = 'data/svhn'
svhn_preparation = ('download train_32x32.mat (the cropped digits, "Format '
                    '2") from the SVHN site into data/svhn')
svhn_ood = dict(
    source=dict(
        _delete_=True,
        type='SVHN',
        data_root=svhn_root,
        split='train',
        pipeline=[]),
    student_pipeline=[dict(type='mmpretrain.PackInputs')])

svhn_iters_per_epoch = 287  # ceil(73,257 / 256)
svhn_max_iters = 200 * svhn_iters_per_epoch
svhn_val_interval = 5 * svhn_iters_per_epoch
