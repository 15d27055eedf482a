from .atomic_backend import (AtomicLocalBackend, atomic_write,
                             find_resumable_checkpoint, is_complete_checkpoint)
from .guarantee_hooks import GUARANTEE_HOOKS, ensure_guarantee_hooks
from .hooks import (AmpLossScaleHook, AtomicCheckpointHook, ClassNamesHook,
                    MosaicVisualizationHook, PreemptionHook,
                    ProgressLoggerHook, RandomStateHook, SafeCheckpointHook,
                    SyncPlayerBuffersHook)
from .optimizers import PlayerOptimWrapperConstructor

__all__ = [
    'PlayerOptimWrapperConstructor', 'SafeCheckpointHook',
    'MosaicVisualizationHook', 'RandomStateHook', 'AtomicLocalBackend',
    'find_resumable_checkpoint', 'is_complete_checkpoint', 'PreemptionHook',
    'AtomicCheckpointHook', 'atomic_write', 'GUARANTEE_HOOKS',
    'ensure_guarantee_hooks', 'ClassNamesHook', 'SyncPlayerBuffersHook',
    'AmpLossScaleHook', 'ProgressLoggerHook'
]
