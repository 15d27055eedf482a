"""What tools/train.py and tools/test.py share: config loading and checks.

Mistakes a user can make (a missing config, data folder or checkpoint, a
flag this machine cannot honour) raise :class:`MosaicError` with one
sentence; the tools print it instead of a traceback.
"""
import os.path as osp
from typing import Iterator, Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict, DictAction

from mmmosaic.errors import MosaicError

__all__ = ['MosaicError', 'DictAction', 'load_config', 'prepare_runtime',
           'check_data_paths']

_DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
_PATH_KEYS = ('data_root', 'data_prefix', 'ann_file', 'subset_file')


def load_config(path: str, options: Optional[dict] = None) -> Config:
    """Read ``path`` and merge ``--cfg-options``."""
    if not osp.isfile(path):
        raise MosaicError(
            f'Config file {path!r} does not exist; give a path such as '
            'configs/mosaickd/wrn40_2_wrn16_1_cifar100.py.')
    try:
        cfg = Config.fromfile(path)
    except (SyntaxError, ImportError, FileNotFoundError, KeyError) as exc:
        raise MosaicError(
            f'Config file {path!r} could not be read ({exc}); fix the file '
            'or its _base_ entries.') from None
    if options:
        cfg.merge_from_dict(options)
    return cfg


def _dataset_paths(node, where: str) -> Iterator[Tuple[str, str]]:
    """(config key, path) of every data path a dataset config names."""
    if isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            yield from _dataset_paths(item, f'{where}[{i}]')
        return
    if not isinstance(node, dict):
        return
    root = node.get('data_root')
    for key in _PATH_KEYS:
        value = node.get(key)
        if isinstance(value, str) and value:
            if key != 'data_root' and root and not osp.isabs(value):
                value = osp.join(root, value)
            yield f'{where}.{key}', value
    for key in ('dataset', 'datasets', 'source'):
        if key in node:
            yield from _dataset_paths(node[key], f'{where}.{key}')


def check_data_paths(cfg: Config, which=_DATALOADERS) -> None:
    """Stop early, with the config key, if a dataset path does not exist."""
    for name in which:
        loader = cfg.get(name)
        if not isinstance(loader, dict):
            continue
        for key, path in _dataset_paths(loader.get('dataset'),
                                        f'{name}.dataset'):
            if not osp.exists(path):
                hint = cfg.get('data_preparation', {}).get(name)
                todo = (f'prepare it with `{hint}`' if hint else
                        'prepare the data there (see README, "Data")')
                raise MosaicError(
                    f'{key} {path!r} does not exist; {todo} or pass '
                    f'--cfg-options {key}=PATH.')


def _set_amp(cfg: Config) -> None:
    if not torch.cuda.is_available():
        raise MosaicError(
            '--amp needs a CUDA GPU and none is available; drop --amp.')
    wrapper = cfg.optim_wrapper
    players = ([wrapper] if 'optimizer' in wrapper else
               [v for k, v in wrapper.items() if isinstance(v, dict)])
    for player in players:
        player['type'] = 'AmpOptimWrapper'
        player.setdefault('loss_scale', 'dynamic')


def prepare_runtime(cfg: Config,
                    config_path: str,
                    work_dir: Optional[str] = None,
                    launcher: str = 'none',
                    amp: bool = False,
                    resume: Optional[str] = None,
                    check_data=_DATALOADERS) -> Config:
    """Apply the usual OpenMMLab command-line choices to ``cfg``."""
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        name = osp.splitext(osp.basename(config_path))[0]
        cfg.work_dir = osp.join('./work_dirs', name)
    if not torch.cuda.is_available():
        # nccl needs CUDA; gloo runs the same collectives on CPU.
        cfg.setdefault('env_cfg', ConfigDict())
        cfg.env_cfg.setdefault('dist_cfg', ConfigDict())
        cfg.env_cfg.dist_cfg.backend = 'gloo'
    if amp:
        _set_amp(cfg)
    if resume == 'auto':
        # The newest intact checkpoint, not blindly the one last_checkpoint
        # names: a run killed while writing must still resume.
        from mmmosaic.engine import find_resumable_checkpoint
        cfg.resume = True
        cfg.load_from = find_resumable_checkpoint(cfg.work_dir)
    elif resume is not None:
        if not osp.isfile(resume):
            raise MosaicError(
                f'Checkpoint {resume!r} given to --resume does not exist; '
                'give an existing file or use --resume alone for the latest '
                'checkpoint of the work dir.')
        cfg.resume, cfg.load_from = True, resume
    check_data_paths(cfg, check_data)
    return cfg
