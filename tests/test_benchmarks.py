"""The quality benchmark command and the class-folder dataset it relies on.

The benchmark runs end to end on a tiny generated CIFAR-10-layout folder
(a few images per class, one or two iterations per run): the point is that
the command from the docs works and writes its report, not the figures.
"""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from _tiny import load_script
from mmengine.registry import init_default_scope
from PIL import Image

from mmmosaic import benchmarking as bench
from mmmosaic.datasets import ClassFolderSubset
from mmmosaic.errors import MosaicError
from mmmosaic.models import batch_rule

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CIFAR10 = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck')


def _cifar_folder(root, per_class=3):
    rng = np.random.default_rng(0)
    for split in ('train', 'test'):
        for label, name in enumerate(CIFAR10):
            folder = osp.join(root, split, name)
            os.makedirs(folder)
            for i in range(per_class):
                # A colour per class, so that the tiny teacher can learn.
                img = np.full((32, 32, 3), 20 * label, np.uint8)
                img += rng.integers(0, 30, img.shape, dtype=np.uint8)
                Image.fromarray(img).save(osp.join(folder, f'{i:04d}.jpg'))
    return str(root)


def test_class_folder_subset_labels_by_given_order(tmp_path):
    root = _cifar_folder(tmp_path)
    dataset = ClassFolderSubset(
        data_root=root, split='train', classes=('ship', 'airplane'))
    assert dataset.metainfo['classes'] == ('ship', 'airplane')
    assert len(dataset) == 6
    labels = {(osp.basename(osp.dirname(s['img_path'])), s['gt_label'])
              for s in (dataset.get_data_info(i) for i in range(6))}
    assert labels == {('ship', 0), ('airplane', 1)}


def test_class_folder_subset_names_missing_folder(tmp_path):
    root = _cifar_folder(tmp_path)
    with pytest.raises(MosaicError, match=r"test/zebra' does not exist"):
        ClassFolderSubset(data_root=root, split='test', classes=('zebra', ))
    os.makedirs(osp.join(root, 'test', 'empty'))
    with pytest.raises(MosaicError, match='holds no image files'):
        ClassFolderSubset(data_root=root, split='test', classes=('empty', ))


def test_cifar_benchmark_configs_read_the_folder(tmp_path):
    """The OOD source holds vehicles only and the test set animals only."""
    from mmengine.config import Config

    from mmmosaic.registry import DATASETS
    init_default_scope('mmmosaic')
    root = _cifar_folder(tmp_path)
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/benchmarks/mosaickd_cifar10_animals.py'))
    source = dict(cfg.train_dataloader.dataset.source, data_root=root)
    ood = DATASETS.build(source)
    test = DATASETS.build(dict(cfg.test_dataloader.dataset, data_root=root))
    folders = lambda d: {  # noqa: E731
        osp.basename(osp.dirname(d.get_data_info(i)['img_path']))
        for i in range(len(d))
    }
    assert folders(ood) == {'airplane', 'automobile', 'ship', 'truck'}
    assert folders(test) == {'bird', 'cat', 'deer', 'dog', 'frog', 'horse'}
    assert test.metainfo['classes'] == cfg.animals


def _benchmark(script, args, cwd=REPO):
    """Run ``benchmarks/<script>`` with ``args``; the finished process."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    return subprocess.run(
        [sys.executable,
         osp.join(REPO, 'benchmarks', script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900)


@pytest.mark.slow
def test_quality_benchmark_writes_report_and_reuses_runs(tmp_path):
    root = _cifar_folder(tmp_path / 'cifar10')
    work = str(tmp_path / 'work')
    args = [
        'cifar10_animals', '--data-root', root, '--work-dir', work, '--seeds',
        '0', '1', '--methods', 'kd_ood', 'mosaickd', '--jobs', '2',
        '--teacher-cfg-options', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'train_dataloader.batch_size=8',
        '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=1'
    ]
    first = _benchmark('quality.py', args)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    with open(osp.join(work, 'results.json')) as f:
        report = json.load(f)
    # DFAD's runs are trained by test_long_settings_share_the_teacher_...
    assert set(report['methods']) == {'kd_ood', 'mosaickd'}
    for method, res in report['methods'].items():
        assert len(res['last']['values']) == 2, method
        # One evaluation per iteration, both seeds.
        assert [len(c) for c in res['curves']] == [2, 2], method
        assert res['best']['mean'] >= res['last']['mean']
        assert 0 <= res['last']['mean'] <= 100
    budget = report['methods']['mosaickd']['budget']
    assert budget == dict(
        outer_iterations=2,
        student_updates=10,
        synthetic_per_update=64,
        ood_per_update=64)
    animals = bench.SETTINGS['cifar10_animals']
    assert bench.budget(
        animals['configs']['dfad'],
        animals['run_options']['dfad'])['synthetic_per_update'] == 128
    assert report['methods']['kd_ood']['budget']['ood_per_update'] == 128
    for name in ('accuracy.png', 'results.md', 'mosaics_mosaickd.png'):
        assert osp.getsize(osp.join(work, name)) > 0, name
    with open(osp.join(work, 'results.md')) as f:
        markdown = f.read()
    assert 'MosaicKD - KD on OOD data' in markdown
    assert '| MosaicKD (OOD images)' in markdown
    # How the teacher sees the OOD (vehicle) images: six animal classes.
    coverage = report['coverage']
    assert coverage['num_classes'] == 6 and coverage['num_images'] == 12
    assert 1.0 <= coverage['effective_classes'] <= 6.0
    assert sum(coverage['top_class_share']) == pytest.approx(1.0)
    assert 'Effective number of classes' in markdown
    assert 'updates_to_reach_kd' in report

    summary = _benchmark('summary.py', ['--root', str(tmp_path)])
    row = next(line for line in summary.stdout.splitlines()
               if line.startswith('| work '))
    mosaickd = report['methods']['mosaickd']['last']
    assert f'{mosaickd["mean"]:.2f} ± {mosaickd["std"]:.2f}' in row

    # A second call reuses every finished run instead of training again.
    second = _benchmark('quality.py', args)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stdout.count('reusing the finished run') == 5
    assert 'tools/train.py' not in second.stdout

    # A call for one method and seed reports every finished run of the
    # setting made with the same options, not only its own.
    one = args[:args.index('--seeds')] + [
        '--seeds', '1', '--methods', 'kd_ood'
    ] + args[args.index('--jobs'):]
    narrow = _benchmark('quality.py', one)
    assert narrow.returncode == 0, narrow.stderr[-3000:]
    assert narrow.stdout.count('joins the report') == 3
    with open(osp.join(work, 'results.json')) as f:
        merged = json.load(f)
    assert list(merged['methods']) == ['kd_ood', 'mosaickd']
    assert merged['seeds'] == [0, 1]
    for method, res in merged['methods'].items():
        assert res['seeds'] == [0, 1], method
        assert res['last'] == report['methods'][method]['last'], method

    # Runs made with other options stay out of a report, named in the log.
    other = args[:args.index('--seeds')] + [
        '--seeds', '2', '--methods', 'kd_ood'
    ] + args[args.index('--jobs'):-1] + ['train_cfg.val_interval=2']
    apart = _benchmark('quality.py', other)
    assert apart.returncode == 0, apart.stderr[-3000:]
    assert 'joins the report' not in apart.stdout
    assert apart.stdout.count('(made with other options') == 4
    with open(osp.join(work, 'results.json')) as f:
        alone = json.load(f)
    assert list(alone['methods']) == ['kd_ood'] and alone['seeds'] == [2]
    assert len(alone['methods']['kd_ood']['curves'][0]) == 1

    # Other settings in the same work dir are refused, not mixed in.
    third = _benchmark('quality.py', args[:-1] + ['train_cfg.val_interval=2'])
    assert third.returncode == 2
    assert 'not this one; pass --fresh' in third.stderr


def test_quality_benchmark_needs_the_cifar_folder(tmp_path):
    result = _benchmark('quality.py', ['cifar10_animals'], str(tmp_path))
    assert result.returncode == 2
    assert 'needs --data-root' in result.stderr
    result = _benchmark('quality.py',
                        ['cifar10_animals', '--data-root',
                         str(tmp_path)], str(tmp_path))
    assert result.returncode == 2
    assert 'has no train/ folder' in result.stderr


def test_quality_benchmark_refuses_a_foreign_run_before_training(tmp_path):
    """A run dir made with other settings is refused before anything
    trains (the teacher included), not when its turn in the pool comes."""
    root = _cifar_folder(tmp_path / 'cifar10', per_class=1)
    work = tmp_path / 'work'
    foreign = work / 'mosaickd' / 'seed1'
    os.makedirs(foreign)
    (foreign / 'benchmark_run.json').write_text(
        json.dumps(
            dict(
                config='configs/benchmarks/mosaickd_cifar10_animals.py',
                options=['randomness.seed=7'])))
    result = _benchmark('quality.py', [
        'cifar10_animals', '--data-root', root, '--work-dir',
        str(work), '--teacher-cfg-options', 'train_cfg.max_iters=1',
        'train_cfg.val_interval=1', 'train_dataloader.batch_size=4',
        '--cfg-options', 'train_cfg.max_iters=1', 'train_cfg.val_interval=1'
    ])
    assert result.returncode == 2, result.stderr[-3000:]
    assert f'{foreign} holds a run of' in result.stderr
    assert 'tools/train.py' not in result.stdout
    assert not osp.exists(work / 'teacher')


@pytest.mark.slow
def test_long_settings_share_the_teacher_and_dfad_runs(tmp_path):
    """cifar10_ships_long trains its teacher in cifar10_animals/ and its
    DFAD runs (data-free, so identical) in cifar10_animals_long/; the
    vehicle setting then reuses both instead of training them again."""
    root = _cifar_folder(tmp_path / 'cifar10', per_class=2)
    quality = tmp_path / 'quality'
    tiny = [
        '--data-root', root, '--seeds', '0', '--methods', 'dfad',
        '--teacher-cfg-options', 'train_cfg.max_iters=1',
        'train_cfg.val_interval=1', 'train_dataloader.batch_size=4',
        '--cfg-options', 'train_cfg.max_iters=1', 'train_cfg.val_interval=1'
    ]
    ships = _benchmark('quality.py', [
        'cifar10_ships_long', '--work-dir',
        str(quality / 'cifar10_ships_long')
    ] + tiny)
    assert ships.returncode == 0, ships.stdout[-3000:] + ships.stderr[-3000:]
    assert osp.isfile(quality / 'cifar10_animals' / 'teacher' / 'iter_1.pth')
    assert osp.isfile(quality / 'cifar10_animals_long' / 'dfad' / 'seed0' /
                      'iter_1.pth')
    assert not osp.exists(quality / 'cifar10_ships_long' / 'dfad')
    vehicles = _benchmark('quality.py', [
        'cifar10_animals_long', '--work-dir',
        str(quality / 'cifar10_animals_long')
    ] + tiny)
    assert vehicles.returncode == 0, vehicles.stderr[-3000:]
    assert vehicles.stdout.count('reusing the finished run') == 2
    assert 'tools/train.py' not in vehicles.stdout


def _photo_folder(root, count=3):
    rng = np.random.default_rng(1)
    os.makedirs(root)
    for i in range(count):
        img = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        Image.fromarray(img).save(osp.join(root, f'photo{i}.jpg'))
    return str(root)


@pytest.mark.slow
def test_far_ood_settings_report_bounds_and_share_runs(tmp_path, fake_mnist):
    """cifar10_photos trains the ten-class teacher and the runs that read
    no OOD image (KD on the in-domain images, DFQ); cifar10_digits reuses
    them and trains only its own KD and MosaicKD on (1-channel) digits.
    Both reports give per-class accuracy and the headroom verdict."""
    root = _cifar_folder(tmp_path / 'cifar10', per_class=2)
    quality = tmp_path / 'quality'
    tiny = [
        '--data-root', root, '--seeds', '0', '--methods', 'kd_indomain',
        'kd_ood', 'dfq', 'mosaickd', '--teacher-cfg-options',
        'train_cfg.max_iters=1', 'train_cfg.val_interval=1',
        'train_dataloader.batch_size=4', '--cfg-options',
        'train_cfg.max_iters=1', 'train_cfg.val_interval=1'
    ]
    photos = _benchmark('quality.py', [
        'cifar10_photos', '--ood-root',
        _photo_folder(tmp_path / 'photos'), '--work-dir',
        str(quality / 'cifar10_photos')
    ] + tiny)
    assert photos.returncode == 0, photos.stdout[-3000:] + photos.stderr
    digits = _benchmark('quality.py', [
        'cifar10_digits', '--ood-root',
        str(fake_mnist / 'mnist'), '--work-dir',
        str(quality / 'cifar10_digits')
    ] + tiny)
    assert digits.returncode == 0, digits.stdout[-3000:] + digits.stderr
    # The teacher, in-domain KD and DFQ runs are cifar10_photos'.
    assert digits.stdout.count('reusing the finished run') == 3
    assert not osp.exists(quality / 'cifar10_digits' / 'dfq')
    assert osp.isfile(quality / 'cifar10_digits' / 'mosaickd' / 'seed0' /
                      'iter_1.pth')
    for setting in ('cifar10_photos', 'cifar10_digits'):
        with open(quality / setting / 'results.json') as f:
            report = json.load(f)
        assert set(
            report['methods']) == {'kd_indomain', 'kd_ood', 'dfq', 'mosaickd'}
        assert report['coverage']['num_classes'] == 10
        assert report['methods']['kd_indomain']['budget'][
            'ood_per_update'] == 128
        for res in [report['teacher']] + list(report['methods'].values()):
            assert list(res['per_class']) == list(CIFAR10)
            # Two test images a class: 0, 50 or 100 %.
            assert set(res['per_class'].values()) <= {0.0, 50.0, 100.0}
        with open(quality / setting / 'results.md') as f:
            markdown = f.read()
        assert 'Per-class accuracy of the final students' in markdown
        assert 'headroom target <= 85%' in markdown
        assert 'MosaicKD - DFQ' in markdown and 'target >= 0' in markdown
        assert '| KD on in-domain images (bound)' in markdown


def test_digits_setting_names_a_missing_idx_file(tmp_path):
    root = _cifar_folder(tmp_path / 'cifar10', per_class=1)
    (tmp_path / 'mnist').mkdir()
    result = _benchmark('quality.py', [
        'cifar10_digits', '--data-root', root, '--ood-root',
        str(tmp_path / 'mnist')
    ], str(tmp_path))
    assert result.returncode == 2
    assert 'has no train-images-idx3-ubyte; give the folder' in result.stderr
    assert not osp.exists(tmp_path / 'work_dirs')


@pytest.mark.slow
def test_quality_benchmark_camvid_needs_both_folders(tmp_path):
    result = _benchmark('quality.py', ['camvid'], str(tmp_path))
    assert result.returncode == 2
    assert 'needs --data-root: a CamVid folder' in result.stderr
    for folder in ('train', 'val'):
        os.makedirs(tmp_path / 'camvid' / folder)
    result = _benchmark('quality.py',
                        ['camvid', '--data-root',
                         str(tmp_path / 'camvid')], str(tmp_path))
    assert result.returncode == 2
    assert 'has no trainannot/ folder' in result.stderr
    for folder in ('trainannot', 'valannot'):
        os.makedirs(tmp_path / 'camvid' / folder)
    result = _benchmark('quality.py',
                        ['camvid', '--data-root',
                         str(tmp_path / 'camvid')], str(tmp_path))
    assert result.returncode == 2
    assert 'needs --ood-root' in result.stderr
    result = _benchmark('quality.py', [
        'camvid', '--data-root',
        str(tmp_path / 'camvid'), '--ood-root',
        str(tmp_path / 'nowhere')
    ], str(tmp_path))
    assert result.returncode == 2
    assert "--ood-root '" in result.stderr and 'is not a folder' in (
        result.stderr)


def test_no_synthetic_ablation_is_mosaickd_without_its_synthetic_half():
    """The ``no_synthetic`` ablation trains the KD-on-OOD config with what
    MosaicKD's student sees besides the mosaics: the same OOD images per
    update, the same temperature, updates and schedule, no G and no D."""
    ablations = load_script('benchmarks/ablations.py')
    spec = ablations.ABLATIONS['no_synthetic']
    assert spec['method'] == 'kd_ood'
    for name, setting in bench.SETTINGS.items():
        options = bench.method_options(setting, 'mosaickd', '/data', '/ood')
        mosaickd = bench.load_config_with_options(
            setting['configs']['mosaickd'], options)
        cfg = bench.load_config_with_options(
            setting['configs'][spec['method']],
            bench.method_options(setting, spec['method'], '/data', '/ood') +
            spec['options'](mosaickd))
        _, _, steps, ood = batch_rule(mosaickd)[:4]
        assert cfg.model.generator is None, name
        assert cfg.model.get('discriminator') is None, name
        assert cfg.model.student_steps == steps, name
        assert cfg.train_dataloader.batch_size == ood * steps, name
        # The batch rule takes it as tools/train.py will (N OOD images an
        # update, no generator).
        assert batch_rule(cfg)[:4] == (0, 0, steps, ood), name
        assert (cfg.model.student_loss.temperature ==
                mosaickd.model.student_loss.temperature), name
        assert cfg.train_cfg.max_iters == mosaickd.train_cfg.max_iters, name
        assert cfg.optim_wrapper.student == mosaickd.optim_wrapper.student, (
            name)
        # One schedule list for every player: the student's is MosaicKD's.
        assert cfg.param_scheduler == mosaickd.param_scheduler, name


def test_camvid_long_shares_the_camvid_teacher():
    short, long = bench.SETTINGS['camvid'], bench.SETTINGS['camvid_long']
    assert long['shared'] == dict(teacher='camvid')
    assert long['configs']['teacher'] == short['configs']['teacher']
    for method in ('kd_ood', 'dfad', 'dfq', 'mosaickd'):
        cfg = bench.load_config_with_options(
            long['configs'][method],
            bench.method_options(long, method, '/data', '/ood'))
        ref = bench.load_config_with_options(
            short['configs'][method],
            bench.method_options(short, method, '/data', '/ood'))
        assert cfg.train_cfg.max_iters == 3 * ref.train_cfg.max_iters
        # The same schedules, which end at max_iters (no end of their own).
        assert cfg.param_scheduler == ref.param_scheduler, method
        for schedule in cfg.param_scheduler:
            assert 'end' not in schedule and 'T_max' not in schedule, method
        # Only the budget differs.
        for key in ('model', 'train_dataloader', 'val_dataloader'):
            assert cfg[key] == ref[key], (method, key)


def test_student_batch_ablations_keep_mosaickds_images_per_update():
    """The temperature and warm-up ablations change what they name and
    nothing else, and every student update still takes MosaicKD's B + N
    images: under a synthetic warm-up the loader gives D's B images and k
    whole student batches, B + k x (B + N), which the model accepts."""
    import torch

    from mmmosaic.registry import MODELS
    ablations = load_script('benchmarks/ablations.py')
    expected = {
        'ood_tau5':
        dict(ood_student_loss=dict(temperature=5.0)),
        'warmup_linear':
        dict(synthetic_warmup=dict(schedule='linear', ramp=0.5)),
        'warmup_maturity':
        dict(
            synthetic_warmup=dict(
                schedule='maturity', signal='classes', threshold=0.5)),
        'warm_start_g':
        dict(generator_warm_start=0.1),
    }
    linear = expected['warmup_linear']
    expected['ood_tau5_warmup_linear'] = dict(expected['ood_tau5'], **linear)
    for name, setting in bench.SETTINGS.items():
        options = bench.method_options(setting, 'mosaickd', '/data', '/ood')
        mosaickd = bench.load_config_with_options(
            setting['configs']['mosaickd'], options)
        b, _, k, n = batch_rule(mosaickd)[:4]
        # The whole batch at 5: the student loss as configured, but hotter.
        hot = dict(mosaickd.model.student_loss, temperature=5.0)
        assert hot != mosaickd.model.student_loss, name
        expected['student_tau5_warmup_linear'] = dict(linear, student_loss=hot)
        for ablation, model_keys in expected.items():
            spec = ablations.ABLATIONS[ablation]
            cfg = bench.load_config_with_options(
                setting['configs']['mosaickd'],
                options + spec['options'](mosaickd))
            warmup = 'synthetic_warmup' in model_keys
            per_step = b + n if warmup else n
            size = batch_rule(cfg).batch_size
            assert size == b + k * per_step, (name, ablation)
            assert cfg.model == dict(mosaickd.model,
                                     **model_keys), (name, ablation)
            if name != 'mnist_fashion':
                continue
            model = MODELS.build(dict(cfg.model, allow_random_teacher=True))
            image = torch.zeros(1, 28, 28, dtype=torch.uint8)
            view = dict(inputs=[image] * size)
            real, chunks = model.split_batch(dict(real=view, student=view))
            assert len(real) == b and len(chunks) == k, ablation
            assert {len(c) for c in chunks} == {per_step}, ablation


def test_patch_ablations_change_only_the_discriminators_patch():
    """``small_patch`` and ``large_patch`` give D one stride-2 layer fewer
    or more and change nothing else (``student_tau5_small_patch`` also the
    student's temperature); on the 32x32 settings its logits then
    judge 4x4 and 22x22 patches instead of 10x10."""
    from mmmosaic.registry import MODELS
    ablations = load_script('benchmarks/ablations.py')
    init_default_scope('mmmosaic')
    for name, setting in bench.SETTINGS.items():
        options = bench.method_options(setting, 'mosaickd', '/data', '/ood')
        mosaickd = bench.load_config_with_options(
            setting['configs']['mosaickd'], options)
        layers = mosaickd.model.discriminator.get('num_downsamples', 2)
        for ablation, step in (('small_patch', -1), ('large_patch', 1),
                               ('student_tau5_small_patch', -1)):
            spec = ablations.ABLATIONS[ablation]
            cfg = bench.load_config_with_options(
                setting['configs']['mosaickd'],
                options + spec['options'](mosaickd))
            assert cfg.model.discriminator.num_downsamples == layers + step
            if name == 'cifar10_photos':
                field = MODELS.build(cfg.model.discriminator).receptive_field
                assert field == {-1: 4, 1: 22}[step], ablation
            cfg.model.discriminator.pop('num_downsamples')
            reference = dict(mosaickd.model.discriminator)
            reference.pop('num_downsamples', None)
            assert cfg.model.discriminator == reference, (name, ablation)
            if ablation == 'student_tau5_small_patch':
                assert cfg.model.student_loss.temperature == 5.0
                cfg.model.student_loss.temperature = (
                    mosaickd.model.student_loss.temperature)
            assert {
                k: v
                for k, v in cfg.model.items() if k != 'discriminator'
            } == {
                k: v
                for k, v in mosaickd.model.items() if k != 'discriminator'
            }, (name, ablation)


def test_recipe_ablations_change_weights_and_the_ood_share_only():
    """The recipe's switches set the generator weights they name and the
    OOD share of every student update, which keeps MosaicKD's B + N images;
    at share 0 the loader gives D's real images only and the student's
    chunks are empty."""
    import torch

    from mmmosaic.registry import MODELS
    ablations = load_script('benchmarks/ablations.py')
    shares = dict(
        ood_none=0.0,
        bn_1_ood_none=0.0,
        bn_1_ood_quarter=0.25,
        dfq_patch=0.0,
        dfq_ood_half=0.5,
        dfq_ood_quarter=0.25,
        dfq_patch_ood_half=0.5)
    from mmmosaic.analysis.recipes import DFQ_TERMS
    dfq = dict(DFQ_TERMS)
    weights = dict(
        bn_01=dict(bn=0.1),
        bn_1=dict(bn=1.0),
        bn_10=dict(bn=10.0),
        bn_1_no_align=dict(bn=1.0, align=0.0),
        bn_1_no_local=dict(bn=1.0, local=0.0),
        ood_none={},
        bn_1_ood_none=dict(bn=1.0),
        bn_1_ood_quarter=dict(bn=1.0),
        dfq_patch=dict(dfq, local=1.0),
        dfq_ood_half=dict(dfq, local=0.0),
        dfq_ood_quarter=dict(dfq, local=0.0),
        dfq_patch_ood_half=dict(dfq, local=1.0))
    for name in ('mnist_fashion', 'cifar10_photos'):
        setting = bench.SETTINGS[name]
        options = bench.method_options(setting, 'mosaickd', '/data', '/ood')
        mosaickd = bench.load_config_with_options(
            setting['configs']['mosaickd'], options)
        b, _, k, n = batch_rule(mosaickd)[:4]
        for ablation, changed in weights.items():
            spec = ablations.ABLATIONS[ablation]
            cfg = bench.load_config_with_options(
                setting['configs']['mosaickd'],
                options + spec['options'](mosaickd))
            rule = batch_rule(cfg)
            share = shares.get(ablation, n / (b + n))
            assert rule.synthetic + rule.ood == b + n, ablation
            assert rule.ood == round((b + n) * share), ablation
            expected = dict(mosaickd.model.get('loss_weights', {}), **changed)
            assert dict(cfg.model.get('loss_weights', {})) == expected
            rest = {'loss_weights', 'synthetic_batch_size', 'ood_batch_size'}
            assert {
                k: v
                for k, v in cfg.model.items() if k not in rest
            } == {
                k: v
                for k, v in mosaickd.model.items() if k not in rest
            }, ablation
            if name != 'mnist_fashion' or ablation not in shares:
                continue
            model = MODELS.build(dict(cfg.model, allow_random_teacher=True))
            image = torch.zeros(1, 28, 28, dtype=torch.uint8)
            view = dict(inputs=[image] * cfg.train_dataloader.batch_size)
            real, chunks = model.split_batch(dict(real=view, student=view))
            assert len(real) == rule.synthetic, ablation
            assert [0 if c is None else len(c)
                    for c in chunks] == [rule.ood] * k, ablation


def test_a_kept_teacher_is_used_instead_of_training(tmp_path, monkeypatch):
    """A finished teacher run kept by keep_teacher (weights, log, record
    with the sha256) becomes a finished run of another work dir, with the
    same scores; a teacher made with other options is not used, and a
    checkpoint that does not match its sha256 is refused."""
    import torch

    from mmmosaic.benchmarking import runs
    config, iters = 'configs/demo/teacher_mnist.py', 4
    run = tmp_path / 'run'
    (run / '20260101_000000' / 'vis_data').mkdir(parents=True)
    with open(run / '20260101_000000' / 'vis_data' / 'scalars.json', 'w') as f:
        f.write(json.dumps({'accuracy/top1': 97.5, 'step': iters}) + '\n')
    torch.save(
        dict(
            state_dict={'w': torch.ones(3)},
            meta=dict(dataset_meta=dict(classes=['a'])),
            optimizer={'big': torch.zeros(100)}), run / f'iter_{iters}.pth')
    runs.write_seconds(str(run / runs.SECONDS_FILE), 12.5)
    monkeypatch.setattr(runs, 'KEPT_TEACHERS', str(tmp_path / 'kept'))
    folder = tmp_path / 'kept' / 'teacher_mnist'
    record = runs.keep_teacher(
        str(run), config, ['randomness.seed=0'], iters,
        f'python tools/train.py {config}', str(folder))
    kept = torch.load(folder / f'iter_{iters}.pth', weights_only=True)
    assert set(kept) == {'state_dict', 'meta'}

    fresh = tmp_path / 'fresh'
    local = ['randomness.seed=0']
    assert not runs.use_kept_teacher(config, ['randomness.seed=1'], local,
                                     str(fresh), iters, 'quality')
    assert not fresh.exists()
    assert runs.use_kept_teacher(config, ['randomness.seed=0'], local,
                                 str(fresh), iters, 'quality')
    metric = bench.ACCURACY
    assert bench.finished(str(fresh), iters, metric)
    assert runs.metric_history(
        str(fresh), metric, all_runs=True) == [(iters, 97.5)]
    assert runs.read_seconds(str(fresh)) == 12.5
    assert runs.read_run_record(str(fresh)) == runs.signature(config, local)
    assert record['sha256'] == runs._sha256(str(fresh / f'iter_{iters}.pth'))

    torch.save({'state_dict': {}}, folder / f'iter_{iters}.pth')
    with pytest.raises(MosaicError, match='sha256'):
        runs.use_kept_teacher(config, ['randomness.seed=0'], local,
                              str(tmp_path / 'other'), iters, 'quality')


@pytest.mark.skipif(
    not hasattr(os, 'sched_setaffinity'), reason='Linux CPU affinity')
def test_thread_counts_follow_the_cpu_affinity():
    """A call pinned to one core (``taskset -c 0``) trains its runs with
    one thread, not with every core of the machine."""
    code = ('import os; os.sched_setaffinity(0, {min(os.sched_getaffinity('
            '0))}); from mmmosaic.benchmarking import cores; print(cores())')
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         check=True)
    assert out.stdout.strip() == '1'
    assert bench.cores() == len(os.sched_getaffinity(0))
