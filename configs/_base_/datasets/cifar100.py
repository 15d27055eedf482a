# CIFAR-100, the in-domain data: the labelled train split for supervised
# (teacher) training and the test split for validation and testing.
# mmpretrain's CIFAR100 reads the python pickles under data_root (RGB arrays)
# and downloads them there when they are missing.
train_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        _scope_='mmpretrain',
        type='CIFAR100',
        data_root='data/cifar100',
        split='train',
        pipeline=[
            dict(type='RandomCrop', crop_size=32, padding=4),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='PackInputs'),
        ]))

val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        _scope_='mmpretrain',
        type='CIFAR100',
        data_root='data/cifar100',
        split='test',
        pipeline=[dict(type='PackInputs')]))
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
