from .hooks import SafeCheckpointHook
from .optimizers import PlayerOptimWrapperConstructor

__all__ = ['PlayerOptimWrapperConstructor', 'SafeCheckpointHook']
