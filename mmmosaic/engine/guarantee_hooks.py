"""The hooks every training run needs, added in code rather than by configs.

mmengine replaces (does not merge) lists when configs merge, so a config or
``--cfg-options custom_hooks=[]`` that sets its own ``custom_hooks`` would
silently drop hooks that a run's guarantees depend on: resuming would fail
(checkpoints that torch's ``weights_only`` loading refuses), be inexact (no
random state) or a SIGTERM would lose the work since the last checkpoint.
:func:`ensure_guarantee_hooks` adds them to any training config, so configs
list only the hooks they choose.
"""
from mmengine.config import Config, ConfigDict
from mmengine.hooks import CheckpointHook, Hook, LoggerHook

from mmmosaic.engine.hooks import (AtomicCheckpointHook, ClassNamesHook,
                                   PreemptionHook, ProgressLoggerHook,
                                   RandomStateHook, SafeCheckpointHook)

__all__ = ['GUARANTEE_HOOKS', 'ensure_guarantee_hooks']

#: Custom hooks every training run gets, in the order they are added:
#: checkpoints that load with ``weights_only=True``, torch's random state
#: carried through checkpoints (exact resume), checkpoint-and-stop on
#: SIGTERM, the teacher's class names in the log and checkpoints.
GUARANTEE_HOOKS = (SafeCheckpointHook, RandomStateHook, PreemptionHook,
                   ClassNamesHook)


def _is_hook(hook, cls: type) -> bool:
    """Whether a ``custom_hooks`` entry (dict or built hook) is a ``cls``.

    A type name counts with or without the ``mmmosaic.`` scope prefix.
    """
    if isinstance(hook, Hook):
        return isinstance(hook, cls)
    kind = hook.get('type') if isinstance(hook, dict) else None
    if isinstance(kind, type):
        return issubclass(kind, cls)
    return kind in (cls.__name__, f'mmmosaic.{cls.__name__}')


def ensure_guarantee_hooks(cfg: Config) -> Config:
    """Give a training config the hooks its guarantees depend on.

    * Each of :data:`GUARANTEE_HOOKS` (``SafeCheckpointHook``,
      ``RandomStateHook``, ``PreemptionHook``, ``ClassNamesHook``) that
      ``cfg.custom_hooks`` lacks is put in front of the list, in that
      order. Hooks of the same priority run in list order, so a config
      that lists the first three first (as all mmmosaic configs used to)
      trains exactly as before (the fourth only writes names). The
      user's own hooks are kept, and a user's own entry for one of these
      hooks (for instance with other arguments) is used instead of the
      default one.
    * mmengine's plain ``CheckpointHook`` in ``cfg.default_hooks`` (also
      the one the Runner adds when ``default_hooks`` names none) becomes an
      :class:`AtomicCheckpointHook` with the same arguments, so
      ``last_checkpoint`` is replaced atomically. ``checkpoint=None`` (no
      checkpoints) and other checkpoint hook types are left alone.
    * mmengine's plain ``LoggerHook`` (also the Runner's default one)
      becomes a :class:`ProgressLoggerHook` with the same arguments: a
      progress line at least every minute and after the last iteration.

    ``cfg`` is changed in place and returned.
    """
    hooks = list(cfg.get('custom_hooks') or [])
    missing = [
        ConfigDict(type=f'mmmosaic.{cls.__name__}') for cls in GUARANTEE_HOOKS
        if not any(_is_hook(hook, cls) for hook in hooks)
    ]
    if missing:
        cfg.custom_hooks = missing + hooks

    defaults = cfg.get('default_hooks')
    defaults = ConfigDict() if defaults is None else defaults
    # The Runner's own default when default_hooks has no 'checkpoint' key.
    checkpoint = defaults.get('checkpoint',
                              ConfigDict(type='CheckpointHook', interval=1))
    if isinstance(checkpoint, dict) and checkpoint.get('type') in (
            'CheckpointHook', 'mmengine.CheckpointHook', CheckpointHook):
        checkpoint = ConfigDict(checkpoint)
        checkpoint['type'] = f'mmmosaic.{AtomicCheckpointHook.__name__}'
        defaults['checkpoint'] = checkpoint
        cfg.default_hooks = defaults
    logger = defaults.get('logger', ConfigDict(type='LoggerHook'))
    if isinstance(logger, dict) and logger.get('type') in (
            'LoggerHook', 'mmengine.LoggerHook', LoggerHook):
        logger = ConfigDict(logger)
        logger['type'] = f'mmmosaic.{ProgressLoggerHook.__name__}'
        defaults['logger'] = logger
        cfg.default_hooks = defaults
    return cfg
