"""A run's length is one key: every schedule follows ``train_cfg.max_iters``.

For every config outside the ``_base_`` folders with an iteration loop,
mmengine's Runner builds the schedulers as ``Runner.train()`` does before
its loop (the train loop, the optimisers through the config's constructor,
then ``build_param_scheduler``), on a stand-in model with one small layer
per player, at two lengths set by ``train_cfg.max_iters`` alone. Each
optimiser (every player of a distillation, a teacher's one) must have its
schedule end at that length, a cosine with the period ``end - begin`` (from
its warm-up's end where it has one), so that no config hand-sets a length
that a change of ``max_iters`` would leave behind.

The epoch-based teachers (``configs/teachers``' CIFAR-100, CUB-200, Stanford
Dogs and ImageNet 32x32 ones) are skipped: their length is
``train_cfg.max_epochs`` and their step milestones are epochs set by hand.
"""
import glob
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner

from mmmosaic.models.algorithms import PLAYERS
from mmmosaic.runtime import load_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Two lengths above every warm-up of the configs (500 iterations at most).
LENGTHS = (1000, 3000)

CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in osp.relpath(p, ROOT).split(osp.sep))


class _StandIn(BaseModel):
    """One small layer for each player the config's model has (or one for
    a single-network model): the optimisers need parameters, the learning
    rates do not depend on them."""

    def __init__(self, players):
        super().__init__()
        for name in PLAYERS:
            setattr(self, name, nn.Linear(2, 2) if name in players else None)
        self.network = nn.Linear(2, 2)

    def forward(self, *args, **kwargs):
        return {}


def _schedulers(cfg, max_iters: int, work_dir: str) -> dict:
    """Each optimiser's schedulers, built as ``Runner.train()`` builds
    them, with ``train_cfg.max_iters`` set to ``max_iters`` and nothing
    else changed."""
    model = cfg.model
    players = ([name for name in PLAYERS if model.get(name) is not None]
               if model.get('type') == 'MosaicKD' else [])
    runner = Runner(
        model=_StandIn(players),
        work_dir=work_dir,
        train_dataloader=dict(
            dataset=[torch.zeros(1)] * 2,
            sampler=dict(type='InfiniteSampler'),
            batch_size=1,
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(cfg.train_cfg, max_iters=max_iters),
        optim_wrapper=cfg.optim_wrapper,
        param_scheduler=cfg.param_scheduler,
        default_scope='mmmosaic',
        log_level='ERROR')
    runner._train_loop = runner.build_train_loop(runner._train_loop)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    built = runner.build_param_scheduler(runner.param_schedulers)
    if isinstance(built, dict):
        assert set(built) == set(players), 'one schedule per player'
        return built
    assert not players
    return {'network': built}


@pytest.mark.parametrize(
    'path', CONFIGS, ids=lambda p: osp.relpath(p, osp.join(ROOT, 'configs')))
def test_max_iters_alone_sets_every_schedule_length(path, tmp_path):
    cfg = load_config(path)
    if cfg.train_cfg.get('type') == 'EpochBasedTrainLoop':
        pytest.skip('epoch-based: max_epochs and milestones in epochs')
    for length in LENGTHS:
        schedules = _schedulers(cfg, length, str(tmp_path))
        for optimiser, schedule in schedules.items():
            assert schedule, optimiser
            # The last step of each schedule ends the run; the steps before
            # it (a warm-up) end where the next begins.
            assert schedule[-1].end == length, (optimiser, length)
            for step, after in zip(schedule, schedule[1:]):
                assert step.end == after.begin, optimiser
            for step in schedule:
                if hasattr(step, 'T_max'):
                    assert step.T_max == step.end - step.begin, optimiser
