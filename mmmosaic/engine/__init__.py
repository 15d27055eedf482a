from .atomic_backend import (AtomicLocalBackend, find_resumable_checkpoint,
                             is_complete_checkpoint)
from .hooks import (MosaicVisualizationHook, PreemptionHook, RandomStateHook,
                    SafeCheckpointHook)
from .optimizers import PlayerOptimWrapperConstructor

__all__ = [
    'PlayerOptimWrapperConstructor', 'SafeCheckpointHook',
    'MosaicVisualizationHook', 'RandomStateHook', 'AtomicLocalBackend',
    'find_resumable_checkpoint', 'is_complete_checkpoint', 'PreemptionHook'
]
