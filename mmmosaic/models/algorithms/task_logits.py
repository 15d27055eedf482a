"""The one place where classification and segmentation differ.

mmpretrain classifiers give ``[B, C]`` logits in ``mode='tensor'``; mmseg
segmentors give dense ``[B, C, h, w]`` decode-head logits (1/8 of the input
for d8 models). Every loss of the game reduces over dim 1 (classes) and
averages over the rest, so both shapes flow through the same code; only the
spatial size of student and teacher logits may need reconciling.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmmosaic.errors import MosaicError

#: The task of a player config's scope, else of its model type.
_TASK_OF_SCOPE = dict(mmpretrain='classification', mmseg='segmentation')
_TASK_OF_TYPE = dict(
    ImageClassifier='classification',
    EncoderDecoder='segmentation',
    CascadeEncoderDecoder='segmentation')
#: What a player of each task is, in words.
_PLAYER = dict(
    classification=('mmpretrain', 'classifier'),
    segmentation=('mmseg', 'segmentor'))


def task_of(model_cfg) -> Optional[str]:
    """``'classification'`` for an mmpretrain model config,
    ``'segmentation'`` for an mmseg one, None when the config does not
    say (a type of another package, or a class)."""
    kind = model_cfg.get('type') if isinstance(model_cfg, dict) else None
    if not isinstance(kind, str):
        return None
    scope = model_cfg.get('_scope_')
    if '.' in kind:
        prefix, kind = kind.split('.', 1)
        scope = scope or prefix
    return _TASK_OF_SCOPE.get(scope) or _TASK_OF_TYPE.get(kind)


def check_task_mix(teacher, student) -> None:
    """Refuse, in one sentence, a teacher and a student of different
    tasks (an mmpretrain classifier and an mmseg segmentor): every other
    check would point elsewhere (a head key, a class count, a
    preprocessor)."""
    tasks = task_of(teacher), task_of(student)
    if None in tasks or tasks[0] == tasks[1]:
        return

    def player(cfg, task):
        package, noun = _PLAYER[task]
        return f'an {package} {noun} ({str(cfg["type"]).split(".")[-1]})'

    package, noun = _PLAYER[tasks[0]]
    raise MosaicError(
        f'model.teacher is {player(teacher, tasks[0])} but model.student '
        f'{player(student, tasks[1])}: MosaicKD cannot distil '
        f'{tasks[0]} into {tasks[1]}; give a student of the teacher\'s task '
        f"(an {package} {noun}, e.g. dict(cfg_path='{package}::...')) or a "
        'teacher of the student\'s.')


def logits_of(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Class logits of an mmpretrain/mmseg model on preprocessed inputs."""
    logits = model(inputs, mode='tensor')
    if isinstance(logits, (tuple, list)):
        logits = logits[-1]
    if not isinstance(logits, torch.Tensor) or logits.dim() not in (2, 4):
        raise TypeError(
            f'{type(model).__name__}(mode="tensor") must return [B, C] or '
            f'[B, C, H, W] logits, got {type(logits).__name__}.')
    return logits


def num_classes_of(model: nn.Module):
    """The classes a classifier's ``head`` or a segmentor's
    ``decode_head`` predicts, if it says."""
    for head in ('head', 'decode_head'):
        value = getattr(getattr(model, head, None), 'num_classes', None)
        if isinstance(value, int):
            return value
    return None


def match_student_to_teacher(student_logits: torch.Tensor,
                             teacher_logits: torch.Tensor) -> torch.Tensor:
    """Resize dense student logits (bilinear) to the teacher's size."""
    if student_logits.shape[1] != teacher_logits.shape[1]:
        raise MosaicError(
            f'The teacher predicts {teacher_logits.shape[1]} classes but the '
            f'student {student_logits.shape[1]}; set the student head\'s '
            'num_classes to the teacher\'s.')
    if student_logits.dim() == 4 and (student_logits.shape[2:]
                                      != teacher_logits.shape[2:]):
        return F.interpolate(
            student_logits,
            size=teacher_logits.shape[2:],
            mode='bilinear',
            align_corners=False)
    return student_logits


def stack_for_preprocessor(preprocessor: nn.Module, inputs):
    """A list of same-size images as one batch tensor, where that is faster.

    mmpretrain's ``ClsDataPreprocessor`` normalises a batch tensor in one
    operation, with the same arithmetic it applies image by image to a list
    (so the result is identical); mmseg's ``SegDataPreProcessor`` takes
    lists only, and lists of different sizes must stay lists.
    """
    from mmpretrain.models import ClsDataPreprocessor
    if (isinstance(preprocessor, ClsDataPreprocessor)
            and isinstance(inputs, (list, tuple)) and inputs and all(
                torch.is_tensor(image) and image.shape == inputs[0].shape
                for image in inputs)):
        return torch.stack(list(inputs))
    return inputs
