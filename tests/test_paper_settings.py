"""The paper's settings as configs: each trains two iterations on a tiny copy
of its data in the official layout, as a user would run it.

Tiny networks (with the config's own preprocessor and class count) stand in
for the real ones, which the configs take from ``configs/_base_/models``:
the CIFAR-100 networks are built at full size by tests/test_configs.py (the
CIFAR-10 settings use the same dicts), the 64x64 / ImageNet 32x32 ones here.
The ResNet-34 -> ResNet-18 config of each setting trains; the configs of
the other teacher / student pairs must equal it but for their networks,
which must be those of the base files. Data sets without a release that can
be copied in miniature (mmpretrain's CIFAR-10/100 check the files'
checksums) are replaced by random images. The players keep their kind and
image size at a fraction of their width.
"""
import copy
import functools
import json
import math
import os
import os.path as osp
import sys

import pytest
import torch
from _official_layouts import paper_setting_configs
from _tiny import RandomUint8Images, load_script
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmmosaic.analysis import select_high_entropy, teacher_entropies
from mmmosaic.engine import ensure_guarantee_hooks
from mmmosaic.errors import MosaicError
from mmmosaic.models import batch_rule
from mmmosaic.registry import DATASETS, MODELS
from mmmosaic.runtime import check_data_paths

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = paper_setting_configs(osp.join(ROOT, 'configs'))
TASKS = ('cub200', 'stanford_dogs', 'imagenet32')
B = 2  # synthetic images per step, OOD images per chunk


def _name(path):
    return osp.relpath(path, osp.join(ROOT, 'configs'))


@functools.lru_cache(maxsize=None)
def _parse(path):
    return Config.fromfile(path)


def _load(path):
    """A fresh copy of the config (parsed once per test session)."""
    return copy.deepcopy(_parse(path))


def _task(path):
    return next((t for t in TASKS if _name(path).endswith(f'_{t}.py')), None)


@pytest.fixture(scope='module')
def data(official_data):
    """The session's copies of the releases, by name (module-scoped, for
    the teachers trained once per module)."""
    return official_data


def _tiny(network):
    """A tiny classifier with ``network``'s preprocessor and classes."""
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=dict(network['data_preprocessor']),
        backbone=dict(
            type='mmmosaic.SmallConvNet', in_channels=3, channels=(4, 8)),
        head=dict(
            type='LinearClsHead',
            num_classes=network['head']['num_classes'],
            in_channels=8,
            loss=dict(type='CrossEntropyLoss')))


def _quick(cfg, work_dir, validate, checkpoint=False):
    cfg.work_dir = str(work_dir)
    cfg.visualizer = dict(type='Visualizer', vis_backends=[])
    cfg.default_hooks.logger.interval = 1
    # Built as configured, but only a teacher writes its (last) checkpoint.
    cfg.default_hooks.checkpoint.update(save_last=checkpoint, save_best=None)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            cfg[key].update(num_workers=0, persistent_workers=False)
    if not validate:
        for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                    'test_dataloader', 'test_cfg', 'test_evaluator'):
            cfg[key] = None
    return cfg


def _ood_root(cfg, data):
    """The fixture folder a distillation's OOD source reads, by the root
    the config names (None where a random stand-in replaces it)."""
    source = cfg.train_dataloader.dataset.get('source') or {}
    root = source.get('data_root', '')
    for key in ('places365_32', 'places365_64', 'svhn'):
        if root == f'data/{key}':
            return data[key]
    if root == 'data/imagenet/train':
        return data['imagenet']
    return None


def _distil(path, data, work_dir, teacher_ckpt=None):
    """``path`` with tiny networks on the fixtures, two iterations."""
    cfg = _load(path)
    model = cfg.model
    model.teacher, model.student = _tiny(model.teacher), _tiny(model.student)
    # The players keep their kind and image size, at a fraction of the width.
    if model.generator:
        model.generator.update(latent_dim=8, base_channels=4)
    if model.discriminator:
        model.discriminator.base_channels = 4
    model.teacher_ckpt = teacher_ckpt
    model.allow_random_teacher = teacher_ckpt is None
    model.synthetic_batch_size = B
    task = _task(path)
    dataset = cfg.train_dataloader.dataset
    if dataset.type == 'OODDataset':
        root = _ood_root(cfg, data)
        if root is None:
            dataset.source = dict(
                type=RandomUint8Images.__name__, num_images=8)
        else:
            dataset.source.data_root = root
        model.ood_batch_size = B
        cfg.train_dataloader.batch_size = None
        batch_rule(cfg)
    if task:
        cfg.val_dataloader.dataset.data_root = data[task]
        cfg.val_dataloader.batch_size = 2
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg = _quick(cfg, work_dir, validate=bool(task))
    if dataset.get('subset_file'):
        dataset.subset_file = _write_subset(cfg, work_dir)
    return cfg


def _write_subset(cfg, work_dir):
    """The teacher's high-entropy half of the OOD images, as
    tools/select_ood_subset.py writes it."""
    with DefaultScope.overwrite_default_scope('mmmosaic'):
        model = MODELS.build(cfg.model)
        ood_cfg = cfg.train_dataloader.dataset.copy()
        ood_cfg.pop('subset_file')
        ood = DATASETS.build(ood_cfg)
    entropies = teacher_entropies(model, ood, batch_size=4)
    path = osp.join(str(work_dir), 'subset.json')
    with open(path, 'w') as f:
        json.dump(
            select_high_entropy(entropies,
                                len(ood) // 2, ood.indices), f)
    return path


def _without_networks(path):
    """The config as a dict, its teacher, student and OOD subset aside."""
    cfg = _load(path).to_dict()
    cfg['model'].pop('teacher')
    cfg['model'].pop('student')
    cfg['train_dataloader']['dataset'].pop('subset_file', None)
    return {
        key: value
        for key, value in cfg.items()
        if key in ('model', 'train_dataloader', 'val_dataloader',
                   'optim_wrapper', 'param_scheduler', 'train_cfg',
                   'default_hooks', 'custom_hooks')
    }


DISTILL = [p for p in CONFIGS if not _name(p).startswith('teachers')]
TEACHERS = [p for p in CONFIGS if _name(p).startswith('teachers')]
#: Trained on the fixtures; every other pair's config of the same setting
#: must equal its ResNet-34 -> ResNet-18 sibling but for the networks.
REPRESENTATIVES = [p for p in DISTILL if 'resnet34_resnet18' in _name(p)]
PAIRS = ('vgg11_resnet18', 'wrn40_2_wrn16_1', 'wrn40_2_wrn40_1',
         'wrn40_2_wrn16_2')


def _networks():
    """Every network a base model file defines, by variable name."""
    found = {}
    folder = osp.join(ROOT, 'configs/_base_/models')
    for name in sorted(os.listdir(folder)):
        cfg = _load(osp.join(folder, name))
        for key, value in cfg.items():
            if isinstance(value,
                          dict) and value.get('type') in ('ImageClassifier', ):
                found[key] = value.to_dict()
    return found


def test_every_setting_of_the_paper_has_a_config():
    names = {_name(p) for p in CONFIGS}
    pairs = ('resnet34_resnet18', 'vgg11_resnet18', 'wrn40_2_wrn16_1',
             'wrn40_2_wrn40_1', 'wrn40_2_wrn16_2')
    for pair in pairs:
        for ood in ('imagenet', 'places365', 'svhn'):
            assert f'mosaickd/{pair}_cifar100_{ood}.py' in names
            assert f'baselines/kd_ood_{pair}_cifar100_{ood}.py' in names
        assert f'baselines/kd_ood_{pair}_cifar100.py' in names
        assert f'baselines/dfq_{pair}_cifar100.py' in names
    assert 'baselines/kd_indomain_resnet34_resnet18_cifar100.py' in names
    for task in TASKS:
        for prefix in ('teachers/resnet34', 'mosaickd/resnet34_resnet18',
                       'baselines/kd_ood_resnet34_resnet18',
                       'baselines/dfq_resnet34_resnet18'):
            assert f'{prefix}_{task}.py' in names


def test_other_pairs_differ_from_the_trained_config_only_in_networks():
    networks = list(_networks().values())
    others = set(DISTILL) - set(REPRESENTATIVES)
    for path in DISTILL:
        model = _load(path).model
        assert model.teacher.to_dict() in networks, _name(path)
        assert model.student.to_dict() in networks, _name(path)
    for path in REPRESENTATIVES:
        trained = _without_networks(path)
        for pair in PAIRS:
            other = path.replace('resnet34_resnet18', pair)
            if other in others:
                assert _without_networks(other) == trained, _name(other)
                others.discard(other)
    assert not others, sorted(_name(p) for p in others)


@pytest.mark.parametrize('task', TASKS)
def test_task_networks_build_and_predict(task):
    networks = _networks()
    size = 32 if task == 'imagenet32' else 64
    with DefaultScope.overwrite_default_scope('mmmosaic'):
        for arch in ('resnet34', 'resnet18'):
            model = MODELS.build(networks[f'{arch}_{task}']).eval()
            with torch.no_grad():
                logits = model(torch.randn(1, 3, size, size), mode='tensor')
            assert logits.shape == (1, model.head.num_classes)


@pytest.fixture(scope='module')
def teacher_ckpts(data, tmp_path_factory):
    """Each task's teacher config, trained one epoch on its fixture with a
    tiny network (validating on the test split)."""
    ckpts = {}
    for path in TEACHERS:
        task = _task(path)
        work_dir = tmp_path_factory.mktemp(task)
        cfg = _load(path)
        cfg.model = _tiny(cfg.model)
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            cfg[key].dataset.data_root = data[task]
            cfg[key].batch_size = 4
        cfg.train_cfg.max_epochs = 1
        runner = Runner.from_cfg(
            ensure_guarantee_hooks(
                _quick(cfg, work_dir, validate=True, checkpoint=True)))
        runner.train()
        assert math.isfinite(
            runner.message_hub.get_scalar('train/loss').current())
        assert 'val/accuracy/top1' in runner.message_hub.log_scalars
        ckpts[task] = str(work_dir / 'epoch_1.pth')
    return ckpts


@pytest.mark.parametrize('path', REPRESENTATIVES, ids=_name)
def test_setting_trains_on_its_official_layout(path, data, teacher_ckpts,
                                               tmp_path):
    task = _task(path)
    cfg = _distil(path, data, tmp_path, teacher_ckpts.get(task))
    runner = Runner.from_cfg(ensure_guarantee_hooks(cfg))
    before = {
        k: v.clone()
        for k, v in runner.model.teacher.state_dict().items()
    }
    runner.train()
    assert runner.iter == 2
    scalars = runner.message_hub.log_scalars
    assert math.isfinite(scalars['train/loss_student'].current())
    if cfg.model.get('loss_weights', {}).get('bn'):
        assert scalars['train/loss_bn'].current() > 0
    if task:
        assert 0 <= scalars['val/accuracy/top1'].current() <= 100
    for key, value in runner.model.teacher.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_missing_data_names_the_command_that_prepares_it(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cases = {
        'mosaickd/wrn40_2_wrn16_1_cifar100_svhn.py': 'train_32x32.mat',
        'mosaickd/wrn40_2_wrn16_1_cifar100_imagenet.py':
        'tools/select_ood_subset.py',
        'mosaickd/resnet34_resnet18_stanford_dogs.py':
        'tools/dataset_converters/places365.py',
        'teachers/resnet34_cub200.py': 'CUB_200_2011.tgz',
        'teachers/resnet34_imagenet32.py': 'Imagenet32_train.zip',
    }
    for name, command in cases.items():
        with pytest.raises(MosaicError) as info:
            check_data_paths(_load(osp.join(ROOT, 'configs', name)))
        assert command in str(info.value), name
        assert '\n' not in str(info.value)


def test_select_ood_subset_ranks_an_imagenet_folder(data, tmp_path,
                                                    monkeypatch):
    """The documented command on the ImageNet-folder config (tiny networks
    swapped in by a config on top): the subset file the config names need
    not exist yet."""
    real = osp.join(ROOT,
                    'configs/mosaickd/wrn40_2_wrn16_1_cifar100_imagenet.py')
    model = _load(real).model
    config = tmp_path / 'imagenet_ood.py'
    tiny = dict(
        teacher=dict(_tiny(model.teacher), _delete_=True),
        student=dict(_tiny(model.student), _delete_=True))
    config.write_text(f"_base_ = ['{real}']\nmodel = {tiny!r}\n")
    with DefaultScope.overwrite_default_scope('mmmosaic'):
        cfg = _load(str(config))
        cfg.model.allow_random_teacher = True
        teacher = MODELS.build(cfg.model).teacher
    ckpt = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    out = tmp_path / 'subset.json'
    monkeypatch.setattr(sys, 'argv', [
        'select_ood_subset.py',
        str(config), '--num', '3', '--out',
        str(out), '--cfg-options', f'model.teacher_ckpt={ckpt}',
        f'train_dataloader.dataset.source.data_root={data["imagenet"]}'
    ])
    assert load_script('tools/select_ood_subset.py').main() == 0
    subset = json.loads(out.read_text())
    assert len(subset) == 3 and subset == sorted(set(subset))
    assert all(0 <= i < 7 for i in subset)
