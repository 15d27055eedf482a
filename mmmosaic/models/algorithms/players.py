"""How the game holds its players, apart from the game itself.

The teacher's and the student's configs get the scope their ``type``
names (:func:`with_scope`); checkpoints keep a player's keys whether DDP
wraps it or not (:func:`strip_wrapper_prefixes`); the G step keeps D's and
S's weights out of autograd while its gradients flow through them
(:func:`no_param_grads`); teacher and student must normalise images as
the game does (:func:`check_normalisation`); and the teacher is loaded
once and frozen for good (:func:`load_frozen_teacher`), with a warning
where running it in bfloat16 would be slow.
"""
import copy
import logging
import os.path as osp
from contextlib import contextmanager
from typing import Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmmosaic.errors import MosaicError
from mmmosaic.utils import (is_url, load_model_weights, local_checkpoint,
                            task_meta)
from .task_logits import num_classes_of

__all__ = [
    'with_scope', 'strip_wrapper_prefixes', 'no_param_grads',
    'check_normalisation', 'load_frozen_teacher', 'cpu_has_native_bf16',
    'warn_if_bf16_is_emulated'
]


def with_scope(cfg: dict, key: str) -> dict:
    """Give ``type='mmseg.EncoderDecoder'`` style configs their ``_scope_``.

    Nested builds inside an mmseg / mmpretrain model use the default scope
    unless ``_scope_`` is set, so a scope prefix in ``type`` alone fails.
    """
    if not isinstance(cfg, dict):
        raise MosaicError(
            f'model.{key} must be a config dict of an mmpretrain/mmseg model, '
            f'got {type(cfg).__name__}.')
    cfg = copy.deepcopy(cfg)
    model_type = cfg.get('type')
    if '_scope_' not in cfg and isinstance(model_type,
                                           str) and '.' in model_type:
        cfg['_scope_'], cfg['type'] = model_type.split('.', 1)
    return cfg


def strip_wrapper_prefixes(module: nn.Module, state_dict: dict, prefix: str,
                           local_metadata) -> None:
    """State-dict hook: ``student.module.x`` -> ``student.x`` for players
    wrapped by DDP, so checkpoints load wrapped or bare alike (mmengine's
    loader unwraps; ``Runner.save_checkpoint`` does not)."""
    wrapped = [
        f'{prefix}{name}.' for name, child in module._modules.items()
        if is_model_wrapper(child)
    ]
    if not wrapped:
        return
    for table in (state_dict, getattr(state_dict, '_metadata', {})):
        items = list(table.items())
        table.clear()
        for key, value in items:
            for head in wrapped:
                inner = head + 'module'
                if key == inner:
                    key = head[:-1]
                    break
                if key.startswith(inner + '.'):
                    key = head + key[len(inner) + 1:]
                    break
            table[key] = value


@contextmanager
def no_param_grads(*modules: Optional[nn.Module]):
    """Keep parameters out of autograd while gradients still flow through.

    Used for D and S during the G step: G needs gradients through them, but
    their own weights must not collect any (no leak into their updates, and
    no wasted weight-gradient computation).
    """
    params = [p for m in modules if m is not None for p in m.parameters()]
    saved = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, saved):
            p.requires_grad_(flag)


def _stats(preprocessor):
    """``[mean, std]`` of a preprocessor that normalises, else None."""
    mean = getattr(preprocessor, 'mean', None)
    std = getattr(preprocessor, 'std', None)
    if mean is None or std is None:
        return None
    return [mean.flatten().tolist(), std.flatten().tolist()]


def check_normalisation(data_preprocessor: nn.Module, **players) -> None:
    """Teacher and student must see images normalised the same way.

    Where a player's preprocessor normalises (has ``mean`` and ``std``) and
    the distillation's ``data_preprocessor`` does too, they must agree.
    Where only one of them normalises, e.g. a teacher config that leaves
    its ``data_preprocessor`` out, agreement cannot be checked: a warning
    says so.

    Args:
        data_preprocessor (nn.Module): The distillation's preprocessor.
        **players (nn.Module): The players to check, by their config key
            (``teacher``, ``student``).
    """
    mine = _stats(data_preprocessor)
    for name, player in players.items():
        theirs = _stats(player.data_preprocessor)
        if mine is None and theirs is None:
            continue
        if mine is None or theirs is None:
            said = (f'normalises with mean {theirs[0]}, std {theirs[1]} '
                    'but the distillation\'s data_preprocessor does not '
                    'normalise' if mine is None else
                    'names no normalisation (no data_preprocessor with '
                    'mean and std) but the distillation uses mean '
                    f'{mine[0]}, std {mine[1]}')
            print_log(
                f'model.{name} {said}, so whether they agree cannot be '
                f'checked; give model.{name} the data_preprocessor it '
                'was trained with.',
                logger='current',
                level=logging.WARNING)
            continue
        for k, stat in enumerate(('mean', 'std')):
            a, b = torch.tensor(mine[k]), torch.tensor(theirs[k])
            if a.shape != b.shape or not torch.allclose(a, b):
                raise MosaicError(
                    f'model.{name} normalises images with {stat} '
                    f'{theirs[k]} but the distillation uses {mine[k]}; '
                    'give teacher and student the same '
                    'data_preprocessor.')


def load_frozen_teacher(teacher: nn.Module, teacher_ckpt: Optional[str],
                        allow_random_teacher: bool) -> Optional[dict]:
    """Load the teacher's weights (``model.teacher_ckpt``) and freeze it.

    Returns:
        dict, optional: Class names (and palette) of the teacher's task,
        from its checkpoint; None if it has none (tools/train.py then
        adds the in-domain dataset's).
    """
    dataset_meta = None
    if teacher_ckpt is not None:
        if not is_url(teacher_ckpt) and not osp.isfile(teacher_ckpt):
            raise MosaicError(
                f'Teacher checkpoint {teacher_ckpt!r} (model.teacher_ckpt)'
                ' does not exist; train a teacher with configs/teachers/ '
                'or pass --cfg-options model.teacher_ckpt=PATH.')
        meta = load_model_weights(teacher, local_checkpoint(teacher_ckpt),
                                  'teacher')
        dataset_meta = task_meta(
            meta.get('dataset_meta'), num_classes_of(teacher))
    elif not allow_random_teacher:
        raise MosaicError('model.teacher_ckpt is not set; pass --cfg-options '
                          'model.teacher_ckpt=PATH with the trained teacher.')
    # The teacher's weights are final: mmengine's init_weights must not
    # re-initialise them, and nothing may ever train them.
    teacher._is_init = True
    teacher.requires_grad_(False)
    teacher.eval()
    return dataset_meta


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX);
    without either, torch emulates it and bfloat16 autocast on the CPU is
    slower than float32. True when torch cannot tell."""
    probes = [
        getattr(torch.cpu, name, None)
        for name in ('_is_avx512_bf16_supported', '_is_amx_tile_supported')
    ]
    probes = [probe for probe in probes if probe is not None]
    if not probes:
        return True
    return any(probe() for probe in probes)


def warn_if_bf16_is_emulated() -> None:
    """Warn that ``model.teacher_bf16`` is slow on this CPU if it computes
    bfloat16 only by emulation."""
    if not cpu_has_native_bf16():
        print_log(
            'model.teacher_bf16=True but this CPU has neither '
            'AVX512-BF16 nor AMX, so bfloat16 is emulated and the '
            'teacher\'s forwards run several times slower than in '
            'float32 (7x measured on an AVX2-only CPU); set '
            'model.teacher_bf16=False here.',
            logger='current',
            level=logging.WARNING)
