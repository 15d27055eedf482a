"""What a GPU run needs, reproduced on the CPU (issue 37).

- resuming from a checkpoint whose tensors mmengine mapped to a GPU
  (tensors that behave as CUDA ones, ``tests/_on_gpu.py``), each rank with
  its own random state, on fewer GPUs than were saved;
- two processes (gloo): BatchNorm running statistics agree on every rank;
  a student with parameters the game never uses trains;
- ``--amp`` covers every forward pass of the teacher and the generator
  (bfloat16 autocast on the CPU);
- GPUs expected (``--amp``, GPUs given to the job) but CUDA unusable: one
  sentence with the reason; ``--amp`` without an optim_wrapper likewise;
- the BatchNorm-statistics term and AMP's loss scales; the balance term's
  all-gather; benchmarks/speed.py and plain_loop.py on a GPU.
"""
import copy
import io
import os.path as osp
import subprocess
import sys
from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from _on_gpu import FakeCuda, OnGpu, on_gpu, strict_rng_setters
from _tiny import build_game, write_runner_config
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmmosaic.engine import RandomStateHook, SafeCheckpointHook
from mmmosaic.errors import MosaicError
from mmmosaic.models.algorithms import PLAYERS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _saved_and_loaded_on_gpu(checkpoint: dict) -> dict:
    """``checkpoint`` written as rank 0 writes it, then loaded as
    ``Runner.resume`` loads it on a GPU machine (every tensor on cuda:0)."""
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    buffer.seek(0)
    return on_gpu(torch.load(buffer, weights_only=True, map_location='cpu'))


def test_resume_from_a_checkpoint_mapped_to_a_gpu(monkeypatch):
    strict_rng_setters(monkeypatch)
    model, _ = build_game()
    hub = MessageHub.get_instance('gpu_readiness_resume')
    for value in (1.0, 2.0, 4.0):
        hub.update_scalar('train/loss', value)
    checkpoint = dict(
        meta=dict(seed=np.int64(3), shape=np.arange(4)),
        message_hub=hub.state_dict())
    runner = SimpleNamespace(model=model, iter=3)
    torch.manual_seed(7)
    hooks = (SafeCheckpointHook(), RandomStateHook())
    for hook in hooks:
        hook.before_save_checkpoint(runner, checkpoint)
    expected = torch.randn(5)  # what the run draws after the checkpoint

    loaded = _saved_and_loaded_on_gpu(checkpoint)
    assert isinstance(loaded['rng_state']['cpu'], OnGpu)
    assert loaded['rng_state']['cpu'].device.type == 'cuda'
    for hook in hooks:
        hook.after_load_checkpoint(runner, loaded)
    history = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(history, HistoryBuffer)
    assert history.data[0].tolist() == [1.0, 2.0, 4.0]
    assert loaded['meta']['shape'].tolist() == [0, 1, 2, 3]
    torch.manual_seed(0)  # anything else
    hooks[1].before_train_iter(SimpleNamespace(model=model, iter=4), 0)
    assert torch.equal(torch.randn(5), expected)


def rng_round_trip_worker(rank, world, port, out_dir):
    """One rank: random states gathered after an iteration, written by rank
    0, loaded by every rank onto its 'GPU', then restored."""
    import json
    import os
    import os.path as osp

    import torch.distributed as dist
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world)
    cuda = FakeCuda(device_count=1, seed=10 * (rank + 1)).install(setattr)
    runner = SimpleNamespace(model=torch.nn.Linear(1, 1), iter=3)
    torch.manual_seed(100 + rank)  # diff_rank_seed: each rank its own
    torch.rand(3)
    hook = RandomStateHook()
    hook.after_train_iter(runner, 3)  # then the checkpoint hook saves
    box = [None]
    if rank == 0:
        checkpoint = {}
        hook.before_save_checkpoint(runner, checkpoint)
        box = [checkpoint]
    expected = dict(cpu=torch.rand(4).tolist(), cuda=cuda.states[0].tolist())
    dist.broadcast_object_list(box, src=0)  # every rank loads the file
    torch.manual_seed(999)
    cuda.states[0] = torch.zeros(16, dtype=torch.uint8)
    resumed = RandomStateHook()
    resumed.after_load_checkpoint(runner, _saved_and_loaded_on_gpu(box[0]))
    resumed.before_train_iter(SimpleNamespace(model=runner.model, iter=4), 0)
    got = dict(cpu=torch.rand(4).tolist(), cuda=cuda.states[0].tolist())
    with open(osp.join(out_dir, f'rank{rank}.json'), 'w') as f:
        json.dump(dict(expected=expected, got=got), f)
    dist.barrier()
    dist.destroy_process_group()


@pytest.mark.slow
def test_each_rank_resumes_from_its_own_random_state(tmp_path):
    import json

    import torch.multiprocessing as mp
    from dist_helpers import free_port
    mp.spawn(
        rng_round_trip_worker, args=(2, free_port(), str(tmp_path)), nprocs=2)
    results = [
        json.loads((tmp_path / f'rank{r}.json').read_text()) for r in range(2)
    ]
    for res in results:
        assert res['got'] == res['expected']
    assert results[0]['expected'] != results[1]['expected']


def test_fewer_gpus_than_the_checkpoint_saved(monkeypatch):
    """A checkpoint of an earlier version holds every visible GPU's state
    (8 here); this process's GPU takes its own, without an IndexError."""
    cuda = FakeCuda(device_count=1).install(monkeypatch.setattr)
    saved = [torch.full((16, ), 50 + i, dtype=torch.uint8) for i in range(8)]
    checkpoint = dict(
        rng_state=dict(cpu=torch.get_rng_state(), cuda=saved),
        rng_state_iter=4)
    hook = RandomStateHook()
    hook.after_load_checkpoint(None, _saved_and_loaded_on_gpu(checkpoint))
    hook.before_train_iter(
        SimpleNamespace(model=torch.nn.Linear(1, 1), iter=4), 0)
    assert torch.equal(cuda.states[0], saved[0])


def _two_processes(tmp_path, **model_overrides):
    """tools/dist_train.sh, 2 processes, 4 iterations of the tiny game;
    the ranks' records (``dist_helpers.RankRecorderHook``)."""
    from dist_helpers import free_port, read_ranks, write_config
    from mmengine.config import Config
    from test_distributed import ROOT, _env, _run
    work = tmp_path / 'work'
    config = write_config(tmp_path / 'cfg.py', work, max_iters=4)
    if model_overrides:
        cfg = Config.fromfile(config)
        cfg.merge_from_dict(model_overrides)
        cfg.dump(config)
    proc, _ = _run([osp.join(ROOT, 'tools', 'dist_train.sh'), config, '2'],
                   _env(PORT=free_port()))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert (work / 'iter_4.pth').is_file()
    return {r: recs[-1] for r, recs in read_ranks(work).items()}


@pytest.mark.slow
def test_batchnorm_buffers_agree_on_every_rank(tmp_path):
    ends = _two_processes(tmp_path)
    assert sorted(ends) == [0, 1]
    assert ends[0]['event'] == ends[1]['event'] == 'end'
    assert ends[0]['params'] == ends[1]['params']
    # running means and variances of G, D and S, not only the weights
    assert ends[0]['buffers'] == ends[1]['buffers']


@pytest.mark.slow
def test_a_student_with_unused_parameters_trains_on_two_processes(tmp_path):
    ends = _two_processes(
        tmp_path,
        **{'model.student.backbone.type': 'mmmosaic.SmallConvNetWithAux'})
    assert ends[0]['event'] == ends[1]['event'] == 'end'
    assert ends[0]['params'] == ends[1]['params']


class CpuBf16OptimWrapper(OptimWrapper):
    """What ``--amp`` (mmengine's ``AmpOptimWrapper``, CUDA only) does to a
    player's optimiser context, in bfloat16 on the CPU: autocast."""

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=torch.bfloat16):
            yield


def test_amp_covers_every_teacher_and_generator_forward():
    from test_mosaickd import fake_batch
    model, _ = build_game()
    optim = OptimWrapperDict(
        **{
            player:
            CpuBf16OptimWrapper(
                torch.optim.SGD(getattr(model, player).parameters(), lr=0.01))
            for player in PLAYERS
        })
    under_autocast = dict(teacher=[], generator=[])
    for name, calls in under_autocast.items():
        getattr(model, name).register_forward_pre_hook(
            lambda module, args, calls=calls: calls.append(
                torch.is_autocast_enabled('cpu')))
    model.train_step(fake_batch(model), optim)
    k = model.student_steps
    # T: the G step and each student step; G: the G/D batch and each
    # student step's images
    assert under_autocast == dict(
        teacher=[True] * (k + 1), generator=[True] * (k + 1))


def _tiny_config(tmp_path, **changes):
    from mmengine.config import Config
    path = write_runner_config(
        tmp_path / 'cfg.py', tmp_path / 'work', max_iters=1)
    cfg = Config.fromfile(path)
    for key, value in changes.items():
        if value is None:
            cfg.pop(key)
        else:
            cfg[key] = value
    return cfg, path


def test_amp_without_usable_cuda_names_the_reason(tmp_path):
    from mmmosaic.runtime import prepare_runtime
    cfg, path = _tiny_config(tmp_path)
    with pytest.raises(MosaicError) as error:
        prepare_runtime(cfg, path, amp=True)
    message = str(error.value)
    assert message.startswith('--amp asks for GPUs but ')
    assert 'torch.cuda.is_available() is False' in message
    assert message.count('. ') == 0 and message.endswith('.')


def test_amp_without_optim_wrapper_is_one_sentence(tmp_path, monkeypatch):
    """On a GPU machine (CUDA usable), ``--amp`` with a config that has no
    optim_wrapper names the key instead of an AttributeError."""
    import mmmosaic.dist
    from mmmosaic.runtime import prepare_runtime
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(
        mmmosaic.dist, 'cuda_unusable_reason', lambda: None, raising=False)
    cfg, path = _tiny_config(tmp_path, optim_wrapper=None)
    with pytest.raises(MosaicError, match='sets no optim_wrapper'):
        prepare_runtime(cfg, path, amp=True)


def test_gpus_given_but_cuda_unusable_stops_instead_of_training_on_cpu(
        tmp_path):
    from dist_helpers import free_port
    from test_distributed import ROOT, _env
    _, path = _tiny_config(tmp_path)
    env = _env(
        CUDA_VISIBLE_DEVICES='99',  # no such GPU, on any machine
        RANK=0,
        LOCAL_RANK=0,
        WORLD_SIZE=1,
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=free_port())
    env.pop('MMMOSAIC_ALLOW_CPU')  # set for every test (conftest)
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'), path, '--launcher', 'pytorch'
    ],
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=170)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith(
        'error: CUDA_VISIBLE_DEVICES=99 asks for GPUs but '
        'torch.cuda.is_available() is False'), lines
    assert not (tmp_path / 'work' / 'iter_1.pth').exists()


def test_bn_statistics_term_is_float32_under_autocast():
    from mmmosaic.models.losses import BNStatisticsLoss
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8)).eval()
    inputs = []
    net[1].register_forward_pre_hook(
        lambda module, args: inputs.append(args[0].detach()))
    with torch.autocast('cpu', dtype=torch.bfloat16), \
            BNStatisticsLoss.record(net) as stats:
        net(torch.randn(4, 3, 8, 8) * 100 + 1000)
    assert inputs[0].dtype == torch.bfloat16  # what autocast made
    mean, var = stats[0][:2]
    assert mean.dtype == var.dtype == torch.float32
    exact = inputs[0].double()
    torch.testing.assert_close(
        var.double(),
        exact.var(dim=(0, 2, 3), correction=0),
        rtol=1e-5,
        atol=0)


def balance_gather_worker(rank, world, port, out_dir):
    """One rank of a wrapped game's G step; the deprecation warnings it
    raised."""
    import json
    import os
    import os.path as osp
    import warnings

    import torch.distributed as dist
    from dist_helpers import _build, _optim
    from mmengine.registry import MODEL_WRAPPERS, DefaultScope
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world)
    DefaultScope.get_instance(f'balance-{rank}', scope_name='mmmosaic')
    model = _build(4)
    wrapped = MODEL_WRAPPERS.build(
        dict(
            type='MMSeparateDistributedDataParallel',
            module=model,
            device_ids=None))
    optim = _optim(wrapped)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        logs = model.generator_step(model.synthesize(4), optim['generator'])
    with open(osp.join(out_dir, f'rank{rank}.json'), 'w') as f:
        json.dump(
            dict(
                warnings=[
                    str(w.message) for w in caught
                    if issubclass(w.category, (DeprecationWarning,
                                               FutureWarning))
                ],
                balance=float(logs['loss_balance'])), f)
    dist.barrier()
    dist.destroy_process_group()


@pytest.mark.slow
def test_balance_term_gathers_without_a_deprecated_api(tmp_path):
    import json

    import torch.multiprocessing as mp
    from dist_helpers import free_port
    mp.spawn(
        balance_gather_worker, args=(2, free_port(), str(tmp_path)), nprocs=2)
    results = [
        json.loads((tmp_path / f'rank{r}.json').read_text()) for r in range(2)
    ]
    for res in results:
        assert res['warnings'] == []
    # the term of the global batch: the same on both ranks
    assert results[0]['balance'] == results[1]['balance']


def test_amp_run_logs_its_loss_scales_and_skipped_steps(tmp_path, monkeypatch):
    """``--amp`` adds a hook that logs each player's loss scale and counts
    the steps the gradient scaler skipped (a real ``AmpOptimWrapper`` with
    torch's CPU gradient scaler)."""
    import mmengine.optim.optimizer.amp_optimizer_wrapper as amp_module
    from mmengine.optim import AmpOptimWrapper

    import mmmosaic.runtime
    from mmmosaic.registry import HOOKS
    from mmmosaic.runtime import prepare_runtime

    # as on a machine where CUDA is usable
    monkeypatch.setattr(mmmosaic.runtime, 'check_gpus_usable',
                        lambda *args: None)
    cfg, path = _tiny_config(tmp_path)
    prepare_runtime(cfg, path, amp=True)
    entries = [h for h in cfg.custom_hooks if 'AmpLossScale' in h['type']]
    assert len(entries) == 1
    again, _ = _tiny_config(tmp_path, custom_hooks=[entries[0]])
    prepare_runtime(again, path, amp=True)  # a config that lists it
    assert [h['type'] for h in again.custom_hooks
            ].count('mmmosaic.AmpLossScaleHook') == 1
    hook = HOOKS.build(entries[0])

    monkeypatch.setattr(amp_module, 'is_cuda_available', lambda: True)
    net = torch.nn.Linear(3, 1)
    wrapper = AmpOptimWrapper(optimizer=torch.optim.SGD(net.parameters(), 0.1))
    wrapper.loss_scaler = torch.amp.GradScaler('cpu', init_scale=2.**16)
    runner = SimpleNamespace(
        optim_wrapper=OptimWrapperDict(student=wrapper),
        message_hub=MessageHub.get_instance('gpu_readiness_amp'))
    before = net.weight.detach().clone()
    hook.before_train_iter(runner, 0)
    wrapper.update_params(net(torch.ones(1, 3)).sum() * float('inf'))
    wrapper.update_params(net(torch.ones(1, 3)).sum() * float('inf'))
    hook.after_train_iter(runner, 0)
    assert torch.equal(net.weight, before)  # both steps skipped
    scalars = runner.message_hub.log_scalars
    assert scalars['train/loss_scale_student'].current() == 2.**14
    assert scalars['train/amp_skipped_updates'].current() == 2
    hook.before_train_iter(runner, 1)
    wrapper.update_params(net(torch.ones(1, 3)).sum())
    hook.after_train_iter(runner, 1)
    assert not torch.equal(net.weight, before)
    assert scalars['train/amp_skipped_updates'].current() == 2
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    assert checkpoint['amp_skipped_updates'] == 2


class _TinyGenerator(torch.nn.Module):
    latent_dim = 4

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 16)

    def forward(self, z):
        return torch.sigmoid(self.fc(z)).view(-1, 1, 4, 4)


def test_plain_game_works_on_its_players_device(monkeypatch):
    """benchmarks/plain_loop.py makes its noise and normalisation on the
    players' device (here 'meta', which refuses CPU tensors as a GPU
    does)."""
    monkeypatch.syspath_prepend(osp.join(ROOT, 'benchmarks'))
    from plain_loop import PlainMosaicKD

    def net():
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))

    game = PlainMosaicKD(
        _TinyGenerator().to('meta'),
        net().to('meta'),
        net().to('meta'),
        net().to('meta'),
        mean=[127.5],
        std=[64.0],
        batch_size=2)
    assert game.synthesize().device.type == 'meta'
    images = torch.zeros(2, 1, 4, 4, dtype=torch.uint8)  # from the loader
    assert game.preprocess(images).device.type == 'meta'


def test_speed_timers_wait_for_the_gpu(monkeypatch):
    from types import SimpleNamespace

    from mmmosaic.benchmarking.profile import PhaseProfiler, clock
    calls = []
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'is_initialized', lambda: True)
    monkeypatch.setattr(torch.cuda, 'synchronize',
                        lambda *args: calls.append('sync'))
    game = SimpleNamespace(work=lambda: calls.append('work'))
    with PhaseProfiler(game, phases=dict(work='work')):
        game.work()
    # queued work is finished before the clock starts and before it stops
    assert calls == ['sync', 'work', 'sync']
    clock()
    assert calls[-1] == 'sync'


def test_loaders_pin_memory_on_a_gpu(tmp_path, monkeypatch):
    import mmmosaic.runtime
    from mmmosaic.runtime import prepare_runtime
    monkeypatch.setattr(mmmosaic.runtime, 'check_gpus_usable',
                        lambda *args: None)
    cfg, path = _tiny_config(tmp_path)
    cpu = prepare_runtime(copy.deepcopy(cfg), path)
    assert 'pin_memory' not in cpu.train_dataloader
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg.val_dataloader = dict(cfg.train_dataloader, pin_memory=False)
    gpu = prepare_runtime(cfg, path, check_data=('train_dataloader', ))
    assert gpu.train_dataloader.pin_memory is True
    assert gpu.val_dataloader.pin_memory is False  # the config's own
