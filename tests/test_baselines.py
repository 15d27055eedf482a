"""``baseline=NAME``: a MosaicKD config with players removed.

The benchmark's baselines are no files of their own: each is a setting's
MosaicKD config read with ``baseline=kd_ood|dfad|dfq``. These tests hold
what each conversion keeps (teacher, student, schedules, images per
student update) and removes, that options given with it apply to the
baseline, and that every benchmark run's config loads.
"""
import math
import os.path as osp

import pytest
from _tiny import ROOT
from mmengine.runner import Runner
from test_configs import _shrink

from mmmosaic import benchmarking as bench
from mmmosaic.errors import MosaicError
from mmmosaic.models import batch_rule
from mmmosaic.runtime import load_config

DEMO = osp.join(ROOT, 'configs/demo/mosaickd_mnist_fashion.py')
TEACHER = osp.join(ROOT, 'configs/demo/teacher_mnist.py')


def _read(name, **options):
    return load_config(DEMO, dict(baseline=name, **options))


def test_each_baseline_keeps_the_game_and_removes_its_players():
    mosaickd = load_config(DEMO)
    b, n = mosaickd.model.synthetic_batch_size, mosaickd.model.ood_batch_size
    kd, dfad, dfq = _read('kd_ood'), _read('dfad'), _read('dfq')
    for cfg in (kd, dfad, dfq):
        assert 'baseline' not in cfg
        assert cfg.model.discriminator is None
        assert 'discriminator' not in cfg.optim_wrapper
        # The same teacher, student, length and schedules.
        for key in ('teacher', 'student', 'student_steps'):
            assert cfg.model[key] == mosaickd.model[key], key
        assert cfg.optim_wrapper.student == mosaickd.optim_wrapper.student
        assert cfg.param_scheduler == mosaickd.param_scheduler
        assert cfg.train_cfg == mosaickd.train_cfg
    # KD: B + N OOD images per student update, at temperature 5.
    assert kd.model.generator is None and 'generator' not in kd.optim_wrapper
    assert kd.model.student_loss.temperature == 5.0
    assert batch_rule(kd)[:4] == (0, 0, 5, b + n)
    assert kd.train_dataloader.dataset == mosaickd.train_dataloader.dataset
    # DFAD and DFQ: B + N images of G per update and no OOD image.
    for cfg in (dfad, dfq):
        assert cfg.model.generator == mosaickd.model.generator
        assert cfg.optim_wrapper.generator == mosaickd.optim_wrapper.generator
        assert cfg.model.synthetic_batch_size == b + n
        assert cfg.model.ood_batch_size is None
        assert cfg.train_dataloader.dataset.type == 'NoImagesDataset'
        assert batch_rule(cfg)[:4] == (b + n, 0, 5, 0)
    assert dfad.model.loss_weights == dict(
        mosaickd.model.loss_weights,
        adv=1.0,
        align=0.0,
        local=0.0,
        balance=0.0)
    assert dfq.model.loss_weights == dict(
        dfad.model.loss_weights, balance=6.02, bn=1.0)


def test_options_given_with_a_baseline_apply_to_it():
    """The conversion comes first, so an option changes the baseline, not
    the MosaicKD config it is made from."""
    kd = _read('kd_ood', **{'model.student_loss.temperature': 1.0})
    assert kd.model.student_loss.temperature == 1.0
    # Its own default work dir, as a file of that form would have; an
    # option that repeats the file's key changes nothing, None is MosaicKD.
    assert kd.work_dir == './work_dirs/mosaickd_mnist_fashion_kd_ood'
    assert load_config(DEMO).get('work_dir') is None
    kd_file = osp.join(ROOT, 'configs/demo/kd_ood_mnist_fashion.py')
    assert load_config(kd_file,
                       dict(baseline='kd_ood')).get('work_dir') is None
    mosaickd = load_config(kd_file, dict(baseline=None))
    assert mosaickd.model.generator and mosaickd.model.discriminator
    assert mosaickd.work_dir == './work_dirs/kd_ood_mnist_fashion_mosaickd'
    dfq = _read('dfq', **{'model.synthetic_batch_size': 32})
    assert dfq.model.synthetic_batch_size == 32
    # Written in a config file, the key does the same.
    own = load_config(
        osp.join(ROOT, 'configs/benchmarks/kd_indomain_cifar10.py'))
    assert own.model.generator is None and 'baseline' not in own
    assert own.train_dataloader.dataset.source.split == 'train'


def test_departures_that_need_removed_players_go_with_them(tmp_path):
    """A MosaicKD config with our student-batch departures (which mix G's
    and the OOD images) and synchronised BN players reads as a baseline
    without the parts it no longer has."""
    mine = tmp_path / 'mine.py'
    mine.write_text(
        f'_base_ = [{DEMO!r}]\n'
        'model = dict(synthetic_warmup=dict(schedule="linear", ramp=0.5),\n'
        '             generator_warm_start=0.1,\n'
        '             sync_bn_players=["generator", "discriminator"])\n')
    assert load_config(str(mine)).model.generator_warm_start == 0.1
    dfad = load_config(str(mine), dict(baseline='dfad'))
    kd = load_config(str(mine), dict(baseline='kd_ood'))
    for cfg in (dfad, kd):
        assert 'synthetic_warmup' not in cfg.model
        assert 'generator_warm_start' not in cfg.model
    assert dfad.model.sync_bn_players == ['generator']
    assert kd.model.sync_bn_players == []


def test_a_wrong_baseline_is_one_sentence():
    with pytest.raises(MosaicError) as info:
        _read('dfqq')
    message = str(info.value)
    assert "baseline='dfqq'" in message and 'kd_ood, dfad, dfq' in message
    assert 'mosaickd_mnist_fashion.py' in message and '\n' not in message
    with pytest.raises(MosaicError, match='start from a MosaicKD config'):
        load_config(TEACHER, dict(baseline='dfad'))


def test_every_benchmark_run_config_loads():
    """Each setting's config of each method, with the options that make it
    that method at the setting's budget, reads as the method: the data-free
    ones without OOD images, KD without a generator."""
    for name, setting in bench.SETTINGS.items():
        for method, config in setting['configs'].items():
            options = bench.method_options(setting, method, '/data', '/ood')
            cfg = bench.load_config_with_options(config, options)
            if method in ('dfad', 'dfq'):
                assert cfg.train_dataloader.dataset.type == \
                    'NoImagesDataset', (name, method)
            if method in ('kd_ood', 'kd_indomain'):
                assert cfg.model.generator is None, (name, method)
            if method == 'mosaickd':
                assert cfg.model.discriminator, name
    # The budget options make the long settings long.
    for short, long in (('cifar10_animals', 'cifar10_animals_long'),
                        ('camvid', 'camvid_long')):
        for method in ('kd_ood', 'dfq', 'mosaickd'):
            iters = [
                bench.max_iters(bench.SETTINGS[s]['configs'][method],
                                bench.SETTINGS[s]['run_options'][method])
                for s in (short, long)
            ]
            assert iters[1] > iters[0], (long, method)


@pytest.mark.slow
@pytest.mark.parametrize('name', ['kd_ood', 'dfq'])
def test_a_baseline_trains(name, tmp_path):
    """Two iterations of a baseline of the CIFAR-10 benchmark config, as
    tools/train.py reads it."""
    config = osp.join(ROOT, 'configs/benchmarks/mosaickd_cifar10_animals.py')
    cfg = _shrink(load_config(config, dict(baseline=name)), str(tmp_path))
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert set(runner.optim_wrapper.keys()) == ({'student'} if name == 'kd_ood'
                                                else {'generator', 'student'})
    loss = runner.message_hub.log_scalars['train/loss_student'].current()
    assert math.isfinite(loss)
