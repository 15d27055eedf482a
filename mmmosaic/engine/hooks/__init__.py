from .amp_loss_scale_hook import AmpLossScaleHook
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .class_names_hook import TASK_META_KEY, ClassNamesHook
from .mosaic_visualization_hook import MosaicVisualizationHook, mosaic_grid
from .preemption_hook import PreemptionHook
from .progress_logger_hook import ProgressLoggerHook
from .random_state_hook import RandomStateHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .sync_player_buffers_hook import SyncPlayerBuffersHook

__all__ = [
    'SafeCheckpointHook', 'MosaicVisualizationHook', 'mosaic_grid',
    'RandomStateHook', 'PreemptionHook', 'AtomicCheckpointHook',
    'ClassNamesHook', 'TASK_META_KEY', 'SyncPlayerBuffersHook',
    'AmpLossScaleHook', 'ProgressLoggerHook'
]
