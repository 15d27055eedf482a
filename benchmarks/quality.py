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

It trains the teacher once (seed 0), or takes the one the repository keeps
for its config in ``benchmarks/teachers/`` (``--keep-teacher`` keeps one),
then each method for each seed through
``tools/train.py``, and writes to the work dir (default
``work_dirs/benchmarks/quality/<setting>``): ``results.json``,
``results.md`` (the table), ``accuracy.png`` (test accuracy against student
updates, mean over seeds with the min-max band) and the generators' last
mosaic grids. Finished runs are reused and interrupted ones resumed, so a
second call only does what is missing (``--fresh`` starts over). The report
also takes in the finished runs of earlier calls in the same work dir
(other seeds or methods, made with the same options), so a setting can be
run a seed or a method at a time and still end in one table.
"""
import concurrent.futures
import glob
import json
import os
import os.path as osp
import shutil
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from mmmosaic import benchmarking as bench  # noqa: E402
from mmmosaic import cli  # noqa: E402
from mmmosaic.errors import MosaicError  # noqa: E402
from mmmosaic.utils.runs import train_seconds  # noqa: E402
from mmmosaic.utils.runs import metric_history, say  # noqa: E402

#: This script's log prefix, ``[quality] ...``.
TOOL = 'quality'


def parse_args(argv=None):
    """The command line's arguments, with the setting's default methods
    where ``--methods`` is not given."""
    parser = cli.ArgumentParser(
        description=__doc__.split('\n\n')[0].replace('\n', ' '))
    parser.add_argument('setting', choices=sorted(bench.SETTINGS))
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
        choices=bench.METHODS,
        help=f'default: {" ".join(bench.DEFAULT_METHODS)}; the '
        'cifar10_photos and cifar10_digits settings add dfq and '
        'kd_indomain (KD on the in-domain training images, the upper '
        'bound)')
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
        '--keep-teacher',
        action='store_true',
        help='keep the trained teacher in benchmarks/teachers/ (weights, '
        'log, sha256 and command), where later calls on any machine find '
        'it instead of training one')
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
    args.methods = bench.methods_of(bench.SETTINGS[args.setting], args.methods)
    return args


@cli.tool_main
def main(argv=None):
    """Run the benchmark from the command line."""
    return run(parse_args(argv))


def run(args):
    """The benchmark for parsed arguments; returns the report."""
    setting = bench.SETTINGS[args.setting]
    args.data_root, args.ood_root = bench.check_data(args.setting, setting,
                                                     args.data_root,
                                                     args.ood_root)
    work_dir = osp.abspath(
        args.work_dir
        or osp.join(ROOT, 'work_dirs', 'benchmarks', 'quality', args.setting))
    if args.fresh and osp.isdir(work_dir):
        shutil.rmtree(work_dir)
    cli.note(work_dir=cli.output_dir(work_dir, '--work-dir'))
    start = time.time()
    configs = setting['configs']
    metric = setting.get('metric', bench.ACCURACY)

    def options(method):
        return bench.method_options(setting, method, args.data_root,
                                    args.ood_root)

    # Every config with its options, before hours of training: a bad
    # --cfg-options value stops here, naming the key.
    bench.load_config_with_options(
        configs['teacher'],
        options('teacher') + list(args.teacher_cfg_options))
    for method in args.methods:
        bench.load_config_with_options(
            configs[method],
            options(method) + list(args.cfg_options))
    bench.check_prepared_data(setting, args.ood_root)

    threads = max(1, (os.cpu_count() or 1) // max(1, args.jobs))

    # The teacher: trained once, seed 0, the same for every student.
    teacher_dir = bench.run_dir(work_dir, setting, 'teacher')
    teacher_options = options('teacher') + ['randomness.seed=0'] + list(
        args.teacher_cfg_options)
    teacher_iters = bench.max_iters(configs['teacher'], teacher_options)
    teacher_ckpt = osp.join(teacher_dir, f'iter_{teacher_iters}.pth')

    def plan(method, seed):
        """A student run: its method, seed, options, folder and length."""
        opts = options(method) + [
            f'model.teacher_ckpt={teacher_ckpt}', f'randomness.seed={seed}'
        ] + list(args.cfg_options)
        return dict(
            method=method,
            seed=seed,
            options=opts,
            run_dir=bench.run_dir(work_dir, setting, method, seed),
            max_iters=bench.max_iters(configs[method], opts))

    # Every student run of this call.
    runs = [
        plan(method, seed) for seed in args.seeds for method in args.methods
    ]
    # A run dir made with other settings is refused before anything
    # trains (--coverage-only trains the teacher alone).
    checked = [(teacher_dir, configs['teacher'], teacher_options)]
    if not args.coverage_only:
        checked += [(r['run_dir'], configs[r['method']], r['options'])
                    for r in runs]
    bench.check_signatures(checked)

    # A teacher kept in the repository (benchmarks/teachers/) is used
    # instead of training one, unless the work dir already holds a run.
    portable = ['randomness.seed=0'] + list(args.teacher_cfg_options)
    if not glob.glob(osp.join(teacher_dir, 'iter_*.pth')):
        bench.use_kept_teacher(configs['teacher'], portable, teacher_options,
                               teacher_dir, teacher_iters, TOOL)
    say(
        TOOL, f'{args.setting}: teacher, then {", ".join(args.methods)} for '
        f'seeds {args.seeds} ({args.jobs} at a time, {threads} threads each)')
    teacher_seconds, trained = bench.train_or_reuse(configs['teacher'],
                                                    teacher_dir,
                                                    teacher_options, 'teacher',
                                                    teacher_iters,
                                                    os.cpu_count() or 1,
                                                    metric, TOOL)
    teacher_history = metric_history(teacher_dir, metric, all_runs=True)
    if args.keep_teacher:
        folder = bench.kept_teacher_folder(configs['teacher'])
        record = bench.keep_teacher(
            teacher_dir, configs['teacher'], portable, teacher_iters,
            f'python tools/train.py {configs["teacher"]} --cfg-options '
            f'{" ".join(portable)}', folder)
        say(TOOL, f'kept the teacher in {folder} (sha256 {record["sha256"]})')

    ood_method = next((m for m in ('kd_ood', 'mosaickd') if m in configs),
                      None)

    def coverage():
        return bench.ood_coverage(
            configs[ood_method],
            options(ood_method) + [f'model.teacher_ckpt={teacher_ckpt}'] +
            list(args.cfg_options), osp.join(work_dir, 'coverage.json'),
            setting.get('coverage_images', 5000))

    if args.coverage_only:
        print(''.join(bench.coverage_markdown(coverage())))
        say(TOOL, f'wrote {work_dir}/coverage.json')
        return None

    # Longest runs first (MosaicKD, then DFAD, then KD): with several jobs
    # the setting then ends sooner.
    queue = sorted(runs, key=lambda run: -bench.METHODS.index(run['method']))
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [
            pool.submit(bench.train_or_reuse, configs[r['method']],
                        r['run_dir'], r['options'],
                        f'{r["method"]}/seed{r["seed"]}', r['max_iters'],
                        threads, metric, TOOL) for r in queue
        ]
        for future in concurrent.futures.as_completed(futures):
            try:
                trained |= future.result()[1]
            except BaseException:
                for other in futures:
                    other.cancel()
                raise

    # Finished runs of earlier calls (other seeds or methods of this
    # setting, made with the options this call would give them) join the
    # report, so that a setting run a seed or a method at a time ends in
    # one table.
    runs += earlier_runs(work_dir, setting, configs, runs, plan, metric)
    methods = list(args.methods) + [
        m for m in bench.METHODS
        if m not in args.methods and any(r['method'] == m for r in runs)
    ]
    all_seeds = sorted({r['seed'] for r in runs})

    # Per-class accuracy where the setting asks for it, else per-class IoU
    # (none for a classification setting).
    per_class_of_run = (
        bench.per_class_accuracy_of_run
        if setting.get('per_class_accuracy') else bench.per_class_iou_of_run)
    report = dict(
        setting=args.setting,
        title=setting['title'],
        metric=metric,
        seeds=all_seeds,
        jobs=args.jobs,
        environment=bench.machine(),
        teacher=dict(
            config=configs['teacher'],
            checkpoint=teacher_ckpt,
            score=teacher_history[-1][1],
            per_class=per_class_of_run(
                configs['teacher'],
                teacher_options,
                teacher_dir,
                teacher_iters,
                student=False),
            minutes=teacher_seconds / 60),
        methods={},
        mosaics={})
    if ood_method:
        report['coverage'] = coverage()
    for method in methods:
        mine = sorted((r for r in runs if r['method'] == method),
                      key=lambda r: r['seed'])
        opts = mine[0]['options']
        run_dirs = [r['run_dir'] for r in mine]
        curves = [metric_history(d, metric, all_runs=True) for d in run_dirs]
        for run_dir, curve in zip(run_dirs, curves):
            if not curve:
                raise MosaicError(
                    f'no {metric} was logged in {run_dir}; see its '
                    'console.log.')
        report['methods'][method] = dict(
            config=configs[method],
            seeds=[r['seed'] for r in mine],
            budget=bench.budget(configs[method], opts),
            last=bench.stats([c[-1][1] for c in curves]),
            best=bench.stats([max(v for _, v in c) for c in curves]),
            curves=curves,
            train_seconds=[train_seconds(d) for d in run_dirs],
            minutes=sum(bench.read_seconds(d) for d in run_dirs) / 60)
        per_class = bench.mean_of_tables([
            per_class_of_run(configs[method], r['options'], r['run_dir'],
                             r['max_iters']) for r in mine
        ])
        if per_class:
            report['methods'][method]['per_class'] = per_class
        if method not in bench.NO_GENERATOR and report.get('coverage'):
            report['methods'][method][
                'mosaic_coverage'] = bench.mosaic_coverage(
                    configs[method], opts, run_dirs[0],
                    bench.max_iters(configs[method], opts),
                    report['coverage']['classes'])
        if method not in bench.NO_GENERATOR:
            name = bench.copy_mosaic(
                run_dirs[0], osp.join(work_dir, f'mosaics_{method}.png'))
            if name:
                report['mosaics'][method] = name
    report['updates_to_reach_kd'] = bench.updates_to_reach_kd(report)
    report['reach_kd'] = bench.reach_kd(report)
    report['total_minutes'] = (time.time() - start) / 60
    previous = osp.join(work_dir, 'results.json')
    if not trained and osp.isfile(previous):
        # Nothing was trained by this call: keep the wall time of the call
        # that trained (the figure the budget is about).
        with open(previous) as f:
            report['total_minutes'] = json.load(f).get('total_minutes',
                                                       report['total_minutes'])
    report['verdicts'] = bench.verdicts(report, setting)

    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(report, f, indent=2)
    ylabel = ('val mIoU (%)' if metric == 'mIoU' else 'test accuracy (%)')
    bench.plot_curves(report, report['teacher']['score'], setting['title'],
                      ylabel, osp.join(work_dir, 'accuracy.png'))
    markdown = bench.markdown_report(report)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(markdown)
    print()
    print(markdown)
    say(
        TOOL, f'wrote {work_dir}/results.json, results.md, accuracy.png' +
        ''.join(f', {m}' for m in report['mosaics'].values()))
    return report


def earlier_runs(work_dir, setting, configs, planned, plan, metric):
    """The finished runs in the setting's folders that this call did not
    plan: every ``<method>/seed<N>`` of the setting's methods whose
    signature is the one ``plan(method, N)`` gives. Runs with other
    options or unfinished ones stay out, each named in the log."""
    taken = {(r['method'], r['seed']) for r in planned}
    found = []
    for method in bench.METHODS:
        if method not in configs:
            continue
        folder = osp.dirname(bench.run_dir(work_dir, setting, method, 0))
        for path in sorted(glob.glob(osp.join(folder, 'seed*'))):
            suffix = osp.basename(path)[len('seed'):]
            if not suffix.isdigit() or (method, int(suffix)) in taken:
                continue
            run = plan(method, int(suffix))
            ok, why = bench.finished_under(run['run_dir'], configs[method],
                                           run['options'], run['max_iters'],
                                           metric)
            if ok:
                say(
                    TOOL, f'{method}/seed{suffix}: the finished run of an '
                    'earlier call joins the report')
                found.append(run)
            else:
                say(
                    TOOL, f'{method}/seed{suffix}: not in the report '
                    f'({why}): {run["run_dir"]}')
    return found


if __name__ == '__main__':
    sys.exit(main())
