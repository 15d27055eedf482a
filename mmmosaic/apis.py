"""What tools/train.py and tools/test.py share: config loading and checks.

Mistakes a user can make (a missing config, data folder or checkpoint, a
flag this machine cannot honour) raise :class:`MosaicError` with one
sentence; the tools print it instead of a traceback.
"""
import os
import os.path as osp
from typing import Iterator, Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict, DictAction

from mmmosaic.dist import configure_distributed, init_distributed
from mmmosaic.errors import MosaicError

__all__ = [
    'MosaicError', 'DictAction', 'load_config', 'prepare_runtime',
    'check_data_paths', 'check_class_counts'
]

_DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
_PATH_KEYS = ('data_root', 'data_prefix', 'ann_file', 'subset_file')


def add_common_args(parser) -> None:
    """Arguments every tool shares: --cfg-options, --launcher, rank."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. model.teacher_ckpt=PATH')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_tool_args(parser):
    """Parse, and expose ``--local-rank`` as torch.distributed expects."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


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


def check_teacher_ckpt(cfg: Config) -> None:
    """Stop early if ``model.teacher_ckpt`` names a missing file."""
    model = cfg.get('model')
    ckpt = model.get('teacher_ckpt') if isinstance(model, dict) else None
    if isinstance(ckpt, str) and not osp.isfile(ckpt):
        hint = cfg.get('data_preparation', {}).get('teacher_ckpt')
        todo = (f'train it with `{hint}`'
                if hint else 'train a teacher with configs/teachers/')
        raise MosaicError(
            f'model.teacher_ckpt {ckpt!r} does not exist; {todo} or pass '
            '--cfg-options model.teacher_ckpt=PATH.')


def check_data_paths(cfg: Config, which=_DATALOADERS) -> None:
    """Stop early, with the config key, if a dataset path does not exist."""
    for name in which:
        loader = cfg.get(name)
        if not isinstance(loader, dict):
            continue
        for key, path in _dataset_paths(
                loader.get('dataset'), f'{name}.dataset'):
            if not osp.exists(path):
                hint = cfg.get('data_preparation', {}).get(name)
                todo = (f'prepare it with `{hint}`' if hint else
                        'prepare the data there (see README, "Data")')
                raise MosaicError(
                    f'{key} {path!r} does not exist; {todo} or pass '
                    f'--cfg-options {key}=PATH.')


def _num_classes(model_cfg) -> Optional[int]:
    """``num_classes`` of a classifier/segmentor config, if it says."""
    for head in ('head', 'decode_head'):
        value = (model_cfg.get(head) or {}).get('num_classes')
        if isinstance(value, int):
            return value
    return None


def _dataset_classes(dataset_cfg) -> Optional[int]:
    """Number of classes a dataset config declares, if known statically."""
    if not isinstance(dataset_cfg, dict):
        return None
    metainfo = dataset_cfg.get('metainfo') or {}
    if 'classes' in metainfo:
        return len(metainfo['classes'])
    from mmmosaic.registry import DATASETS
    name = dataset_cfg.get('type')
    if not isinstance(name, str):
        return None
    try:
        with DATASETS.switch_scope_and_registry(
                dataset_cfg.get('_scope_')) as registry:
            cls = registry.get(name)
    except Exception:  # an unknown dataset is reported when it is built
        return None
    classes = getattr(cls, 'METAINFO', {}).get('classes')
    return len(classes) if classes else None


def check_class_counts(cfg: Config) -> None:
    """Teacher, student and evaluation data must agree on the classes."""
    model = cfg.get('model') or {}
    if 'teacher' not in model or 'student' not in model:
        return
    counts = dict(
        teacher=_num_classes(model.teacher),
        student=_num_classes(model.student))
    loader = cfg.get('val_dataloader') or cfg.get('test_dataloader') or {}
    counts['dataset'] = _dataset_classes(loader.get('dataset'))
    known = {k: v for k, v in counts.items() if v is not None}
    if len(set(known.values())) > 1:
        said = ', '.join(f'{k} {v}' for k, v in known.items())
        raise MosaicError(
            f'Class counts disagree ({said}); set model.teacher/student '
            'head num_classes to the classes of the teacher\'s task.')


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
    configure_distributed(cfg, launcher)
    check_data_paths(cfg, check_data)
    check_teacher_ckpt(cfg)
    check_class_counts(cfg)
    # Multi-process launches on CPU: gloo, no set_device (mmengine's
    # init_dist assumes GPUs); with CUDA the Runner initialises as usual.
    init_distributed(cfg)
    return cfg
