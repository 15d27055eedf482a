"""Every config under configs/ loads and builds; the CIFAR-100 ones train.

Configs are found by globbing (``_base_`` folders excluded), so a new config
is tested without touching this file. Distillation configs (``MosaicKD``
models) run two real iterations through mmengine's Runner on random images,
which exercises the optimiser constructor, the per-player schedulers, the
data pipelines and the game itself. Teacher configs train one tiny epoch and
their checkpoint must load as a distillation config's ``teacher_ckpt``.

The configs of the paper's other settings (other OOD data, the baselines,
the fine-grained and ImageNet 32x32 tasks) are left to
tests/test_paper_settings.py, which trains them on copies of their data
sets with tiny networks; their CIFAR-100 networks are the ones swept here.
"""
import glob
import math
import os.path as osp

import pytest
import torch
from _official_layouts import paper_setting_configs
from _tiny import RandomUint8Images
from mmengine.config import Config
from mmengine.registry import HOOKS, DefaultScope
from mmengine.runner import Runner

from mmmosaic.engine import GUARANTEE_HOOKS, ensure_guarantee_hooks
from mmmosaic.errors import MosaicError
from mmmosaic.models import batch_rule
from mmmosaic.registry import MODELS
from mmmosaic.runtime import load_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY_BATCH = 2
#: Folders of the CIFAR-100 configs (the paper's settings); other folders,
#: e.g. demos, are swept with the shapes their configs declare.
CIFAR100_FOLDERS = ('mosaickd', 'baselines', 'teachers')


def _find_configs():
    paths = glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    elsewhere = set(paper_setting_configs(osp.join(ROOT, 'configs')))
    return sorted(p for p in paths
                  if '_base_' not in osp.relpath(p, ROOT).split(osp.sep)
                  and p not in elsewhere)


def _name(path: str) -> str:
    return osp.relpath(path, osp.join(ROOT, 'configs'))


def _is_distillation(path: str) -> bool:
    try:
        return load_config(path).model.get('type') == 'MosaicKD'
    except Exception:  # noqa: BLE001
        # A broken config must fail its own test, not the collection.
        return False


def _is_segmentation(path: str) -> bool:
    """mmseg configs are swept by tests/test_segmentation.py."""
    try:
        model = load_config(path).model
    except Exception:  # noqa: BLE001
        return False
    network = model.get('teacher', model)
    return network.get('_scope_') == 'mmseg' or 'decode_head' in network


CONFIGS = [p for p in _find_configs() if not _is_segmentation(p)]
DISTILL_CONFIGS = [p for p in CONFIGS if _is_distillation(p)]
TEACHER_CONFIGS = [p for p in CONFIGS if _name(p).startswith('teachers')]


def _image_shape(cfg: Config):
    """(height, width, channels) of the images a config's model takes."""
    model = cfg.model
    network = model.get('student', model)
    mean = (network.get('data_preprocessor') or {}).get('mean', [0] * 3)
    size = (model.get('generator') or {}).get('img_size', 32)
    return size, size, len(mean)


def _num_classes(network_cfg) -> int:
    head = network_cfg.get('head') or network_cfg.get('decode_head')
    return head.num_classes


@pytest.fixture(autouse=True, scope='module')
def one_cpu_thread():
    # On a busy 2-core machine torch's default two intra-op threads run
    # these small convolutions ~20x slower than one thread does.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _logits(model, images: torch.Tensor) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(images, mode='tensor')


def test_paper_configs_found():
    settings = [
        'wrn40_2_wrn16_1', 'wrn40_2_wrn40_1', 'wrn40_2_wrn16_2',
        'resnet34_resnet18', 'vgg11_resnet18'
    ]
    distillations = [f'mosaickd/{s}_cifar100.py' for s in settings]
    distillations += ['baselines/dfad_wrn40_2_wrn16_1_cifar100.py']
    assert set(distillations) <= {_name(p) for p in DISTILL_CONFIGS}
    teachers = ['wrn40_2', 'resnet34', 'vgg11_bn']
    assert sorted(_name(p) for p in TEACHER_CONFIGS) == sorted(
        f'teachers/{t}_cifar100.py' for t in teachers)


@pytest.mark.parametrize('path', CONFIGS, ids=_name)
def test_config_builds_and_predicts(path):
    cfg = load_config(path)  # as the tools read it
    height, width, channels = _image_shape(cfg)
    images = torch.randn(TINY_BATCH, channels, height, width)
    ensure_guarantee_hooks(cfg)  # as tools/train.py does
    added = [f'mmmosaic.{cls.__name__}' for cls in GUARANTEE_HOOKS]
    assert [h['type'] for h in cfg.custom_hooks[:len(added)]] == added
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        # PreemptionHook is left out: building it installs a SIGTERM handler.
        hooks = [
            HOOKS.build(h) for h in cfg.custom_hooks
            if h['type'] != 'mmmosaic.PreemptionHook'
        ]
        hooks.append(HOOKS.build(cfg.default_hooks.checkpoint))
        if cfg.model.type == 'MosaicKD':
            assert cfg.model.teacher_ckpt is None
            cfg.model.allow_random_teacher = True
            model = MODELS.build(cfg.model)
            # The distillation's own forward (validation) is the student's.
            networks = [model.teacher, model.student, model]
            num_classes = _num_classes(cfg.model.teacher)
        else:
            model = MODELS.build(cfg.model)
            networks = [model]
            num_classes = _num_classes(cfg.model)
    names = [type(h).__name__ for h in hooks]
    assert {'SafeCheckpointHook', 'RandomStateHook',
            'AtomicCheckpointHook'} <= set(names)
    if _name(path).split(osp.sep)[0] in CIFAR100_FOLDERS:
        assert num_classes == 100
    for network in networks:
        logits = _logits(network, images)
        assert logits.shape[:2] == (TINY_BATCH, num_classes)


def test_mosaickd_config_needs_teacher_ckpt():
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/mosaickd/wrn40_2_wrn16_1_cifar100.py'))
    with DefaultScope.overwrite_default_scope('mmmosaic'), \
            pytest.raises(MosaicError, match='teacher_ckpt'):
        MODELS.build(cfg.model)


def _without_evaluation(cfg: Config, work_dir: str) -> Config:
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.work_dir = work_dir
    return cfg


def _shrink(cfg: Config, work_dir: str) -> Config:
    """Two iterations on tiny batches of random images, no evaluation."""
    cfg = _without_evaluation(cfg, work_dir)
    model = cfg.model
    model.allow_random_teacher = True
    loader = cfg.train_dataloader
    # Data-free: mosaics in the OOD images' place too (a student update of
    # 2 images can diverge, as below).
    model.synthetic_batch_size = TINY_BATCH * (1 if loader.dataset.type
                                               == 'OODDataset' else 2)
    if loader.dataset.type == 'OODDataset':
        loader.dataset.source = dict(
            type=RandomUint8Images.__name__, shape=_image_shape(cfg))
        # As many OOD images as mosaics in each student update; without a
        # generator, OOD images in their place too (as KD-on-OOD configs
        # have it: a student update of 2 images can diverge).
        model.ood_batch_size = TINY_BATCH * (1 if model.generator else 2)
        loader.batch_size = None
        batch_rule(cfg)
    cfg.train_cfg.update(max_iters=2, val_interval=1000)
    # The hook is built as configured but writes nothing in two iterations.
    cfg.default_hooks.checkpoint.save_last = False
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize('path', DISTILL_CONFIGS, ids=_name)
def test_distillation_config_trains(path, tmp_path):
    cfg = _shrink(load_config(path), str(tmp_path))
    runner = Runner.from_cfg(cfg)
    teacher = {
        k: v.clone()
        for k, v in runner.model.teacher.state_dict().items()
    }
    runner.train()

    assert runner.iter == 2
    scalars = runner.message_hub.log_scalars
    expected = {'loss_student'}
    if cfg.model.generator:
        expected |= {'loss_g', 'loss_adv'}
    if cfg.model.discriminator:
        expected |= {'loss_d', 'loss_local'}
    for name in expected:
        assert math.isfinite(scalars[f'train/{name}'].current()), name
    # Every player has its optimiser and its cosine schedule has stepped.
    players = set(cfg.optim_wrapper) - {'constructor'}
    assert set(runner.optim_wrapper.keys()) == players
    for player in players:
        start = cfg.optim_wrapper[player].optimizer.lr
        assert runner.optim_wrapper[player].get_lr()['lr'][0] < start
    # The teacher is frozen: weights and BN statistics untouched.
    for key, value in runner.model.teacher.state_dict().items():
        assert torch.equal(value, teacher[key]), key


@pytest.mark.parametrize('path', TEACHER_CONFIGS, ids=_name)
def test_teacher_config_trains_and_feeds_mosaickd(path, tmp_path):
    cfg = _without_evaluation(Config.fromfile(path), str(tmp_path))
    cfg.train_dataloader.batch_size = TINY_BATCH
    cfg.train_dataloader.dataset = dict(
        _scope_='mmpretrain',
        type='mmmosaic.' + RandomUint8Images.__name__,
        num_images=2 * TINY_BATCH,
        pipeline=cfg.train_dataloader.dataset.pipeline)
    cfg.train_cfg.max_epochs = 1
    runner = Runner.from_cfg(ensure_guarantee_hooks(cfg))
    runner.train()

    assert runner.epoch == 1 and runner.iter == 2
    assert math.isfinite(runner.message_hub.get_scalar('train/loss').current())
    # The last checkpoint is written by SafeCheckpointHook's rules, so it
    # is a valid model.teacher_ckpt of the distillation configs.
    ckpt = tmp_path / 'epoch_1.pth'
    torch.load(ckpt, map_location='cpu', weights_only=True)
    students = [
        p for p in DISTILL_CONFIGS
        if Config.fromfile(p).model.teacher == cfg.model
    ]
    assert students, f'no distillation config uses {_name(path)}'
    mosaickd = Config.fromfile(students[0]).model
    mosaickd.teacher_ckpt = str(ckpt)
    with DefaultScope.overwrite_default_scope('mmmosaic'):
        model = MODELS.build(mosaickd)
    expected = runner.model.state_dict()
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, expected[key]), key
