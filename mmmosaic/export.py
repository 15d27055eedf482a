"""Export a distilled student as an ordinary mmpretrain / mmseg model.

The student's weights, its config (with the distillation's preprocessor
and test settings) and the names of the teacher's classes, so that the
packages' own ``init_model`` and inferencers load it like a zoo model.
"""
import copy
import os.path as osp
from typing import Tuple

import numpy as np
import torch
from mmengine.config import Config

from mmmosaic.errors import MosaicError
from mmmosaic.utils import load_checkpoint_safely, state_dict_of

#: Config entries a stand-alone model needs besides ``model``.
_KEEP = ('test_dataloader', 'test_evaluator', 'test_cfg', 'val_dataloader',
         'val_evaluator', 'val_cfg', 'env_cfg', 'log_level', 'visualizer',
         'vis_backends')


def student_state_dict(checkpoint: str, loaded=None) -> dict:
    """The ``student.*`` weights of a MosaicKD checkpoint, prefix removed.

    ``loaded`` is the checkpoint already loaded (weights-only), if it is.
    """
    if loaded is None:
        loaded = load_checkpoint_safely(checkpoint)
    state = state_dict_of(loaded, checkpoint)
    student = {
        k[len('student.'):]: v
        for k, v in state.items() if k.startswith('student.')
    }
    if not student:
        raise MosaicError(
            f'{checkpoint!r} has no student.* weights; give a checkpoint '
            'written by tools/train.py with a MosaicKD config.')
    return student


def student_config(cfg: Config) -> Config:
    """A config whose ``model`` is the student, with the test settings."""
    student = copy.deepcopy(cfg.model.student)
    scope = student.pop('_scope_', None)
    if scope is None and '.' in str(student.get('type')):
        scope, student['type'] = student['type'].split('.', 1)
    data_preprocessor = cfg.model.get('data_preprocessor')
    if data_preprocessor is not None:
        data_preprocessor = copy.deepcopy(data_preprocessor)
        data_preprocessor.pop('_scope_', None)
        student['data_preprocessor'] = data_preprocessor
    out = dict(model=student, default_scope=scope or 'mmpretrain')
    if 'mmmosaic.' in str(student):
        out['custom_imports'] = dict(
            imports=['mmmosaic'], allow_failed_imports=False)
    for key in _KEEP:
        if key in cfg:
            out[key] = copy.deepcopy(cfg[key])
    # Inferencers and tools/test.py read the test settings; a distillation
    # config may only define validation ones.
    for test, val in (('test_dataloader', 'val_dataloader'),
                      ('test_evaluator', 'val_evaluator')):
        if test not in out and val in out:
            out[test] = copy.deepcopy(out[val])
    if 'test_dataloader' in out:
        out.setdefault('test_cfg', dict(type='TestLoop'))
    else:
        ood = _ood_test_dataloader(cfg)
        if ood is not None:
            out['test_dataloader'] = ood
    scope = out['default_scope']
    dataset = (out.get('test_dataloader') or {}).get('dataset') or {}
    pipeline = dataset.get('pipeline')
    if isinstance(pipeline, list) and scope == 'mmseg':
        # mmseg's inference_model reads the top-level test_pipeline and
        # drops LoadAnnotations by its bare name; its init_model makes mmseg
        # the default scope, where bare names resolve. mmpretrain's
        # inferencer builds the pipeline in whatever scope is current, so
        # a classifier's transforms keep their scope prefix.
        if dataset.get('_scope_', scope) == scope:
            pipeline[:] = _in_scope(pipeline, scope)
        out['test_pipeline'] = _in_scope(copy.deepcopy(pipeline), scope)
    if scope in _VISUALIZERS:
        # The packages' inferencers draw with their own visualizer.
        out['visualizer'] = dict(
            type=_VISUALIZERS[scope],
            vis_backends=[dict(type='LocalVisBackend')],
            name='visualizer')
    return Config(out)


#: The visualizer each package's inferencers need.
_VISUALIZERS = dict(
    mmseg='SegLocalVisualizer', mmpretrain='UniversalVisualizer')


def _in_scope(pipeline: list, scope: str) -> list:
    """``pipeline`` with ``scope.`` dropped from its transform types, for
    the exported config's default scope: the packages' inferencers
    recognise the transforms they drop (``LoadAnnotations``,
    ``LoadImageFromFile``) by their bare names only."""
    prefix = scope + '.'
    return [
        dict(t, type=t['type'][len(prefix):])
        if isinstance(t, dict) and str(t.get('type')).startswith(prefix) else t
        for t in pipeline
    ]


def _deterministic(pipeline: list) -> list:
    """``pipeline`` without its random transforms, for inference: a
    ``RandomResize`` becomes a ``Resize`` to its base scale, every other
    ``Random*`` transform and ``PhotoMetricDistortion`` are left out."""
    out = []
    for t in pipeline:
        kind = str(t.get('type')).rsplit('.', 1)[-1]
        if kind == 'RandomResize':
            out.append(
                dict(
                    type='Resize',
                    scale=t['scale'],
                    keep_ratio=t.get('keep_ratio', False)))
        elif not (kind.startswith('Random')
                  or kind == 'PhotoMetricDistortion'):
            out.append(t)
    return out


def _ood_test_dataloader(cfg: Config):
    """The OOD images as the teacher saw them (loaded, then the ``real``
    view without its random transforms), for a distillation without
    evaluation data: inferencers take their pipeline from
    ``test_dataloader``."""
    dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    source, real = dataset.get('source'), dataset.get('real_pipeline')
    if not isinstance(source, dict) or real is None:
        return None
    source = copy.deepcopy(source)
    # mmpretrain's and mmseg's inferencers load images themselves and drop
    # a transform named exactly 'LoadImageFromFile' from the pipeline.
    load = [
        dict(t, type='LoadImageFromFile')
        if str(t.get('type')).endswith('LoadImageFromFile') else t
        for t in source.get('pipeline', [])
    ]
    source['pipeline'] = load + _deterministic(copy.deepcopy(list(real)))
    source.setdefault('_scope_', cfg.get('default_scope', 'mmmosaic'))
    return dict(
        batch_size=1,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=source)


def student_dataset_meta(cfg: Config, checkpoint: dict):
    """Class names (and palette) for the student: those the training
    checkpoint carries (:class:`~mmmosaic.engine.ClassNamesHook`), else
    those of the config's in-domain dataset; None if neither names them."""
    from mmmosaic.engine.hooks import TASK_META_KEY
    from mmmosaic.runtime import task_classes
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    found = meta.get(TASK_META_KEY) if isinstance(meta, dict) else None
    return found or task_classes(cfg)


def export_student(cfg: Config, checkpoint: str,
                   out_dir: str) -> Tuple[str, str]:
    """Write ``student.pth`` and ``student.py`` into ``out_dir``."""
    ckpt_path = osp.join(out_dir, 'student.pth')
    cfg_path = osp.join(out_dir, 'student.py')
    loaded = load_checkpoint_safely(checkpoint)
    config = student_config(cfg)
    meta = dict(source_checkpoint=osp.abspath(checkpoint))
    dataset_meta = student_dataset_meta(cfg, loaded)
    if dataset_meta:
        if (config.default_scope == 'mmseg' and 'palette' not in dataset_meta):
            # mmseg's visualizer needs a colour per class.
            dataset_meta = dict(
                dataset_meta, palette=_palette(len(dataset_meta['classes'])))
        # Where mmpretrain's and mmseg's init_model look for class names.
        meta['dataset_meta'] = dataset_meta
    torch.save(
        dict(state_dict=student_state_dict(checkpoint, loaded), meta=meta),
        ckpt_path)
    config.dump(cfg_path)
    return ckpt_path, cfg_path


def _palette(num_classes: int) -> list:
    """``num_classes`` RGB colours, the same on every export."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (num_classes, 3)).tolist()
