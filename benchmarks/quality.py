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
import glob
import os.path as osp
import shutil
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from mmmosaic import benchmarking as bench  # noqa: E402
from mmmosaic import cli  # noqa: E402
from mmmosaic.utils.runs import say  # noqa: E402

#: This script's log prefix, ``[quality] ...``.
TOOL = 'quality'

#: MosaicKD must beat KD on OOD data by this many points, unless a setting
#: says otherwise (``margin`` in :data:`TARGETS`).
MARGIN_TARGET = 5.0
#: The project's targets per setting, which the report's verdicts judge:
#: ``margin`` (MosaicKD - KD on OOD data, points), ``dfad`` and ``dfq``
#: (MosaicKD at or above that data-free method), ``headroom`` (KD on OOD
#: data at most this share of the teacher, %), ``teacher_share`` (MosaicKD
#: at least this share of the teacher, %).
TARGETS = dict(
    mnist_fashion=dict(teacher_share=90.0),
    mnist_fashion_400=dict(teacher_share=90.0),
    cifar10_animals_long=dict(margin=0.0),
    cifar10_ships_long=dict(margin=0.0),
    camvid=dict(margin=3.0, dfad=True),
    camvid_long=dict(margin=3.0, dfad=True),
    cifar10_photos=dict(headroom=85.0, dfq=True),
    cifar10_digits=dict(headroom=85.0, dfq=True))


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

    threads = max(1, bench.cores() // max(1, args.jobs))

    # The teacher: trained once, seed 0, the same for every student.
    teacher = bench.make_run(
        'teacher', None, configs['teacher'],
        options('teacher') + ['randomness.seed=0'] +
        list(args.teacher_cfg_options),
        bench.run_dir(work_dir, setting, 'teacher'))
    teacher_ckpt = osp.join(teacher.run_dir, f'iter_{teacher.max_iters}.pth')

    def plan(method, seed):
        """The run of ``method`` and ``seed``."""
        return bench.make_run(
            method, seed, configs[method],
            options(method) +
            [f'model.teacher_ckpt={teacher_ckpt}', f'randomness.seed={seed}'] +
            list(args.cfg_options),
            bench.run_dir(work_dir, setting, method, seed))

    # Every student run of this call, longest first (MosaicKD, then DFAD,
    # then KD): with several jobs the setting then ends sooner.
    runs = sorted((plan(m, s) for s in args.seeds for m in args.methods),
                  key=lambda run: -bench.METHODS.index(run.name))
    # A run dir made with other settings is refused before anything
    # trains (--coverage-only trains the teacher alone).
    bench.check_signatures(
        (r.run_dir, r.config, r.options)
        for r in [teacher] + ([] if args.coverage_only else runs))

    # A teacher kept in the repository (benchmarks/teachers/) is used
    # instead of training one, unless the work dir already holds a run.
    portable = ['randomness.seed=0'] + list(args.teacher_cfg_options)
    if not glob.glob(osp.join(teacher.run_dir, 'iter_*.pth')):
        bench.use_kept_teacher(teacher.config, portable, teacher.options,
                               teacher.run_dir, teacher.max_iters, TOOL)
    say(
        TOOL, f'{args.setting}: teacher, then {", ".join(args.methods)} for '
        f'seeds {args.seeds} ({args.jobs} at a time, {threads} threads each)')
    trained = bench.run_all([teacher], metric, TOOL, threads=bench.cores())
    if args.keep_teacher:
        folder = bench.kept_teacher_folder(teacher.config)
        record = bench.keep_teacher(
            teacher.run_dir, teacher.config, portable, teacher.max_iters,
            f'python tools/train.py {teacher.config} --cfg-options '
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

    trained |= bench.run_all(runs, metric, TOOL, args.jobs, threads)

    # Finished runs of earlier calls (other seeds or methods of this
    # setting, made with the options this call would give them) join the
    # report, so that a setting run a seed or a method at a time ends in
    # one table.
    taken = {(r.name, r.seed) for r in runs}
    runs += bench.finished_runs(
        (plan(m, s) for m in bench.METHODS if m in configs
         for s in bench.seeds_in(bench.run_dir(work_dir, setting, m))
         if (m, s) not in taken), metric, TOOL)
    methods = list(args.methods) + [
        m
        for m in bench.METHODS if m not in args.methods and any(r.name == m
                                                                for r in runs)
    ]

    report = bench.quality_report(args.setting, setting, teacher, runs,
                                  methods, args.jobs, work_dir,
                                  coverage() if ood_method else None)
    report.total_minutes = bench.wall_minutes(
        start, trained, osp.join(work_dir, 'results.json'))
    report.verdicts = verdicts(report, args.setting)

    bench.plot_curves(
        {
            bench.NAMES[m]: (r.curves, r.budget)
            for m, r in report.methods.items()
        }, report.teacher.score, setting['title'], bench.ylabel(metric),
        osp.join(work_dir, 'accuracy.png'))
    bench.write_report(work_dir, 'results', report,
                       bench.markdown_report(report), TOOL,
                       ['accuracy.png', *report.mosaics.values()])
    return report


def verdicts(report: bench.QualityReport, name: str) -> list:
    """One sentence per target of setting ``name`` (:data:`TARGETS`) the
    report meets or not, and per comparison it allows."""
    targets = TARGETS.get(name, {})
    teacher = report.teacher.score
    methods = {m: r.last['mean'] for m, r in report.methods.items()}
    found = []
    if 'mosaickd' in methods and 'kd_ood' in methods:
        gap = methods['mosaickd'] - methods['kd_ood']
        target = targets.get('margin', MARGIN_TARGET)
        met = 'met' if gap >= target else 'NOT met'
        found.append(
            f'MosaicKD - KD on OOD data: {gap:+.2f} points (last, mean); '
            f'target {target:+.0f}: {met}.')
        reach = report.updates_to_reach_kd
        found.append(
            'MosaicKD reaches KD on OOD data\'s final mean score after '
            f'{reach} student updates.' if reach is not None else
            'MosaicKD\'s mean curve never reaches KD on OOD data\'s final '
            'mean score.')
        kd, mk = report.methods['kd_ood'], report.methods['mosaickd']
        vs = bench.at_or_above_kd(mk.curves, mk.budget, kd.curves, kd.budget)
        if vs['evaluations']:
            found.append(
                'MosaicKD\'s mean curve is at or above KD on OOD data\'s at '
                f'{vs["at_or_above"]} of the {vs["evaluations"]} evaluations '
                f'from {bench.never_behind_from()} of the budget on' +
                (' (never behind).' if vs['never_behind'] else
                 f' (at most {vs["largest_deficit"]:.2f} behind).'))
    for free in bench.DATA_FREE:
        if 'mosaickd' not in methods or free not in methods:
            continue
        gap = methods['mosaickd'] - methods[free]
        target = (': target >= 0: ' + ('met' if gap >= 0 else 'NOT met')
                  if targets.get(free) else '')
        found.append(f'MosaicKD - {free.upper()}: {gap:+.2f} points '
                     f'(last, mean){target}.')
    headroom = targets.get('headroom')
    if 'kd_ood' in methods and headroom:
        share = 100 * methods['kd_ood'] / teacher
        met = 'met' if share <= headroom else 'NOT met'
        found.append(
            f'KD on OOD data ends at {share:.1f}% of the teacher; headroom '
            f'target <= {headroom:.0f}% (room for MosaicKD to win): {met}.')
    if 'kd_indomain' in methods:
        share = 100 * methods['kd_indomain'] / teacher
        found.append(f'KD on the in-domain images (the upper bound) ends '
                     f'at {share:.1f}% of the teacher.')
    share_target = targets.get('teacher_share')
    if 'mosaickd' in methods and share_target:
        share = 100 * methods['mosaickd'] / teacher
        met = 'met' if share >= share_target else 'NOT met'
        found.append(f'MosaicKD reaches {share:.1f}% of the teacher; '
                     f'target {share_target:.0f}%: {met}.')
    return found


if __name__ == '__main__':
    sys.exit(main())
