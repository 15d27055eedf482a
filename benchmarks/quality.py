"""Quality benchmark: KD on OOD images, data-free adversarial KD (DFAD) and
MosaicKD distilling the same teacher into the same student (DFQ, data-free
KD that also matches the teacher's BatchNorm statistics, with
``--methods ... dfq``).

One command per setting::

    python benchmarks/quality.py mnist_fashion      # or mnist_fashion_400
    python benchmarks/quality.py fashion_mnist
    python benchmarks/quality.py cifar10_animals --data-root DIR

``DIR`` is a CIFAR-10 image folder, ``train/<class>/*.jpg`` and
``test/<class>/*.jpg``. The MNIST settings read ``data/mnist`` and
``data/fashion_mnist`` (``make data``).

It trains the teacher once (seed 0), then each method for each seed through
``tools/train.py``, and writes to the work dir (default
``work_dirs/benchmarks/quality/<setting>``): ``results.json``,
``results.md`` (the table), ``accuracy.png`` (test accuracy against student
updates, mean over seeds with the min-max band) and the generators' last
mosaic grids. Finished runs are reused and interrupted ones resumed, so a
second call only does what is missing (``--fresh`` starts over).
"""
import concurrent.futures
import glob
import json
import os
import os.path as osp
import platform
import re
import shutil
import statistics
import sys
import textwrap
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from mmengine.config import Config  # noqa: E402

from mmmosaic import cli  # noqa: E402
from mmmosaic.cli import parse_cfg_options  # noqa: E402
from mmmosaic.errors import MosaicError  # noqa: E402
from mmmosaic.models import batch_rule  # noqa: E402
from mmmosaic.runtime import load_config  # noqa: E402
from mmmosaic.utils.runs import metric_history, say, table, train  # noqa: E402

#: This script's log prefix, ``[quality] ...``.
TOOL = 'quality'

METHODS = ('kd_indomain', 'kd_ood', 'dfad', 'dfq', 'mosaickd')
#: What runs without --methods. DFQ costs as much as DFAD (a second
#: data-free run per seed), so it runs only when asked for.
DEFAULT_METHODS = ('kd_ood', 'dfad', 'mosaickd')
#: Methods that read no OOD image.
DATA_FREE = ('dfad', 'dfq')
#: Methods without a generator (no mosaics to show or measure).
NO_GENERATOR = ('kd_ood', 'kd_indomain')
NAMES = dict(
    teacher='Teacher (in-domain, supervised)',
    kd_indomain='KD on in-domain images (bound)',
    kd_ood='KD on OOD images',
    dfad='DFAD (data-free, adversarial)',
    dfq='DFQ (data-free, BN statistics)',
    mosaickd='MosaicKD (OOD images)')
ACCURACY = 'accuracy/top1'


def _folder_options(method: str, root: str, ood_root: str = None):
    """``data_root`` of the in-domain folder for the teacher and the
    evaluation, and of the OOD source for KD and MosaicKD: ``ood_root``, or
    ``root`` itself where one folder holds both (CIFAR-10)."""
    keys = ['val_dataloader.dataset', 'test_dataloader.dataset']
    if method == 'teacher':
        keys.append('train_dataloader.dataset')
    options = [f'{key}.data_root={root}' for key in keys]
    if method == 'kd_indomain':
        options.append(f'train_dataloader.dataset.source.data_root={root}')
    elif method != 'teacher' and method not in DATA_FREE:
        options.append('train_dataloader.dataset.source.data_root='
                       f'{ood_root or root}')
    return options


def _digits_options(method: str, root: str, ood_root: str = None):
    """CIFAR-10 in-domain folder as ``_folder_options``; the OOD digits
    come from ``data/mnist`` (``make data``; the configs name it), or from
    ``ood_root``, a folder of MNIST's IDX files, where one is given."""
    if method not in ('kd_ood', 'mosaickd'):
        return _folder_options(method, root)
    options = _folder_options('dfad', root)
    if ood_root:
        options.append(f'train_dataloader.dataset.source.data_root={ood_root}')
    return options


def _mnist_options(method: str, root: str, ood_root: str = None):
    return []


SETTINGS = {
    'mnist_fashion':
    dict(
        title='MNIST teacher, Fashion-MNIST images as OOD data; '
        'MNIST test accuracy (%)',
        configs=dict(
            teacher='configs/demo/teacher_mnist.py',
            kd_ood='configs/benchmarks/kd_ood_mnist.py',
            dfad='configs/benchmarks/dfad_mnist.py',
            dfq='configs/benchmarks/dfq_mnist.py',
            mosaickd='configs/benchmarks/mosaickd_mnist.py'),
        data=('data/mnist', 'data/fashion_mnist'),
        options=_mnist_options,
        teacher_share_target=90.0),
    'fashion_mnist':
    dict(
        title='Fashion-MNIST teacher, MNIST images as OOD data; '
        'Fashion-MNIST test accuracy (%)',
        configs=dict(
            teacher='configs/benchmarks/teacher_fashion.py',
            kd_ood='configs/benchmarks/kd_ood_fashion_mnist.py',
            dfad='configs/benchmarks/dfad_fashion.py',
            dfq='configs/benchmarks/dfq_fashion.py',
            mosaickd='configs/benchmarks/mosaickd_fashion_mnist.py'),
        data=('data/mnist', 'data/fashion_mnist'),
        options=_mnist_options),
    'cifar10_animals':
    dict(
        title='CIFAR-10 animal teacher (6 classes), vehicle images as OOD '
        'data; animal test accuracy (%)',
        configs=dict(
            teacher='configs/benchmarks/teacher_cifar10_animals.py',
            kd_ood='configs/benchmarks/kd_ood_cifar10_animals.py',
            dfad='configs/benchmarks/dfad_cifar10_animals.py',
            dfq='configs/benchmarks/dfq_cifar10_animals.py',
            mosaickd='configs/benchmarks/mosaickd_cifar10_animals.py'),
        needs_data_root=True,
        options=_folder_options),
    'cifar10_animals_long':
    dict(
        title='CIFAR-10 animal teacher (6 classes), vehicle images as OOD '
        'data, 1,000 outer iterations; animal test accuracy (%)',
        configs=dict(
            teacher='configs/benchmarks/teacher_cifar10_animals.py',
            kd_ood='configs/benchmarks/kd_ood_cifar10_animals_long.py',
            dfad='configs/benchmarks/dfad_cifar10_animals_long.py',
            dfq='configs/benchmarks/dfq_cifar10_animals_long.py',
            mosaickd='configs/benchmarks/mosaickd_cifar10_animals_long.py'),
        needs_data_root=True,
        options=_folder_options,
        # The same teacher config and seed as cifar10_animals: train once.
        shared=dict(teacher='cifar10_animals'),
        margin_target=0.0),
    'cifar10_ships_long':
    dict(
        title='CIFAR-10 animal teacher (6 classes), ship images only as OOD '
        'data, 1,000 outer iterations; animal test accuracy (%)',
        configs=dict(
            teacher='configs/benchmarks/teacher_cifar10_animals.py',
            kd_ood='configs/benchmarks/kd_ood_cifar10_ships_long.py',
            dfad='configs/benchmarks/dfad_cifar10_animals_long.py',
            dfq='configs/benchmarks/dfq_cifar10_animals_long.py',
            mosaickd='configs/benchmarks/mosaickd_cifar10_ships_long.py'),
        needs_data_root=True,
        options=_folder_options,
        # DFAD and DFQ see no OOD image, so their runs are those of the
        # vehicle setting (same config, teacher and seeds): reuse them.
        shared=dict(
            teacher='cifar10_animals',
            dfad='cifar10_animals_long',
            dfq='cifar10_animals_long'),
        margin_target=0.0),
    'camvid':
    dict(
        title='CamVid teacher (11 classes), general photographs as OOD '
        'data; CamVid val mIoU (%)',
        configs=dict(
            teacher='configs/benchmarks/teacher_camvid.py',
            kd_ood='configs/benchmarks/kd_ood_camvid.py',
            dfad='configs/benchmarks/dfad_camvid.py',
            dfq='configs/benchmarks/dfq_camvid.py',
            mosaickd='configs/benchmarks/mosaickd_camvid.py'),
        needs_data_root=True,
        data_folders=('train', 'trainannot', 'val', 'valannot'),
        data_layout='a CamVid folder in the SegNet layout '
        '({train,val,test}/NAME.png|jpg and {train,val,test}annot/NAME.png)',
        needs_ood_root=True,
        options=_folder_options,
        metric='mIoU',
        margin_target=3.0,
        dfad_target=True),
}
# The ten-class CIFAR-10 settings: a teacher of all ten classes (trained
# once, in cifar10_photos) and OOD images from far domains, where plain KD
# ends far below the teacher. DFAD, DFQ and KD on the in-domain images read
# no OOD image, so the two settings share their runs too.
_CIFAR10_FAR = dict(
    teacher='configs/benchmarks/teacher_cifar10.py',
    kd_indomain='configs/benchmarks/kd_indomain_cifar10.py',
    dfad='configs/benchmarks/dfad_cifar10.py',
    dfq='configs/benchmarks/dfq_cifar10.py')
SETTINGS['cifar10_photos'] = dict(
    title='CIFAR-10 teacher (10 classes), random crops of 680 general '
    'photographs as OOD data, 1,000 outer iterations; CIFAR-10 test '
    'accuracy (%)',
    configs=dict(
        _CIFAR10_FAR,
        kd_ood='configs/benchmarks/kd_ood_cifar10_photos.py',
        mosaickd='configs/benchmarks/mosaickd_cifar10_photos.py'),
    needs_data_root=True,
    needs_ood_root=True,
    options=_folder_options,
    default_methods=('kd_indomain', 'kd_ood', 'dfad', 'dfq', 'mosaickd'),
    headroom_target=85.0,
    dfq_target=True,
    per_class_accuracy=True)
SETTINGS['cifar10_digits'] = dict(
    SETTINGS['cifar10_photos'],
    title='CIFAR-10 teacher (10 classes), MNIST digits as 3-channel 32x32 '
    'OOD data, 1,000 outer iterations; CIFAR-10 test accuracy (%)',
    configs=dict(
        _CIFAR10_FAR,
        kd_ood='configs/benchmarks/kd_ood_cifar10_digits.py',
        mosaickd='configs/benchmarks/mosaickd_cifar10_digits.py'),
    needs_ood_root=False,
    data=('data/mnist', ),
    # mmpretrain's MNIST reads (or, missing one, downloads) all four.
    ood_files=('train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
               't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
    options=_digits_options,
    shared=dict(
        teacher='cifar10_photos',
        kd_indomain='cifar10_photos',
        dfad='cifar10_photos',
        dfq='cifar10_photos'))
# CamVid at three times the budget (900 student updates): the teacher is
# the camvid setting's (same config and seed), trained once.
SETTINGS['camvid_long'] = dict(
    SETTINGS['camvid'],
    title='CamVid teacher (11 classes), general photographs as OOD data, '
    '180 outer iterations; CamVid val mIoU (%)',
    configs=dict(
        teacher='configs/benchmarks/teacher_camvid.py',
        kd_ood='configs/benchmarks/kd_ood_camvid_long.py',
        dfad='configs/benchmarks/dfad_camvid_long.py',
        dfq='configs/benchmarks/dfq_camvid_long.py',
        mosaickd='configs/benchmarks/mosaickd_camvid_long.py'),
    shared=dict(teacher='camvid'))
# The MNIST setting at the demo's budget (400 outer iterations).
SETTINGS['mnist_fashion_400'] = dict(
    SETTINGS['mnist_fashion'],
    title='MNIST teacher, Fashion-MNIST images as OOD data, the demo\'s 400 '
    'iterations; MNIST test accuracy (%)',
    configs=dict(
        teacher='configs/demo/teacher_mnist.py',
        kd_ood='configs/demo/kd_ood_mnist_fashion.py',
        dfad='configs/benchmarks/dfad_mnist_400.py',
        dfq='configs/benchmarks/dfq_mnist_400.py',
        mosaickd='configs/demo/mosaickd_mnist_fashion.py'))
#: MosaicKD must beat KD on OOD data by this many points, unless a setting
#: says otherwise (``margin_target``).
MARGIN_TARGET = 5.0
#: What --data-root holds when a setting does not say.
CIFAR_LAYOUT = ('a CIFAR-10 image folder with train/<class>/*.jpg and '
                'test/<class>/*.jpg')


def parse_args(argv=None):
    parser = cli.ArgumentParser(
        description=__doc__.split('\n\n')[0].replace('\n', ' '))
    parser.add_argument('setting', choices=sorted(SETTINGS))
    parser.add_argument(
        '--data-root',
        help='the in-domain data: a CIFAR-10 image folder (train/<class>, '
        'test/<class>) for the cifar10_* settings, a CamVid folder in the '
        'SegNet layout for camvid')
    parser.add_argument(
        '--ood-root',
        help='folder of unlabeled OOD images (any tree of image files); '
        'needed by camvid and cifar10_photos; for cifar10_digits, a folder '
        'of MNIST\'s IDX files instead of data/mnist')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument(
        '--methods',
        nargs='+',
        choices=METHODS,
        help=f'default: {" ".join(DEFAULT_METHODS)}; the cifar10_photos and '
        'cifar10_digits settings add dfq and kd_indomain (KD on the '
        'in-domain training images, the upper bound)')
    parser.add_argument(
        '--work-dir', help='default: work_dirs/benchmarks/quality/SETTING')
    parser.add_argument(
        '--jobs',
        type=int,
        default=1,
        help='runs trained at once, sharing the CPU cores (default 1)')
    parser.add_argument(
        '--coverage-only',
        action='store_true',
        help='train the teacher if needed, measure how it sees the OOD '
        'images (coverage.json) and stop, without student runs')
    parser.add_argument(
        '--fresh',
        action='store_true',
        help='delete the work dir first instead of reusing finished runs')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='extra key=value overrides for every student run (e.g. '
        'train_cfg.max_iters=20 for a quick look)')
    parser.add_argument(
        '--teacher-cfg-options',
        nargs='+',
        default=[],
        help='key=value overrides for the teacher run')
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f'--jobs must be at least 1, got {args.jobs}.')
    if args.methods is None:
        args.methods = list(SETTINGS[args.setting].get('default_methods',
                                                       DEFAULT_METHODS))
    return args


def _check_data(setting: dict, args) -> None:
    if setting.get('needs_data_root'):
        layout = setting.get('data_layout', CIFAR_LAYOUT)
        if not args.data_root:
            _fail(f'{args.setting} needs --data-root: {layout}.')
        for split in setting.get('data_folders', ('train', 'test')):
            if not osp.isdir(osp.join(args.data_root, split)):
                _fail(f'--data-root {args.data_root!r} has no {split}/ '
                      f'folder; give {layout}.')
        args.data_root = osp.abspath(args.data_root)
    if setting.get('needs_ood_root') and not args.ood_root:
        _fail(f'{args.setting} needs --ood-root: a folder of unlabeled '
              'images (the out-of-domain data).')
    if args.ood_root:
        if not osp.isdir(args.ood_root):
            _fail(f'--ood-root {args.ood_root!r} is not a folder; give the '
                  'folder of unlabeled OOD images.')
        for name in setting.get('ood_files', ()):
            if not osp.isfile(osp.join(args.ood_root, name)):
                _fail(f'--ood-root {args.ood_root!r} has no {name}; give the '
                      'folder `make data` writes as data/mnist (the four '
                      'uncompressed IDX files of MNIST).')
        args.ood_root = osp.abspath(args.ood_root)


def _check_prepared_data(setting: dict, args=None) -> None:
    """The data folders ``make data`` writes, checked after the arguments
    (so a bad option is reported first, data or not); a setting whose OOD
    data can come from --ood-root instead needs them only without it."""
    if args is not None and getattr(args, 'ood_root', None):
        return
    for folder in setting.get('data', ()):
        if not osp.isdir(osp.join(ROOT, folder)):
            _fail(f'{folder} is missing; run `make data` (or python '
                  'tools/dataset_converters/fetch_mnist.py) first.')


def _fail(message: str) -> None:
    """Stop with one sentence (``error: ...``, exit status 2)."""
    raise MosaicError(message)


def _load(config: str, options) -> Config:
    """``config`` (relative to the repository) with ``key=value`` options,
    checked as tools/train.py checks its --cfg-options."""
    return load_config(osp.join(ROOT, config), parse_cfg_options(options))


def _max_iters(config: str, options) -> int:
    return int(_load(config, options).train_cfg.max_iters)


def _budget(config: str, options) -> dict:
    """Student updates and images per update of a distillation config."""
    cfg = _load(config, options)
    rule = batch_rule(cfg)
    return dict(
        outer_iterations=int(cfg.train_cfg.max_iters),
        student_updates=int(cfg.train_cfg.max_iters) * rule.steps,
        synthetic_per_update=rule.synthetic,
        ood_per_update=rule.chunk)


def _finished(work_dir: str, max_iters: int, metric: str) -> bool:
    return osp.isfile(osp.join(work_dir, f'iter_{max_iters}.pth')) and any(
        step == max_iters
        for step, _ in metric_history(work_dir, metric, all_runs=True))


def _check_signatures(runs,
                      remedy: str = 'pass --fresh or another --work-dir'
                      ) -> None:
    """Refuse to reuse or resume a run made with other settings.

    ``runs`` holds (work dir, config, options) of every run a call may
    train; checked before the first one starts, so that a refusal comes
    at once, not after hours of training of the others. ``remedy`` is what
    the message tells the user to do (the calling tool's options).
    """
    for work_dir, config, options in runs:
        path = osp.join(work_dir, 'benchmark_run.json')
        if not osp.isfile(path):
            continue
        with open(path) as f:
            theirs = json.load(f)
        if theirs != dict(config=config, options=list(options)):
            _fail(f'{work_dir} holds a run of {theirs["config"]} with options '
                  f'{theirs["options"]}, not this one; {remedy}.')


def _record_signature(work_dir: str, config: str, options) -> None:
    """Write the settings of a run (``_check_signatures`` reads them);
    refuse a folder that holds another run, should a caller not have
    checked it up front."""
    _check_signatures([(work_dir, config, options)])
    path = osp.join(work_dir, 'benchmark_run.json')
    if not osp.isfile(path):
        os.makedirs(work_dir, exist_ok=True)
        with open(path, 'w') as f:
            json.dump(dict(config=config, options=list(options)), f, indent=2)


def _run_dir(work_dir: str, setting: dict, name: str, seed=None) -> str:
    """Where the teacher (``seed=None``) or a method's seed is trained.

    A run a setting shares with another (``shared``: the same config,
    options and seed, e.g. one teacher for several CIFAR-10 settings) lives
    in that setting's work dir, next to this one, and is trained once.
    """
    owner = setting.get('shared', {}).get(name)
    if owner:
        work_dir = osp.join(osp.dirname(work_dir), owner)
    if seed is None:
        return osp.join(work_dir, name)
    return osp.join(work_dir, name, f'seed{seed}')


def _run(config,
         work_dir,
         options,
         label,
         max_iters,
         threads,
         metric,
         tool=TOOL) -> tuple:
    """Train unless finished; resume an interrupted run. The caller has
    checked its signature (``_check_signatures``); ``tool`` names the
    calling script in the log.

    Returns the run's training seconds and whether this call trained.
    """
    _record_signature(work_dir, config, options)
    if _finished(work_dir, max_iters, metric):
        say(tool, f'{label}: reusing the finished run in {work_dir}')
        return _read_seconds(work_dir), False
    args = []
    if glob.glob(osp.join(work_dir, 'iter_*.pth')):
        args.append('--resume')
        say(tool, f'{label}: resuming the interrupted run in {work_dir}')
    seconds = train(
        osp.join(ROOT, config),
        work_dir,
        options,
        tool=tool,
        label=label,
        args=args,
        env=dict(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads)))
    seconds += _read_seconds(work_dir)
    with open(osp.join(work_dir, 'seconds.txt'), 'w') as f:
        f.write(f'{seconds:.1f}\n')
    return seconds, True


def _read_seconds(work_dir: str) -> float:
    path = osp.join(work_dir, 'seconds.txt')
    if not osp.isfile(path):
        return 0.0
    with open(path) as f:
        return float(f.read())


def _stats(values):
    return dict(
        mean=statistics.fmean(values),
        std=statistics.stdev(values) if len(values) > 1 else 0.0,
        min=min(values),
        max=max(values),
        values=values)


def _plot(results: dict, teacher_acc: float, title: str, ylabel: str,
          path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for method, res in results['methods'].items():
        curves = [dict(c) for c in res['curves']]
        steps = sorted(set.intersection(*(set(c) for c in curves)))
        if not steps:
            continue
        per_update = res['budget']['student_updates'] / res['budget'][
            'outer_iterations']
        xs = [s * per_update for s in steps]
        rows = [[c[s] for c in curves] for s in steps]
        mean = [statistics.fmean(r) for r in rows]
        line, = ax.plot(xs, mean, marker='o', ms=3, label=NAMES[method])
        ax.fill_between(
            xs, [min(r) for r in rows], [max(r) for r in rows],
            color=line.get_color(),
            alpha=0.2)
    ax.axhline(teacher_acc, color='k', ls='--', lw=1, label=NAMES['teacher'])
    ax.set_xlabel('student updates')
    ax.set_ylabel(ylabel)
    # Long titles wrap instead of running off the figure.
    ax.set_title(textwrap.fill(title, 90), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc='lower right')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _copy_mosaic(run_dir: str, dest: str):
    """The run's last mosaic grid, enlarged (nearest) to about 450 px."""
    from PIL import Image
    grids = sorted(
        glob.glob(osp.join(run_dir, 'mosaics', 'iter_*.png')),
        key=lambda p: int(osp.basename(p)[5:-4]))
    if not grids:
        return None
    with Image.open(grids[-1]) as grid:
        scale = max(1, round(450 / grid.width))
        grid.resize((grid.width * scale, grid.height * scale),
                    Image.NEAREST).save(dest)
    return osp.basename(dest)


def _machine() -> dict:
    import torch
    return dict(
        cpu=platform.processor() or platform.machine(),
        cores=os.cpu_count(),
        python=platform.python_version(),
        torch=torch.__version__)


def _time_to_reach(report: dict):
    """Student updates after which MosaicKD's mean curve first reaches KD on
    OOD images' final mean score (None if it never does)."""
    methods = report['methods']
    if not {'mosaickd', 'kd_ood'} <= set(methods):
        return None
    target = methods['kd_ood']['last']['mean']
    res = methods['mosaickd']
    curves = [dict(c) for c in res['curves']]
    per_update = (
        res['budget']['student_updates'] // res['budget']['outer_iterations'])
    for step in sorted(set.intersection(*(set(c) for c in curves))):
        if statistics.fmean(c[step] for c in curves) >= target:
            return step * per_update
    return None


def _coverage_markdown(coverage: dict, what: str = 'the OOD images') -> list:
    units = 'pixels' if coverage.get('dense') else 'images'
    names = coverage['classes']
    shares = coverage['top_class_share']
    order = sorted(range(len(names)), key=lambda i: -shares[i])
    return [
        f'Teacher on {what} ({coverage["num_images"]} images): '
        f'share of {units} per top class: ' +
        ', '.join(f'{names[i]} {100 * shares[i]:.1f}%' for i in order) +
        f'. Effective number of classes (exp of the entropy of the mean '
        f'prediction): {coverage["effective_classes"]:.2f} of '
        f'{coverage["num_classes"]}; of the top-class shares: '
        f'{coverage["effective_top_classes"]:.2f}; mean confidence '
        f'{coverage["mean_confidence"]:.2f}.', ''
    ]


def _per_class_markdown(report: dict) -> list:
    methods = [
        m for m in report['methods'] if report['methods'][m].get('per_class')
    ]
    if not methods:
        return []
    per_class = {m: report['methods'][m]['per_class'] for m in methods}
    teacher = report['teacher'].get('per_class')
    both = {'mosaickd', 'kd_ood'} <= set(methods)
    coverage = report.get('coverage')
    shares = dict(zip(coverage['classes'],
                      coverage['top_class_share'])) if coverage else {}
    mosaics = report['methods'].get('mosaickd', {}).get('mosaic_coverage')
    mosaic_shares = dict(zip(mosaics['classes'],
                             mosaics['top_class_share'])) if mosaics else {}
    dense = report['metric'] == 'mIoU'
    units, score = ('pixels', 'IoU') if dense else ('images', 'accuracy')
    rows = []
    for name in per_class[methods[0]]:
        row = [name]
        if teacher:
            row.append(f'{teacher.get(name, float("nan")):.2f}')
        row += [f'{per_class[m][name]:.2f}' for m in methods]
        if both:
            gap = per_class['mosaickd'][name] - per_class['kd_ood'][name]
            row.append(f'{gap:+.2f}')
        if shares:
            row.append(f'{100 * shares.get(name, 0):.1f}%')
        if mosaic_shares:
            row.append(f'{100 * mosaic_shares.get(name, 0):.1f}%')
        rows.append(row)
    headers = ['class']
    if teacher:
        headers.append('teacher')
    headers += [NAMES[m] for m in methods]
    if both:
        headers.append('MosaicKD - KD')
    if shares:
        headers.append(f'OOD {units} (teacher)')
    if mosaic_shares:
        headers.append(f'MosaicKD mosaic {units} (teacher)')
    return [
        f'Per-class {score} of the final students (mean over seeds, last '
        f'checkpoint), beside the share of OOD {units} the teacher assigns '
        'to each class' +
        (' and the same share on the final MosaicKD '
         'generator\'s images (first seed)' if mosaic_shares else '') + ':',
        '',
        table(rows, headers), ''
    ]


def _markdown(report: dict) -> str:
    teacher = report['teacher']['score']
    rows = []
    for method, res in report['methods'].items():
        last, best = res['last'], res['best']
        rows.append([
            NAMES[method], f'{last["mean"]:.2f} ± {last["std"]:.2f}',
            f'{best["mean"]:.2f} ± {best["std"]:.2f}',
            ', '.join(f'{v:.2f}' for v in last['values']),
            f'{100 * last["mean"] / teacher:.1f}%', f'{res["minutes"]:.1f}'
        ])
    lines = [
        f'### {report["title"]}', '',
        f'Teacher: {teacher:.2f} {report["metric"]}. Seeds '
        f'{report["seeds"]}; mean ± standard deviation over seeds; "last" '
        'after the final update, "best" the highest of the evaluations '
        'during training.', '',
        table(rows, [
            'method', 'last', 'best', 'last per seed', 'of teacher',
            'minutes (all seeds)'
        ]), ''
    ]
    budget = report['methods'].get('mosaickd',
                                   next(iter(
                                       report['methods'].values())))['budget']
    lines.append(
        f'Budget per run: {budget["student_updates"]} student updates '
        f'({budget["outer_iterations"]} outer iterations). Images per '
        'student update: ' + '; '.join(
            f'{NAMES[m]} {r["budget"]["synthetic_per_update"]} synthetic + '
            f'{r["budget"]["ood_per_update"]} '
            f'{"in-domain" if m == "kd_indomain" else "OOD"}'
            for m, r in report['methods'].items()) + '.')
    lines.append('')
    if report.get('coverage'):
        lines += _coverage_markdown(report['coverage'])
    for method, res in report['methods'].items():
        if res.get('mosaic_coverage'):
            lines += _coverage_markdown(
                res['mosaic_coverage'],
                f'the final {NAMES[method]} generator\'s images (seed '
                f'{report["seeds"][0]})')
    lines += _per_class_markdown(report)
    lines += [f'- {verdict}' for verdict in report['verdicts']]
    lines.append(f'- Wall time of the whole setting: '
                 f'{report["total_minutes"]:.1f} min on '
                 f'{report["environment"]["cores"]} CPU cores '
                 f'(--jobs {report["jobs"]}).')
    lines.append('')
    lines.append('![curves](accuracy.png)')
    for method, name in report['mosaics'].items():
        lines += [
            '', f'{NAMES[method]}: the generator\'s last grid (seed '
            f'{report["seeds"][0]}), one row per class, class 0 at the top; ' +
            _GRID_ROWS[report['metric'] == 'mIoU'], '', f'![{name}]({name})'
        ]
    return '\n'.join(lines) + '\n'


#: How the mosaic grids' rows are chosen, for classification and for
#: segmentation (``mosaic_grid``).
_GRID_ROWS = (
    'each image in the row of the class the teacher predicts; an empty row '
    'is a class the teacher never predicted.',
    'each image, followed by the teacher\'s mask, in the row of the class '
    'it shows most relative to the other images; an empty row is a class '
    'no image shows more of than the others.')


def _verdicts(report: dict, setting: dict):
    teacher = report['teacher']['score']
    methods = report['methods']
    verdicts = []
    if 'mosaickd' in methods and 'kd_ood' in methods:
        gap = methods['mosaickd']['last']['mean'] - methods['kd_ood']['last'][
            'mean']
        target = setting.get('margin_target', MARGIN_TARGET)
        met = 'met' if gap >= target else 'NOT met'
        verdicts.append(
            f'MosaicKD - KD on OOD data: {gap:+.2f} points (last, mean); '
            f'target {target:+.0f}: {met}.')
        reach = report.get('updates_to_reach_kd')
        verdicts.append(
            'MosaicKD reaches KD on OOD data\'s final mean score after '
            f'{reach} student updates.' if reach is not None else
            'MosaicKD\'s mean curve never reaches KD on OOD data\'s final '
            'mean score.')
    for free in DATA_FREE:
        if 'mosaickd' not in methods or free not in methods:
            continue
        gap = methods['mosaickd']['last']['mean'] - methods[free]['last'][
            'mean']
        target = (': target >= 0: ' + ('met' if gap >= 0 else 'NOT met')
                  if setting.get(f'{free}_target') else '')
        verdicts.append(f'MosaicKD - {free.upper()}: {gap:+.2f} points '
                        f'(last, mean){target}.')
    headroom = setting.get('headroom_target')
    if 'kd_ood' in methods and headroom:
        share = 100 * methods['kd_ood']['last']['mean'] / teacher
        met = 'met' if share <= headroom else 'NOT met'
        verdicts.append(
            f'KD on OOD data ends at {share:.1f}% of the teacher; headroom '
            f'target <= {headroom:.0f}% (room for MosaicKD to win): {met}.')
    if 'kd_indomain' in methods:
        share = 100 * methods['kd_indomain']['last']['mean'] / teacher
        verdicts.append(f'KD on the in-domain images (the upper bound) ends '
                        f'at {share:.1f}% of the teacher.')
    share_target = setting.get('teacher_share_target')
    if 'mosaickd' in methods and share_target:
        share = 100 * methods['mosaickd']['last']['mean'] / teacher
        met = 'met' if share >= share_target else 'NOT met'
        verdicts.append(f'MosaicKD reaches {share:.1f}% of the teacher; '
                        f'target {share_target:.0f}%: {met}.')
    return verdicts


_IOU_ROW = re.compile(r'^\|\s*([^|]+?)\s*\|\s*(-?[\d.]+|nan)\s*\|')


def _per_class_iou(run_dir: str):
    """The last per-class IoU table mmseg's IoUMetric printed in a run's
    logs (``{class: IoU}``), or None."""
    logs = sorted(glob.glob(osp.join(run_dir, '*', '*.log')))
    for path in reversed(logs):
        with open(path, errors='replace') as f:
            lines = f.read().splitlines()
        heads = [
            i for i, line in enumerate(lines) if 'per class results' in line
        ]
        if not heads:
            continue
        table_rows = {}
        for line in lines[heads[-1] + 1:]:
            match = _IOU_ROW.match(line.strip())
            if match:
                table_rows[match.group(1)] = float(match.group(2))
            elif table_rows and not line.startswith(('|', '+')):
                break
        return table_rows or None
    return None


def _cached_coverage(path: str, signature: dict):
    """The coverage cached in ``path`` if it was measured with
    ``signature``, else None."""
    if not osp.isfile(path):
        return None
    with open(path) as f:
        cached = json.load(f)
    return cached['coverage'] if cached.get('signature') == signature else None


def _cache_coverage(path: str, signature: dict, coverage: dict) -> None:
    with open(path, 'w') as f:
        json.dump(dict(signature=signature, coverage=coverage), f, indent=2)


def _mosaic_coverage(config: str, options, run_dir: str, max_iters: int,
                     classes) -> dict:
    """How the teacher sees the images of a run's final generator (cached
    in ``run_dir/mosaic_coverage.json``)."""
    ckpt = osp.join(run_dir, f'iter_{max_iters}.pth')
    path = osp.join(run_dir, 'mosaic_coverage.json')
    signature = dict(checkpoint_mtime=osp.getmtime(ckpt))
    cached = _cached_coverage(path, signature)
    if cached is not None:
        return cached
    import torch
    from mmengine.registry import init_default_scope

    import mmmosaic.models  # noqa: F401
    from mmmosaic.analysis import synthetic_coverage
    from mmmosaic.registry import MODELS
    from mmmosaic.utils.checkpoint import load_model_weights
    say(TOOL, 'measuring the teacher\'s classes on the generator of '
        f'{run_dir}')
    cfg = _load(config, options)
    init_default_scope('mmmosaic')
    model = MODELS.build(cfg.model)
    load_model_weights(model, ckpt, 'MosaicKD')
    with torch.random.fork_rng():
        torch.manual_seed(0)
        coverage = synthetic_coverage(model, num_images=512)
    coverage['classes'] = list(classes)
    coverage['dense'] = 'decode_head' in cfg.model.teacher
    _cache_coverage(path, signature, coverage)
    return coverage


def _class_accuracies(config: str,
                      options,
                      run_dir: str,
                      max_iters: int,
                      student: bool = True) -> dict:
    """Per-class test accuracy (%) of a run's final student (or, with
    ``student=False``, of the supervised model it trained), measured on the
    config's validation data (cached in ``run_dir/per_class.json``)."""
    ckpt = osp.join(run_dir, f'iter_{max_iters}.pth')
    path = osp.join(run_dir, 'per_class.json')
    signature = dict(checkpoint_mtime=osp.getmtime(ckpt))
    cached = _cached_coverage(path, signature)
    if cached is not None:
        return cached
    import torch
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    import mmmosaic.datasets  # noqa: F401  (registers the datasets)
    import mmmosaic.models  # noqa: F401
    from mmmosaic.analysis import per_class_accuracy
    from mmmosaic.registry import MODELS
    from mmmosaic.utils.checkpoint import load_model_weights
    say(TOOL, f'measuring the per-class accuracy of {run_dir}')
    torch.set_num_threads(os.cpu_count() or 1)
    cfg = _load(config, options)
    init_default_scope('mmmosaic')
    model = MODELS.build(cfg.model)
    load_model_weights(model, ckpt, 'run')
    dataloader = Runner.build_dataloader(cfg.val_dataloader)
    classes = dataloader.dataset.metainfo['classes']
    accuracy = per_class_accuracy(model.student if student else model,
                                  dataloader, classes)
    _cache_coverage(path, signature, accuracy)
    return accuracy


def _mean_per_class(run_dirs):
    """Per-class IoU (``_per_class_iou``) averaged over runs, or None unless
    every run printed a table."""
    return _mean_of_tables([_per_class_iou(d) for d in run_dirs])


def _mean_of_tables(tables):
    """``{class: score}`` tables averaged class by class, or None unless
    every table is there."""
    if not all(tables):
        return None
    return {
        name: statistics.fmean(t[name] for t in tables)
        for name in tables[0]
    }


def _coverage(config: str, options, path: str, max_images: int) -> dict:
    """How the teacher sees the OOD images (cached in ``path``)."""
    signature = dict(config=config, options=list(options))
    teacher_ckpt = next(
        o.split('=', 1)[1] for o in options
        if o.startswith('model.teacher_ckpt='))
    signature['teacher_mtime'] = osp.getmtime(teacher_ckpt)
    cached = _cached_coverage(path, signature)
    if cached is not None:
        return cached
    import torch
    from mmengine.registry import init_default_scope

    import mmmosaic.datasets  # noqa: F401  (registers the datasets)
    import mmmosaic.models  # noqa: F401
    from mmmosaic.analysis import teacher_coverage
    from mmmosaic.registry import DATASETS, MODELS
    torch.set_num_threads(os.cpu_count() or 1)
    cfg = _load(config, options)
    init_default_scope('mmmosaic')
    say(TOOL, 'measuring the teacher\'s class coverage of the OOD images')
    model = MODELS.build(cfg.model)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    classes = DATASETS.build(cfg.val_dataloader.dataset).metainfo['classes']
    coverage = teacher_coverage(model, dataset, max_images=max_images)
    coverage['classes'] = list(classes)
    coverage['dense'] = 'decode_head' in cfg.model.teacher
    _cache_coverage(path, signature, coverage)
    return coverage


@cli.tool_main
def main(argv=None):
    return run(parse_args(argv))


def run(args):
    """The benchmark for parsed arguments; returns the report."""
    setting = SETTINGS[args.setting]
    _check_data(setting, args)
    work_dir = osp.abspath(
        args.work_dir
        or osp.join(ROOT, 'work_dirs', 'benchmarks', 'quality', args.setting))
    if args.fresh and osp.isdir(work_dir):
        shutil.rmtree(work_dir)
    cli.note(work_dir=cli.output_dir(work_dir, '--work-dir'))
    start = time.time()
    configs = setting['configs']
    metric = setting.get('metric', ACCURACY)

    def options(method):
        return setting['options'](method, args.data_root, args.ood_root)

    # Every config with its options, before hours of training: a bad
    # --cfg-options value stops here, naming the key.
    _load(configs['teacher'],
          options('teacher') + list(args.teacher_cfg_options))
    for method in args.methods:
        _load(configs[method], options(method) + list(args.cfg_options))
    _check_prepared_data(setting, args)

    threads = max(1, (os.cpu_count() or 1) // max(1, args.jobs))

    # The teacher: trained once, seed 0, the same for every student.
    teacher_dir = _run_dir(work_dir, setting, 'teacher')
    teacher_options = options('teacher') + ['randomness.seed=0'] + list(
        args.teacher_cfg_options)
    teacher_iters = _max_iters(configs['teacher'], teacher_options)
    teacher_ckpt = osp.join(teacher_dir, f'iter_{teacher_iters}.pth')

    # Every student run, its folder and length.
    runs = []
    for seed in args.seeds:
        for method in args.methods:
            opts = options(method) + [
                f'model.teacher_ckpt={teacher_ckpt}', f'randomness.seed={seed}'
            ] + list(args.cfg_options)
            runs.append(
                dict(
                    method=method,
                    seed=seed,
                    options=opts,
                    run_dir=_run_dir(work_dir, setting, method, seed),
                    max_iters=_max_iters(configs[method], opts)))
    # A run dir made with other settings is refused before anything
    # trains (--coverage-only trains the teacher alone).
    checked = [(teacher_dir, configs['teacher'], teacher_options)]
    if not args.coverage_only:
        checked += [(r['run_dir'], configs[r['method']], r['options'])
                    for r in runs]
    _check_signatures(checked)

    say(
        TOOL, f'{args.setting}: teacher, then {", ".join(args.methods)} for '
        f'seeds {args.seeds} ({args.jobs} at a time, {threads} threads each)')
    teacher_seconds, trained = _run(configs['teacher'], teacher_dir,
                                    teacher_options, 'teacher', teacher_iters,
                                    os.cpu_count() or 1, metric)
    teacher_history = metric_history(teacher_dir, metric, all_runs=True)

    ood_method = next((m for m in ('kd_ood', 'mosaickd') if m in configs),
                      None)

    def coverage():
        return _coverage(
            configs[ood_method],
            options(ood_method) + [f'model.teacher_ckpt={teacher_ckpt}'] +
            list(args.cfg_options), osp.join(work_dir, 'coverage.json'),
            setting.get('coverage_images', 5000))

    if args.coverage_only:
        print(''.join(_coverage_markdown(coverage())))
        say(TOOL, f'wrote {work_dir}/coverage.json')
        return None

    # Longest runs first (MosaicKD, then DFAD, then KD): with several jobs
    # the setting then ends sooner.
    queue = sorted(runs, key=lambda run: -METHODS.index(run['method']))
    seconds = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {}
        for r in queue:
            future = pool.submit(_run, configs[r['method']], r['run_dir'],
                                 r['options'],
                                 f'{r["method"]}/seed{r["seed"]}',
                                 r['max_iters'], threads, metric)
            futures[future] = (r['method'], r['seed'])
        for future in concurrent.futures.as_completed(futures):
            try:
                seconds[futures[future]], trained_run = future.result()
                trained |= trained_run
            except BaseException:
                for other in futures:
                    other.cancel()
                raise

    report = dict(
        setting=args.setting,
        title=setting['title'],
        metric=metric,
        seeds=args.seeds,
        jobs=args.jobs,
        environment=_machine(),
        teacher=dict(
            config=configs['teacher'],
            checkpoint=teacher_ckpt,
            score=teacher_history[-1][1],
            per_class=(_class_accuracies(
                configs['teacher'],
                teacher_options,
                teacher_dir,
                teacher_iters,
                student=False) if setting.get('per_class_accuracy') else
                       _per_class_iou(teacher_dir)),
            minutes=teacher_seconds / 60),
        methods={},
        mosaics={})
    if ood_method:
        report['coverage'] = coverage()
    for method in args.methods:
        opts = next(r['options'] for r in runs if r['method'] == method)
        run_dirs = [_run_dir(work_dir, setting, method, s) for s in args.seeds]
        curves = [metric_history(d, metric, all_runs=True) for d in run_dirs]
        for run_dir, curve in zip(run_dirs, curves):
            if not curve:
                _fail(f'no {metric} was logged in {run_dir}; see its '
                      'console.log.')
        report['methods'][method] = dict(
            config=configs[method],
            budget=_budget(configs[method], opts),
            last=_stats([c[-1][1] for c in curves]),
            best=_stats([max(v for _, v in c) for c in curves]),
            curves=curves,
            minutes=sum(seconds[(method, s)] for s in args.seeds) / 60)
        if setting.get('per_class_accuracy'):
            per_class = _mean_of_tables([
                _class_accuracies(configs[method], r['options'], r['run_dir'],
                                  r['max_iters']) for r in runs
                if r['method'] == method
            ])
        else:
            per_class = _mean_per_class(run_dirs)
        if per_class:
            report['methods'][method]['per_class'] = per_class
        if method not in NO_GENERATOR and report.get('coverage'):
            report['methods'][method]['mosaic_coverage'] = _mosaic_coverage(
                configs[method], opts, run_dirs[0],
                _max_iters(configs[method], opts),
                report['coverage']['classes'])
        if method not in NO_GENERATOR:
            name = _copy_mosaic(run_dirs[0],
                                osp.join(work_dir, f'mosaics_{method}.png'))
            if name:
                report['mosaics'][method] = name
    report['updates_to_reach_kd'] = _time_to_reach(report)
    report['total_minutes'] = (time.time() - start) / 60
    previous = osp.join(work_dir, 'results.json')
    if not trained and osp.isfile(previous):
        # Nothing was trained by this call: keep the wall time of the call
        # that trained (the figure the budget is about).
        with open(previous) as f:
            report['total_minutes'] = json.load(f).get('total_minutes',
                                                       report['total_minutes'])
    report['verdicts'] = _verdicts(report, setting)

    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(report, f, indent=2)
    ylabel = ('val mIoU (%)' if metric == 'mIoU' else 'test accuracy (%)')
    _plot(report, report['teacher']['score'], setting['title'], ylabel,
          osp.join(work_dir, 'accuracy.png'))
    markdown = _markdown(report)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(markdown)
    print()
    print(markdown)
    say(
        TOOL, f'wrote {work_dir}/results.json, results.md, accuracy.png' +
        ''.join(f', {m}' for m in report['mosaics'].values()))
    return report


if __name__ == '__main__':
    sys.exit(main())
