"""Ablations of MosaicKD on a quality setting: which part of the game helps
the student and which part holds it back.

    python benchmarks/ablations.py camvid --data-root D --ood-root P
    python benchmarks/ablations.py cifar10_animals_long --data-root DIR \\
        --ablations local_mean synthetic_quarter --seeds 0 1

Each ablation is the setting's MosaicKD config with a few ``--cfg-options``
(``ABLATIONS`` below says what each one changes and why it is a candidate
cause). Run ``benchmarks/quality.py`` for the setting first: the ablations
use its teacher and are compared with its KD-on-OOD and MosaicKD runs of
the same seeds. Finished runs are reused and interrupted ones resumed.
Writes ``ablations.json`` and ``ablations.md`` to the work dir (default
``work_dirs/benchmarks/ablations/<setting>``).
"""
import os
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from mmmosaic import benchmarking as bench  # noqa: E402
from mmmosaic import cli  # noqa: E402
from mmmosaic.analysis import recipes  # noqa: E402
from mmmosaic.errors import MosaicError  # noqa: E402
from mmmosaic.utils.runs import metric_history  # noqa: E402

#: This script's log prefix, ``[ablations] ...``.
TOOL = 'ablations'


def _patches(cfg) -> int:
    """Patch logits the discriminator gives for one generated image."""
    d = cfg.model.discriminator
    h, w = cfg.model.generator.img_size if isinstance(
        cfg.model.generator.img_size,
        (list, tuple)) else (cfg.model.generator.img_size, ) * 2
    return (h >> d.num_downsamples) * (w >> d.num_downsamples)


def _local_mean(cfg):
    weight = cfg.model.loss_weights.local / _patches(cfg)
    return [f'model.loss_weights.local={weight:.6g}']


def _synthetic_quarter(cfg):
    synthetic, steps, ood = bench.student_batch(cfg)
    per_update = synthetic + ood
    quarter = max(1, per_update // 4)
    batch = recipes.loader_batch(
        cfg, synthetic_batch_size=quarter, ood_batch_size=per_update - quarter)
    return [
        f'model.synthetic_batch_size={quarter}',
        f'train_dataloader.batch_size={batch}'
    ]


def _no_synthetic(cfg):
    _, steps, ood = bench.student_batch(cfg)
    tau = float(cfg.model.student_loss.temperature)
    batch = recipes.loader_batch(
        cfg, generator=None, discriminator=None, ood_batch_size=ood)
    return [
        f'model.ood_batch_size={ood}',
        f'train_dataloader.batch_size={batch}',
        f'model.student_steps={steps}',
        f'model.student_loss.temperature={tau}',
    ]


def _synthetic_warmup(**schedule):
    """Options of a synthetic-share warm-up: the schedule's keys and a
    loader batch of ``B + k x (B + N)``, so that every student update takes
    as many images as MosaicKD's (OOD images where mosaics are missing)."""

    def options(cfg):
        _, _, ood = bench.student_batch(cfg)
        batch = recipes.loader_batch(
            cfg, synthetic_warmup=schedule, ood_batch_size=ood)
        return [f'train_dataloader.batch_size={batch}'] + [
            f'model.synthetic_warmup.{key}={value}'
            for key, value in schedule.items()
        ]

    return options


def _tau5_warmup_linear(loss: str):
    """Options of ``model.<loss>`` at KD's temperature 5 with
    ``warmup_linear``'s schedule."""
    warmup = _synthetic_warmup(schedule='linear', ramp=0.5)

    def options(cfg):
        return [f'model.{loss}.temperature=5.0'] + warmup(cfg)

    return options


def _recipe(ood_share=None, **weights):
    """Options of a recipe (:func:`recipe_options`): generator loss weights
    and, with ``ood_share``, the share of OOD images in every student
    update at MosaicKD's images per update (``B + N``)."""
    return lambda cfg: recipes.recipe_options(cfg, weights, ood_share)


def _wide_players(cfg):
    return [
        'model.generator.base_channels='
        f'{2 * cfg.model.generator.base_channels}',
        'model.discriminator.base_channels='
        f'{2 * cfg.model.discriminator.base_channels}'
    ]


def _patch(step):
    """Options giving D ``step`` more (or fewer) stride-2 layers, so that
    each of its logits judges a larger (or smaller) patch."""

    def options(cfg):
        layers = cfg.model.discriminator.get('num_downsamples', 2) + step
        if layers < 1:
            raise ValueError(
                'model.discriminator.num_downsamples is already 1 in this '
                'setting\'s config, so its patch cannot shrink further; '
                'leave small_patch out of --ablations')
        return [f'model.discriminator.num_downsamples={layers}']

    return options


#: name -> what it changes, why it is a candidate cause, and the
#: ``--cfg-options`` it needs (a function of the setting's MosaicKD config),
#: given to the setting's MosaicKD config, or to the config of ``method``
#: where an entry names one.
ABLATIONS = {
    'local_mean':
    dict(
        change='patch term averaged over patches instead of summed',
        why='summed over every patch (the official reduction) it outweighs '
        'the other generator terms by the number of patches',
        options=_local_mean),
    'no_local':
    dict(
        change='no patch term for G (D still trains)',
        why='does fooling D help the student at all, or do the gain and the '
        'loss come from the synthetic images alone',
        options=lambda cfg: ['model.loss_weights.local=0']),
    'balance_1':
    dict(
        change='class-balance weight 1 instead of 10',
        why='forcing uniform classes over every pixel fights the scenes\' '
        'real class frequencies (buildings and trees cover most of a '
        'street)',
        options=lambda cfg: ['model.loss_weights.balance=1']),
    'balance_presence':
    dict(
        change='class balance counts each class once per image (its '
        'largest probability) instead of per pixel',
        why='per pixel, a uniform class balance asks mosaics to cover as '
        'many pixels with poles as with buildings, which real scenes never '
        'do; per image it only asks every class to appear as often '
        '(segmentation only: for one label per image both are the same)',
        options=lambda cfg: ['model.balance_loss.dense=presence']),
    'synthetic_quarter':
    dict(
        change='a quarter of the student batch synthetic instead of half',
        why='immature or off-distribution mosaics take half of every '
        'student update from the OOD images',
        options=_synthetic_quarter),
    'no_synthetic':
    dict(
        change='only the OOD half of MosaicKD\'s student batch: no '
        'generator, no discriminator, the same OOD images, temperature '
        'and updates',
        why='measures what the synthetic half of every student update adds '
        'or costs, apart from the OOD images it displaces',
        method='kd_ood',
        options=_no_synthetic),
    'student_tau5':
    dict(
        change='student KD temperature 5 (KD on OOD\'s) instead of 1',
        why='the baseline distils softer targets; the temperature alone may '
        'explain a gap',
        options=lambda cfg: ['model.student_loss.temperature=5.0']),
    'ood_tau5':
    dict(
        change='KD temperature 5 on the OOD images of each student batch '
        'only, the mosaics at 1',
        why='KD on OOD distils at 5, MosaicKD at 1; this separates what the '
        'temperature does on the OOD images, where KD gets its lead, from '
        'the mosaics, whose targets the align term already makes confident '
        '(student_tau5 puts the whole batch at 5)',
        options=lambda cfg: ['model.ood_student_loss.temperature=5.0']),
    'warmup_linear':
    dict(
        change='student batch starts as OOD images only; the mosaics\' '
        'share grows linearly to the paper\'s half over the first half of '
        'the iterations (ours; as many images per update)',
        why='no_synthetic put the early gap on the OOD images that '
        'immature mosaics displace; a user with a fixed budget pays for it',
        options=_synthetic_warmup(schedule='linear', ramp=0.5)),
    'warmup_maturity':
    dict(
        change='as warmup_linear, but the share follows the generator\'s '
        'maturity: the running mean of the effective number of the '
        'teacher\'s top classes in its images, rescaled to [0, 1], gives the '
        'full share at 0.5 (ours)',
        why='lets the mosaics in once they show the teacher\'s classes, '
        'which is what they can add to the OOD images, on each setting\'s '
        'own clock instead of a fixed fraction of the budget',
        options=_synthetic_warmup(
            schedule='maturity', signal='classes', threshold=0.5)),
    'ood_tau5_warmup_linear':
    dict(
        change='ood_tau5 and warmup_linear together: the OOD images at KD\'s '
        'temperature 5, the mosaics at 1, their share growing linearly to '
        'half over the first half of the iterations (ours)',
        why='each alone removes one of the two differences from KD early '
        'on (temperature, displaced OOD images); together the first '
        'updates are KD\'s, so MosaicKD can only start behind by what the '
        'mosaics cost once they come in',
        options=_tau5_warmup_linear('ood_student_loss')),
    'student_tau5_warmup_linear':
    dict(
        change='student_tau5 and warmup_linear together: the whole student '
        'batch, mosaics included, at KD\'s temperature 5, the mosaics\' '
        'share growing linearly to half over the first half of the '
        'iterations (ours)',
        why='on the ten-class photos student_tau5 ended level with KD but '
        'behind it early, where the warm-up starts as KD; the mosaics at 5 '
        'rather than 1 (ood_tau5_warmup_linear) test whether their soft '
        'targets are what the student lacks late in training',
        options=_tau5_warmup_linear('student_loss')),
    'warm_start_g':
    dict(
        change='G and D first train alone on the OOD images (a patch GAN, '
        'no teacher or student term) for 10 % of the iterations, which '
        'make no student update (ours)',
        why='the student\'s first mosaics then come from a generator that '
        'already makes OOD-like patches instead of noise; it costs the '
        'student 10 % of its updates',
        options=lambda cfg: ['model.generator_warm_start=0.1']),
    'small_patch':
    dict(
        change='D with one stride-2 layer fewer: each logit judges a patch '
        'of about half the side (4x4 pixels instead of 10x10 on 32x32 '
        'images)',
        why='smaller patches only ask the mosaics for the OOD images\' '
        'local textures and leave G freer to arrange them as the teacher\'s '
        'classes need; larger ones pull the mosaics toward whole OOD '
        'images, which on a far domain show none of those classes',
        options=_patch(-1)),
    'large_patch':
    dict(
        change='D with one stride-2 layer more: each logit judges a patch of '
        'about twice the side (22x22 pixels instead of 10x10 on 32x32 '
        'images)',
        why='the other direction of small_patch: mosaics held closer to '
        'the OOD images\' layouts',
        options=_patch(1)),
    'student_tau5_small_patch':
    dict(
        change='student_tau5 and small_patch together: the whole student '
        'batch at KD\'s temperature 5 and D judging patches of about half '
        'the side',
        why='each alone lifted MosaicKD on the ten-class photos; together '
        'they test whether their gains add up',
        options=lambda cfg:
        (['model.student_loss.temperature=5.0'] + _patch(-1)(cfg))),
    # The recipe's switches: the BatchNorm prior, the patch prior, the
    # alignment term and the OOD share of the student's batch, from
    # MosaicKD's end (adding DFQ's parts) and from DFQ's (adding MosaicKD's).
    'bn_01':
    dict(
        change='MosaicKD plus the teacher\'s BatchNorm statistics term at '
        'weight 0.1',
        why='DFQ, whose generator matches the teacher\'s BatchNorm '
        'statistics, beats MosaicKD on far-domain images; the BN prior may '
        'add what the patch prior lacks',
        options=_recipe(bn=0.1)),
    'bn_1':
    dict(
        change='MosaicKD plus the BatchNorm statistics term at weight 1 '
        '(DFQ\'s)',
        why='as bn_01, at DFQ\'s own weight',
        options=_recipe(bn=1.0)),
    'bn_10':
    dict(
        change='MosaicKD plus the BatchNorm statistics term at weight 10',
        why='as bn_01, with the BN prior dominating the generator\'s loss',
        options=_recipe(bn=10.0)),
    'bn_1_no_align':
    dict(
        change='bn_1 without the alignment (teacher entropy) term',
        why='DFQ does not minimise the teacher\'s entropy; confident '
        'mosaics may teach the student less than ambiguous ones',
        options=_recipe(bn=1.0, align=0.0)),
    'bn_1_no_local':
    dict(
        change='bn_1 without the patch term (D still trains)',
        why='the patch prior holds G\'s images to the OOD images\' local '
        'patterns, which on a far domain may fight the BN prior',
        options=_recipe(bn=1.0, local=0.0)),
    'ood_none':
    dict(
        change='MosaicKD whose student trains on G\'s images alone (as many '
        'per update as MosaicKD\'s synthetic and OOD images together; the '
        'OOD images are D\'s only)',
        why='DFQ\'s student sees only generated images, MosaicKD\'s half OOD '
        'images, which on a far domain may mislead it',
        options=_recipe(ood_share=0.0)),
    'bn_1_ood_none':
    dict(
        change='bn_1 with the student on G\'s images alone',
        why='the BN prior and the patch prior together, with DFQ\'s student '
        'batch',
        options=_recipe(ood_share=0.0, bn=1.0)),
    'bn_1_ood_quarter':
    dict(
        change='bn_1 with a quarter of every student update OOD images',
        why='between DFQ\'s student batch (none) and the paper\'s (half)',
        options=_recipe(ood_share=0.25, bn=1.0)),
    'dfq_patch':
    dict(
        change='DFQ\'s generator terms (adversarial, BN statistics, balance '
        '6.02, no alignment) plus the patch term, the student on G\'s '
        'images alone',
        why='DFQ adding MosaicKD\'s patch prior only',
        options=_recipe(ood_share=0.0, local=1.0, **recipes.DFQ_TERMS)),
    'dfq_ood_half':
    dict(
        change='DFQ\'s generator terms without a patch term (D trains but '
        'G ignores it), half of every student update OOD images',
        why='DFQ adding MosaicKD\'s OOD images in the student\'s batch only',
        options=_recipe(ood_share=0.5, local=0.0, **recipes.DFQ_TERMS)),
    'dfq_ood_quarter':
    dict(
        change='as dfq_ood_half with a quarter of every student update OOD '
        'images',
        why='DFQ adding fewer OOD images',
        options=_recipe(ood_share=0.25, local=0.0, **recipes.DFQ_TERMS)),
    'dfq_patch_ood_half':
    dict(
        change='DFQ\'s generator terms plus the patch term, half of every '
        'student update OOD images: MosaicKD without alignment, with the '
        'BN term and DFQ\'s balance weight',
        why='DFQ adding both of MosaicKD\'s parts',
        options=_recipe(ood_share=0.5, local=1.0, **recipes.DFQ_TERMS)),
    'recipe_dfq_ood':
    dict(
        change='the dfq_ood recipe the OOD report recommends for a teacher '
        'with BatchNorm layers, exactly as it prints it: ' +
        recipes.RECIPES['dfq_ood']['summary'],
        why='dfq_ood_half without the discriminator, which G ignores there '
        '(the recipe as a user runs it)',
        options=lambda cfg: recipes.recipe_options(
            cfg, **recipes.RECIPES['dfq_ood']['options'])),
    'wide_players':
    dict(
        change='generator and discriminator twice as wide',
        why='our G and D are narrower than the paper\'s to fit the CPU',
        options=_wide_players),
}


def parse_args(argv=None):
    """The command line's arguments."""
    parser = cli.ArgumentParser(
        description=__doc__.split('\n\n')[0].replace('\n', ' '))
    parser.add_argument('setting', choices=sorted(bench.SETTINGS))
    parser.add_argument('--data-root', help='as for benchmarks/quality.py')
    parser.add_argument('--ood-root', help='as for benchmarks/quality.py')
    parser.add_argument(
        '--ablations',
        nargs='+',
        choices=sorted(ABLATIONS),
        default=list(ABLATIONS))
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--jobs', type=int, default=1)
    parser.add_argument(
        '--work-dir', help='default: work_dirs/benchmarks/ablations/SETTING')
    parser.add_argument(
        '--quality-dir',
        help='the setting\'s benchmarks/quality.py work dir (default: '
        'work_dirs/benchmarks/quality/SETTING)')
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f'--jobs must be at least 1, got {args.jobs}.')
    return args


def markdown(report: bench.AblationReport) -> str:
    """The table of every finished ablation, each against MosaicKD as
    configured and KD on OOD images with the same seeds."""
    rows = report.ablations
    lines = [
        f'## Ablations of MosaicKD: {report.title}', '',
        f'Last {report.metric} after the final update, mean over the '
        'seeds given; "MosaicKD" and "KD" are the quality benchmark\'s runs '
        'with the same seeds.', '',
        '"At or above KD" counts the evaluations from '
        f'{bench.never_behind_from()} of the budget on '
        'at which the mean curve is at or above KD\'s at the same number of '
        'student updates, with the largest deficit among the others; '
        '"never behind" means every one.', '',
        '| ablation | what changes | seeds | last | MosaicKD | KD on OOD | '
        'vs MosaicKD | vs KD | at or above KD | MosaicKD at or above KD | '
        'minutes |', '|---|---|---|---:|---:|---:|---:|---:|---|---|---:|'
    ]
    for name, row in rows.items():
        mk, kd = row.baseline['mosaickd'], row.baseline['kd_ood']
        lines.append(
            f'| {name} | {row.change} | {", ".join(map(str, row.seeds))} | '
            f'{row.last:.2f} | {mk["last"]:.2f} | {kd["last"]:.2f} | '
            f'{row.last - mk["last"]:+.2f} | {row.last - kd["last"]:+.2f} | '
            f'{count_cell(row.vs_kd)} | {count_cell(mk["vs_kd"])} | '
            f'{row.minutes:.1f} |')
    dense = {
        n: r
        for n, r in rows.items()
        if r.per_class and r.baseline['mosaickd']['per_class']
    }
    if dense:
        classes = list(next(iter(dense.values())).per_class)
        lines += [
            '', 'Per-class IoU minus MosaicKD as configured (same seeds):', '',
            '| ablation | ' + ' | '.join(classes) + ' |',
            '|---|' + '---:|' * len(classes)
        ]
        for name, row in dense.items():
            ref = row.baseline['mosaickd']['per_class']
            lines.append(f'| {name} | ' +
                         ' | '.join(f'{row.per_class[c] - ref[c]:+.1f}'
                                    for c in classes) + ' |')
    lines += [
        '', 'KD on OOD images, MosaicKD and the ablations of the last '
        'call, mean over its seeds (band: min to max):', '',
        '![curves](curves.png)'
    ]
    lines += ['', 'Why each is a candidate:', '']
    lines += [f'- **{name}**: {row.why}.' for name, row in rows.items()]
    return '\n'.join(lines) + '\n'


def count_cell(vs_kd: dict) -> str:
    """A table cell of :func:`bench.at_or_above_kd`'s result."""
    cell = f'{vs_kd["at_or_above"]} of {vs_kd["evaluations"]}'
    if vs_kd['never_behind']:
        return cell + ', never behind'
    return cell + f' (at most {vs_kd["largest_deficit"]:.2f} behind)'


def _figure(setting: dict, quality_dir: str, seeds, runs, teacher,
            budgets: dict, metric: str, path: str) -> None:
    """Curves of KD on OOD images, MosaicKD as configured and the
    ablation ``runs`` of this call, mean over ``seeds`` with the min-max
    band, against student updates (``curves.png``)."""
    series = {}
    for method in ('kd_ood', 'mosaickd'):
        dirs = [bench.run_dir(quality_dir, setting, method, s) for s in seeds]
        series[bench.NAMES[method]] = ([
            metric_history(d, metric, all_runs=True) for d in dirs
        ], budgets[method])
    for run in runs:
        if run.name not in series:
            series[run.name] = ([], bench.budget(run.config, run.options))
        series[run.name][0].append(run.curve(metric))
    seeds = ('seeds ' if len(seeds) > 1 else 'seed ') + ', '.join(
        map(str, seeds))
    bench.plot_curves(series,
                      teacher.curve(metric)[-1][1],
                      f'{setting["title"]}: ablations ({seeds})',
                      bench.ylabel(metric), path)


@cli.tool_main
def main(argv=None):
    """Run the ablations from the command line."""
    return run(parse_args(argv))


def run(args):
    """The ablations for parsed arguments; returns the report."""
    setting = bench.SETTINGS[args.setting]
    if 'mosaickd' not in setting['configs']:
        raise MosaicError(f'{args.setting} has no MosaicKD config to ablate.')
    args.data_root, args.ood_root = bench.check_data(args.setting, setting,
                                                     args.data_root,
                                                     args.ood_root)
    quality_dir = osp.abspath(
        args.quality_dir
        or osp.join(ROOT, 'work_dirs', 'benchmarks', 'quality', args.setting))
    work_dir = osp.abspath(
        args.work_dir or osp.join(ROOT, 'work_dirs', 'benchmarks', 'ablations',
                                  args.setting))
    cli.note(work_dir=cli.output_dir(work_dir, '--work-dir'))
    configs = setting['configs']
    metric = setting.get('metric', bench.ACCURACY)

    def options(method):
        return bench.method_options(setting, method, args.data_root,
                                    args.ood_root)

    budgets = {
        m: bench.budget(configs[m], options(m))
        for m in ('kd_ood', 'mosaickd')
    }
    # Fail before training if the runs to compare with are missing.
    bench.quality_baseline(quality_dir, setting, args.seeds, budgets, TOOL)
    bench.check_prepared_data(setting)

    teacher = bench.make_run('teacher', None, configs['teacher'],
                             options('teacher') + ['randomness.seed=0'],
                             bench.run_dir(quality_dir, setting, 'teacher'))
    if not os.path.isdir(teacher.run_dir):
        bench.use_kept_teacher(teacher.config, ['randomness.seed=0'],
                               teacher.options, teacher.run_dir,
                               teacher.max_iters, TOOL)
    if not bench.finished(teacher.run_dir, teacher.max_iters, metric):
        raise MosaicError(f'the teacher in {teacher.run_dir} is not trained; '
                          f'run benchmarks/quality.py {args.setting} first.')
    teacher_ckpt = osp.join(teacher.run_dir, f'iter_{teacher.max_iters}.pth')
    ckpt = [f'model.teacher_ckpt={teacher_ckpt}']
    cfg = bench.load_config_with_options(configs['mosaickd'],
                                         options('mosaickd') + ckpt)

    def change(name):
        return ABLATIONS[name]['options'](cfg)

    def plan(name, seed):
        """The run of ablation ``name`` and ``seed``."""
        method = ABLATIONS[name].get('method', 'mosaickd')
        return bench.make_run(
            name, seed, configs[method],
            options(method) + ckpt +
            change(name) + [f'randomness.seed={seed}'],
            osp.join(work_dir, name, f'seed{seed}'))

    start = time.time()
    runs = [plan(name, seed) for name in args.ablations for seed in args.seeds]
    trained = bench.run_all(
        runs,
        metric,
        TOOL,
        args.jobs,
        remedy='delete that folder or pass another --work-dir')

    # Every finished ablation of this work dir, this call's and earlier
    # ones (same signature), each with the seeds it has.
    ablations = {}
    for name, spec in ABLATIONS.items():
        done = bench.finished_runs(
            (plan(name, seed)
             for seed in bench.seeds_in(osp.join(work_dir, name))), metric,
            TOOL)
        if not done:
            continue
        compare = bench.quality_baseline(quality_dir, setting,
                                         [r.seed for r in done], budgets, TOOL)
        ablations[name] = bench.ablation_result(spec, change(name), done,
                                                metric, compare, TOOL)
    report = bench.AblationReport(
        setting=args.setting,
        title=setting['title'],
        metric=metric,
        ablations=ablations,
        total_minutes=bench.wall_minutes(start, trained,
                                         osp.join(work_dir, 'ablations.json')))
    _figure(setting, quality_dir, args.seeds, runs, teacher, budgets, metric,
            osp.join(work_dir, 'curves.png'))
    bench.write_report(work_dir, 'ablations', report, markdown(report), TOOL,
                       ['curves.png'])
    return report


if __name__ == '__main__':
    sys.exit(main())
