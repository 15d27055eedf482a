"""What the multi-process and Slurm tests share.

- :class:`RankRecorderHook` writes, per rank, one JSON line per event
  (start, each iteration, end) to ``WORK_DIR/ranks/rank<r>.jsonl``: the
  rank's Slurm/torchrun identity, the OOD sample indices of its batch, a
  checksum of each noise draw, and at the end a hash of every player's
  parameters. While ``WORK_DIR/slow`` exists, each iteration also sleeps
  ``SLOW_SECONDS`` so that a test can signal a run mid-way.
- :func:`write_config` a tiny MosaicKD config for tools/*.sh runs.
- :func:`equivalence_worker` one rank of the DDP-vs-single-process check.
"""
import hashlib
import json
import os
import os.path as osp
import socket
import time

import torch
from _tiny import write_runner_config
from mmengine.config import Config
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmmosaic.models.algorithms import PLAYERS
from mmmosaic.models.backbones.small_convnet import SmallConvNet
from mmmosaic.registry import HOOKS, MODELS
from mmmosaic.utils import unwrap_model

SLOW_SECONDS = 0.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def param_hash(module) -> str:
    digest = hashlib.sha1()
    for name, param in unwrap_model(module).named_parameters():
        digest.update(name.encode())
        digest.update(param.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def buffer_hash(module) -> str:
    """Of the BatchNorm running statistics (every buffer), not weights."""
    digest = hashlib.sha1()
    for name, buffer in unwrap_model(module).named_buffers():
        digest.update(name.encode())
        digest.update(buffer.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@MODELS.register_module(force=True)
class SmallConvNetWithAux(SmallConvNet):
    """A student backbone with parameters the game never uses, as an mmseg
    ``auxiliary_head`` is in ``mode='tensor'``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.auxiliary = torch.nn.Conv2d(1, 2, 1)


@HOOKS.register_module(force=True)
class RankRecorderHook(Hook):
    """Record what each rank did (see the module docstring)."""

    priority = 'LOWEST'

    def __init__(self):
        self.noise, self.indices, self.path = [], [], None

    def _write(self, runner, **record):
        with open(self.path, 'a') as f:
            f.write(json.dumps(record) + '\n')

    def before_train(self, runner):
        folder = osp.join(runner.work_dir, 'ranks')
        os.makedirs(folder, exist_ok=True)
        self.path = osp.join(folder, f'rank{get_rank()}.jsonl')
        generator = unwrap_model(unwrap_model(runner.model).generator)
        draw = generator.sample_noise

        def recorded(*args, **kwargs):
            z = draw(*args, **kwargs)
            share = len(z) // get_world_size()  # the part this rank uses
            self.noise.append(
                float(z[get_rank() * share:][:share].double().sum()))
            return z

        generator.sample_noise = recorded
        self._write(
            runner,
            event='start',
            iter=runner.iter,
            rank=get_rank(),
            world_size=get_world_size(),
            pid=os.getpid(),
            slurm_procid=os.environ.get('SLURM_PROCID'),
            slurm_job_id=os.environ.get('SLURM_JOB_ID'),
            torchrun_rank=os.environ.get('RANK'))

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.noise = []
        samples = data_batch['real'].get('data_samples') or []
        self.indices = [int(s.metainfo['sample_idx']) for s in samples]

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self._write(
            runner,
            event='iter',
            iter=runner.iter + 1,
            indices=self.indices,
            noise=self.noise)
        if osp.exists(osp.join(runner.work_dir, 'slow')):
            time.sleep(SLOW_SECONDS)

    def after_train(self, runner):
        model = unwrap_model(runner.model)
        self._write(
            runner,
            event='end',
            iter=runner.iter,
            params={
                p: param_hash(getattr(model, p))
                for p in PLAYERS + ('teacher', )
            },
            buffers={
                p: buffer_hash(getattr(model, p))
                for p in PLAYERS + ('teacher', )
            })


def read_ranks(work_dir) -> dict:
    """``{rank: [records]}`` written by :class:`RankRecorderHook`."""
    folder = osp.join(str(work_dir), 'ranks')
    out = {}
    if not osp.isdir(folder):
        return out
    for name in sorted(os.listdir(folder)):
        with open(osp.join(folder, name)) as f:
            lines = [line for line in f.read().splitlines() if line]
        records = []
        for line in lines:
            try:
                records.append(json.loads(line))
            except ValueError:  # a line being written right now
                pass
        out[int(name[4:-6])] = records
    return out


def write_config(path,
                 work_dir,
                 max_iters=4,
                 ckpt_interval=2,
                 with_test=False):
    """The tiny MosaicKD run of ``_tiny`` plus the recorder hook."""
    write_runner_config(
        path,
        work_dir,
        max_iters=max_iters,
        ckpt_interval=ckpt_interval,
        extra_hooks=[dict(type='RankRecorderHook')])
    cfg = Config.fromfile(str(path))
    cfg.custom_imports = dict(
        imports=['_tiny', 'dist_helpers'], allow_failed_imports=False)
    if with_test:
        cfg.test_dataloader = dict(
            batch_size=8,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='RandomGrayImages',
                num=32,
                seed=1,
                pipeline=[dict(type='mmpretrain.PackInputs')]))
        cfg.test_cfg = dict(type='TestLoop')
        cfg.test_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
    cfg.dump(str(path))
    return str(path)


# ------------------------------------------------------------------------
# One synchronised step == one single-process step on the whole batch.
B, K, N = 4, 2, 4  # per rank: synthetic batch, student steps, OOD per step


def _build(batch_size, ood_batch_size=N):
    from _tiny import mosaickd
    from torch.nn.modules.batchnorm import _BatchNorm

    from mmmosaic.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(
        mosaickd(
            synthetic_batch_size=batch_size,
            ood_batch_size=ood_batch_size,
            student_steps=K))
    model.train()
    # Batch statistics of B images per rank cannot equal those of the
    # concatenated batch (that is what SyncBN is for, GPU only): compare
    # with running statistics.
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.eval()
    return model


def _optim(model):
    from _tiny import optim_wrapper_cfg
    from mmengine.optim import build_optim_wrapper
    return build_optim_wrapper(
        model,
        dict(
            constructor='PlayerOptimWrapperConstructor',
            **optim_wrapper_cfg()))


def _feed_noise(model, draws):
    generator = unwrap_model(model.generator)
    queue = list(draws)

    def sample_noise(batch_size, device=None, generator=None):
        z = queue.pop(0)
        assert z.shape[0] == batch_size
        return z.clone()

    generator.sample_noise = sample_noise
    return queue


def _data(real, student):
    return dict(
        real=dict(inputs=list(real)), student=dict(inputs=list(student)))


def equivalence_worker(rank, world, port, out_dir):
    import torch.distributed as dist
    from mmengine.registry import MODEL_WRAPPERS, DefaultScope
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world)
    DefaultScope.get_instance(f'equivalence-{rank}', scope_name='mmmosaic')

    gen = torch.Generator().manual_seed(1)
    latent = _build(B).generator.latent_dim
    noise = [
        torch.randn(world * B, latent, generator=gen) for _ in range(K + 1)
    ]
    real = torch.randint(
        0, 256, (world * B, 1, 16, 16), generator=gen, dtype=torch.uint8)
    ood = torch.randint(
        0, 256, (K, world * N, 1, 16, 16), generator=gen, dtype=torch.uint8)
    filler = torch.zeros(1, 16, 16, dtype=torch.uint8)

    # -- this rank: its share of every noise draw and of every OOD chunk
    model = _build(B)
    before = {p: param_hash(getattr(model, p)) for p in PLAYERS}
    wrapped = MODEL_WRAPPERS.build(
        dict(
            type='MMSeparateDistributedDataParallel',
            module=model,
            broadcast_buffers=False,
            find_unused_parameters=False,
            device_ids=None))
    assert all(is_model_wrapper(getattr(model, p)) for p in PLAYERS)
    assert not is_model_wrapper(model.teacher)  # frozen: stays bare
    # each rank draws noise for the global batch and keeps its own slice
    _feed_noise(model, noise)
    mine = slice(rank * N, (rank + 1) * N)
    logs = wrapped.train_step(
        _data(
            list(real[rank * B:(rank + 1) * B]) + [filler] * (K * N),
            [filler] * B + [img for k in range(K) for img in ood[k][mine]]),
        _optim(wrapped))

    # -- one process, the concatenated batch (world * B, world * N)
    ref = _build(world * B, world * N)
    _feed_noise(ref, noise)
    ref_logs = ref.train_step(
        _data(
            list(real) + [filler] * (K * world * N),
            [filler] * (world * B) + [img for k in range(K)
                                      for img in ood[k]]), _optim(ref))

    result = dict(rank=rank, diff={}, changed={}, hashes={}, logs={})
    for player in PLAYERS:
        mine_p = dict(unwrap_model(getattr(model, player)).named_parameters())
        ref_p = dict(getattr(ref, player).named_parameters())
        result['diff'][player] = max(
            float((mine_p[k].detach() - ref_p[k].detach()).abs().max())
            for k in ref_p)
        result['scale'] = max(
            result.get('scale', 0.0),
            max(float(v.detach().abs().max()) for v in ref_p.values()))
        result['hashes'][player] = param_hash(getattr(model, player))
        result['changed'][player] = (
            result['hashes'][player] != before[player])
    for key in ('loss_d', 'loss_g', 'loss_adv', 'loss_align', 'loss_balance',
                'loss_local', 'loss_student'):
        value = logs[key].detach().clone().reshape(1)
        dist.all_reduce(value)
        result['logs'][key] = (float(value) / world, float(ref_logs[key]))
    with open(osp.join(out_dir, f'rank{rank}.json'), 'w') as f:
        json.dump(result, f)
    dist.barrier()
    dist.destroy_process_group()
