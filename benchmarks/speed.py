"""Seconds per student update of MosaicKD and KD, phase by phase.

    python benchmarks/speed.py [--setting NAME ...] [--config CFG[@OPTS] ...]
        [--variant KEY=VALUE[,KEY=VALUE]] [--cifar10-root DIR]
        [--photos-root DIR] [--camvid-root DIR] [--data-dir DIR]
        [--iters N] [--repeats R] [--threads T] [--warmup W]
        [--profile-iters P] [--teacher-ckpt PATH] [--out DIR]
    python benchmarks/speed.py --vs-plain [--config CFG] ...

Methods (default): each group of configs (a ``--setting``: MosaicKD and KD
on the OOD images of one benchmark, plus a MosaicKD for each ``--variant``;
or the ``--config`` list, each optionally with ``@KEY=VALUE,...`` options)
is built into one mmengine Runner per config in one process, and R repeats
of N timed iterations of each alternate (order ABBA: forward in even
repeats, backward in odd ones). It prints seconds per student update (an
outer iteration over ``student_steps``) of each, the per-repeat ratio of
each to the group's KD (the config without a generator), and, from P more
iterations, the time of each phase (data loading and decoding, D step, G
step, student steps, every ``G(z)`` and teacher forward inside them) next to
its multiply-adds counted from the layers
(:mod:`mmmosaic.benchmarking.profile`) and the floor time those take at the
rate this machine achieves on the model's dominant convolution.

``--vs-plain``: the MNIST demo's MosaicKD (or ``--config``) in a Runner
against a plain-PyTorch copy of the game (``benchmarks/plain_loop.py``) on
deep copies of the Runner's own G, D, T and S, so both sides start from the
same weights, use the same batch, ``B`` and ``k``, the same OOD dataset
object and the same number of threads; seconds per outer iteration and the
per-repeat ratio ours/plain. See benchmarks/README.md for what exactly is
timed.
"""
import copy
import cProfile
import ctypes
import gc
import io
import json
import os
import os.path as osp
import platform
import pstats
import resource
import statistics
import sys
import tracemalloc
from collections import defaultdict

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import torch  # noqa: E402
from mmengine.runner import IterBasedTrainLoop, Runner  # noqa: E402
from plain_loop import PlainMosaicKD, make_loader  # noqa: E402

import mmmosaic.models.algorithms.mosaickd as mosaickd_module  # noqa: E402
from mmmosaic import benchmarking as bench  # noqa: E402
from mmmosaic import cli  # noqa: E402
from mmmosaic.benchmarking import profile  # noqa: E402
from mmmosaic.compat import run_train_iterations  # noqa: E402
from mmmosaic.engine import ensure_guarantee_hooks  # noqa: E402
from mmmosaic.errors import MosaicError  # noqa: E402
from mmmosaic.models import batch_rule  # noqa: E402
from mmmosaic.registry import LOOPS  # noqa: E402
from mmmosaic.runtime import is_game_config  # noqa: E402
from mmmosaic.runtime import load_config, prepare_runtime  # noqa: E402

NEVER = 10**9  # an interval no benchmark reaches


# ------------------------------------------------------------ memory
def _status_kb(field: str):
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark (VmHWM); Linux >= 4.0."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def _trim_heap():
    """Give freed heap back to the OS so one side does not reuse the
    other's freed pages (keeps RSS deltas comparable)."""
    gc.collect()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakRSS:
    """Peak RSS above the RSS at entry, in MiB.

    Uses VmHWM after resetting it through /proc/self/clear_refs; where that
    is not possible, falls back to the growth of getrusage's ru_maxrss
    (a lower bound: it only grows past the previous process maximum).
    """

    def __enter__(self):
        _trim_heap()
        self.hwm = _reset_peak_rss()
        self.method = ('VmHWM reset (clear_refs)'
                       if self.hwm else 'getrusage ru_maxrss growth')
        self.start = (
            _status_kb('VmRSS') if self.hwm else resource.getrusage(
                resource.RUSAGE_SELF).ru_maxrss)
        return self

    def __exit__(self, *exc):
        end = (
            _status_kb('VmHWM') if self.hwm else resource.getrusage(
                resource.RUSAGE_SELF).ru_maxrss)
        self.mib = max(0, end - self.start) / 1024
        return False


@LOOPS.register_module(force=True)
class SpeedBenchmarkLoop(IterBasedTrainLoop):
    """IterBasedTrainLoop whose ``run`` hands control to a benchmark.

    ``runner.train()`` does all its usual set-up (optimisers, schedulers,
    ``before_run`` hooks, weight init, teacher load) and then calls
    :meth:`run`, which calls the ``before_train*`` hooks and
    ``SpeedBenchmarkLoop.driver(self)``. The driver advances training with
    :meth:`iterate`: the iterations of ``IterBasedTrainLoop.run``
    (:func:`mmmosaic.compat.run_train_iterations`).
    """
    driver = None

    def run(self):
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        type(self).result = type(self).driver(self)
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def iterate(self, n: int) -> float:
        """Run ``n`` iterations; return seconds spent fetching batches."""
        return run_train_iterations(self, n)


class PlainSide:
    """The plain game plus its DataLoader iterator."""

    def __init__(self, game: PlainMosaicKD, loader):
        self.game = game
        self.loader = loader
        self.iterator = iter(loader)

    def fetch(self):
        return next(self.iterator)

    def iterate(self, n: int) -> float:
        data_time = 0.0
        for _ in range(n):
            start = profile.clock()
            real, student = self.fetch()
            data_time += profile.clock() - start
            self.game.run_iter(real, student)
        return data_time


# ------------------------------------------------------------ set-up
#: The speed settings: the quality setting (:data:`bench.SETTINGS`) whose
#: MosaicKD and KD on the OOD images are timed, and the option naming the
#: folder of those images with the subfolder they are in (the demo's MNIST
#: folders are under ``--data-dir``). Only the OOD source is read (no
#: evaluation).
SETTINGS = dict(
    demo=('mnist_fashion_400', 'data_dir', 'fashion_mnist'),
    cifar10_animals=('cifar10_animals', 'cifar10_root', ''),
    cifar10_photos=('cifar10_photos', 'photos_root', ''),
    camvid=('camvid', 'photos_root', ''))
#: The methods of a setting that are timed, in this order.
TIMED = ('mosaickd', 'kd_ood')
#: The phases of the plain game's iteration, named as MosaicKD's
#: (:data:`mmmosaic.benchmarking.profile.PHASES`).
PLAIN_PHASES = dict(
    preprocess='split + preprocess',
    synthesize='G(z) forward',
    d_step='D step',
    g_step='G step',
    s_step='S steps')
SOURCE_KEY = 'train_dataloader.dataset.source.data_root'


def parse_args():
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--setting',
        nargs='+',
        default=[],
        choices=sorted(SETTINGS),
        help='benchmark settings, each timed as one group (MosaicKD vs KD); '
        'default: demo, unless --config is given')
    parser.add_argument(
        '--config',
        nargs='+',
        default=[],
        help='configs of one more group, each CFG or CFG@KEY=VALUE,...; '
        'with --vs-plain, the one MosaicKD config to time against plain '
        'PyTorch (default: the MNIST demo\'s)')
    parser.add_argument(
        '--variant',
        action='append',
        default=[],
        metavar='KEY=VALUE[,KEY=VALUE]',
        help='add to each setting its MosaicKD with these options, e.g. '
        'model.teacher_bf16=True')
    parser.add_argument(
        '--data-dir',
        default=osp.join(ROOT, 'data'),
        help='folder of the demo\'s MNIST data (make data)')
    parser.add_argument('--cifar10-root', help='CIFAR-10 image folder')
    parser.add_argument('--photos-root', help='folder of unlabeled photos')
    parser.add_argument(
        '--camvid-root',
        help='CamVid folder (unused: '
        'the speed runs read the OOD photos only)')
    parser.add_argument(
        '--vs-plain',
        action='store_true',
        help='time one MosaicKD config against the plain-PyTorch loop')
    parser.add_argument(
        '--teacher-ckpt',
        default=None,
        help='teacher weights for every config; by default a random teacher '
        '(fine for timing; --vs-plain uses the demo teacher if it exists)')
    parser.add_argument(
        '--iters',
        type=int,
        default=10,
        help='timed iterations per side per repeat')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument(
        '--warmup',
        type=int,
        default=3,
        help='untimed iterations per side first')
    parser.add_argument(
        '--profile-iters',
        type=int,
        default=3,
        help='iterations per side for the phase breakdown '
        'and each profiler')
    parser.add_argument(
        '--out', default=osp.join(ROOT, 'work_dirs/benchmarks/speed'))
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    if min(args.iters, args.repeats, args.threads) < 1:
        parser.error('--iters, --repeats and --threads must be >= 1')
    if args.profile_iters < 1:
        parser.error('--profile-iters must be >= 1')
    if args.vs_plain:
        if len(args.config) > 1 or args.setting or args.variant:
            parser.error('--vs-plain times one --config (no --setting or '
                         '--variant)')
        args.config = args.config[0] if args.config else osp.join(
            ROOT, 'configs/demo/mosaickd_mnist_fashion.py')
        if args.teacher_ckpt is None:
            args.teacher_ckpt = osp.join(
                ROOT, 'work_dirs/demo/teacher/iter_900.pth')
    elif not args.config and not args.setting:
        args.setting = ['demo']
    return args


def _check_file(path: str, flag: str) -> None:
    if not osp.isfile(path):
        raise MosaicError(f'{flag} {path!r} does not exist; give a config '
                          'file.')


def schedules(cfg) -> dict:
    """``cfg.param_scheduler`` as scheduler lists: by player, or under None
    the one list every player shares."""
    by_player = cfg.param_scheduler
    if isinstance(by_player, dict) and 'type' not in by_player:
        return dict(by_player)
    return {None: by_player if isinstance(by_player, list) else [by_player]}


def keep_schedule_lengths(cfg) -> None:
    """Give each cosine of ``cfg`` the ``T_max`` mmengine derives for the
    config's own run (``end - begin``, ``end`` defaulting to
    ``train_cfg.max_iters``), so that replacing the training loop leaves
    the schedules as they were."""
    max_iters = int(cfg.train_cfg.max_iters)
    for schedule in schedules(cfg).values():
        for step in schedule:
            if step['type'].startswith('CosineAnnealing'):
                step.setdefault(
                    'T_max',
                    step.get('end', max_iters) - step.get('begin', 0))


def benchmark_cfg(cfg, args, config_path, work_dir, name=None):
    """``cfg`` set up for timing: a random teacher unless
    ``--teacher-ckpt``, the benchmark loop, no evaluation, and logging,
    checkpoints and hooks at intervals never reached. Returns the teacher
    it uses, in words."""
    if args.teacher_ckpt and osp.isfile(args.teacher_ckpt):
        cfg.model.teacher_ckpt = args.teacher_ckpt
        teacher = args.teacher_ckpt
    else:
        cfg.model.teacher_ckpt = None
        cfg.model.allow_random_teacher = True
        teacher = 'random (no checkpoint)'
    cfg.randomness = dict(seed=args.seed)
    cfg.log_level = 'WARNING'
    if name is not None:
        # Runners of one group live together: each its own message hub.
        cfg.experiment_name = name
    # The schedules keep the config's own length, which mmengine would
    # otherwise take from the benchmark loop's max_iters.
    keep_schedule_lengths(cfg)
    # Never reached, so no "last iteration" checkpoint / mosaic / val.
    cfg.train_cfg = dict(
        type='SpeedBenchmarkLoop', max_iters=NEVER, val_interval=NEVER)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    # Steady-state cost: logging, checkpoints and mosaics at intervals the
    # benchmark never reaches (their per-iteration checks still run).
    cfg.default_hooks.logger.interval = NEVER
    cfg.default_hooks.checkpoint.interval = NEVER
    cfg.default_hooks.checkpoint.save_last = False
    for hook in cfg.get('custom_hooks') or []:
        if 'interval' in hook:
            hook['interval'] = NEVER
    prepare_runtime(
        cfg,
        config_path=config_path,
        work_dir=work_dir,
        check_data=('train_dataloader', ))
    return teacher


def build_cfg(args):
    _check_file(args.config, '--config')
    cfg = load_config(args.config)
    model = cfg.get('model') or {}
    if not (is_game_config(model) and model.get('generator')
            and model.get('discriminator')):
        raise MosaicError(
            f'--config {args.config} is not a MosaicKD config with a '
            'generator and a discriminator; the benchmark times the whole '
            'four-player game against a plain loop of it, so give one such '
            'as configs/demo/mosaickd_mnist_fashion.py.')
    rule = batch_rule(cfg)
    if rule.ood != rule.synthetic or rule.warmup:
        raise MosaicError(
            f'--config {args.config} gives each student update {rule.ood} '
            f'OOD images beside its {rule.synthetic} synthetic ones, but the '
            'plain loop takes as many of each and no synthetic warm-up; set '
            f'model.ood_batch_size={rule.synthetic} and drop '
            'model.synthetic_warmup.')
    teacher = benchmark_cfg(cfg, args, args.config,
                            osp.join(args.out, 'runner'))
    return cfg, teacher


def build_plain(loop, cfg, seed):
    """Plain game on deep copies of the Runner's players (same weights)."""
    model = loop.runner.model
    by_player = schedules(cfg)
    student_schedule = by_player.get('student', by_player.get(None))
    game = PlainMosaicKD(
        copy.deepcopy(model.generator),
        copy.deepcopy(model.discriminator),
        copy.deepcopy(model.teacher),
        copy.deepcopy(model.student),
        mean=model.data_preprocessor.mean.flatten().tolist(),
        std=model.data_preprocessor.std.flatten().tolist(),
        batch_size=model.synthetic_batch_size,
        student_steps=model.student_steps,
        loss_weights=model.loss_weights,
        temperature=float(cfg.model.student_loss.get('temperature', 1.0)),
        t_max=int(student_schedule[0]['T_max']))
    rule = batch_rule(cfg)
    loader = make_loader(
        loop.dataloader.dataset,  # the very same OODDataset object
        batch_size=rule.batch_size,
        num_real=rule.real,
        seed=seed,
        num_workers=cfg.train_dataloader.num_workers)
    return PlainSide(game, loader)


# ------------------------------------------------------------ micro
def _best(fn, reps=15):
    """Minimum seconds of ``reps`` calls (the least load-disturbed)."""
    best = float('inf')
    for _ in range(reps):
        start = profile.clock()
        fn()
        best = min(best, profile.clock() - start)
    return best


def micro_benchmarks(loop, plain):
    """Costs that differ between the sides, or that both sides pay, timed
    in isolation (minimum of repeats, seconds per outer iteration)."""
    from mmengine.dataset import pseudo_collate
    from plain_loop import stack_views
    model, game = loop.runner.model, plain.game
    dataset = loop.dataloader.dataset
    size = loop.dataloader.batch_size
    num_real = model.synthetic_batch_size
    samples = [dataset[i] for i in range(size)]
    ours_batch = pseudo_collate(samples)
    real_u8, student_u8 = stack_views(samples, num_real)
    raw = [dataset.raw_sample(i) for i in range(size)]
    loss = torch.tensor(1.0)

    def finite_checks(n=100):
        for _ in range(n):  # what MosaicKD._update does before each update
            finite = torch.isfinite(loss.detach()).float()
            mosaickd_module.all_reduce(finite, op='min')
            finite.item()

    per_call = _best(finite_checks) / 100
    updates = 2 + model.student_steps
    rows = [
        ('collate: mmengine pseudo_collate (ours)',
         _best(lambda: pseudo_collate(samples))),
        ('collate: torch.stack of the used views (plain)',
         _best(lambda: stack_views(samples, num_real))),
        ('preprocess: MosaicKD.split_batch, normalise (ours)',
         _best(lambda: model.split_batch(ours_batch))),
        ('preprocess: one batched normalise per view (plain)',
         _best(lambda: (game.preprocess(real_u8), game.preprocess(student_u8).
                        chunk(game.k)))),
        (f'finite check: isfinite + all_reduce + item, x{updates} (ours)',
         per_call * updates),
        ('dataset (both): source fetch, labels dropped, per batch',
         _best(lambda: [dataset.raw_sample(i) for i in range(size)], 5)),
        ('dataset (both): real view of every sample, per batch',
         _best(lambda: [dataset.real_pipeline(dict(r)) for r in raw], 5)),
        ('dataset (both): student view of every sample, per batch',
         _best(lambda: [dataset.student_pipeline(dict(r)) for r in raw], 5)),
        (f'  of which unused: real views of {size - num_real} S samples',
         _best(
             lambda: [dataset.real_pipeline(dict(r)) for r in raw[num_real:]],
             5)),
        (f'  of which unused: student views of {num_real} D samples',
         _best(
             lambda:
             [dataset.student_pipeline(dict(r)) for r in raw[:num_real]], 5)),
    ]
    return [dict(item=k, seconds=v) for k, v in rows]


# ------------------------------------------------------------ profiles
def torch_profile(fn, path, row_limit=30):
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    averages = prof.key_averages()
    table = averages.table(sort_by='self_cpu_time_total', row_limit=row_limit)
    with open(path, 'w') as f:
        f.write(table)
    total = sum(e.self_cpu_time_total for e in averages) or 1.0
    top = sorted(averages, key=lambda e: -e.self_cpu_time_total)[:12]
    return [
        dict(
            op=e.key,
            self_cpu_ms=e.self_cpu_time_total / 1e3,
            share=e.self_cpu_time_total / total,
            calls=e.count) for e in top
    ]


def python_profile(fn, path, n):
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write(f'cProfile of {n} Runner iterations, sorted by self time\n')
    stats.sort_stats('tottime').print_stats(40)
    out.write('\n\nSame, sorted by cumulative time\n')
    stats.sort_stats('cumulative').print_stats(60)
    with open(path, 'w') as f:
        f.write(out.getvalue())
    rows = []
    for (file, line, func), (_, ncalls, tottime, cumtime,
                             _) in stats.stats.items():
        rows.append(
            dict(
                function=f'{_short(file)}:{line}({func})',
                self_s_per_iter=tottime / n,
                cum_s_per_iter=cumtime / n,
                calls_per_iter=ncalls / n))
    rows.sort(key=lambda r: -r['self_s_per_iter'])
    return rows[:15]


def _short(path):
    """Paths relative to the repo or to site-packages."""
    marker = 'site-packages' + os.sep
    if marker in path:
        return path.split(marker, 1)[1]
    if path.startswith(ROOT + os.sep):
        return osp.relpath(path, ROOT)
    return path


def python_heap_peak(fn) -> float:
    """tracemalloc peak (MiB) of Python + numpy allocations during fn."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------ driver
def _stats(values):
    return dict(
        min=min(values), median=statistics.median(values), max=max(values))


def make_driver(args, cfg, record):

    def driver(loop):
        torch.set_num_threads(args.threads)
        plain = build_plain(loop, cfg, args.seed)
        profile.check_phases(loop.runner.model)
        profile.check_phases(plain.game, PLAIN_PHASES)
        ours_run = loop.iterate
        plain_run = plain.iterate
        sides = dict(ours=ours_run, plain=plain_run)
        mem = dict(ours={}, plain={})

        # Warm-up (one-time allocations: optimiser states, grads, caches).
        for name, run in sides.items():
            with PeakRSS() as peak:
                run(args.warmup)
            mem[name]['first_iters_peak_rss_delta_mib'] = peak.mib
            mem[name]['rss_method'] = peak.method

        times = dict(ours=[], plain=[])
        data_times = dict(ours=[], plain=[])
        order_log = []
        for rep in range(args.repeats):
            order = ('ours', 'plain') if rep % 2 == 0 else ('plain', 'ours')
            order_log.append(list(order))
            for name in order:
                gc.collect()
                start = profile.clock()
                data = sides[name](args.iters)
                elapsed = profile.clock() - start
                times[name].append(elapsed / args.iters)
                data_times[name].append(data / args.iters)
            print(
                f'  repeat {rep + 1}/{args.repeats}: '
                f'ours {times["ours"][-1]:.4f} s/it, '
                f'plain {times["plain"][-1]:.4f} s/it, '
                f'ratio {times["ours"][-1] / times["plain"][-1]:.3f}',
                flush=True)
        ratios = [o / p for o, p in zip(times['ours'], times['plain'])]

        # Memory, outside the timed chunks (trimming the heap first would
        # otherwise add page-fault time to them).
        for name in sides:
            with PeakRSS() as peak:
                sides[name](args.iters)
            mem[name]['steady_peak_rss_delta_mib'] = peak.mib
            mem[name]['python_heap_peak_mib_1_iter'] = python_heap_peak(
                lambda: sides[name](1))

        micro = micro_benchmarks(loop, plain)
        k = args.profile_iters
        breakdown = dict(
            ours=profile.time_phases(loop.runner.model, loop.iterate, k),
            plain=profile.time_phases(plain.game, plain.iterate, k,
                                      PLAIN_PHASES))
        os.makedirs(args.out, exist_ok=True)
        top_ops = dict(
            ours=torch_profile(lambda: ours_run(k),
                               osp.join(args.out, 'torch_profile_ours.txt')),
            plain=torch_profile(lambda: plain_run(k),
                                osp.join(args.out, 'torch_profile_plain.txt')))
        top_py = python_profile(lambda: ours_run(k),
                                osp.join(args.out, 'cprofile_ours.txt'), k)
        top_py_plain = python_profile(lambda: plain_run(k),
                                      osp.join(args.out, 'cprofile_plain.txt'),
                                      k)

        record.update(
            seconds_per_iter=dict(
                ours=_stats(times['ours']), plain=_stats(times['plain'])),
            data_seconds_per_iter=dict(
                ours=_stats(data_times['ours']),
                plain=_stats(data_times['plain'])),
            ratio_ours_over_plain=dict(
                **_stats(ratios),
                per_repeat=ratios,
                of_medians=statistics.median(times['ours']) /
                statistics.median(times['plain'])),
            raw_seconds_per_iter=times,
            order_per_repeat=order_log,
            memory=mem,
            breakdown_seconds_per_iter=breakdown,
            micro_seconds_per_iter=micro,
            top_ops_self_cpu=top_ops,
            top_python_self_time_ours=top_py,
            top_python_self_time_plain=top_py_plain,
            threads_in_driver=torch.get_num_threads(),
            runner_iters_done=loop.iter)

    return driver


# ------------------------------------------------------------ report
def markdown(rec) -> str:
    s, d, r = (rec['seconds_per_iter'], rec['data_seconds_per_iter'],
               rec['ratio_ours_over_plain'])
    m = rec['memory']
    lines = [
        '# MosaicKD speed: ours (mmengine Runner) vs plain PyTorch', '',
        f"Config `{rec['config']}`; batch {rec['batch_size']} "
        f"(B={rec['B']} real + k={rec['k']} x {rec['B']} OOD), "
        f"teacher {rec['teacher']}; {rec['iters']} iterations x "
        f"{rec['repeats']} repeats per side, alternating; "
        f"{rec['threads']} thread(s); load average at start/end "
        f"{rec['loadavg_start']} / {rec['loadavg_end']}.", '',
        '| side | s/iter min | median | max | data s/iter (median) | '
        'peak RSS delta, N iters (MiB) | first iterations (MiB) | '
        'Python heap peak, 1 iter (MiB) |', '|---|---|---|---|---|---|---|---|'
    ]
    for side in ('ours', 'plain'):
        lines.append(
            f"| {side} | {s[side]['min']:.4f} | {s[side]['median']:.4f} | "
            f"{s[side]['max']:.4f} | {d[side]['median']:.4f} | "
            f"{m[side]['steady_peak_rss_delta_mib']:.1f} | "
            f"{m[side]['first_iters_peak_rss_delta_mib']:.1f} | "
            f"{m[side]['python_heap_peak_mib_1_iter']:.1f} |")
    verdict = 'meets' if r['median'] <= 1.05 else 'misses'
    lines += [
        '', f"**ours/plain = {r['median']:.3f}** (median of per-repeat "
        f"ratios; min {r['min']:.3f}, max {r['max']:.3f}; ratio of the "
        f"medians {r['of_medians']:.3f}); "
        f"{verdict} the <= 1.05 target.", '',
        f"RSS: {m['ours']['rss_method']}, peak above the RSS at the start "
        'of an untimed run of N iterations after a heap trim; "first '
        'iterations" is the same over the warm-up (includes one-time '
        'allocations such as optimiser states). Python heap: tracemalloc '
        '(Python objects and numpy arrays, not torch tensor storage).', '',
        '## Where an iteration goes (seconds per iteration, '
        f"{rec['profile_iters']} iterations, wall clock)", '',
        '| ours phase | s/iter | plain phase | s/iter |', '|---|---|---|---|'
    ]
    ours_b = rec['breakdown_seconds_per_iter']['ours']
    plain_b = rec['breakdown_seconds_per_iter']['plain']
    for i in range(max(len(ours_b), len(plain_b))):
        a = ours_b[i] if i < len(ours_b) else dict(phase='', seconds=None)
        b = plain_b[i] if i < len(plain_b) else dict(phase='', seconds=None)
        fmt = (lambda v: '' if v is None else f'{v:.4f}')
        lines.append(f"| {a['phase']} | {fmt(a['seconds'])} | "
                     f"{b['phase']} | {fmt(b['seconds'])} |")
    lines += [
        '', '## Isolated costs (minimum of repeats, per iteration)', '',
        '| item | ms/iter |', '|---|---|'
    ]
    for row in rec['micro_seconds_per_iter']:
        lines.append(f"| {row['item'].strip()} | "
                     f"{row['seconds'] * 1e3:.2f} |")
    for side in ('ours', 'plain'):
        lines += [
            '', f'## Top torch operators by self CPU time ({side})', '',
            '| operator | self CPU ms | share | calls |', '|---|---|---|---|'
        ]
        for op in rec['top_ops_self_cpu'][side]:
            lines.append(f"| `{op['op']}` | {op['self_cpu_ms']:.1f} | "
                         f"{op['share']:.1%} | {op['calls']} |")
    lines += [
        '', '## Top Python functions by self time (ours, cProfile)', '',
        '| function | self s/iter | cum s/iter | calls/iter |',
        '|---|---|---|---|'
    ]
    for row in rec['top_python_self_time_ours']:
        lines.append(f"| `{row['function']}` | {row['self_s_per_iter']:.4f} "
                     f"| {row['cum_s_per_iter']:.4f} | "
                     f"{row['calls_per_iter']:.0f} |")
    lines += [
        '', 'Full tables: `torch_profile_ours.txt`, `torch_profile_plain.txt`'
        ', `cprofile_ours.txt`, `cprofile_plain.txt` (profiler overhead '
        'inflates their absolute times; the `enumerate(DataLoader)` row of '
        'torch.profiler is dominated by the profiler recording thousands '
        'of tiny per-sample ops and varies several-fold between runs: use '
        'the data s/iter column for the data path). "First iterations" '
        'memory: ours warms up first, so it also pays process-wide '
        'first-use allocations (oneDNN caches etc.).', ''
    ]
    return '\n'.join(lines)


def print_table(rec):
    s, d, r = (rec['seconds_per_iter'], rec['data_seconds_per_iter'],
               rec['ratio_ours_over_plain'])
    m = rec['memory']
    print()
    print(f"{'side':<6} {'min s/it':>9} {'median':>9} {'max':>9} "
          f"{'data s/it':>10} {'peakRSS MiB':>12} {'pyheap MiB':>11}")
    for side in ('ours', 'plain'):
        print(f"{side:<6} {s[side]['min']:>9.4f} {s[side]['median']:>9.4f} "
              f"{s[side]['max']:>9.4f} {d[side]['median']:>10.4f} "
              f"{m[side]['steady_peak_rss_delta_mib']:>12.1f} "
              f"{m[side]['python_heap_peak_mib_1_iter']:>11.1f}")
    print(f"ratio ours/plain: median {r['median']:.3f} "
          f"(min {r['min']:.3f}, max {r['max']:.3f}) over "
          f"{rec['repeats']} repeats of {rec['iters']} iterations; "
          f"ratio of medians {r['of_medians']:.3f}; target <= 1.05")
    print('breakdown (s/iter):')
    for side in ('ours', 'plain'):
        for row in rec['breakdown_seconds_per_iter'][side]:
            print(f"  {side:<5} {row['phase']:<52} {row['seconds']:.4f}")
    print('isolated costs (min of repeats, per iteration):')
    for row in rec['micro_seconds_per_iter']:
        print(f"  {row['item']:<64} {row['seconds'] * 1e3:7.2f} ms")


# ------------------------------------------------------------ methods
def split_spec(spec: str):
    """``CFG@KEY=VALUE,KEY=VALUE`` -> (CFG, [KEY=VALUE, ...]); a comma
    inside a value (a list) stays with its value."""
    path, _, opts = spec.partition('@')
    items = []
    for piece in opts.split(',') if opts else []:
        if items and '=' not in piece:
            items[-1] += ',' + piece
        else:
            items.append(piece)
    return path, items


def _label(path: str, options) -> str:
    name = osp.splitext(osp.basename(path))[0]
    return name + (('@' + ','.join(options)) if options else '')


def group_members(args) -> list:
    """(group, [dict(label, path, options)]) of every group to time."""
    groups = []
    for name in args.setting:
        quality, flag, sub = SETTINGS[name]
        configs = bench.SETTINGS[quality]['configs']
        root = getattr(args, flag)
        if not root:
            raise MosaicError(
                f'--setting {name} reads its OOD images from --'
                f'{flag.replace("_", "-")} DIR; give that folder.')
        source = [f'{SOURCE_KEY}={osp.abspath(osp.join(root, sub))}']
        members = [
            dict(
                label=method,
                path=osp.join(ROOT, configs[method]),
                options=list(source)) for method in TIMED
        ]
        for variant in args.variant:
            _, options = split_spec('@' + variant)
            members.append(
                dict(
                    label='mosaickd@' + variant,
                    path=osp.join(ROOT, configs['mosaickd']),
                    options=source + options))
        groups.append((name, members))
    if args.config:
        members = []
        for spec in args.config:
            path, options = split_spec(spec)
            members.append(
                dict(label=_label(path, options), path=path, options=options))
        groups.append(('configs', members))
    return groups


def build_member(args, group: str, index: int, member: dict):
    """Load and check one config of a group; sets ``member['cfg']``."""
    _check_file(member['path'], '--config')
    cfg = load_config(member['path'], cli.parse_cfg_options(member['options']))
    if not is_game_config(cfg.get('model') or {}):
        raise MosaicError(
            f'--config {member["path"]} is not a MosaicKD config (model.type '
            'MosaicKD); the benchmark times MosaicKD and its baselines.')
    safe = ''.join(c if c.isalnum() or c in '._-' else '_'
                   for c in member['label'])
    member['teacher'] = benchmark_cfg(
        cfg,
        args,
        member['path'],
        osp.join(args.out, group, safe),
        name=f'speed_{group}_{index}')
    member['cfg'] = cfg
    member['method'] = ('KD on OOD images' if not cfg.model.get('generator')
                        else 'MosaicKD' if cfg.model.get('discriminator') else
                        'data-free (no discriminator)')
    return member


def run_group(args, group: str, members: list) -> dict:
    """Build one Runner per member, each inside the previous one's
    ``train()`` (so every Runner has done its whole set-up), then time
    them all from the innermost."""
    loops, result = [], {}

    def start(member):
        runner = Runner.from_cfg(ensure_guarantee_hooks(member['cfg']))
        cli.note(runner=runner)
        runner.train()

    def driver(loop):
        loops.append(loop)
        if len(loops) < len(members):
            start(members[len(loops)])
        else:
            result.update(time_group(args, group, members, loops))

    SpeedBenchmarkLoop.driver = driver
    start(members[0])
    return result


def time_group(args, group: str, members: list, loops: list) -> dict:
    """ABBA-alternating timing, then the phases and their MACs."""
    torch.set_num_threads(args.threads)
    n = len(loops)
    steps = [loop.runner.model.student_steps for loop in loops]
    for loop in loops:  # one-time allocations, optimiser states, caches
        loop.iterate(args.warmup)
    per_update = [[] for _ in loops]
    for rep in range(args.repeats):
        order = range(n) if rep % 2 == 0 else reversed(range(n))
        for i in order:
            gc.collect()
            start = profile.clock()
            loops[i].iterate(args.iters)
            seconds = (profile.clock() - start) / args.iters
            per_update[i].append(seconds / steps[i])
        print(
            f'  {group} repeat {rep + 1}/{args.repeats}: ' +
            ', '.join(f'{m["label"]} {t[-1]:.4f}'
                      for m, t in zip(members, per_update)) + ' s/update',
            flush=True)
    base = next(
        (i
         for i, m in enumerate(members) if m['method'] == 'KD on OOD images'),
        None)
    methods = []
    for i, member in enumerate(members):
        model = loops[i].runner.model
        size = member['cfg'].train_dataloader.batch_size
        ood = (size - (model.synthetic_batch_size
                       if model.discriminator is not None else 0)) // steps[i]
        synthetic = model.synthetic_batch_size if model.generator else 0
        row = dict(
            label=member['label'],
            images=(f'{synthetic} G(z) + ' if synthetic else '') +
            f'{ood} OOD',
            method=member['method'],
            config=osp.relpath(member['path'], ROOT),
            options=member['options'],
            teacher=member['teacher'],
            student_steps=steps[i],
            batch_size=member['cfg'].train_dataloader.batch_size,
            seconds_per_update=_stats(per_update[i]),
            raw_seconds_per_update=per_update[i])
        if base is not None and i != base:
            ratios = [a / b for a, b in zip(per_update[i], per_update[base])]
            row['ratio_to_kd'] = dict(**_stats(ratios), per_repeat=ratios)
        methods.append(row)
    counters = []
    for i, loop in enumerate(loops):
        phases, counter = profile_member(args, loop)
        methods[i].update(phases)
        counters.append(counter)
    # One floor rate for the group: the convolution with the most MACs
    # over all its configs, timed alone.
    convs = defaultdict(int)
    for counter in counters:
        for key, value in counter.conv_macs.items():
            convs[key] += value
    dominant = max(convs.items(), key=lambda kv: kv[1])[0] if convs else None
    # On the device the players train on (a GPU too).
    device = next(loops[0].runner.model.parameters()).device
    rate, layer = profile.reference_rate(dominant, reps=20, device=str(device))
    for m in methods:
        for row in m['phases']:
            row['floor_seconds'] = row['macs'] / rate
    return dict(
        reference_rate=rate,
        reference_layer=layer,
        group=group,
        baseline=None if base is None else members[base]['label'],
        methods=methods)


def profile_member(args, loop):
    """Per-phase seconds of ``--profile-iters`` iterations, then the MACs
    of one more (counted separately: the hooks cost time); returns the
    rows and the MAC counter."""
    model = loop.runner.model
    profile.check_phases(model)
    rows = profile.time_phases(model, loop.iterate, args.profile_iters)
    with profile.PhaseProfiler(model, count_macs=True) as counter:
        loop.iterate(1)
    macs = {r['phase']: r for r in counter.rows(1)}
    for row in rows:
        counted = macs.get(row['phase'], {})
        row['macs'] = counted.get('fwd_macs', 0) + counted.get('bwd_macs', 0)
    rows[0]['macs'] = counter.total_macs()
    return dict(phases=rows), counter


def _mac(v):
    return f'{v / 1e9:.3f}' if v else ''


def methods_markdown(result: dict, args) -> str:
    """The group's tables, as printed."""
    lines = [
        f"### {result['group']}", '',
        f'{args.iters} iterations x {args.repeats} repeats per config, '
        f'alternating (ABBA); {args.threads} thread(s); load average '
        f"{result['loadavg_start']} at the start, {result['loadavg_end']} "
        'at the end.', '',
        '| config | method | images per S step | s/update median | min | '
        'max | ratio to KD (median, min-max) |',
        '|---|---|---|---|---|---|---|'
    ]
    for m in result['methods']:
        s = m['seconds_per_update']
        ratio = m.get('ratio_to_kd')
        ratio = (f"{ratio['median']:.2f} ({ratio['min']:.2f}-"
                 f"{ratio['max']:.2f})" if ratio else
                 '1 (baseline)' if m['label'] == result['baseline'] else '')
        lines.append(f"| `{m['label']}` | {m['method']} | {m['images']} | "
                     f"{s['median']:.4f} | {s['min']:.4f} | {s['max']:.4f} | "
                     f'{ratio} |')
    lines += [
        '', f"Floor rate: {result['reference_rate'] / 1e9:.2f} GMAC/s, "
        "measured on the group's dominant layer alone, "
        f"{result['reference_layer']} (forward, fastest of 20); floor s = "
        'counted MACs at that rate.'
    ]
    for m in result['methods']:
        lines += [
            '', f"#### `{m['label']}`: seconds and multiply-adds per outer "
            f'iteration ({args.profile_iters} iterations timed, 1 counted)',
            '', '| phase | calls | s/iter | share | GMAC | GMAC/s | floor s | '
            'x floor |', '|---|---|---|---|---|---|---|---|'
        ]
        wall = m['phases'][0]['seconds']
        for row in m['phases']:
            name = row['phase']
            rate = (f"{row['macs'] / row['seconds'] / 1e9:.2f}"
                    if row['macs'] and row['seconds'] > 0 else '')
            over = (f"{row['seconds'] / row['floor_seconds']:.1f}"
                    if row['macs'] else '')
            floor = (f"{row['floor_seconds']:.4f}" if row['macs'] else '')
            lines.append(
                f"| {name} | {row['calls']:g} | {row['seconds']:.4f} | "
                f"{row['seconds'] / wall:.0%} | {_mac(row['macs'])} | "
                f'{rate} | {floor} | {over} |')
    return '\n'.join(lines) + '\n'


def main_methods(args):
    groups = group_members(args)
    built = [(group,
              [build_member(args, group, i, m) for i, m in enumerate(members)])
             for group, members in groups]
    report = []
    for group, members in built:
        start_load = [round(x, 2) for x in os.getloadavg()]
        result = run_group(args, group, members)
        result['loadavg_start'] = start_load
        result['loadavg_end'] = [round(x, 2) for x in os.getloadavg()]
        for m in result['methods']:
            m.pop('cfg', None)
        text = methods_markdown(result, args)
        print()
        print(text, flush=True)
        report.append((result, text))
    record = dict(
        iters=args.iters,
        repeats=args.repeats,
        threads=args.threads,
        warmup=args.warmup,
        profile_iters=args.profile_iters,
        torch=torch.__version__,
        python=platform.python_version(),
        cpu_count=os.cpu_count(),
        groups=[r for r, _ in report])
    with open(osp.join(args.out, 'methods.json'), 'w') as f:
        json.dump(record, f, indent=2)
    with open(osp.join(args.out, 'methods.md'), 'w') as f:
        f.write('\n'.join(t for _, t in report))
    print(f'wrote {osp.join(args.out, "methods.json")} and methods.md')


@cli.tool_main
def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cli.note(work_dir=cli.output_dir(args.out, '--out'))
    if not args.vs_plain:
        return main_methods(args)
    cfg, teacher = build_cfg(args)
    rule = batch_rule(cfg)
    record = dict(
        config=osp.relpath(args.config, ROOT),
        teacher=teacher,
        iters=args.iters,
        repeats=args.repeats,
        threads=args.threads,
        warmup=args.warmup,
        profile_iters=args.profile_iters,
        batch_size=rule.batch_size,
        B=rule.synthetic,
        k=rule.steps,
        torch=torch.__version__,
        python=platform.python_version(),
        cpu_count=os.cpu_count(),
        loadavg_start=[round(x, 2) for x in os.getloadavg()])
    SpeedBenchmarkLoop.driver = make_driver(args, cfg, record)
    # The hooks tools/train.py gives every training run (their per-iteration
    # cost is part of ours).
    runner = Runner.from_cfg(ensure_guarantee_hooks(cfg))
    cli.note(runner=runner)
    start = profile.clock()
    runner.train()
    record['benchmark_seconds'] = profile.clock() - start
    record['loadavg_end'] = [round(x, 2) for x in os.getloadavg()]
    with open(osp.join(args.out, 'speed.json'), 'w') as f:
        json.dump(record, f, indent=2)
    with open(osp.join(args.out, 'speed.md'), 'w') as f:
        f.write(markdown(record))
    print_table(record)
    print(f'wrote {osp.join(args.out, "speed.json")} and speed.md, '
          'profiles in the same folder')


if __name__ == '__main__':
    sys.exit(main())
