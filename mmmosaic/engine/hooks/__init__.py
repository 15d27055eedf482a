from .atomic_checkpoint_hook import AtomicCheckpointHook
from .mosaic_visualization_hook import MosaicVisualizationHook, mosaic_grid
from .preemption_hook import PreemptionHook
from .random_state_hook import RandomStateHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = [
    'SafeCheckpointHook', 'MosaicVisualizationHook', 'mosaic_grid',
    'RandomStateHook', 'PreemptionHook', 'AtomicCheckpointHook'
]
