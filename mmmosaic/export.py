"""Export a distilled student as an ordinary mmpretrain / mmseg model.

The student's weights, its config (with the distillation's preprocessor
and test settings) and the names of the teacher's classes, so that the
packages' own ``init_model`` and inferencers load it like a zoo model.
"""
import copy
import os.path as osp
from typing import Tuple

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
    return Config(out)


def _ood_test_dataloader(cfg: Config):
    """The OOD images as the teacher saw them (loaded, then the ``real``
    view), for a distillation without evaluation data: inferencers take
    their pipeline from ``test_dataloader``."""
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
    source['pipeline'] = load + copy.deepcopy(list(real))
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
    meta = dict(source_checkpoint=osp.abspath(checkpoint))
    dataset_meta = student_dataset_meta(cfg, loaded)
    if dataset_meta:
        # Where mmpretrain's and mmseg's init_model look for class names.
        meta['dataset_meta'] = dataset_meta
    torch.save(
        dict(state_dict=student_state_dict(checkpoint, loaded), meta=meta),
        ckpt_path)
    student_config(cfg).dump(cfg_path)
    return ckpt_path, cfg_path
