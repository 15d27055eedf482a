"""Turning a config and the command line into a run this machine can do.

What tools/train.py, tools/test.py and the benchmarks share before a Runner
is built: :func:`load_config` reads a config and merges ``--cfg-options``;
:func:`prepare_runtime` applies the usual OpenMMLab command-line choices
(work dir, ``--resume``, ``--amp``, ``--launcher``) and checks, before any
training starts, that the data, the teacher checkpoint and the class counts
are there and agree and that the train dataloader's batch follows the
game's batch rule (:func:`mmmosaic.models.batch_rule`, which also derives
it from ``model.ood_batch_size``); :func:`configure_distributed` fits the
config to a multi-process launch.

Mistakes a user can make (a missing config, data folder or checkpoint, a
flag this machine cannot honour) raise :class:`MosaicError` with one
sentence; the tools print it instead of a traceback.
"""
import glob
import os.path as osp
import traceback
from typing import Iterator, Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict

from mmmosaic.baselines import apply_baseline
from mmmosaic.cli import check_config_file
from mmmosaic.dist import LAUNCHERS, check_gpus_usable, init_distributed
from mmmosaic.errors import MosaicError
from mmmosaic.models import is_game_config
from mmmosaic.models.zoo import is_model_ref, resolve_players
from mmmosaic.utils import (check_checkpoint_file, check_state_dict_fits,
                            is_url, load_checkpoint_safely, state_dict_of,
                            task_meta, unwrap_model)

__all__ = [
    'load_config', 'prepare_runtime', 'check_data_paths', 'check_class_counts',
    'check_teacher_ckpt', 'build_model', 'check_checkpoint_fits',
    'resume_hint', 'configure_distributed', 'is_game_config',
    'check_own_runtime', 'task_classes'
]

_DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
_PATH_KEYS = ('data_root', 'data_prefix', 'ann_file', 'subset_file')


def load_config(path: str, options: Optional[dict] = None) -> Config:
    """Read ``path`` and merge ``--cfg-options``.

    A value of the wrong kind for a key the config already sets (text where
    the config has a number or a flag, a value where it has a section) is
    refused here, naming the key, instead of deep inside mmengine.
    """
    check_config_file(path)
    try:
        cfg = Config.fromfile(path)
    except Exception as exc:  # the file's own code can raise anything
        raise MosaicError(
            f'Config file {path!r} could not be read ({_describe(exc)}); fix '
            'the file or its _base_ entries.') from None
    # ``baseline=NAME``, in the file or among the options: the file's
    # MosaicKD with players removed, to which the other options apply.
    # Given as an option that changes the file's, it also names the
    # default work dir as a file of that form would be named
    # (``work_dirs/<config>_<baseline>``, ``_mosaickd`` for None).
    options = dict(options or {})
    if 'baseline' in options:
        given = options.pop('baseline')
        if given != cfg.get('baseline') and cfg.get('work_dir') is None:
            stem = osp.splitext(osp.basename(path))[0]
            cfg.work_dir = f'./work_dirs/{stem}_{given or "mosaickd"}'
        cfg.baseline = given
    apply_baseline(cfg, osp.basename(path))
    if options:
        for key, value in options.items():
            _check_option(cfg, key, value, path)
        try:
            cfg.merge_from_dict(options)
        except Exception as exc:
            raise MosaicError(
                f'--cfg-options could not be applied to {path!r} '
                f'({_describe(exc)}); check the keys.') from None
    model = cfg.get('model')
    if isinstance(model, dict) and any(
            is_model_ref(model.get(key)) for key in ('teacher', 'student')):
        # Built here, once, so that every check and the config the run
        # saves see the models themselves.
        cfg.model = resolve_players(model, osp.dirname(osp.abspath(path)))
    if isinstance(model, dict):
        # Before every other check: players of two tasks mislead them all.
        from mmmosaic.models.algorithms.task_logits import check_task_mix
        check_task_mix(cfg.model.get('teacher'), cfg.model.get('student'))
    return cfg


def build_model(cfg: Config,
                checkpoint: Optional[str] = None,
                device: Optional[str] = None):
    """The model of ``cfg`` built as mmengine's Runner builds it, for the
    tools that evaluate or analyse a model without a Runner.

    As the Runner: in the config's ``default_scope`` (``mmmosaic`` if it
    names none), and with the config's top-level ``data_preprocessor``
    where ``model`` names none.

    Args:
        cfg (Config): A config loaded by :func:`load_config`.
        checkpoint (str, optional): Weights of the whole model (a run's
            checkpoint) to load strictly, weights-only. None: as built
            (a distillation's teacher still loads ``model.teacher_ckpt``).
        device (str, optional): Where to move the model; None leaves it on
            the CPU.

    Returns:
        nn.Module: The model, in training mode as built.
    """
    from mmengine.registry import init_default_scope

    import mmmosaic.datasets  # noqa: F401  (registers the datasets)
    import mmmosaic.models  # noqa: F401
    from mmmosaic.registry import MODELS
    from mmmosaic.utils import load_model_weights
    init_default_scope(cfg.get('default_scope') or 'mmmosaic')
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    if checkpoint is not None:
        load_model_weights(model, checkpoint, 'run')
    return model if device is None else model.to(device)


def _describe(exc: BaseException) -> str:
    """``Type: first line`` of an exception, with the config file line
    that raised it when the traceback passes through one."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = type(exc).__name__ + (f': {lines[0][:300]}' if lines else '')
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if 'site-packages' not in f.filename and not f.filename.startswith(
            ('<', osp.dirname(osp.abspath(__file__))))
    ]
    if frames and not isinstance(exc, SyntaxError):
        text += f' at {frames[-1].filename}:{frames[-1].lineno}'
    return text


_MISSING = object()


def _lookup(cfg, key: str):
    """The value at a dotted ``--cfg-options`` key, or ``_MISSING``."""
    node = cfg
    for part in key.split('.'):
        if isinstance(node, (dict, Config)) and part in node:
            node = node[part]
        elif (isinstance(node, (list, tuple)) and part.isdigit()
              and int(part) < len(node)):
            node = node[int(part)]
        else:
            return _MISSING
    return node


#: Keys whose value may be a number or a word (``loss_scale='dynamic'``).
_NUMBER_OR_WORD = ('loss_scale', )


def _check_option(cfg, key: str, value, path: str) -> None:
    """Refuse a ``--cfg-options`` value of the wrong kind for ``key``: a
    word where the config has a number or True/False, a single value for a
    whole top-level section. Anything else the config may legitimately
    change (a number for a list, a list for a section) is left alone."""
    old = _lookup(cfg, key)
    if old is _MISSING or old is None or value is None:
        return
    shown = f'{key}={value}'
    where = osp.basename(path)
    if isinstance(old, bool):
        if isinstance(value, str):
            raise MosaicError(
                f'--cfg-options {shown} is not True or False, but {where} '
                f'has {key}={old}; give {key}=True or {key}=False.')
    elif isinstance(old, (int, float)):
        word = isinstance(value, (str, bool))
        if word and key.split('.')[-1] not in _NUMBER_OR_WORD:
            raise MosaicError(
                f'--cfg-options {shown} is not a number, but {where} has '
                f'{key}={old}; give a number, e.g. {key}={old}.')
    elif isinstance(old, dict) and '.' not in key and isinstance(
            value, (str, int, float, bool)):
        raise MosaicError(
            f'--cfg-options {shown} replaces the section {key} of {where} by '
            f'a value; set one of its entries instead, e.g. '
            f'{key}.{next(iter(old), "KEY")}=VALUE.')


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
    if isinstance(ckpt, str) and not is_url(ckpt) and not osp.isfile(ckpt):
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
                        'prepare the data there (see docs/own_data.md)')
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
    from mmmosaic.datasets.metainfo import declared_metainfo
    classes = declared_metainfo(dataset_cfg).get('classes')
    return len(classes) if classes else None


def task_classes(cfg: Config,
                 num_classes: Optional[int] = None) -> Optional[dict]:
    """``classes`` (and ``palette``) of the in-domain dataset the config
    evaluates on (``val_dataloader``, else ``test_dataloader``), read
    without its data; None if it names none (or not ``num_classes``)."""
    from mmmosaic.datasets.metainfo import declared_metainfo
    for loader in ('val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset')
        meta = task_meta(declared_metainfo(dataset), num_classes)
        if meta:
            return meta
    return None


def check_class_counts(cfg: Config) -> None:
    """Teacher, student and evaluation data must agree on the classes."""
    model = cfg.get('model') or {}
    if 'teacher' not in model or 'student' not in model:
        return
    counts = dict(
        teacher=_num_classes(model.teacher),
        student=_num_classes(model.student))
    name = 'val_dataloader' if cfg.get('val_dataloader') else 'test_dataloader'
    loader = cfg.get(name) or {}
    counts['dataset'] = _dataset_classes(loader.get('dataset'))
    known = {k: v for k, v in counts.items() if v is not None}
    if len(set(known.values())) > 1:
        # The key that sets each count, so that the sentence names it.
        keys = {
            player: f'model.{player}.{_head_key(model[player])}.num_classes'
            for player in ('teacher', 'student')
        }
        keys['dataset'] = f'the classes of {name}.dataset'
        said = ', '.join(f'{k} {v} ({keys[k]})' for k, v in known.items())
        teacher = known.get('teacher')
        wrong = [keys[k] for k, v in known.items() if v != teacher]
        fix = (f'set {" and ".join(wrong)} to {teacher}, the classes of the '
               "teacher's task" if teacher is not None else
               "set model.teacher/student head num_classes to the classes "
               "of the teacher's task")
        raise MosaicError(f'Class counts disagree ({said}); {fix}.')


def _head_key(model_cfg) -> str:
    """``head`` of a classifier config, ``decode_head`` of a segmentor."""
    return 'decode_head' if 'decode_head' in model_cfg else 'head'


#: What a config needs for each dataloader the tool will use.
_SECTIONS = dict(
    train_dataloader=('model', 'train_dataloader', 'train_cfg',
                      'optim_wrapper'),
    test_dataloader=('model', 'test_dataloader', 'test_cfg', 'test_evaluator'))


def _check_sections(cfg: Config, path: str, which) -> None:
    """Training (``train_dataloader`` in ``which``) or testing needs these
    sections; say which are missing before mmengine fails on them."""
    name = next((n for n in _SECTIONS if n in which), None)
    # ``test_cfg = dict()`` is mmengine's plain TestLoop: empty is enough.
    missing = [
        k for k in _SECTIONS.get(name, ())
        if cfg.get(k) is None or (not cfg[k] and k != 'test_cfg')
    ]
    if missing:
        what = 'train' if name == 'train_dataloader' else 'evaluate'
        raise MosaicError(
            f'Config {path!r} sets no {", ".join(missing)}; add '
            f'{"it" if len(missing) == 1 else "them"} to {what} with it '
            '(configs/demo/ has complete examples).')


def check_own_runtime(cfg: Config, path: str, training: bool = True) -> None:
    """Stop if a MosaicKD config runs on a zoo config's runtime.

    An mmpretrain / mmseg config inherited through ``_base_`` brings its
    runtime: ``default_scope`` of its package, an epoch-based schedule and
    ``randomness.seed=None`` (a new random seed each run, so no run can be
    repeated or resumed exactly). The game is iteration-based and
    reproducible, so each of these is refused with what to set instead.
    """
    if not is_game_config(cfg.get('model') or {}):
        return
    found, fixes = [], []
    scope = cfg.get('default_scope')
    if scope not in (None, 'mmmosaic') and not cfg.model.get('_scope_'):
        found.append(f'default_scope is {scope!r}')
        fixes.append("default_scope = 'mmmosaic'")
    loop = cfg.get('train_cfg') or {}
    if training and (loop.get('by_epoch')
                     or 'EpochBased' in str(loop.get('type', ''))):
        found.append('train_cfg is epoch-based (' +
                     (loop.get('type') or 'by_epoch=True') + ')')
        fixes.append("train_cfg = dict(_delete_=True, type='"
                     "IterBasedTrainLoop', max_iters=N)")
    randomness = cfg.get('randomness')
    if training and isinstance(randomness,
                               dict) and randomness.get('seed') is None:
        found.append('randomness.seed is None, so no run can be repeated or '
                     'resumed exactly')
        fixes.append('randomness = dict(seed=0)')
    if found:
        raise MosaicError(
            f'Config {path!r} has a zoo config\'s runtime instead of '
            f'mmmosaic\'s ({"; ".join(found)}); set {", ".join(fixes)}, or '
            "better, inherit no zoo config: give teacher and student as "
            "dict(cfg_path='mmpretrain::...') (configs/zoo/"
            'resnet18_mobilenetv2_own_images.py shows how).')


def _checkpoint_files(work_dir: str) -> list:
    """Checkpoints (and the last_checkpoint pointer) in ``work_dir``."""
    found = sorted(
        glob.glob(osp.join(work_dir, 'iter_*.pth')) +
        glob.glob(osp.join(work_dir, 'epoch_*.pth')))
    pointer = osp.join(work_dir, 'last_checkpoint')
    return found + ([pointer] if osp.isfile(pointer) else [])


def check_checkpoint_fits(model,
                          path: str,
                          resume: bool = False,
                          what: str = 'Checkpoint') -> None:
    """Stop if ``path`` does not load safely or does not fit ``model``.

    For a resume it must also be a training checkpoint (iteration counter
    and optimiser state), not a bare weights file.
    """
    from mmengine.runner.checkpoint import get_state_dict
    checkpoint = load_checkpoint_safely(path, what)
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    if resume and not (isinstance(meta, dict) and 'iter' in meta
                       and 'optimizer' in checkpoint):
        raise MosaicError(
            f'{what} {path!r} holds weights only, not a training state '
            '(iteration, optimiser); resume from a checkpoint tools/train.py '
            f'wrote, or start from these weights with --cfg-options '
            f'load_from={path}.')
    check_state_dict_fits(
        get_state_dict(unwrap_model(model)), state_dict_of(checkpoint, path),
        path, 'model')


def resume_hint(work_dir: str) -> Optional[str]:
    """After a failed run: the checkpoint ``--resume`` would continue from."""
    from mmmosaic.engine.atomic_backend import find_resumable_checkpoint
    ckpt = find_resumable_checkpoint(work_dir)
    if ckpt is None:
        return None
    return (f'the last checkpoint, {ckpt}, is intact: add --resume to '
            'continue from it')


def _set_amp(cfg: Config) -> None:
    wrapper = cfg.optim_wrapper
    players = ([wrapper] if 'optimizer' in wrapper else
               [v for k, v in wrapper.items() if isinstance(v, dict)])
    for player in players:
        player['type'] = 'AmpOptimWrapper'
        player.setdefault('loss_scale', 'dynamic')
    # Its own skipped steps and the loss scales, in the log (once).
    hooks = list(cfg.get('custom_hooks') or [])
    kinds = {h.get('type') for h in hooks if isinstance(h, dict)}
    if not kinds & {'AmpLossScaleHook', 'mmmosaic.AmpLossScaleHook'}:
        hooks.append(ConfigDict(type='mmmosaic.AmpLossScaleHook'))
        cfg.custom_hooks = hooks


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
    # GPUs expected (--amp, GPUs given to the job) but CUDA unusable: one
    # sentence with the reason, not a silent run on the CPU.
    check_gpus_usable(launcher, amp)
    _check_sections(cfg, config_path, check_data)
    if amp:
        _set_amp(cfg)
    check_own_runtime(cfg, config_path, 'train_dataloader' in check_data)
    if 'train_dataloader' in check_data and is_game_config(cfg.model):
        # B + k x N images an iteration: derived from model.ood_batch_size
        # or checked now, not at the first training step.
        from mmmosaic.models import batch_rule
        batch_rule(cfg)
    if 'train_dataloader' in check_data:
        drop_schedulers_after_the_end(cfg)
    if resume == 'auto':
        # The newest intact checkpoint, not blindly the one last_checkpoint
        # names: a run killed while writing must still resume.
        from mmmosaic.engine.atomic_backend import find_resumable_checkpoint
        cfg.resume = True
        cfg.load_from = find_resumable_checkpoint(cfg.work_dir)
        leftovers = _checkpoint_files(cfg.work_dir)
        if cfg.load_from is None and leftovers:
            raise MosaicError(
                f'--resume found no intact checkpoint in {cfg.work_dir!r}, '
                f'only damaged ones such as {leftovers[0]!r}; delete them to '
                'start afresh or give --resume PATH of an intact one.')
        if cfg.load_from is None:
            raise MosaicError(
                f'--resume has nothing to resume: {cfg.work_dir!r} holds no '
                'checkpoint; run without --resume to start afresh, or give '
                'the --work-dir (or --resume PATH) of the run to continue.')
    elif resume is not None:
        check_checkpoint_file(
            resume, '--resume checkpoint',
            'give an intact checkpoint, or --resume alone to continue from '
            'the newest intact one of the work dir')
        cfg.resume, cfg.load_from = True, resume
    configure_distributed(cfg, launcher)
    fit_loaders_to_gpu(cfg)
    check_data_paths(cfg, check_data)
    check_teacher_ckpt(cfg)
    if 'train_dataloader' in check_data:
        # Image files present, model keys known, a local teacher checkpoint
        # that fits the teacher: before the Runner's start-up listing, not
        # after it. Before the class counts: a teacher config of another
        # class count than its checkpoint is named as such, not as a
        # dataset or student of the wrong count.
        from mmmosaic.early_checks import check_before_runner
        check_before_runner(cfg)
    check_class_counts(cfg)
    # Multi-process launches on CPU: gloo, no set_device (mmengine's
    # init_dist assumes GPUs); with CUDA the Runner initialises as usual.
    init_distributed(cfg)
    return cfg


def drop_schedulers_after_the_end(cfg: Config) -> Config:
    """Leave out the iteration schedulers that would begin at or after the
    run's last iteration (e.g. the cosine after a 500-iteration warm-up in
    a run shortened to 100 iterations with ``train_cfg.max_iters``): they
    never act in it, and mmengine refuses one whose ``end`` it derives from
    ``max_iters`` ("end should be larger than begin")."""
    max_iters = (cfg.get('train_cfg') or {}).get('max_iters')
    if not isinstance(max_iters, int):
        return cfg

    def acts(step) -> bool:
        if not isinstance(step, dict) or step.get('by_epoch') is not False:
            return True
        begin = step.get('begin') or 0
        return step.get('end') is not None or begin < max_iters

    def kept(steps):
        if isinstance(steps, (list, tuple)):
            return [s for s in steps if acts(s)]
        return steps if acts(steps) else []

    schedulers = cfg.get('param_scheduler')
    if isinstance(schedulers, dict) and 'type' not in schedulers:
        # One entry per player (PlayerOptimWrapperConstructor).
        cfg.param_scheduler = {k: kept(v) for k, v in schedulers.items()}
    elif schedulers is not None:
        cfg.param_scheduler = kept(schedulers)
    return cfg


def fit_loaders_to_gpu(cfg: Config) -> Config:
    """Where training runs on a GPU, every data loader pins its batches in
    page-locked memory (faster, asynchronous copies to the GPU) unless the
    config sets ``pin_memory`` itself; nothing changes on a CPU."""
    if torch.cuda.is_available():
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            loader = cfg.get(key)
            if isinstance(loader, dict):
                loader.setdefault('pin_memory', True)
    return cfg


# ------------------------------------------------ multi-process launches
def configure_distributed(cfg: Config, launcher: str) -> Config:
    """Adapt ``cfg`` to a multi-process launch (a no-op for ``none``)."""
    if launcher not in LAUNCHERS:
        raise MosaicError(f'--launcher must be one of {", ".join(LAUNCHERS)}'
                          f', got {launcher!r}.')
    if launcher == 'none':
        return cfg
    game = is_game_config(cfg.get('model', {}))
    on_gpu = torch.cuda.is_available()
    if not on_gpu and (cfg.get('sync_bn') or
                       (game and cfg.model.get('sync_bn_players'))):
        raise MosaicError(
            'SyncBN (sync_bn / model.sync_bn_players) needs CUDA GPUs: '
            "torch's SyncBatchNorm has no CPU implementation; drop it for "
            'CPU training.')
    wrapper = cfg.get('model_wrapper_cfg')
    if wrapper is None and (game or not on_gpu):
        # mmengine's default wraps the whole model in one DDP whose
        # train_step runs forward(mode='loss') once: the game needs one DDP
        # per player and its own train_step.
        # A student with parameters the game never uses (an mmseg
        # auxiliary_head: the game runs it in mode='tensor') would stop
        # DDP at the second iteration, so the game's players find them;
        # find_unused_parameters=False in a config turns that off.
        wrapper = ConfigDict(
            type=('MMSeparateDistributedDataParallel'
                  if game else 'MMDistributedDataParallel'),
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', game))
    if wrapper is not None and not on_gpu:
        # DDP refuses device_ids for CPU modules; mmengine passes
        # [LOCAL_RANK] unless the config says otherwise.
        wrapper['device_ids'] = None
    if wrapper is not None:
        cfg.model_wrapper_cfg = wrapper
    # DDP averages gradients, not BatchNorm running statistics: every
    # process's trainable parts get the mean of them after each iteration.
    hooks = list(cfg.get('custom_hooks') or [])
    kinds = {h.get('type') for h in hooks if isinstance(h, dict)}
    if not kinds & {'SyncPlayerBuffersHook', 'mmmosaic.SyncPlayerBuffersHook'}:
        hooks.append(ConfigDict(type='mmmosaic.SyncPlayerBuffersHook'))
        cfg.custom_hooks = hooks
    if game:
        # Every process must draw its own noise z (and augmentations);
        # samplers still shuffle alike and shard the OOD set by rank.
        cfg.setdefault('randomness', ConfigDict(seed=0))
        cfg.randomness.setdefault('diff_rank_seed', True)
    return cfg
