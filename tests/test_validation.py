"""Config validation (property-based), safe weight loading, non-finite
losses and the tools' one-sentence errors."""
import math
import os.path as osp
import subprocess
import sys

import pytest
import torch
from _tiny import classifier, mosaickd
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmosaic.errors import MosaicError
from mmmosaic.models.algorithms.mosaickd import (GENERATOR_LOSSES,
                                                 PAPER_LOSS_WEIGHTS, MosaicKD)
from mmmosaic.registry import MODELS
from mmmosaic.utils import load_model_weights

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

weights = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5),
    st.booleans(), st.none(), st.text(max_size=3))
keys = st.one_of(st.sampled_from(GENERATOR_LOSSES), st.text(max_size=8))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, weights, max_size=5))
def test_loss_weight_validation_accepts_exactly_finite_non_negatives(cfg):
    valid = all(
        k in GENERATOR_LOSSES and not isinstance(v, bool)
        and isinstance(v, (int, float)) and math.isfinite(v) and v >= 0
        for k, v in cfg.items())
    if valid:
        result = MosaicKD._check_loss_weights(cfg)
        assert set(result) == set(GENERATOR_LOSSES)
        for key in GENERATOR_LOSSES:
            assert result[key] == float(cfg.get(key, PAPER_LOSS_WEIGHTS[key]))
    else:
        with pytest.raises(MosaicError) as info:
            MosaicKD._check_loss_weights(cfg)
        assert '\n' not in str(info.value) and 'loss_weights' in str(
            info.value)


@settings(max_examples=40, deadline=None)
@given(
    steps=st.one_of(st.integers(-3, 6), st.floats(-1, 3), st.none()),
    batch=st.one_of(st.integers(-2, 4), st.just(2.5)))
def test_student_steps_and_batch_validation(steps, batch):
    ok = (
        isinstance(steps, int) and steps >= 1 and isinstance(batch, int)
        and batch >= 1)
    cfg = mosaickd(student_steps=steps, synthetic_batch_size=batch)
    if ok:
        model = MODELS.build(cfg)
        assert model.student_steps == steps
    else:
        with pytest.raises(MosaicError, match='must be an integer >= 1'):
            MODELS.build(cfg)


# ---------------------------------------------------------------- weights
@pytest.fixture
def teacher():
    return MODELS.build(classifier((8, 16)))


def test_weights_load_from_mmengine_style_and_bare_state_dicts(
        teacher, tmp_path):
    state = {
        k: torch.randn_like(v.float()).to(v.dtype)
        for k, v in teacher.state_dict().items()
    }
    for i, obj in enumerate([{
            'state_dict': state
    }, state, {
            'state_dict': {
                f'module.{k}': v
                for k, v in state.items()
            }
    }]):
        path = tmp_path / f'{i}.pth'
        torch.save(obj, path)
        load_model_weights(teacher, str(path), 'teacher')
        for key, value in teacher.state_dict().items():
            assert torch.equal(value, state[key])


def test_missing_file(teacher, tmp_path):
    with pytest.raises(MosaicError, match='does not exist'):
        load_model_weights(teacher, str(tmp_path / 'x.pth'))


def test_not_a_checkpoint(teacher, tmp_path):
    path = tmp_path / 'x.pth'
    path.write_text('hello')
    with pytest.raises(MosaicError, match='not a checkpoint'):
        load_model_weights(teacher, str(path))


def test_pickled_code_is_refused_not_run(teacher, tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': _Evil()}, path)
    with pytest.raises(MosaicError, match='weights_only=True'):
        load_model_weights(teacher, str(path))
    assert not (tmp_path / 'pwned').exists()


class _Evil:

    def __reduce__(self):
        return (open, ('pwned', 'w'))


def test_architecture_mismatch_is_summarised(teacher, tmp_path):
    other = MODELS.build(classifier((4, 8)))
    path = tmp_path / 'other.pth'
    torch.save(other.state_dict(), path)
    with pytest.raises(MosaicError, match='shape mismatches') as info:
        load_model_weights(teacher, str(path), 'teacher')
    assert '\n' not in str(info.value)
    state = dict(teacher.state_dict())
    state.pop('head.fc.bias')
    state['extra.weight'] = torch.zeros(1)
    torch.save(state, path)
    with pytest.raises(MosaicError, match='missing keys 1.*unexpected keys 1'):
        load_model_weights(teacher, str(path), 'teacher')


# ------------------------------------------------------------- non-finite
def test_non_finite_student_loss_skips_the_update_then_stops(monkeypatch):
    from _tiny import build_game
    from test_mosaickd import fake_batch
    model, optim = build_game(dict(max_nonfinite_streak=2))
    before = {k: v.clone() for k, v in model.student.state_dict().items()}
    monkeypatch.setattr(model.student_loss, 'forward', lambda s, t:
                        (s * float('nan')).sum())
    logs = model.train_step(fake_batch(model), optim)
    assert logs['skipped_updates'] == model.student_steps
    for key, value in model.student.named_parameters():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None or not p.grad.any()
               for p in model.student.parameters())
    with pytest.raises(MosaicError, match='2 consecutive iterations'):
        model.train_step(fake_batch(model, 1), optim)


# ------------------------------------------------------------------ tools
def _tool(*args):
    return subprocess.run([sys.executable, *args],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          env={
                              'PATH': '/usr/bin:/bin',
                              'PYTHONWARNINGS': 'ignore'
                          })


@pytest.mark.parametrize('options,needle', [
    ([
        '--cfg-options',
        'train_dataloader.dataset.source.data_root=/nonexistent'
    ], 'fetch_mnist.py'),
    ([
        '--cfg-options', 'train_dataloader.dataset.source.data_root=.',
        'val_dataloader.dataset.data_root=.',
        'test_dataloader.dataset.data_root=.'
    ], 'teacher_ckpt'),
])
def test_train_tool_stops_with_one_sentence(options, needle):
    proc = _tool('tools/train.py', 'configs/demo/mosaickd_mnist_fashion.py',
                 '--work-dir', '/tmp/mmmosaic-test-unused', *options)
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith('error: '), proc.stderr
    assert needle in lines[0] and 'Traceback' not in proc.stderr


def test_missing_config_is_one_sentence():
    proc = _tool('tools/train.py', 'configs/nope.py')
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: Config file 'configs/nope")


def test_class_count_disagreement_is_caught_before_training():
    from mmengine.registry import init_default_scope

    from mmmosaic.runtime import check_class_counts, load_config
    init_default_scope('mmmosaic')
    good = load_config(ROOT + '/configs/demo/mosaickd_mnist_fashion.py')
    check_class_counts(good)
    bad = load_config(ROOT + '/configs/demo/mosaickd_mnist_fashion.py',
                      {'model.student.head.num_classes': 7})
    with pytest.raises(MosaicError, match='student 7'):
        check_class_counts(bad)
