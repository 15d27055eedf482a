"""Interrupting tools/train.py before its first checkpoint (Ctrl-C or
SIGTERM) saves the iteration it is at and says where; ``--resume``
continues from it, and ``--resume`` with nothing to resume says so."""
import os
import os.path as osp
import re
import signal
import subprocess
import sys

import pytest
from _tiny import write_runner_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
ENV = dict(
    os.environ,
    PYTHONPATH=osp.join(ROOT, 'tests'),
    OMP_NUM_THREADS='1',
    PYTHONWARNINGS='ignore',
    PYTHONUNBUFFERED='1')


def _train(*args, **kwargs):
    return subprocess.Popen(
        [sys.executable,
         osp.join(ROOT, 'tools', 'train.py'), *args],
        env=ENV,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize(
    'signum', [signal.SIGINT, signal.SIGTERM], ids=['ctrl-c', 'sigterm'])
def test_interrupt_before_the_first_checkpoint_saves_and_resumes(
        tmp_path, signum):
    work = tmp_path / 'work'
    # Checkpoints every 1000 iterations: none before the signal.
    config = write_runner_config(
        tmp_path / 'cfg.py', work, max_iters=1000, ckpt_interval=1000)
    proc = _train(config)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if 'Iter(train) [' in line:  # the first iteration is done
            proc.send_signal(signum)
            break
    rest, _ = proc.communicate(timeout=120)
    out = ''.join(seen) + rest
    saved = sorted(p for p in os.listdir(work) if p.endswith('.pth'))
    assert len(saved) == 1, out[-3000:]
    step = int(re.match(r'iter_(\d+)\.pth', saved[0]).group(1))
    assert 1 <= step < 1000
    path = str(work / saved[0])
    # One line saying what happened, where the checkpoint is, and how to
    # continue; Ctrl-C ends with the shell's status for it.
    said = [line for line in out.splitlines() if path in line]
    assert any('--resume' in line for line in said), out[-3000:]
    assert proc.returncode == (130 if signum == signal.SIGINT else 0), out

    resumed = _train(config, '--resume', '--cfg-options',
                     f'train_cfg.max_iters={step + 1}')
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out[-3000:]
    assert f'resumed epoch: 0, iter: {step}' in out
    assert (work / f'iter_{step + 1}.pth').is_file()


def test_resume_with_nothing_to_resume_says_so(tmp_path):
    config = write_runner_config(tmp_path / 'cfg.py', tmp_path / 'work')
    proc = _train(config, '--resume')
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0
    lines = [line for line in out.splitlines() if line.startswith('error:')]
    assert len(lines) == 1, out[-3000:]
    assert str(tmp_path / 'work') in lines[0]
    assert 'nothing to resume' in lines[0]
    assert 'Iter(train)' not in out
    assert not osp.exists(tmp_path / 'work' / 'iter_2.pth')
