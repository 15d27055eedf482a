"""``benchmarks/speed.py --vs-plain``: one MosaicKD config in a Runner
against a plain-PyTorch copy of the game (``plain_loop.py``) on deep copies
of the Runner's own players, timed alternately, with their memory, phases
(the library's phase profiler), isolated costs and profiles; writes
``speed.json`` and ``speed.md``. See benchmarks/README.md for what exactly
is timed.
"""
import copy
import cProfile
import ctypes
import gc
import io
import json
import os
import os.path as osp
import pstats
import resource
import statistics
import tracemalloc

import torch
from mmengine.runner import Runner
from plain_loop import PlainMosaicKD, make_loader

import mmmosaic.models.algorithms.mosaickd as mosaickd_module
from mmmosaic import cli
from mmmosaic.benchmarking import profile
from mmmosaic.benchmarking.profile import (SpeedBenchmarkLoop, benchmark_cfg,
                                           check_file, schedules, spread)
from mmmosaic.engine import ensure_guarantee_hooks
from mmmosaic.errors import MosaicError
from mmmosaic.models import batch_rule
from mmmosaic.runtime import is_game_config, load_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


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


#: The phases of the plain game's iteration, named as MosaicKD's
#: (:data:`mmmosaic.benchmarking.profile.PHASES`).
PLAIN_PHASES = dict(
    preprocess='split + preprocess',
    synthesize='G(z) forward',
    d_step='D step',
    g_step='G step',
    s_step='S steps')


def build_cfg(args):
    check_file(args.config, '--config')
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
    teacher = benchmark_cfg(cfg, args.config, osp.join(args.out, 'runner'),
                            args.teacher_ckpt, args.seed)
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
                ours=spread(times['ours']), plain=spread(times['plain'])),
            data_seconds_per_iter=dict(
                ours=spread(data_times['ours']),
                plain=spread(data_times['plain'])),
            ratio_ours_over_plain=dict(
                **spread(ratios),
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


def main(args) -> None:
    """Time ``args.config`` against the plain loop; write ``speed.json``
    and ``speed.md`` to ``args.out``."""
    cfg, teacher = build_cfg(args)
    rule = batch_rule(cfg)
    record = dict(
        config=osp.relpath(args.config, ROOT),
        teacher=teacher,
        **profile.run_record(
            args,
            batch_size=rule.batch_size,
            B=rule.synthetic,
            k=rule.steps,
            loadavg_start=[round(x, 2) for x in os.getloadavg()]))
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
