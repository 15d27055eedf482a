"""Multi-process training of the four-player game on CPU (gloo).

- one synchronised step of two processes equals one single-process step on
  the concatenated batch (every player, every loss);
- ``tools/dist_train.sh`` (torchrun, 2 processes) trains, shards the OOD
  data, draws different noise on each rank, ends with identical players on
  both ranks, and ``tools/dist_test.sh`` evaluates the checkpoint;
- SIGTERM: checkpoint after the current iteration, stop, and resume;
- the launcher helpers (config adaptation, Slurm/torchrun environments,
  SyncBN option).
"""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from _tiny import mosaickd, write_runner_config
from dist_helpers import (PLAYERS, equivalence_worker, free_port, read_ranks,
                          write_config)
from mmengine.hooks import Hook

from mmmosaic.errors import MosaicError
from mmmosaic.registry import HOOKS, MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PYTHON = sys.executable


def _env(**extra):
    env = dict(os.environ)
    env.update(
        PYTHONPATH=osp.join(ROOT, 'tests'),
        OMP_NUM_THREADS='1',
        PYTHONWARNINGS='ignore',
        PYTHON=PYTHON,
        PYTHONUNBUFFERED='1')
    env.update({k: str(v) for k, v in extra.items()})
    return env


def test_one_synchronised_step_equals_one_step_on_the_whole_batch(tmp_path):
    import torch.multiprocessing as mp
    start = time.time()
    mp.spawn(
        equivalence_worker, args=(2, free_port(), str(tmp_path)), nprocs=2)
    results = [
        json.loads((tmp_path / f'rank{r}.json').read_text()) for r in range(2)
    ]
    print(f'\n2-process equivalence: {time.time() - start:.1f} s')
    for res in results:
        for player in PLAYERS:
            assert res['changed'][player], player  # a real update happened
            # float32 round-off only. Adam's first step moves a weight by
            # lr * g / (|g| + eps) = ~1e-3; where |g| is near eps (1e-8) the
            # summation order of the all-reduce moves that step visibly (1.1e-5
            # seen on one CPU), so allow 5 % of a step. Unsynchronised
            # gradients differ by a whole step (~1e-3).
            assert res['diff'][player] < 5e-5, (player, res['diff'])
        for key, (ddp, single) in res['logs'].items():
            assert ddp == pytest.approx(single, rel=1e-5, abs=1e-6), key
    assert results[0]['hashes'] == results[1]['hashes']


def _run(cmd, env, timeout=170):
    start = time.time()
    proc = subprocess.run(
        cmd,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout)
    return proc, time.time() - start


@pytest.mark.slow
def test_torchrun_two_processes_train_and_test(tmp_path):
    work = tmp_path / 'work'
    config = write_config(
        tmp_path / 'cfg.py',
        work,
        max_iters=4,
        ckpt_interval=2,
        with_test=True)
    proc, took = _run([osp.join(ROOT, 'tools', 'dist_train.sh'), config, '2'],
                      _env(PORT=free_port()))
    out = proc.stdout + proc.stderr
    print(f'\ntools/dist_train.sh, 2 processes, 4 iterations: {took:.1f} s')
    assert proc.returncode == 0, out[-4000:]
    assert (work / 'iter_4.pth').is_file()

    ranks = read_ranks(work)
    assert sorted(ranks) == [0, 1], out[-2000:]
    starts = {r: recs[0] for r, recs in ranks.items()}
    assert {s['torchrun_rank'] for s in starts.values()} == {'0', '1'}
    assert all(s['world_size'] == 2 for s in starts.values())
    assert starts[0]['pid'] != starts[1]['pid']
    iters = {
        r: [x for x in recs if x['event'] == 'iter']
        for r, recs in ranks.items()
    }
    assert [x['iter'] for x in iters[0]
            ] == [1, 2, 3, 4] == [x['iter'] for x in iters[1]]
    # The OOD set (64 images) is sharded: in iterations 1-2 (2 x 2 x 12
    # images, one pass) the ranks never see the same sample.
    seen = [sum((x['indices'] for x in iters[r][:2]), []) for r in (0, 1)]
    assert len(seen[0]) == len(set(seen[0])) == 24
    assert not set(seen[0]) & set(seen[1])
    for a, b in zip(iters[0], iters[1]):
        # each rank draws its own noise (1 G/D draw + 2 student draws)
        assert len(a['noise']) == 3 and a['noise'] != b['noise']
    ends = {r: recs[-1] for r, recs in ranks.items()}
    assert ends[0]['event'] == ends[1]['event'] == 'end'
    assert ends[0]['params'] == ends[1]['params']  # all players, teacher

    ckpt = torch.load(work / 'iter_4.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 4
    # keys as of a bare model: it loads wrapped (resume) or bare (export)
    assert not any('.module' in k for k in ckpt['state_dict'])
    from mmengine.config import Config
    bare = MODELS.build(Config.fromfile(config).model)
    bare.load_state_dict(ckpt['state_dict'], strict=True)

    proc, took = _run([
        osp.join(ROOT, 'tools', 'dist_test.sh'), config,
        str(work / 'iter_4.pth'), '2', '--work-dir',
        str(tmp_path / 'test')
    ], _env(PORT=free_port()))
    out = proc.stdout + proc.stderr
    print(f'tools/dist_test.sh, 2 processes: {took:.1f} s')
    assert proc.returncode == 0, out[-4000:]
    assert 'accuracy/top1' in out


@HOOKS.register_module(force=True)
class SignalAtIterHook(Hook):
    """Send ``signum`` to this process during iteration ``at``."""

    priority = 'NORMAL'

    def __init__(self, at, signum=int(signal.SIGTERM)):
        self.at, self.signum = at, signum

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.at:
            os.kill(os.getpid(), self.signum)


def test_sigterm_saves_after_the_iteration_stops_and_resumes(tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner
    work = tmp_path / 'work'
    path = write_runner_config(
        tmp_path / 'cfg.py',
        work,
        max_iters=8,
        ckpt_interval=100,
        extra_hooks=[
            dict(type='SignalAtIterHook', at=3),
            dict(type='PreemptionHook')
        ])
    before = signal.getsignal(signal.SIGTERM)
    runner = Runner.from_cfg(Config.fromfile(path))
    runner.train()
    assert signal.getsignal(signal.SIGTERM) == before  # handler restored
    assert runner.iter == 3
    assert sorted(p for p in os.listdir(work)
                  if p.endswith('.pth')) == ['iter_3.pth']
    assert (work / 'last_checkpoint').read_text().endswith('iter_3.pth')
    ckpt = torch.load(work / 'iter_3.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 3
    assert set(ckpt['optimizer']) == set(PLAYERS)

    cfg = Config.fromfile(path)
    cfg.custom_hooks = [
        h for h in cfg.custom_hooks if h['type'] != 'SignalAtIterHook'
    ]
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 8
    assert (work / 'iter_8.pth').is_file()  # CheckpointHook's save_last


def test_sigterm_in_an_epoch_based_run_saves_and_exits_0(tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner
    work = tmp_path / 'work'
    path = write_runner_config(
        tmp_path / 'cfg.py',
        work,
        extra_hooks=[
            dict(type='SignalAtIterHook', at=3),
            dict(type='PreemptionHook')
        ])
    cfg = Config.fromfile(path)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2)
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=True)
    cfg.train_dataloader.drop_last = True
    cfg.default_hooks.checkpoint.by_epoch = True
    runner = Runner.from_cfg(cfg)
    with pytest.raises(SystemExit) as stop:
        runner.train()
    assert stop.value.code == 0
    # mid-epoch: saved by iteration, resumed from the start of that epoch
    assert (work / 'last_checkpoint').read_text().endswith('iter_3.pth')
    ckpt = torch.load(work / 'iter_3.pth', weights_only=True)
    assert (ckpt['meta']['epoch'], ckpt['meta']['iter']) == (0, 3)


def test_sigterm_outside_training_keeps_its_meaning():
    from mmmosaic.engine import PreemptionHook
    calls = []
    previous = signal.signal(signal.SIGTERM, lambda s, f: calls.append(s))
    try:
        hook = PreemptionHook()
        os.kill(os.getpid(), signal.SIGTERM)  # not training: old handler
        assert calls == [signal.SIGTERM] and hook.received is None
        hook._training = True
        os.kill(os.getpid(), signal.SIGTERM)
        assert calls == [signal.SIGTERM]
        assert hook.received == signal.SIGTERM
        hook.after_run(None)
    finally:
        signal.signal(signal.SIGTERM, previous)
    with pytest.raises(ValueError):
        PreemptionHook(check_interval=0)


# ------------------------------------------------------ launcher helpers
def _game_cfg(**model):
    from mmengine.config import Config
    return Config(dict(model=mosaickd(**model), randomness=dict(seed=0)))


def test_configure_distributed_wraps_each_player_on_cpu():
    from mmmosaic.runtime import configure_distributed
    cfg = configure_distributed(_game_cfg(), 'pytorch')
    wrapper = cfg.model_wrapper_cfg
    assert wrapper.type == 'MMSeparateDistributedDataParallel'
    if not torch.cuda.is_available():
        assert wrapper.device_ids is None
    assert cfg.randomness.diff_rank_seed is True

    single = configure_distributed(_game_cfg(), 'none')
    assert 'model_wrapper_cfg' not in single
    assert 'diff_rank_seed' not in single.randomness

    from mmengine.config import Config
    teacher = configure_distributed(
        Config(dict(model=dict(type='mmpretrain.ImageClassifier'))), 'slurm')
    if not torch.cuda.is_available():
        assert teacher.model_wrapper_cfg.type == 'MMDistributedDataParallel'
        with pytest.raises(MosaicError, match='SyncBN'):
            configure_distributed(
                _game_cfg(sync_bn_players=['generator']), 'pytorch')
    with pytest.raises(MosaicError, match='launcher'):
        configure_distributed(_game_cfg(), 'torchrun')


def test_launcher_env_from_slurm_and_torchrun(monkeypatch):
    from mmmosaic.dist import launcher_env
    for key in ('MASTER_ADDR', 'MASTER_PORT', 'SLURM_STEP_NODELIST',
                'SLURM_STEP_NUM_TASKS'):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv('SLURM_PROCID', '5')
    monkeypatch.setenv('SLURM_NTASKS', '8')
    monkeypatch.setenv('SLURM_LOCALID', '1')
    monkeypatch.setenv('SLURM_NODELIST', 'gpu[03-06]')
    env = launcher_env('slurm')
    assert env == dict(
        RANK='5',
        WORLD_SIZE='8',
        LOCAL_RANK='1',
        MASTER_ADDR='gpu03',
        MASTER_PORT='29500')
    monkeypatch.setenv('MASTER_PORT', '23456')
    assert launcher_env('slurm')['MASTER_PORT'] == '23456'
    monkeypatch.delenv('SLURM_PROCID')
    with pytest.raises(MosaicError, match='srun'):
        launcher_env('slurm')
    monkeypatch.delenv('RANK', raising=False)
    with pytest.raises(MosaicError, match='torchrun'):
        launcher_env('pytorch')


def test_sync_bn_players_option():
    from torch.nn import BatchNorm2d, SyncBatchNorm
    model = MODELS.build(
        mosaickd(sync_bn_players=('generator', 'discriminator')))

    def kinds(module):
        return {
            type(m)
            for m in module.modules()
            if isinstance(m, (BatchNorm2d, SyncBatchNorm))
        }

    assert kinds(model.generator) == {SyncBatchNorm}
    assert kinds(model.discriminator) == {SyncBatchNorm}
    assert kinds(model.student) == {BatchNorm2d}
    assert kinds(model.teacher) == {BatchNorm2d}
    with pytest.raises(MosaicError, match='sync_bn_players'):
        MODELS.build(mosaickd(sync_bn_players=('teacher', )))
    with pytest.raises(MosaicError, match='sync_bn_players'):
        MODELS.build(
            mosaickd(discriminator=None, sync_bn_players=('discriminator', )))


def test_finish_distributed_destroys_the_group(monkeypatch):
    # A process leaving with its gloo group alive can abort at exit
    # (SIGABRT, 'terminate called without an active exception'), which
    # fails the whole torchrun/srun launch; tools/train.py and test.py
    # destroy the group once the run has ended.
    import torch.distributed as torch_dist
    from mmengine.config import Config

    from mmmosaic.dist import finish_distributed, init_distributed
    for key, value in dict(
            RANK='0',
            WORLD_SIZE='1',
            LOCAL_RANK='0',
            MASTER_ADDR='127.0.0.1',
            MASTER_PORT=str(free_port())).items():
        monkeypatch.setenv(key, value)
    assert init_distributed(Config(dict(launcher='pytorch')))
    try:
        total = torch.ones(2)
        torch_dist.all_reduce(total)
        assert total.tolist() == [1.0, 1.0]
        finish_distributed()
        assert not torch_dist.is_initialized()
        finish_distributed()  # nothing to do: no error
    finally:
        if torch_dist.is_initialized():
            torch_dist.destroy_process_group()
