from .hooks import MosaicVisualizationHook, SafeCheckpointHook
from .optimizers import PlayerOptimWrapperConstructor

__all__ = [
    'PlayerOptimWrapperConstructor', 'SafeCheckpointHook',
    'MosaicVisualizationHook'
]
