"""The batch rule (B + k x N images an iteration): the helper's numbers,
``model.ood_batch_size`` deriving the loader's batch, and a wrong batch
refused before the Runner is built."""
import glob
import os.path as osp
import sys

import pytest
import torch
from _tiny import ROOT, build_game, load_script, ood_dataset
from mmengine.dataset import pseudo_collate

from mmmosaic.errors import MosaicError
from mmmosaic.models import BatchRule, batch_rule
from mmmosaic.registry import DATASETS
from mmmosaic.runtime import load_config

DEMO = osp.join(ROOT, 'configs/demo/mosaickd_mnist_fashion.py')
KD_OOD = osp.join(ROOT, 'configs/demo/kd_ood_mnist_fashion.py')
WARMUP = {
    'model.synthetic_warmup.schedule': 'linear',
    'model.synthetic_warmup.ramp': 0.5
}


def _one_sentence(message: str, *keys) -> None:
    assert '\n' not in message and message.count('; ') == 1, message
    for key in keys:
        assert key in message, (key, message)


def test_numbers_of_the_demo_and_its_baselines():
    # B, D's real images, k, N, chunk per student update, loader batch.
    assert batch_rule(load_config(DEMO)) == BatchRule(
        synthetic=64,
        real=64,
        steps=5,
        ood=64,
        chunk=64,
        batch_size=64 + 5 * 64,
        warmup=False)
    assert batch_rule(load_config(KD_OOD)) == (0, 0, 5, 128, 128, 640, False)
    assert batch_rule(load_config(DEMO,
                                  dict(baseline='dfad'))) == (128, 0, 5, 0, 0,
                                                              1, False)


def test_numbers_under_a_synthetic_warmup():
    """Under the warm-up a student step's chunk is its whole batch,
    M = B + N: a loader batch derived from model.ood_batch_size or given
    and checked, the numbers agree."""
    derived = load_config(
        DEMO,
        dict(
            WARMUP, **{
                'model.ood_batch_size': 64,
                'train_dataloader.batch_size': None
            }))
    expected = BatchRule(64, 64, 5, 64, 128, 64 + 5 * 128, True)
    assert batch_rule(derived) == expected
    assert derived.train_dataloader.batch_size == 704
    given = load_config(DEMO,
                        dict(WARMUP, **{'train_dataloader.batch_size': 704}))
    assert batch_rule(given) == expected


def test_ood_batch_size_derives_the_loader_batch():
    cfg = load_config(DEMO, {
        'model.ood_batch_size': 32,
        'train_dataloader.batch_size': None
    })
    assert batch_rule(cfg, fill=False).batch_size == 64 + 5 * 32
    assert cfg.train_dataloader.batch_size is None
    assert batch_rule(cfg) == (64, 64, 5, 32, 32, 224, False)
    assert cfg.train_dataloader.batch_size == 224
    # Without a discriminator there are no real images for D: k x N.
    cfg = load_config(KD_OOD, {
        'model.ood_batch_size': 10,
        'train_dataloader.batch_size': None
    })
    assert batch_rule(cfg).batch_size == 50


def test_configs_giving_ood_batch_size_keep_their_batch():
    for path, size in (
        ('configs/demo/mosaickd_mnist_fashion.py', 64 + 5 * 64),
        ('configs/demo/kd_ood_mnist_fashion.py', 5 * 128),
        ('configs/mosaickd/wrn40_2_wrn16_1_cifar100.py', 256 + 5 * 256),
        ('configs/baselines/kd_ood_wrn40_2_wrn16_1_cifar100.py', 5 * 512),
        ('configs/demo/seg_mosaickd_mnist_canvas.py', 192),
        ('configs/demo/seg_kd_ood_mnist_canvas.py', 320),
        ('configs/zoo/resnet18_mobilenetv2_own_images.py', 768),
        ('configs/mosaickd/deeplabv3_nyu.py', 384),
    ):
        cfg = load_config(osp.join(ROOT, path))
        assert cfg.model.ood_batch_size
        assert cfg.train_dataloader.get('batch_size') is None, path
        assert batch_rule(cfg).batch_size == size, path


def test_every_config_with_ood_images_gives_ood_batch_size():
    """N is stated where the images per student update are chosen, and
    the loader's batch follows from it: no config writes B + k x N by
    hand."""
    from mmmosaic.models import is_game_config
    checked = 0
    for path in sorted(
            glob.glob(osp.join(ROOT, 'configs/**/*.py'), recursive=True)):
        if '_base_' in path:
            continue
        cfg = load_config(path)  # as the tools read it (baseline=...)
        if not is_game_config(cfg.get('model') or {}):
            continue
        written = cfg.train_dataloader.get('batch_size')
        rule = batch_rule(cfg, fill=False)
        if rule.real or rule.chunk:  # the loader gives OOD images
            assert cfg.model.get('ood_batch_size') is not None, path
            assert written is None, path
            checked += 1
    assert checked > 50


@pytest.mark.parametrize('options,keys', [
    ({
        'train_dataloader.batch_size': 383
    }, ('train_dataloader.batch_size=384', 'model.synthetic_batch_size 64',
        'model.student_steps 5', 'model.ood_batch_size 64')),
    ({
        'model.ood_batch_size': None,
        'train_dataloader.batch_size': 383
    }, ('model.ood_batch_size=63', 'model.synthetic_batch_size 64',
        'model.student_steps 5', 'train_dataloader.batch_size')),
    ({
        'model.ood_batch_size': 32,
        'train_dataloader.batch_size': 384
    }, ('train_dataloader.batch_size=224', 'model.ood_batch_size 32',
        'model.synthetic_batch_size 64', 'model.student_steps 5')),
    (dict(WARMUP, **{'train_dataloader.batch_size': 384}),
     ('5 x (64 + 64)', 'model.synthetic_warmup',
      'train_dataloader.batch_size=704')),
    ({
        'model.ood_batch_size': None
    }, ('train_dataloader.batch_size', 'model.ood_batch_size=N')),
    ({
        'model.ood_batch_size': -1
    }, ('model.ood_batch_size', )),
])
def test_a_wrong_batch_is_one_sentence_naming_the_keys(options, keys):
    with pytest.raises(MosaicError) as info:
        batch_rule(load_config(DEMO, options))
    message = str(info.value)
    assert '\n' not in message
    for key in keys:
        assert key in message, (key, message)


def test_ood_batch_size_without_ood_images_is_refused():
    with pytest.raises(MosaicError, match='model.ood_batch_size=None'):
        batch_rule(
            load_config(DEMO, {
                'baseline': 'dfad',
                'model.ood_batch_size': 8
            }))


def test_train_py_refuses_a_wrong_batch_before_the_runner(
        monkeypatch, tmp_path, capsys):
    """tools/train.py stops at the batch rule, before any model is built or
    any data is read (the demo's data need not exist)."""
    from mmengine.runner import Runner

    def no_runner(cfg):
        raise AssertionError('the Runner was built')

    monkeypatch.setattr(Runner, 'from_cfg', staticmethod(no_runner))
    train = load_script('tools/train.py', 'train_tool')
    monkeypatch.setattr(sys, 'argv', [
        'train.py', DEMO, '--work-dir',
        str(tmp_path), '--cfg-options', 'train_dataloader.batch_size=383'
    ])
    assert train.main() == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert message.startswith('error: train_dataloader.batch_size is 383')
    assert 'model.synthetic_batch_size 64, model.student_steps 5' in message
    assert 'set train_dataloader.batch_size=384' in message


def test_prepare_runtime_derives_the_batch_before_reading_data(
        monkeypatch, tmp_path):
    from mmmosaic import runtime
    seen = []

    def check_data_paths(cfg, which):
        seen.append(cfg.train_dataloader.batch_size)
        raise RuntimeError('stop here')

    monkeypatch.setattr(runtime, 'check_data_paths', check_data_paths)
    cfg = load_config(DEMO, {
        'model.ood_batch_size': 16,
        'train_dataloader.batch_size': None
    })
    with pytest.raises(RuntimeError, match='stop here'):
        runtime.prepare_runtime(cfg, DEMO, work_dir=str(tmp_path))
    assert seen == [64 + 5 * 16]


def _loader_batch(num, seed=0):
    dataset = DATASETS.build(ood_dataset())
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(dataset), generator=gen)[:num].tolist()
    return pseudo_collate([dataset[i] for i in idx])


def test_model_splits_by_its_ood_batch_size():
    """D's B real images first, then k chunks of N."""
    game, _ = build_game(dict(ood_batch_size=3))
    b, k = game.synthetic_batch_size, game.student_steps
    real, chunks = game.split_batch(_loader_batch(b + k * 3))
    assert len(real) == b and [len(c) for c in chunks] == [3] * k


def test_model_refuses_ood_images_without_ood_batch_size():
    """OOD images without model.ood_batch_size: one sentence with the N the
    batch would give each student update."""
    game, optim = build_game(dict(ood_batch_size=None))
    b, k = game.synthetic_batch_size, game.student_steps
    with pytest.raises(MosaicError) as info:
        game.train_step(_loader_batch(b + k * 6), optim)
    _one_sentence(
        str(info.value), 'model.ood_batch_size=6',
        f'gives {b + k * 6} OOD images')


def test_model_argument_refuses_another_batch():
    """With ood_batch_size=4 a loader batch of B + k x 6 is refused, naming
    the size the rule needs."""
    explicit, optim = build_game(dict(ood_batch_size=4))
    b, k = explicit.synthetic_batch_size, explicit.student_steps
    data = _loader_batch(b + k * 6)
    with pytest.raises(MosaicError) as info:
        explicit.train_step(data, optim)
    _one_sentence(
        str(info.value), f'train_dataloader.batch_size is {b + k * 6}',
        'model.ood_batch_size 4', f'batch_size={b + k * 4}')


@pytest.mark.parametrize('value', [-1, 2.0, True, '4'])
def test_ood_batch_size_must_be_a_non_negative_integer(value):
    with pytest.raises(MosaicError, match='model.ood_batch_size must be'):
        build_game(dict(ood_batch_size=value))


def test_no_ood_image_for_the_student():
    """ood_batch_size=0: the loader gives D's B real images only and every
    student update trains on G's B images alone."""
    cfg = load_config(DEMO, {
        'model.ood_batch_size': 0,
        'train_dataloader.batch_size': None
    })
    assert batch_rule(cfg) == BatchRule(64, 64, 5, 0, 0, 64, False)
    assert cfg.train_dataloader.batch_size == 64
    game, optim = build_game(dict(ood_batch_size=0))
    b, k = game.synthetic_batch_size, game.student_steps
    data = _loader_batch(b)
    real, chunks = game.split_batch(data)
    assert len(real) == b and chunks == [None] * k
    seen = []
    student_step = game.student_step
    game.student_step = lambda ood, *args: seen.append(ood) or student_step(
        ood, *args)
    logs = game.train_step(data, optim)
    assert seen == [None] * k and torch.isfinite(logs['loss_student'])
    # A wrong loader batch names the rule's size.
    with pytest.raises(MosaicError, match=f'batch_size={b}'):
        game.train_step(_loader_batch(b + k), optim)


def test_no_ood_image_without_a_discriminator_is_refused():
    with pytest.raises(MosaicError) as info:
        build_game(dict(ood_batch_size=0, discriminator=None))
    _one_sentence(
        str(info.value), 'model.ood_batch_size is 0', 'model.discriminator')
