"""Exact resume after a kill -9, atomic checkpoints, safe loading."""
import os
import os.path as osp
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from _tiny import build_game, write_runner_config

from mmmosaic.engine import (AtomicLocalBackend, RandomStateHook,
                             find_resumable_checkpoint, is_complete_checkpoint)
from mmmosaic.models.algorithms import PLAYERS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def train_run(config, *extra, check=True):
    env = dict(
        os.environ,
        PYTHONPATH=osp.join(ROOT, 'tests'),
        OMP_NUM_THREADS='1',
        PYTHONWARNINGS='ignore')
    proc = subprocess.run(
        [sys.executable,
         osp.join(ROOT, 'tools', 'train.py'), config, *extra],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def load_checkpoint(path):
    return torch.load(path, weights_only=True, map_location='cpu')


#: The schedules of the student's batch that depart from the paper, with
#: the loader's student images per step they need: a generator warm start
#: (iterations 0 and 1, by the loop's iteration) and the maturity warm-up
#: (its running mean and share are model buffers).
WARMUP = (dict(
    generator_warm_start=0.25,
    synthetic_warmup=dict(schedule='maturity', threshold=1.0,
                          momentum=0.5)), 8)


@pytest.mark.slow
@pytest.mark.parametrize(
    'model_overrides,student_images', [(None, 4), WARMUP],
    ids=['paper', 'warmup'])
def test_kill_9_then_resume_ends_bit_identical(tmp_path, model_overrides,
                                               student_images):
    game = dict(model_overrides=model_overrides, student_images=student_images)
    # The student's loss is NaN in iterations 3 and 4, so both runs skip
    # updates before the kill: the counters must survive the resume.
    nan = dict(type='NonFiniteStudentLossHook', at=[3, 4])
    full = write_runner_config(
        tmp_path / 'full.py', tmp_path / 'full', extra_hooks=[nan], **game)
    train_run(full)

    killed = write_runner_config(
        tmp_path / 'killed.py',
        tmp_path / 'killed',
        extra_hooks=[nan, dict(type='KillAtIterHook', at=5)],
        **game)
    proc = train_run(killed, check=False)
    assert proc.returncode == -9  # SIGKILL between checkpoints 4 and 6
    assert {'iter_2.pth', 'iter_4.pth'} <= set(os.listdir(tmp_path / 'killed'))
    assert not osp.exists(tmp_path / 'killed' / 'iter_6.pth')

    resumed = write_runner_config(
        tmp_path / 'resumed.py',
        tmp_path / 'killed',
        extra_hooks=[nan],
        **game)
    proc = train_run(resumed, '--resume')
    assert 'resumed epoch: 0, iter: 4' in proc.stdout + proc.stderr

    a = load_checkpoint(tmp_path / 'full' / 'iter_8.pth')
    b = load_checkpoint(tmp_path / 'killed' / 'iter_8.pth')
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    for player in PLAYERS:
        sa = a['optimizer'][player]['state']
        sb = b['optimizer'][player]['state']
        for idx in sa:
            for name, value in sa[idx].items():
                assert torch.equal(
                    torch.as_tensor(value), torch.as_tensor(sb[idx][name]))
    k = 2  # student steps of the tiny config: 2 skipped updates a NaN iter
    at_kill = load_checkpoint(tmp_path / 'full' /
                              'iter_4.pth')['training_counters']
    assert at_kill == dict(skipped_updates=2 * k, nonfinite_streak=2)
    assert a['training_counters'] == dict(
        skipped_updates=2 * k, nonfinite_streak=0)
    assert b['training_counters'] == a['training_counters']
    if model_overrides is None:
        return
    # Six maturity measurements (no G step measures during the warm start),
    # and the share of every student update, before and after the kill,
    # as in the uninterrupted run.
    assert int(b['state_dict']['synthetic_warmup.measurements']) == 6
    for key in ('synthetic_warmup.maturity', 'synthetic_warmup.ratio'):
        assert key in b['state_dict']
    for key in ('train/synthetic_share', 'train/maturity'):
        ha = a['message_hub']['log_scalars'][key]['log_history']
        hb = b['message_hub']['log_scalars'][key]['log_history']
        assert len(ha) == 6 and torch.equal(ha, hb), key
    assert len(set(ha.tolist())) > 1  # the running mean moved


def test_training_counters_are_restored_on_resume_not_on_load_from():
    """The non-finite streak and skipped updates continue after a resume
    (the streak could otherwise never reach its limit across restarts)."""
    model, _ = build_game()
    model.load_training_counters(dict(skipped_updates=7, nonfinite_streak=3))
    runner = SimpleNamespace(model=model, iter=9)
    hook = RandomStateHook()
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    assert checkpoint['training_counters'] == dict(
        skipped_updates=7, nonfinite_streak=3)

    for start, restored in ((10, True), (0, False)):  # resume, load_from
        fresh, _ = build_game()
        hook = RandomStateHook()
        hook.after_load_checkpoint(runner, checkpoint)
        hook.before_train_iter(SimpleNamespace(model=fresh, iter=start), 0)
        want = checkpoint['training_counters'] if restored else dict(
            skipped_updates=0, nonfinite_streak=0)
        assert fresh.training_counters() == want


def test_atomic_put_keeps_the_old_file_when_writing_fails(
        tmp_path, monkeypatch):
    target = tmp_path / 'iter_2.pth'
    backend = AtomicLocalBackend()
    backend.put(b'good', target)

    def failing_fsync(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', failing_fsync)
    with pytest.raises(OSError):
        backend.put(b'partial', target)
    assert target.read_bytes() == b'good'
    assert os.listdir(tmp_path) == ['iter_2.pth']  # no temp file left


def test_resume_skips_a_truncated_checkpoint(tmp_path):
    good = tmp_path / 'iter_2.pth'
    torch.save({'state_dict': {'w': torch.ones(3)}}, good)
    bad = tmp_path / 'iter_4.pth'
    bad.write_bytes(good.read_bytes()[:-50])
    (tmp_path / 'last_checkpoint').write_text(str(bad))
    assert is_complete_checkpoint(str(good))
    assert not is_complete_checkpoint(str(bad))
    assert find_resumable_checkpoint(str(tmp_path)) == str(good)
    assert find_resumable_checkpoint(str(tmp_path / 'none')) is None
