"""The batch rule (B + k x N images an iteration): the helper's numbers,
``model.ood_batch_size`` deriving the loader's batch, and a wrong batch
refused before the Runner is built."""
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
DFAD = osp.join(ROOT, 'configs/benchmarks/dfad_mnist_400.py')
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
    assert batch_rule(load_config(DFAD)) == (128, 0, 5, 0, 0, 1, False)


def test_numbers_under_a_synthetic_warmup():
    """Under the warm-up a student step's chunk is its whole batch,
    M = B + N: derived from model.ood_batch_size or inferred from the
    loader's batch, the numbers agree."""
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
    inferred = load_config(
        DEMO, dict(WARMUP, **{'train_dataloader.batch_size': 704}))
    assert batch_rule(inferred) == expected


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
    for path, size in (('configs/demo/seg_mosaickd_mnist_canvas.py',
                        192), ('configs/demo/seg_kd_ood_mnist_canvas.py', 320),
                       ('configs/zoo/resnet18_mobilenetv2_own_images.py',
                        768), ('configs/mosaickd/deeplabv3_nyu.py', 384)):
        cfg = load_config(osp.join(ROOT, path))
        assert cfg.model.ood_batch_size
        assert cfg.train_dataloader.get('batch_size') is None, path
        assert batch_rule(cfg).batch_size == size, path


@pytest.mark.parametrize('options,keys', [
    ({
        'train_dataloader.batch_size': 383
    }, ('train_dataloader.batch_size=379', 'model.synthetic_batch_size',
        'model.student_steps', 'model.ood_batch_size=63')),
    ({
        'model.ood_batch_size': 32
    }, ('train_dataloader.batch_size=224', 'model.ood_batch_size 32',
        'model.synthetic_batch_size 64', 'model.student_steps 5')),
    (dict(WARMUP),
     ('x M', 'model.synthetic_warmup', 'train_dataloader.batch_size=704')),
    ({
        'train_dataloader.batch_size': None
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
        batch_rule(load_config(DFAD, {'model.ood_batch_size': 8}))


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
    assert 'set train_dataloader.batch_size=379' in message


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


def test_model_argument_splits_as_the_inferred_rule_and_trains_alike():
    """Giving model.ood_batch_size changes nothing about training: the same
    split and, from the same seed, the same weights after an update."""
    inferred, optim_a = build_game()
    explicit, optim_b = build_game(dict(ood_batch_size=4))
    b, k = inferred.synthetic_batch_size, inferred.student_steps
    data = _loader_batch(b + k * 4)
    real_a, chunks_a = inferred.split_batch(data)
    real_b, chunks_b = explicit.split_batch(data)
    assert torch.equal(real_a, real_b) and len(real_a) == b
    assert [len(c) for c in chunks_a] == [len(c) for c in chunks_b] == [4] * k
    torch.manual_seed(1)
    inferred.train_step(data, optim_a)
    torch.manual_seed(1)
    explicit.train_step(data, optim_b)
    for (name, p), q in zip(inferred.state_dict().items(),
                            explicit.state_dict().values()):
        assert torch.equal(p, q), name


def test_model_argument_refuses_another_batch():
    """Without the argument a loader batch of B + k x 6 is simply N = 6;
    with ood_batch_size=4 the model names the size the rule needs."""
    inferred, _ = build_game()
    b, k = inferred.synthetic_batch_size, inferred.student_steps
    data = _loader_batch(b + k * 6)
    assert {len(c) for c in inferred.split_batch(data)[1]} == {6}
    explicit, optim = build_game(dict(ood_batch_size=4))
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
