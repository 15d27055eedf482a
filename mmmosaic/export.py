"""Export a distilled student as an ordinary mmpretrain / mmseg model."""
import copy
import os.path as osp
from typing import Tuple

import torch
from mmengine.config import Config

from mmmosaic.errors import MosaicError
from mmmosaic.utils import load_state_dict_file

#: Config entries a stand-alone model needs besides ``model``.
_KEEP = ('test_dataloader', 'test_evaluator', 'test_cfg', 'val_dataloader',
         'val_evaluator', 'val_cfg', 'env_cfg', 'log_level', 'visualizer',
         'vis_backends')


def student_state_dict(checkpoint: str) -> dict:
    """The ``student.*`` weights of a MosaicKD checkpoint, prefix removed."""
    state = load_state_dict_file(checkpoint)
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
    return Config(out)


def export_student(cfg: Config, checkpoint: str,
                   out_dir: str) -> Tuple[str, str]:
    """Write ``student.pth`` and ``student.py`` into ``out_dir``."""
    ckpt_path = osp.join(out_dir, 'student.pth')
    cfg_path = osp.join(out_dir, 'student.py')
    torch.save(
        dict(
            state_dict=student_state_dict(checkpoint),
            meta=dict(source_checkpoint=osp.abspath(checkpoint))), ckpt_path)
    student_config(cfg).dump(cfg_path)
    return ckpt_path, cfg_path
