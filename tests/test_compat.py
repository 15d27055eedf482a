"""mmengine's internals that mmmosaic relies on are in mmmosaic/compat.py,
and a change to them in mmengine fails here, naming that module."""
import os.path as osp
from types import SimpleNamespace

import mmengine.registry.build_functions
import pytest
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub
from mmengine.runner import IterBasedTrainLoop, Runner

from mmmosaic import compat
from mmmosaic.registry import DATASETS, MODELS


def test_the_installed_mmengine_is_what_compat_relies_on():
    changes = compat.mmengine_changes()
    assert not changes, '\n'.join(changes)


def _loop_without_validation(self):
    while self._iter < self._max_iters:
        self.run_iter(next(self.dataloader_iterator))


_build_from_cfg = mmengine.registry.build_functions.build_from_cfg


def _misses_in_other_words(cfg, registry, default_args=None):
    try:
        return _build_from_cfg(cfg, registry, default_args)
    except KeyError:
        raise KeyError(f'unregistered type {cfg["type"]}') from None


def _builds_elsewhere(cfg, registry, default_args=None):
    args = dict(cfg)
    cls = registry.get(args.pop('type'))
    if cls is None:
        return _build_from_cfg(cfg, registry, default_args)
    return cls(**args)


def _call_hook_by_name(self, fn_name, **kwargs):
    for hook in self._hooks:
        type(hook).__dict__[fn_name](hook, self, **kwargs)


@pytest.mark.parametrize('owner,name,replacement,said', [
    (CheckpointHook, '_save_checkpoint_with_step', None,
     'CheckpointHook._save_checkpoint_with_step'),
    (CheckpointHook, '_save_checkpoint_with_step',
     lambda self, runner, step, meta: None, 'last_checkpoint'),
    (IterBasedTrainLoop, 'run', _loop_without_validation,
     'IterBasedTrainLoop.run'),
    (Runner, 'call_hook', _call_hook_by_name, 'Runner.call_hook'),
    (mmengine.registry.build_functions, 'build_from_cfg',
     _misses_in_other_words, 'missing registry type'),
    (mmengine.registry.build_functions, 'build_from_cfg', _builds_elsewhere,
     "config entry's arguments"),
])
def test_a_change_in_mmengine_is_one_sentence_naming_compat(
        monkeypatch, owner, name, replacement, said):
    if replacement is None:
        monkeypatch.delattr(owner, name)
    else:
        monkeypatch.setattr(owner, name, replacement)
    changes = compat.mmengine_changes()
    assert len(changes) == 1, changes
    assert said in changes[0]
    assert changes[0].endswith('update mmmosaic/compat.py for it')


class _Fails:

    def __init__(self):
        raise TypeError('raised inside the class')


def test_registry_errors_are_recognised():
    with pytest.raises(KeyError) as info:
        MODELS.build(dict(type='NoSuchModel'))
    name, registry = compat.registry_miss(info.value)
    assert name == 'NoSuchModel' and registry.endswith('model')
    assert compat.registry_miss(KeyError('other')) is None

    with pytest.raises(TypeError) as info:
        DATASETS.build(dict(type='NoImagesDataset', lenght=3))
    assert compat.raised_by_build(info.value)
    DATASETS.register_module(name='_FailsInside', module=_Fails, force=True)
    with pytest.raises(TypeError) as info:
        DATASETS.build(dict(type='_FailsInside'))
    assert not compat.raised_by_build(info.value)


def test_checkpoint_saves_go_where_compat_says(tmp_path):
    work, staging = tmp_path / 'work', tmp_path / 'staging'
    work.mkdir()
    staging.mkdir()
    saved = []

    def save_checkpoint(out_dir, filename, *args, **kwargs):
        saved.append(filename)
        open(osp.join(out_dir, filename), 'w').close()

    runner = SimpleNamespace(
        work_dir=str(work),
        epoch=0,
        logger=SimpleNamespace(info=lambda message: None),
        message_hub=MessageHub.get_instance('mmmosaic_test_compat'),
        save_checkpoint=save_checkpoint)
    hook = CheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=1)
    hook.before_train(runner)

    iter_3 = str(work / 'iter_3.pth')
    compat.save_step_as_mmengine(
        hook, runner, 3, dict(epoch=0, iter=3), pointer_dir=str(staging))
    assert (staging / 'last_checkpoint').read_text() == iter_3
    assert not (work / 'last_checkpoint').exists()

    assert compat.save_checkpoint_now(hook, runner, 3) == iter_3
    assert saved == ['iter_3.pth']  # just saved: not again
    compat.save_checkpoint_now(hook, runner, 4)
    assert saved == ['iter_3.pth', 'iter_4.pth']
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_4.pth')
    assert not (work / 'iter_3.pth').exists()  # max_keep_ckpts=1


def test_a_decorated_hook_saves_every_checkpoint_through_save_step():

    @compat.saves_through_save_step
    class Recording(CheckpointHook):
        steps = []

        def save_step(self, runner, step, meta):
            self.steps.append((step, meta))

    hook = Recording(interval=5, by_epoch=False)
    runner = SimpleNamespace(
        iter=4,
        epoch=0,
        max_iters=100,
        logger=SimpleNamespace(info=lambda message: None))
    hook.after_train_iter(runner, 4)  # mmengine's own interval save
    assert Recording.steps == [(5, dict(epoch=0, iter=5))]


def test_run_train_iterations_runs_the_loop_body():
    events = []

    class Loop:
        runner = SimpleNamespace(
            model=SimpleNamespace(train=lambda: events.append('train')),
            val_loop=SimpleNamespace(run=lambda: events.append('val')))
        dataloader_iterator = iter(range(10))
        val_begin, val_interval, _iter, _max_iters = 1, 2, 0, 100

        def run_iter(self, batch):
            events.append(batch)
            self._iter += 1

        def _decide_current_val_interval(self):
            pass

    assert compat.run_train_iterations(Loop(), 3) >= 0
    assert events == ['train', 0, 'train', 1, 'val', 'train', 2]
