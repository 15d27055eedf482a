from .player_constructor import PlayerOptimWrapperConstructor

__all__ = ['PlayerOptimWrapperConstructor']
