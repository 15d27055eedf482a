"""The phase profiler of the speed benchmark, and the game's speed options.

The profiler wraps MosaicKD's methods on the instance and counts MACs from
the layers; the game's numbers must not change under it, and the instance
must be as before once it exits.
"""
import logging
import random

import numpy as np
import pytest
import torch
import torch.nn as nn
from _tiny import build_game, load_script, mosaickd
from test_mosaickd import fake_batch, state_of

from mmmosaic.benchmarking.profile import (PhaseProfiler, layer_macs,
                                           reference_rate)
from mmmosaic.errors import MosaicError
from mmmosaic.registry import MODELS


def _losses_and_weights(model, optim, iters=3, **profiler):
    """Losses of ``iters`` iterations and the players' final weights (the
    data pipeline's augmentations draw from numpy's and Python's global
    generators: seeded here)."""
    np.random.seed(0)
    random.seed(0)
    losses = []
    for i in range(iters):
        if profiler:
            with PhaseProfiler(model, **profiler):
                out = model.train_step(fake_batch(model, i), optim)
        else:
            out = model.train_step(fake_batch(model, i), optim)
        losses.append({k: v.clone() for k, v in out.items()})
    weights = {
        name: state_of(getattr(model, name))
        for name in ('generator', 'discriminator', 'student')
        if getattr(model, name) is not None
    }
    return losses, weights


def _assert_identical(a, b):
    for x, y in zip(a[0], b[0]):
        assert x.keys() == y.keys()
        for key in x:
            assert torch.equal(x[key], y[key]), key
    for name in a[1]:
        for key, value in a[1][name].items():
            assert torch.equal(value, b[1][name][key]), (name, key)


def test_layer_macs_follow_the_stated_rules():
    x = torch.randn(2, 3, 8, 8)
    conv = nn.Conv2d(3, 4, 3, padding=1, groups=1)
    assert layer_macs(conv, x, conv(x)) == 2 * 4 * 8 * 8 * 3 * 9
    grouped = nn.Conv2d(4, 4, 3, padding=1, groups=2)
    y = torch.randn(2, 4, 8, 8)
    assert layer_macs(grouped, y, grouped(y)) == 2 * 4 * 8 * 8 * 2 * 9
    deconv = nn.ConvTranspose2d(3, 5, 4, stride=2, padding=1)
    assert layer_macs(deconv, x, deconv(x)) == x.numel() * 5 * 16
    linear = nn.Linear(7, 3)
    z = torch.randn(5, 7)
    assert layer_macs(linear, z, linear(z)) == 5 * 3 * 7
    bn = nn.BatchNorm2d(3)
    assert layer_macs(bn, x, bn(x)) == x.numel()
    relu = nn.ReLU()
    assert layer_macs(relu, x, relu(x)) == 0


def test_backward_macs_are_counted_where_the_backward_runs():
    """Weight gradient only for the first layer, input and weight gradient
    for the next; no backward under no_grad."""

    class Toy(nn.Module):

        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 6), nn.Linear(6, 2)

        def step(self, x):
            return self._update(None, self.b(self.a(x)).sum())

        def _update(self, optim_wrapper, loss):
            loss.backward()

        def student_step(self, x):
            with torch.no_grad():
                self.b(self.a(x))
            return self.step(x)

    toy = Toy()
    x = torch.randn(3, 4)
    with PhaseProfiler(toy, count_macs=True) as prof:
        toy.student_step(x)
    fwd_a, fwd_b = 3 * 6 * 4, 3 * 2 * 6
    rows = {r['phase']: r for r in prof.rows()}
    assert rows['S steps']['fwd_macs'] == 2 * (fwd_a + fwd_b)
    assert rows['S steps']['bwd_macs'] == fwd_a + 2 * fwd_b
    assert rows['S steps / backward + step']['bwd_macs'] == fwd_a + 2 * fwd_b
    assert rows['S steps / backward + step']['fwd_macs'] == 0
    assert prof.total_macs() == 2 * (fwd_a + fwd_b) + fwd_a + 2 * fwd_b
    assert not prof._pending


def test_profiler_times_every_phase_and_changes_nothing():
    reference = _losses_and_weights(*build_game())
    model, optim = build_game()
    timed = _losses_and_weights(model, optim, count_macs=True)
    _assert_identical(reference, timed)
    # The instance's methods are the class's again.
    assert not {'train_step', 'student_step', '_update', 'synthesize'} & set(
        vars(model))
    with PhaseProfiler(model, count_macs=True) as prof:
        model.train_step(fake_batch(model), optim)
    rows = {r['phase']: r for r in prof.rows()}
    k = model.student_steps
    assert rows['S steps']['calls'] == k
    assert rows['S steps / G(z) forward']['calls'] == k
    assert rows['S steps / teacher forward']['calls'] == k
    assert rows['G step / teacher forward']['calls'] == 1
    assert rows['G(z) forward']['calls'] == 1
    assert rows['D step / backward + step']['calls'] == 1
    for name in ('D step', 'G step', 'S steps', 'G(z) forward'):
        assert rows[name]['fwd_macs'] > 0, name
        assert rows[name]['seconds'] > 0, name
    # G's backward runs in the G step, the teacher's never under no_grad.
    assert rows['G(z) forward']['bwd_macs'] == 0
    assert rows['S steps / teacher forward']['bwd_macs'] == 0
    assert rows['G step']['bwd_macs'] > rows['G step']['fwd_macs']
    assert prof.total_macs() == sum(r['fwd_macs'] + r['bwd_macs']
                                    for r in prof.rows() if r['depth'] == 0)
    assert prof.dominant_conv() in prof.conv_macs
    rate, layer = reference_rate(prof.dominant_conv(), reps=2)
    assert rate > 0 and 'Conv' in layer


def test_teacher_bf16_is_off_by_default_and_runs():
    model, optim = build_game()
    assert model.teacher_bf16 is False
    model, optim = build_game(dict(teacher_bf16=True))
    x = torch.randn(2, 1, 16, 16)
    logits = model.teacher_logits(x)
    assert logits.dtype == torch.float32
    with torch.no_grad():
        full = model.teacher(x, mode='tensor')
    assert not torch.equal(logits, full)  # rounded to bfloat16
    assert torch.allclose(logits, full, atol=0.1, rtol=0.05)
    losses, _ = _losses_and_weights(model, optim, iters=2)
    assert all(torch.isfinite(v).all() for row in losses for v in row.values())
    with pytest.raises(MosaicError, match='teacher_bf16'):
        MODELS.build(mosaickd(teacher_bf16='yes'))


def test_teacher_bf16_warns_once_on_a_cpu_without_native_bf16(monkeypatch):
    from mmmosaic.models.algorithms import players as module
    assert isinstance(module.cpu_has_native_bf16(), bool)
    said = []
    monkeypatch.setattr(module, 'print_log', lambda msg, **kw: said.append(
        (msg, kw['level'])))
    x = torch.randn(2, 1, 16, 16)
    monkeypatch.setattr(module, 'cpu_has_native_bf16', lambda: True)
    model, _ = build_game(dict(teacher_bf16=True))
    model.teacher_logits(x)
    assert not [m for m, _ in said if 'teacher_bf16' in m]
    monkeypatch.setattr(module, 'cpu_has_native_bf16', lambda: False)
    model, _ = build_game(dict(teacher_bf16=True))
    for _ in range(3):
        model.teacher_logits(x)
    warned = [(m, lv) for m, lv in said if 'teacher_bf16' in m]
    assert len(warned) == 1 and warned[0][1] == logging.WARNING
    assert 'AVX512-BF16' in warned[0][0] and 'False' in warned[0][0]
    model, _ = build_game()  # float32: nothing to say
    model.teacher_logits(x)
    assert len([m for m, _ in said if 'teacher_bf16' in m]) == 1


def test_speed_script_reads_config_specs_and_settings(tmp_path):
    speed = load_script('benchmarks/speed.py', 'speed_for_tests')
    assert speed.split_spec('a.py@x.y=1,z=[1,2],w=s') == ('a.py', [
        'x.y=1', 'z=[1,2]', 'w=s'
    ])
    assert speed.split_spec('a.py') == ('a.py', [])

    class Args:
        setting = ['cifar10_animals']
        variant = ['model.teacher_bf16=True']
        config = []
        data_root = str(tmp_path)
        # Another setting's OOD folder: the animals read theirs from the
        # CIFAR-10 folder, as the quality benchmark gives them.
        ood_root = str(tmp_path / 'photos')

    (group, members), = speed.group_members(Args)
    assert group == 'cifar10_animals'
    assert [m['label'] for m in members
            ] == ['mosaickd', 'kd_ood', 'mosaickd@model.teacher_bf16=True']
    assert members[2]['options'][-1] == 'model.teacher_bf16=True'
    assert all(m['options'][0] ==
               f'train_dataloader.dataset.source.data_root={tmp_path}'
               for m in members)
    # The KD member is the quality benchmark's baseline form.
    assert 'baseline=kd_ood' in members[1]['options']
    Args.data_root = None
    with pytest.raises(MosaicError, match='--data-root'):
        speed.group_members(Args)
    # CamVid's OOD images are the photos of --ood-root (CamVid itself is
    # not read); the demo's setting reads the folders of make data.
    # The digits come from data/mnist whatever the folders given.
    Args.setting = ['camvid', 'mnist_fashion_400', 'cifar10_digits']
    Args.variant = []
    (tmp_path / 'photos').mkdir()
    (_, camvid), (_, demo), (_, digits) = speed.group_members(Args)
    assert camvid[0]['options'][0].endswith('=' + str(tmp_path / 'photos'))
    for group in (demo, digits):
        assert not any('source.data_root' in o for m in group
                       for o in m['options'])


def test_teacher_targets_in_inference_mode_are_bit_identical(monkeypatch):
    """The student steps' teacher forward runs under inference mode; the
    game's losses and weights are those of plain no_grad, bit for bit."""
    import mmmosaic.models.algorithms.mosaickd as mosaickd_module
    assert mosaickd_module._teacher_mode is torch.inference_mode
    fast = _losses_and_weights(*build_game())
    monkeypatch.setattr(mosaickd_module, '_teacher_mode', torch.no_grad)
    reference = _losses_and_weights(*build_game())
    _assert_identical(reference, fast)
    # KD on OOD images (no generator) too.
    kd = dict(generator=None, discriminator=None, ood_batch_size=8)
    reference = _losses_and_weights(*build_game(kd))
    monkeypatch.setattr(mosaickd_module, '_teacher_mode', torch.inference_mode)
    _assert_identical(reference, _losses_and_weights(*build_game(kd)))
