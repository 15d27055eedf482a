"""Seconds per student update of MosaicKD and KD, phase by phase.

    python benchmarks/speed.py [--setting NAME ...] [--config CFG[@OPTS] ...]
        [--variant KEY=VALUE[,KEY=VALUE]] [--data-root DIR] [--ood-root DIR]
        [--iters N] [--repeats R] [--threads T] [--warmup W]
        [--profile-iters P] [--teacher-ckpt PATH] [--out DIR]
    python benchmarks/speed.py --vs-plain [--config CFG] ...

Methods (default): each group of configs (a ``--setting``: MosaicKD and KD
on the OOD images of a quality benchmark setting, which reads its OOD
images from ``--data-root`` or ``--ood-root`` as ``quality.py`` does
(nothing else: no evaluation), plus a MosaicKD for each ``--variant``;
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
import gc
import json
import os
import os.path as osp
import sys
from collections import defaultdict

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import torch  # noqa: E402
import vs_plain  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmmosaic import benchmarking as bench  # noqa: E402
from mmmosaic import cli  # noqa: E402
from mmmosaic.benchmarking import profile  # noqa: E402
from mmmosaic.engine import ensure_guarantee_hooks  # noqa: E402
from mmmosaic.errors import MosaicError  # noqa: E402
from mmmosaic.runtime import is_game_config, load_config  # noqa: E402

# ------------------------------------------------------------ set-up
#: The setting timed when neither ``--setting`` nor ``--config`` is given:
#: the MNIST demo's.
DEMO = 'mnist_fashion_400'
#: The methods of a setting that are timed, in this order.
TIMED = ('mosaickd', 'kd_ood')
SOURCE_KEY = 'train_dataloader.dataset.source.data_root'


def parse_args():
    parser = cli.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--setting',
        nargs='+',
        default=[],
        choices=sorted(bench.SETTINGS),
        help='quality benchmark settings, each timed as one group (MosaicKD '
        f'vs KD); default: {DEMO} (the demo\'s), unless --config is given')
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
        '--data-root',
        help='as for benchmarks/quality.py; read only where a setting takes '
        'its OOD images from it (the CIFAR-10 folder of cifar10_animals)')
    parser.add_argument(
        '--ood-root',
        help='as for benchmarks/quality.py (the photos of camvid and '
        'cifar10_photos; cifar10_digits reads data/mnist)')
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
        args.setting = [DEMO]
    return args


# ------------------------------------------------------------ driver
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
        setting = bench.SETTINGS[name]
        configs, run_options = setting['configs'], setting['run_options']
        # Only the OOD images are read: the folder they are in, as the
        # quality benchmark gives it to MosaicKD. Settings of the other
        # templates read the folders of make data (the digits: data/mnist).
        flag = None
        if setting['options'] == 'folders':
            flag = 'ood_root' if setting.get('needs_ood_root') else 'data_root'
        root = getattr(args, flag) if flag else None
        if flag and not root:
            raise MosaicError(
                f'--setting {name} reads its OOD images from --'
                f'{flag.replace("_", "-")} DIR; give that folder.')
        if root and not osp.isdir(root):
            raise MosaicError(
                f'--{flag.replace("_", "-")} {root!r} is not a folder; give '
                f'the folder {name} reads its OOD images from.')
        root = root and osp.abspath(root)
        source = [
            o for o in bench.method_options(
                setting, 'mosaickd', root if flag == 'data_root' else None,
                root if flag == 'ood_root' else None)
            if o.startswith(SOURCE_KEY)
        ]
        members = [
            dict(
                label=method,
                path=osp.join(ROOT, configs[method]),
                options=source + run_options.get(method, []))
            for method in TIMED
        ]
        for variant in args.variant:
            _, options = split_spec('@' + variant)
            members.append(
                dict(
                    label='mosaickd@' + variant,
                    path=osp.join(ROOT, configs['mosaickd']),
                    options=source + run_options.get('mosaickd', []) +
                    options))
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
    profile.check_file(member['path'], '--config')
    cfg = load_config(member['path'], cli.parse_cfg_options(member['options']))
    if not is_game_config(cfg.get('model') or {}):
        raise MosaicError(
            f'--config {member["path"]} is not a MosaicKD config (model.type '
            'MosaicKD); the benchmark times MosaicKD and its baselines.')
    safe = ''.join(c if c.isalnum() or c in '._-' else '_'
                   for c in member['label'])
    member['teacher'] = profile.benchmark_cfg(
        cfg,
        member['path'],
        osp.join(args.out, group, safe),
        args.teacher_ckpt,
        args.seed,
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

    profile.SpeedBenchmarkLoop.driver = driver
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
            seconds_per_update=profile.spread(per_update[i]),
            raw_seconds_per_update=per_update[i])
        if base is not None and i != base:
            ratios = [a / b for a, b in zip(per_update[i], per_update[base])]
            row['ratio_to_kd'] = dict(
                **profile.spread(ratios), per_repeat=ratios)
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
    record = profile.run_record(args, groups=[r for r, _ in report])
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
    vs_plain.main(args)


if __name__ == '__main__':
    sys.exit(main())
