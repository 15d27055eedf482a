"""Checkpoints that load with ``torch.load(weights_only=True)``.

mmengine 0.10.7 stores ``HistoryBuffer`` objects (whose instance dict holds
bound methods, pickled through ``getattr``) and numpy scalars/arrays in a
checkpoint's ``message_hub`` and ``meta``. torch >= 2.6 refuses such files
under its default ``weights_only=True``, so resuming fails, and allow-listing
``getattr`` would defeat the protection. This hook stores those objects as
plain dicts of tensors when a checkpoint is saved and rebuilds them when it
is loaded, so every checkpoint we write loads with the protection on.
``Runner.resume`` loads a checkpoint onto the training device, so the
stored tensors are copied to the CPU before they become numpy arrays.
"""
import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

from mmmosaic.registry import HOOKS

_TAG = '__mmmosaic_type__'


def to_safe(obj):
    """Replace HistoryBuffer / numpy objects by weights-only-safe values."""
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {
            _TAG: 'HistoryBuffer',
            'log_history': torch.from_numpy(np.asarray(log, np.float64)),
            'count_history': torch.from_numpy(np.asarray(count, np.int64)),
            'max_length': int(obj.max_length)
        }
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            return [to_safe(v) for v in obj.tolist()]
        return {_TAG: 'ndarray', 'data': torch.from_numpy(obj.copy())}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return type(obj)((k, to_safe(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_safe(v) for v in obj)
    return obj


def from_safe(obj):
    """Inverse of :func:`to_safe`."""
    if isinstance(obj, dict):
        tag = obj.get(_TAG)
        if tag == 'HistoryBuffer':
            return HistoryBuffer(obj['log_history'].cpu().numpy(),
                                 obj['count_history'].cpu().numpy(),
                                 obj['max_length'])
        if tag == 'ndarray':
            return obj['data'].cpu().numpy()
        return type(obj)((k, from_safe(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(from_safe(v) for v in obj)
    return obj


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Write checkpoints that torch loads with ``weights_only=True``."""

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in ('meta', 'message_hub'):
            if key in checkpoint:
                checkpoint[key] = to_safe(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in ('meta', 'message_hub'):
            if key in checkpoint:
                checkpoint[key] = from_safe(checkpoint[key])
