"""Quality benchmark: KD on OOD images, data-free adversarial KD (DFAD) and
MosaicKD distilling the same teacher into the same student.

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
import argparse
import concurrent.futures
import glob
import json
import os
import os.path as osp
import platform
import shutil
import statistics
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'demo'))
from demo_utils import metric_history, say, table, train  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

METHODS = ('kd_ood', 'dfad', 'mosaickd')
NAMES = dict(
    teacher='Teacher (in-domain, supervised)',
    kd_ood='KD on OOD images',
    dfad='DFAD (data-free, adversarial)',
    mosaickd='MosaicKD (OOD images)')
METRIC = 'accuracy/top1'


def _cifar_options(method: str, root: str):
    keys = ['val_dataloader.dataset', 'test_dataloader.dataset']
    if method == 'teacher':
        keys.append('train_dataloader.dataset')
    elif method != 'dfad':
        keys.append('train_dataloader.dataset.source')
    return [f'{key}.data_root={root}' for key in keys]


def _mnist_options(method: str, root: str):
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
            mosaickd='configs/benchmarks/mosaickd_cifar10_animals.py'),
        needs_data_root=True,
        options=_cifar_options),
}
# The MNIST setting at the demo's budget (400 outer iterations).
SETTINGS['mnist_fashion_400'] = dict(
    SETTINGS['mnist_fashion'],
    title='MNIST teacher, Fashion-MNIST images as OOD data, the demo\'s 400 '
    'iterations; MNIST test accuracy (%)',
    configs=dict(
        teacher='configs/demo/teacher_mnist.py',
        kd_ood='configs/demo/kd_ood_mnist_fashion.py',
        dfad='configs/benchmarks/dfad_mnist_400.py',
        mosaickd='configs/demo/mosaickd_mnist_fashion.py'))
#: MosaicKD must beat KD on OOD data by this many points (issue 4).
MARGIN_TARGET = 5.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0].replace('\n', ' '))
    parser.add_argument('setting', choices=sorted(SETTINGS))
    parser.add_argument(
        '--data-root',
        help='CIFAR-10 image folder (train/<class>, test/<class>); needed '
        'by cifar10_animals')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument(
        '--methods', nargs='+', choices=METHODS, default=list(METHODS))
    parser.add_argument(
        '--work-dir', help='default: work_dirs/benchmarks/quality/SETTING')
    parser.add_argument(
        '--jobs',
        type=int,
        default=1,
        help='runs trained at once, sharing the CPU cores (default 1)')
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
    return args


def _check_data(setting: dict, args) -> None:
    if setting.get('needs_data_root'):
        if not args.data_root:
            _fail(f'{args.setting} needs --data-root: a CIFAR-10 image folder '
                  'with train/<class>/*.jpg and test/<class>/*.jpg.')
        for split in ('train', 'test'):
            if not osp.isdir(osp.join(args.data_root, split)):
                _fail(f'--data-root {args.data_root!r} has no {split}/ '
                      'folder; give the folder that holds train/<class>/ '
                      'and test/<class>/.')
        args.data_root = osp.abspath(args.data_root)
    for folder in setting.get('data', ()):
        if not osp.isdir(osp.join(ROOT, folder)):
            _fail(f'{folder} is missing; run `make data` (or python '
                  'tools/dataset_converters/fetch_mnist.py) first.')


def _fail(message: str) -> None:
    print(f'error: {message}', file=sys.stderr)
    sys.exit(2)


def _load(config: str, options) -> Config:
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict({
        key: DictAction._parse_iterable(value)
        for key, value in (o.split('=', 1) for o in options)
    })
    return cfg


def _max_iters(config: str, options) -> int:
    return int(_load(config, options).train_cfg.max_iters)


def _budget(config: str, options) -> dict:
    """Student updates and images per update of a distillation config."""
    cfg = _load(config, options)
    model = cfg.model
    steps = model.get('student_steps', 1)
    synthetic = model.synthetic_batch_size if model.get('generator') else 0
    batch = cfg.train_dataloader.batch_size
    ood = 0
    if cfg.train_dataloader.dataset.type == 'OODDataset':
        ood = (batch - (synthetic if model.get('discriminator') else 0))
        ood //= steps
    return dict(
        outer_iterations=int(cfg.train_cfg.max_iters),
        student_updates=int(cfg.train_cfg.max_iters) * steps,
        synthetic_per_update=synthetic,
        ood_per_update=ood)


def _finished(work_dir: str, max_iters: int) -> bool:
    return osp.isfile(osp.join(work_dir, f'iter_{max_iters}.pth')) and any(
        step == max_iters
        for step, _ in metric_history(work_dir, METRIC, all_runs=True))


def _check_signature(work_dir: str, config: str, options) -> None:
    """Refuse to reuse or resume a run made with other settings."""
    path = osp.join(work_dir, 'benchmark_run.json')
    mine = dict(config=config, options=list(options))
    if osp.isfile(path):
        with open(path) as f:
            theirs = json.load(f)
        if theirs != mine:
            _fail(f'{work_dir} holds a run of {theirs["config"]} with options '
                  f'{theirs["options"]}, not this one; pass --fresh or '
                  'another --work-dir.')
    else:
        os.makedirs(work_dir, exist_ok=True)
        with open(path, 'w') as f:
            json.dump(mine, f, indent=2)


def _run(config, work_dir, options, label, max_iters, threads) -> tuple:
    """Train unless finished; resume an interrupted run.

    Returns the run's training seconds and whether this call trained.
    """
    _check_signature(work_dir, config, options)
    if _finished(work_dir, max_iters):
        say(f'{label}: reusing the finished run in {work_dir}')
        return _read_seconds(work_dir), False
    args = []
    if glob.glob(osp.join(work_dir, 'iter_*.pth')):
        args.append('--resume')
        say(f'{label}: resuming the interrupted run in {work_dir}')
    seconds = train(
        osp.join(ROOT, config),
        work_dir,
        options,
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


def _plot(results: dict, teacher_acc: float, title: str, path: str) -> None:
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
    ax.set_ylabel('test accuracy (%)')
    ax.set_title(title, fontsize=9)
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


def _markdown(report: dict) -> str:
    teacher = report['teacher']['accuracy']
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
        f'Teacher: {teacher:.2f}. Seeds {report["seeds"]}; mean ± standard '
        'deviation over seeds; "last" after the final update, "best" the '
        'highest of the evaluations during training.', '',
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
            f'{r["budget"]["ood_per_update"]} OOD'
            for m, r in report['methods'].items()) + '.')
    lines.append('')
    lines += [f'- {verdict}' for verdict in report['verdicts']]
    lines.append(f'- Wall time of the whole setting: '
                 f'{report["total_minutes"]:.1f} min on '
                 f'{report["environment"]["cores"]} CPU cores '
                 f'(--jobs {report["jobs"]}).')
    lines.append('')
    lines.append('![accuracy](accuracy.png)')
    for method, name in report['mosaics'].items():
        lines += [
            '', f'{NAMES[method]}: the generator\'s last grid (seed '
            f'{report["seeds"][0]}), one row per class the teacher predicts, '
            'class 0 at the top; an empty row is a class the teacher never '
            'predicted.', '', f'![{name}]({name})'
        ]
    return '\n'.join(lines) + '\n'


def _verdicts(report: dict, setting: dict):
    teacher = report['teacher']['accuracy']
    methods = report['methods']
    verdicts = []
    if 'mosaickd' in methods and 'kd_ood' in methods:
        gap = methods['mosaickd']['last']['mean'] - methods['kd_ood']['last'][
            'mean']
        met = 'met' if gap >= MARGIN_TARGET else 'NOT met'
        verdicts.append(
            f'MosaicKD - KD on OOD data: {gap:+.2f} points (last, mean); '
            f'target +{MARGIN_TARGET:.0f}: {met}.')
    if 'mosaickd' in methods and 'dfad' in methods:
        gap = methods['mosaickd']['last']['mean'] - methods['dfad']['last'][
            'mean']
        verdicts.append(f'MosaicKD - DFAD: {gap:+.2f} points (last, mean).')
    share_target = setting.get('teacher_share_target')
    if 'mosaickd' in methods and share_target:
        share = 100 * methods['mosaickd']['last']['mean'] / teacher
        met = 'met' if share >= share_target else 'NOT met'
        verdicts.append(f'MosaicKD reaches {share:.1f}% of the teacher; '
                        f'target {share_target:.0f}%: {met}.')
    return verdicts


def main(argv=None):
    args = parse_args(argv)
    setting = SETTINGS[args.setting]
    _check_data(setting, args)
    work_dir = osp.abspath(
        args.work_dir
        or osp.join(ROOT, 'work_dirs', 'benchmarks', 'quality', args.setting))
    if args.fresh and osp.isdir(work_dir):
        shutil.rmtree(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    start = time.time()
    configs = setting['configs']
    options = setting['options']
    threads = max(1, (os.cpu_count() or 1) // max(1, args.jobs))

    # The teacher: trained once, seed 0, the same for every student.
    teacher_dir = osp.join(work_dir, 'teacher')
    teacher_options = options('teacher', args.data_root) + [
        'randomness.seed=0'
    ] + list(args.teacher_cfg_options)
    teacher_iters = _max_iters(configs['teacher'], teacher_options)
    say(f'{args.setting}: teacher, then {", ".join(args.methods)} for seeds '
        f'{args.seeds} ({args.jobs} at a time, {threads} threads each)')
    teacher_seconds, trained = _run(configs['teacher'], teacher_dir,
                                    teacher_options, 'teacher', teacher_iters,
                                    os.cpu_count() or 1)
    teacher_history = metric_history(teacher_dir, METRIC, all_runs=True)
    teacher_ckpt = osp.join(teacher_dir, f'iter_{teacher_iters}.pth')

    runs = []
    for seed in args.seeds:
        for method in args.methods:
            opts = options(method, args.data_root) + [
                f'model.teacher_ckpt={teacher_ckpt}', f'randomness.seed={seed}'
            ] + list(args.cfg_options)
            runs.append((method, seed, opts))
    seconds = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {}
        for method, seed, opts in runs:
            run_dir = osp.join(work_dir, method, f'seed{seed}')
            future = pool.submit(_run, configs[method], run_dir, opts,
                                 f'{method}/seed{seed}',
                                 _max_iters(configs[method], opts), threads)
            futures[future] = (method, seed)
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
        seeds=args.seeds,
        jobs=args.jobs,
        environment=_machine(),
        teacher=dict(
            config=configs['teacher'],
            checkpoint=teacher_ckpt,
            accuracy=teacher_history[-1][1],
            minutes=teacher_seconds / 60),
        methods={},
        mosaics={})
    for method in args.methods:
        opts = next(o for m, _, o in runs if m == method)
        curves = [
            metric_history(
                osp.join(work_dir, method, f'seed{s}'), METRIC, all_runs=True)
            for s in args.seeds
        ]
        for seed, curve in zip(args.seeds, curves):
            if not curve:
                _fail(f'no {METRIC} was logged in '
                      f'{osp.join(work_dir, method, f"seed{seed}")}; see its '
                      'console.log.')
        report['methods'][method] = dict(
            config=configs[method],
            budget=_budget(configs[method], opts),
            last=_stats([c[-1][1] for c in curves]),
            best=_stats([max(v for _, v in c) for c in curves]),
            curves=curves,
            minutes=sum(seconds[(method, s)] for s in args.seeds) / 60)
        if method != 'kd_ood':
            name = _copy_mosaic(
                osp.join(work_dir, method, f'seed{args.seeds[0]}'),
                osp.join(work_dir, f'mosaics_{method}.png'))
            if name:
                report['mosaics'][method] = name
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
    _plot(report, report['teacher']['accuracy'], setting['title'],
          osp.join(work_dir, 'accuracy.png'))
    markdown = _markdown(report)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(markdown)
    print()
    print(markdown)
    say(f'wrote {work_dir}/results.json, results.md, accuracy.png' +
        ''.join(f', {m}' for m in report['mosaics'].values()))
    return report


if __name__ == '__main__':
    main()
