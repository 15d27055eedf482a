# Supervised training of a teacher, everything but the data: SGD 0.1
# (momentum 0.9, weight decay 5e-4), 240 epochs with the learning rate
# divided by 10 at epochs 150, 180 and 210.
_base_ = ['mmpretrain::_base_/default_runtime.py']

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[150, 180, 210], gamma=0.1)

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=240, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# The teacher used for distillation is the last checkpoint (epoch_240.pth).
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2))

# Checkpoints that load with torch's weights_only protection (and resume),
# carry the random state and are written atomically: tools/train.py adds
# those hooks to every training run (mmmosaic.engine.ensure_guarantee_hooks).
