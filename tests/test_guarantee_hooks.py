"""Every training run gets the hooks its guarantees depend on, and
``last_checkpoint`` is replaced atomically."""
import builtins
import os
import os.path as osp

import pytest
import torch
from _tiny import write_runner_config
from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner
from test_resume import load_checkpoint, train_run

from mmmosaic.compat import save_checkpoint_now
from mmmosaic.engine import (AtomicCheckpointHook, PreemptionHook,
                             SafeCheckpointHook, ensure_guarantee_hooks)

GUARANTEED = [
    'mmmosaic.SafeCheckpointHook', 'mmmosaic.RandomStateHook',
    'mmmosaic.PreemptionHook', 'mmmosaic.ClassNamesHook'
]


def _types(cfg):
    return [h['type'] for h in cfg.custom_hooks]


def _with_hooks(path, hooks):
    """Rewrite the config file at ``path`` with ``custom_hooks=hooks``."""
    cfg = Config.fromfile(path)
    cfg.custom_hooks = hooks
    cfg.dump(path)
    return path


def test_missing_hooks_go_first_and_the_users_hooks_are_kept():
    cfg = Config(
        dict(custom_hooks=[dict(type='MosaicVisualizationHook', interval=5)]))
    ensure_guarantee_hooks(cfg)
    assert _types(cfg) == GUARANTEED + ['MosaicVisualizationHook']
    assert cfg.custom_hooks[-1].interval == 5

    cfg = Config(dict())  # no custom_hooks at all
    ensure_guarantee_hooks(cfg)
    assert _types(cfg) == GUARANTEED


@pytest.mark.parametrize('prefix', ['', 'mmmosaic.'])
def test_users_own_guarantee_hook_with_args_is_not_duplicated(prefix):
    mine = [
        dict(type='MosaicVisualizationHook'),
        dict(type=f'{prefix}SafeCheckpointHook', priority='LOW'),
        dict(type=f'{prefix}PreemptionHook', check_interval=5),
    ]
    cfg = Config(dict(custom_hooks=mine))
    ensure_guarantee_hooks(cfg)
    added = ['mmmosaic.RandomStateHook', 'mmmosaic.ClassNamesHook']
    assert _types(cfg) == added + [h['type'] for h in mine]
    assert cfg.custom_hooks[3].priority == 'LOW'
    assert cfg.custom_hooks[4].check_interval == 5

    # Built hooks and hook classes count too.
    built = SafeCheckpointHook()
    cfg = Config(dict(custom_hooks=[dict(type=PreemptionHook)]))
    cfg.custom_hooks.append(built)
    ensure_guarantee_hooks(cfg)
    assert len(cfg.custom_hooks) == 4 and cfg.custom_hooks[-1] is built


def test_plain_checkpoint_hook_becomes_atomic_with_its_args():
    cfg = Config(
        dict(
            default_hooks=dict(
                checkpoint=dict(
                    type='CheckpointHook', interval=7, max_keep_ckpts=2))))
    ensure_guarantee_hooks(cfg)
    assert cfg.default_hooks.checkpoint == dict(
        type='mmmosaic.AtomicCheckpointHook', interval=7, max_keep_ckpts=2)
    # The Runner's own default when the config names none.
    cfg = Config(dict(default_hooks=dict(logger=dict(interval=1))))
    ensure_guarantee_hooks(cfg)
    assert cfg.default_hooks.checkpoint == dict(
        type='mmmosaic.AtomicCheckpointHook', interval=1)
    # No checkpoints asked for, or a checkpoint hook of the user's own.
    for own in (None, dict(type='MyCheckpointHook', interval=3)):
        cfg = Config(dict(default_hooks=dict(checkpoint=own)))
        ensure_guarantee_hooks(cfg)
        assert cfg.default_hooks.checkpoint == own


@pytest.mark.slow
def test_empty_custom_hooks_still_resumes_bit_exactly(tmp_path):
    """``--cfg-options custom_hooks=[]`` used to drop SafeCheckpointHook
    and RandomStateHook: resuming then failed under torch's weights_only
    loading (or drew other noise than the uninterrupted run)."""
    config = _with_hooks(
        write_runner_config(
            tmp_path / 'cfg.py', tmp_path / 'full', max_iters=4), [])
    train_run(config)

    # The user's own hook is kept: it kills the run after iteration 3.
    killed = _with_hooks(
        write_runner_config(
            tmp_path / 'killed.py', tmp_path / 'killed', max_iters=4),
        [dict(type='KillAtIterHook', at=3)])
    assert train_run(killed, check=False).returncode == -9
    assert not osp.exists(tmp_path / 'killed' / 'iter_4.pth')

    proc = train_run(config, '--work-dir', str(tmp_path / 'killed'),
                     '--resume', '--cfg-options', 'custom_hooks=[]')
    assert 'resumed epoch: 0, iter: 2' in proc.stdout + proc.stderr

    a = load_checkpoint(tmp_path / 'full' / 'iter_4.pth')
    b = load_checkpoint(tmp_path / 'killed' / 'iter_4.pth')
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    for player in ('generator', 'discriminator', 'student'):
        sa = a['optimizer'][player]['state']
        sb = b['optimizer'][player]['state']
        for idx in sa:
            for name, value in sa[idx].items():
                assert torch.equal(
                    torch.as_tensor(value), torch.as_tensor(sb[idx][name]))


def _leftovers(folder):
    """Temporary files or folders left in ``folder``."""
    return [p for p in os.listdir(folder) if p.endswith('.tmp')]


@pytest.fixture
def trained(tmp_path):
    """A tiny run (2 iterations, checkpoint at 2) as tools/train.py sets it
    up, with last_checkpoint naming iter_2.pth."""
    path = write_runner_config(
        tmp_path / 'cfg.py', tmp_path / 'work', max_iters=2)
    cfg = ensure_guarantee_hooks(Config.fromfile(path))
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, CheckpointHook))
    assert isinstance(hook, AtomicCheckpointHook)
    pointer = tmp_path / 'work' / 'last_checkpoint'
    assert pointer.read_text() == str(tmp_path / 'work' / 'iter_2.pth')
    return runner, hook, pointer


def test_last_checkpoint_is_replaced_never_written_in_place(
        trained, monkeypatch):
    runner, hook, pointer = trained
    opened, replaced = [], []
    real_open, real_replace = builtins.open, os.replace

    def spy_open(file, mode='r', *args, **kwargs):
        opened.append((osp.abspath(str(file)), mode))
        return real_open(file, mode, *args, **kwargs)

    def spy_replace(src, dst, *args, **kwargs):
        replaced.append((osp.abspath(str(src)), osp.abspath(str(dst))))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(builtins, 'open', spy_open)
    monkeypatch.setattr(os, 'replace', spy_replace)
    save_checkpoint_now(hook, runner, 3)

    assert pointer.read_text() == str(pointer.parent / 'iter_3.pth')
    assert not [m for f, m in opened if f == str(pointer) and 'r' not in m]
    src, dst = next(r for r in replaced if r[1] == str(pointer))
    assert osp.dirname(src) == str(pointer.parent)  # a temp file beside it
    assert _leftovers(pointer.parent) == []


def test_a_crash_while_writing_last_checkpoint_keeps_the_old_one(
        trained, monkeypatch):
    runner, hook, pointer = trained
    old = pointer.read_text()
    real_open = builtins.open

    class Crash(OSError):
        pass

    class CrashingFile:
        """Opened for writing, then the process "dies" before any byte."""

        def __init__(self, file, mode):
            self.file = real_open(file, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

        def write(self, text):
            raise Crash('killed while writing last_checkpoint')

    def crashing_open(file, mode='r', *args, **kwargs):
        if osp.basename(str(file)) == 'last_checkpoint' and 'w' in mode:
            return CrashingFile(file, mode)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, 'open', crashing_open)
    with pytest.raises(Crash):
        save_checkpoint_now(hook, runner, 3)
    monkeypatch.undo()

    assert pointer.read_text() == old  # still names the intact iter_2.pth
    assert load_checkpoint(old)['meta']['iter'] == 2
    assert _leftovers(pointer.parent) == []
