"""Runs on a GPU (``make gpu-check``), skipped with the reason elsewhere.

Every other test means CPU semantics and is pinned to the CPU by
``conftest._cpu_unless_gpu``; the ``gpu`` tests here train the tiny game on
CUDA: 2 iterations in float32 and with ``--amp``, a resume and an export;
and, where there are 2 GPUs, 2 processes over NCCL with SyncBN players
(the balance term's all-gather backward included).
"""
import os
import os.path as osp

import pytest
import torch
from _tiny import write_runner_config
from test_resume import ROOT, train_run

from mmmosaic.dist import cuda_unusable_reason

#: Why CUDA cannot be used here (None where it can), read at collection,
#: before any test is pinned to the CPU.
CUDA_REASON = cuda_unusable_reason()
GPUS = torch.cuda.device_count() if CUDA_REASON is None else 0

needs_gpu = pytest.mark.skipif(
    CUDA_REASON is not None, reason=f'needs a usable CUDA GPU: {CUDA_REASON}')
needs_two_gpus = pytest.mark.skipif(
    GPUS < 2,
    reason=(f'needs 2 usable CUDA GPUs, this machine has {GPUS}' if CUDA_REASON
            is None else f'needs 2 usable CUDA GPUs: {CUDA_REASON}'))


def test_tests_without_the_gpu_marker_run_on_the_cpu(pytestconfig):
    assert any(
        line.startswith('gpu:') for line in pytestconfig.getini('markers'))
    assert os.environ['CUDA_VISIBLE_DEVICES'] == ''  # processes it starts
    assert os.environ['MMMOSAIC_ALLOW_CPU'] == '1'  # Slurm's fake GPUs
    assert not torch.cuda.is_available()  # this process (mmengine)


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize('amp', [False, True], ids=['fp32', 'amp'])
def test_train_resume_and_export_on_a_gpu(tmp_path, amp):
    extra = ['--amp'] if amp else []
    work = tmp_path / 'work'
    first = write_runner_config(
        tmp_path / 'first.py', work, max_iters=2, ckpt_interval=2)
    proc = train_run(first, *extra)
    out = proc.stdout + proc.stderr
    assert (work / 'iter_2.pth').is_file()
    assert 'CUDA available: True' in out  # mmengine's environment report
    if amp:
        assert 'loss_scale_student' in out

    longer = write_runner_config(
        tmp_path / 'longer.py', work, max_iters=4, ckpt_interval=2)
    proc = train_run(longer, '--resume', *extra)
    assert 'resumed epoch: 0, iter: 2' in proc.stdout + proc.stderr
    assert (work / 'iter_4.pth').is_file()

    import subprocess
    import sys
    export = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'model_converters', 'extract_student.py'),
        longer,
        str(work / 'iter_4.pth'),
        str(tmp_path / 'out')
    ],
                            cwd=ROOT,
                            env=dict(
                                os.environ, PYTHONPATH=osp.join(ROOT,
                                                                'tests')),
                            capture_output=True,
                            text=True)
    assert export.returncode == 0, (export.stdout + export.stderr)[-3000:]
    assert (tmp_path / 'out' / 'student.pth').is_file()


@pytest.mark.gpu
@needs_two_gpus
def test_two_processes_over_nccl_with_syncbn_players(tmp_path):
    from dist_helpers import free_port, read_ranks, write_config
    from mmengine.config import Config
    from test_distributed import _env, _run
    work = tmp_path / 'work'
    config = write_config(tmp_path / 'cfg.py', work, max_iters=4)
    cfg = Config.fromfile(config)
    cfg.model.sync_bn_players = ['generator', 'discriminator', 'student']
    cfg.dump(config)
    env = _env(PORT=free_port())
    env.pop('CUDA_VISIBLE_DEVICES', None)
    proc, _ = _run([osp.join(ROOT, 'tools', 'dist_train.sh'), config, '2'],
                   env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert 'nccl' in out.lower()
    ends = {r: recs[-1] for r, recs in read_ranks(work).items()}
    assert sorted(ends) == [0, 1]
    assert ends[0]['params'] == ends[1]['params']
    assert ends[0]['buffers'] == ends[1]['buffers']


def test_gpu_check_without_cuda_stops_with_one_sentence():
    import subprocess
    import sys
    proc = subprocess.run(
        [sys.executable,
         osp.join(ROOT, 'benchmarks', 'gpu_check.py')],
        cwd=ROOT,
        capture_output=True,
        text=True)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith(
        'error: make gpu-check needs a usable CUDA GPU, but '
        'torch.cuda.is_available() is False'), lines
    assert proc.stdout == ''  # nothing ran


def test_gpu_check_times_the_game_up_to_the_gpu(monkeypatch):
    """The timing and the table, on the CPU with a small B and k (fp32, and
    --amp's AmpOptimWrapper on mmengine's CPU autocast)."""
    import mmengine.optim.optimizer.amp_optimizer_wrapper as amp_module
    from _tiny import load_script
    gpu_check = load_script('benchmarks/gpu_check.py')
    monkeypatch.setattr(amp_module, 'is_cuda_available', lambda: True)
    rows = [
        gpu_check.time_game('cpu', amp, 1, 0, batch=2, steps=1)
        for amp in (False, True)
    ]
    assert [row['precision'] for row in rows] == ['fp32', '--amp']
    for row in rows:
        assert row['seconds'] > 0 and row['peak_gib'] is None
        assert row['gpu_hours'] == pytest.approx(row['seconds'] * 39200 / 3600)
    text = gpu_check.table(rows, 'CPU', 2, 1)
    assert text.splitlines()[0] == 'WRN-40-2 -> WRN-16-1, B=2, k=1, on CPU:'
    assert len([line for line in text.splitlines()
                if line.startswith('| ')]) == 3
