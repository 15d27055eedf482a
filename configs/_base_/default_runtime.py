# Runtime shared by every mmmosaic config: iteration-based logging, and
# checkpoints written atomically (atomic_local backend).
default_scope = 'mmmosaic'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    # Validation metrics are logged at the training iteration (not at
    # "epoch 0"), so scalars.json and TensorBoard plot them over training.
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=1000,
        max_keep_ckpts=3,
        backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# Whatever a config sets here, tools/train.py adds the hooks every training
# run needs (mmmosaic.engine.ensure_guarantee_hooks): SafeCheckpointHook
# (checkpoints load with torch's weights_only protection), RandomStateHook
# (the random state an exact resume needs) and PreemptionHook (on SIGTERM
# from a Slurm time limit, preemption or scancel: checkpoint after the
# current iteration and stop, so that --resume continues); and it makes the
# checkpoint hook an AtomicCheckpointHook (last_checkpoint written
# atomically). List only other hooks.
custom_hooks = []

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
log_processor = dict(by_epoch=False, window_size=50)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
# diff_rank_seed: each process draws its own noise (samplers still shard the
# data alike); a single process is unaffected (rank 0).
randomness = dict(seed=0, diff_rank_seed=True)
