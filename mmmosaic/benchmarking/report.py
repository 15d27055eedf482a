"""The quality benchmark's report as typed results: each method's runs
(:class:`MethodResult`) and the teacher's (:class:`TeacherResult`) in a
:class:`QualityReport`, which :func:`quality_report` builds from finished
runs and ``benchmarks/quality.py`` writes as ``results.json``; an
ablation's runs (:class:`AblationResult`) beside the quality runs it is
compared with (:func:`quality_baseline`) in an :class:`AblationReport`.
Then the reports' Markdown, the curves' figure and the mosaic grids."""
import dataclasses
import glob
import json
import os.path as osp
import platform
import statistics
import textwrap
import time
from dataclasses import dataclass, field
from typing import ClassVar, Dict, List, Optional, Sequence, Tuple

from mmmosaic.errors import MosaicError
from mmmosaic.utils.runs import metric_history, say, table, train_seconds
from .runs import Run, budget, cores, finished, run_dir
from .scores import (mean_of_tables, mean_per_class_iou, mosaic_coverage,
                     per_class_accuracy_of_run, per_class_iou_of_run, stats)
from .settings import ACCURACY, NAMES, NO_GENERATOR


class _Result:
    """JSON in and out for the result types below: ``to_json`` leaves out
    the fields of ``optional`` that are not set (older reports lack them),
    ``from_json`` refuses a file of another layout in one sentence."""
    optional: ClassVar[Tuple[str, ...]] = ()

    def to_json(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in self.optional and not value:
                continue
            if isinstance(value, _Result):
                value = value.to_json()
            elif isinstance(value, dict):
                value = {
                    k: v.to_json() if isinstance(v, _Result) else v
                    for k, v in value.items()
                }
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict, source: str = 'the report'):
        try:
            return cls(**cls._nested(dict(data), source))
        except (TypeError, KeyError) as e:
            raise MosaicError(
                f'{source} was written in another layout ({e!r} does not '
                'fit); run the benchmark script again to rebuild it from its '
                'runs.') from e

    @classmethod
    def _nested(cls, data: dict, source: str) -> dict:
        """``data`` with its nested results typed."""
        return data


@dataclass
class MethodResult(_Result):
    """One method's runs in a report, one per seed: ``last`` and ``best``
    score over seeds (:func:`stats`), the curves (``(outer iteration,
    score)`` per seed), each run's training clock, the options that make
    the setting's config this method, per-class scores and how the teacher
    sees its final generator's images (``mosaic_coverage``)."""
    config: str
    seeds: List[int]
    budget: dict
    last: dict
    best: dict
    curves: list
    train_seconds: list
    minutes: float
    run_options: List[str] = field(default_factory=list)
    per_class: Optional[dict] = None
    mosaic_coverage: Optional[dict] = None
    optional: ClassVar[Tuple[str, ...]] = ('per_class', 'mosaic_coverage')


@dataclass
class TeacherResult(_Result):
    """The teacher of a report: its config, checkpoint, score, per-class
    scores (None for a classification setting without them) and minutes."""
    config: str
    checkpoint: str
    score: float
    per_class: Optional[dict]
    minutes: float


@dataclass
class QualityReport(_Result):
    """A setting's report: the teacher and each method
    (:class:`MethodResult`, in the table's order), the mosaic grids, how the
    teacher sees the OOD images (``coverage``), when each method reaches
    KD on OOD images (:func:`reach_kd`), the wall time and ``verdicts``
    (sentences on the project's targets, which the caller adds)."""
    setting: str
    title: str
    metric: str
    seeds: List[int]
    jobs: int
    environment: dict
    teacher: TeacherResult
    methods: Dict[str, MethodResult]
    mosaics: Dict[str, str]
    coverage: Optional[dict] = None
    updates_to_reach_kd: Optional[int] = None
    reach_kd: dict = field(default_factory=dict)
    total_minutes: float = 0.0
    verdicts: List[str] = field(default_factory=list)
    optional: ClassVar[Tuple[str, ...]] = ('coverage', )

    @classmethod
    def _nested(cls, data: dict, source: str) -> dict:
        # Reports written before these fields existed: the defaults the
        # code that wrote them read them with.
        data.setdefault('metric', ACCURACY)
        data['teacher'] = TeacherResult.from_json(data['teacher'], source)
        data['methods'] = {
            m:
            MethodResult.from_json(
                dict(dict(seeds=data.get('seeds'), train_seconds=[]), **r),
                source)
            for m, r in data['methods'].items()
        }
        return data

    @classmethod
    def load(cls, path: str) -> 'QualityReport':
        """The report a ``results.json`` holds."""
        with open(path) as f:
            return cls.from_json(json.load(f), path)


@dataclass
class AblationResult(_Result):
    """An ablation's runs (one per seed): what it changes and why, its
    options, the :func:`quality_baseline` of the same seeds, its budget,
    how often it is at or above KD (:func:`vs_kd`), the mean ``last`` and
    ``best`` score, the curves, per-class IoU (None for classification)
    and training minutes."""
    change: str
    why: str
    options: List[str]
    seeds: List[int]
    baseline: dict
    budget: dict
    vs_kd: dict
    last: float
    best: float
    curves: list
    per_class: Optional[dict]
    minutes: float


@dataclass
class AblationReport(_Result):
    """``benchmarks/ablations.py``'s report: every finished ablation of a
    setting's work dir."""
    setting: str
    title: str
    metric: str
    ablations: Dict[str, AblationResult]
    total_minutes: float

    @classmethod
    def _nested(cls, data: dict, source: str) -> dict:
        data['ablations'] = {
            n: AblationResult.from_json(r, source)
            for n, r in data['ablations'].items()
        }
        return data


def curves_of(runs: Sequence[Run], metric: str) -> list:
    """The logged ``metric`` of each run; refuses a run without one."""
    curves = [run.curve(metric) for run in runs]
    for run, curve in zip(runs, curves):
        if not curve:
            raise MosaicError(f'no {metric} was logged in {run.run_dir}; see '
                              'its console.log.')
    return curves


def method_result(runs: Sequence[Run], metric: str) -> MethodResult:
    """A method's entry of the report from its runs (one per seed, in
    order), without per-class scores and mosaic coverage."""
    curves = curves_of(runs, metric)
    return MethodResult(
        config=runs[0].config,
        seeds=[r.seed for r in runs],
        budget=budget(runs[0].config, runs[0].options),
        last=stats([c[-1][1] for c in curves]),
        best=stats([max(v for _, v in c) for c in curves]),
        curves=curves,
        train_seconds=[train_seconds(r.run_dir) for r in runs],
        minutes=sum(r.seconds() for r in runs) / 60)


def quality_report(name: str, setting: dict, teacher: Run, runs: Sequence[Run],
                   methods: Sequence[str], jobs: int, work_dir: str,
                   coverage: Optional[dict]) -> QualityReport:
    """The quality report of setting ``name`` from its finished runs: the
    teacher's and every method's (``methods``, in the report's order) with
    their per-class scores, the generators' coverage and mosaic grids
    (copied to ``work_dir``) and the time to reach KD; ``coverage`` is how
    the teacher sees the OOD images. The caller adds ``total_minutes`` and
    ``verdicts``."""
    metric = setting.get('metric', ACCURACY)
    # Per-class accuracy where the setting asks for it, else per-class IoU
    # (none for a classification setting).
    per_class_of_run = (
        per_class_accuracy_of_run
        if setting.get('per_class_accuracy') else per_class_iou_of_run)
    report = QualityReport(
        setting=name,
        title=setting['title'],
        metric=metric,
        seeds=sorted({r.seed
                      for r in runs}),
        jobs=jobs,
        environment=machine(),
        teacher=TeacherResult(
            config=teacher.config,
            checkpoint=osp.join(teacher.run_dir,
                                f'iter_{teacher.max_iters}.pth'),
            score=teacher.curve(metric)[-1][1],
            per_class=per_class_of_run(
                teacher.config,
                teacher.options,
                teacher.run_dir,
                teacher.max_iters,
                student=False),
            minutes=teacher.seconds() / 60),
        methods={},
        mosaics={},
        coverage=coverage or None)
    for method in methods:
        mine = sorted((r for r in runs if r.name == method),
                      key=lambda r: r.seed)
        res = report.methods[method] = method_result(mine, metric)
        # The options that make the config this method at this budget.
        res.run_options = setting['run_options'].get(method, [])
        res.per_class = mean_of_tables([
            per_class_of_run(r.config, r.options, r.run_dir, r.max_iters)
            for r in mine
        ]) or None
        if method in NO_GENERATOR:
            continue
        first = mine[0]
        if coverage:
            res.mosaic_coverage = mosaic_coverage(first.config, first.options,
                                                  first.run_dir,
                                                  first.max_iters,
                                                  coverage['classes'])
        grid = copy_mosaic(first.run_dir,
                           osp.join(work_dir, f'mosaics_{method}.png'))
        if grid:
            report.mosaics[method] = grid
    report.reach_kd = reach_kd(report)
    reached = report.reach_kd.get('mosaickd')
    report.updates_to_reach_kd = reached['updates'] if reached else None
    return report


def quality_baseline(quality_dir: str, setting: dict, seeds: Sequence[int],
                     budgets: dict, tool: str) -> dict:
    """KD-on-OOD and MosaicKD of a setting's quality runs of ``seeds``
    (``quality_dir``; ``budgets`` of both as :func:`budget` gives them):
    their mean ``last`` score, ``curves``, ``budget`` and ``per_class``
    scores, and MosaicKD's ``vs_kd`` (:func:`vs_kd`), which ablations are
    compared with.

    Raises:
        MosaicError: One of these runs is missing or not finished.
    """
    metric = setting.get('metric', ACCURACY)
    out = {}
    for method in ('kd_ood', 'mosaickd'):
        dirs = [run_dir(quality_dir, setting, method, s) for s in seeds]
        for folder in dirs:
            if not finished(folder, budgets[method]['outer_iterations'],
                            metric):
                raise MosaicError(
                    f'{folder} holds no finished run; run benchmarks/'
                    f'quality.py with --methods kd_ood mosaickd --seeds '
                    f'{" ".join(map(str, seeds))} first (the ablations '
                    'compare with it).')
        curves = [metric_history(d, metric, all_runs=True) for d in dirs]
        out[method] = dict(
            last=statistics.fmean(c[-1][1] for c in curves),
            curves=curves,
            budget=budgets[method],
            per_class=mean_per_class_iou(dirs, tool))
    out['mosaickd']['vs_kd'] = vs_kd(out['mosaickd']['curves'],
                                     budgets['mosaickd'], out)
    return out


def vs_kd(curves: list, budget: dict, baseline: dict) -> dict:
    """How often a mean curve is at or above KD on OOD images' of a
    :func:`quality_baseline` (same seeds) from :data:`NEVER_BEHIND_FROM`
    of its budget on (:func:`at_or_above_kd`)."""
    kd = baseline['kd_ood']
    return at_or_above_kd(curves, budget, kd['curves'], kd['budget'])


def ablation_result(spec: dict, options: List[str], runs: Sequence[Run],
                    metric: str, baseline: dict, tool: str) -> AblationResult:
    """An ablation's entry of the ablation report: what it changes and why
    (``spec``), its ``options``, its finished runs (one per seed) and the
    :func:`quality_baseline` of the same seeds."""
    curves = curves_of(runs, metric)
    own = budget(runs[0].config, runs[0].options)
    return AblationResult(
        change=spec['change'],
        why=spec['why'],
        options=options,
        seeds=[r.seed for r in runs],
        baseline=baseline,
        budget=own,
        vs_kd=vs_kd(curves, own, baseline),
        last=statistics.fmean(c[-1][1] for c in curves),
        best=statistics.fmean(max(v for _, v in c) for c in curves),
        curves=curves,
        per_class=mean_per_class_iou([r.run_dir for r in runs], tool),
        minutes=sum(r.seconds() for r in runs) / 60)


def ylabel(metric: str) -> str:
    """The curves' axis label of ``metric``."""
    return 'val mIoU (%)' if metric == 'mIoU' else 'test accuracy (%)'


def write_report(work_dir: str,
                 stem: str,
                 report: _Result,
                 markdown: str,
                 tool: str,
                 figures: Sequence[str] = ()) -> None:
    """Write ``report`` as ``<stem>.json`` and its Markdown as
    ``<stem>.md`` to ``work_dir``, print the Markdown and say what was
    written (with the ``figures`` written beside)."""
    with open(osp.join(work_dir, f'{stem}.json'), 'w') as f:
        json.dump(report.to_json(), f, indent=2)
    with open(osp.join(work_dir, f'{stem}.md'), 'w') as f:
        f.write(markdown)
    print()
    print(markdown)
    say(
        tool, f'wrote {work_dir}/{stem}.json, {stem}.md' +
        ''.join(f', {name}' for name in figures))


def wall_minutes(start: float, trained: bool, previous: str) -> float:
    """Minutes since ``start`` (``time.time()``); when nothing trained,
    those of the report in ``previous`` if there is one (the call that
    trained, the figure the budget is about)."""
    if not trained and osp.isfile(previous):
        with open(previous) as f:
            minutes = json.load(f).get('total_minutes')
        if minutes is not None:
            return minutes
    return (time.time() - start) / 60


def plot_curves(series: Dict[str, Tuple[list, dict]], teacher_acc: float,
                title: str, ylabel: str, path: str) -> None:
    """Plot each series, ``label: (curves, budget)``, as its score against
    student updates (mean over seeds, with the min-max band), and the
    teacher's as a line; save to ``path``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label, (curves, budget_) in series.items():
        by_updates = seed_rows(curves, budget_)
        if not by_updates:
            continue
        xs = list(by_updates)
        rows = list(by_updates.values())
        mean = [statistics.fmean(r) for r in rows]
        line, = ax.plot(xs, mean, marker='o', ms=3, label=label)
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
    ax.legend(fontsize=8, loc='best')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def seed_rows(curves: list, budget: dict) -> dict:
    """``{student updates: [score of each seed]}`` at every evaluation all
    seeds' ``curves`` (lists of ``(outer iteration, score)``) share, in
    order; ``budget`` as :func:`mmmosaic.benchmarking.budget` gives it."""
    curves = [dict(c) for c in curves]
    if not curves:
        return {}
    per_update = budget['student_updates'] // budget['outer_iterations']
    steps = sorted(set.intersection(*(set(c) for c in curves)))
    return {s * per_update: [c[s] for c in curves] for s in steps}


#: Where the "never behind KD" count starts: this share of a method's budget
#: (before it, a game's players are still young; the target asks no more).
NEVER_BEHIND_FROM = 0.2


def never_behind_from() -> str:
    """:data:`NEVER_BEHIND_FROM` as the reports write it (``'20 %'``)."""
    return f'{NEVER_BEHIND_FROM * 100:.0f} %'


def at_or_above_kd(curves: list,
                   budget: dict,
                   kd_curves: list,
                   kd_budget: dict,
                   start: float = NEVER_BEHIND_FROM) -> dict:
    """How often a method's mean curve is at or above KD on OOD images'
    mean curve at the same number of student updates, over the
    evaluations both have from ``start`` of the method's budget on.

    Returns:
        dict: ``at_or_above`` and ``evaluations`` (counts), ``never_behind``
        (every one of them at or above KD; False when there is none) and
        ``largest_deficit`` (KD minus the method where it is most behind;
        0.0 if never behind).
    """
    mine = {
        u: statistics.fmean(r)
        for u, r in seed_rows(curves, budget).items()
    }
    kd = {
        u: statistics.fmean(r)
        for u, r in seed_rows(kd_curves, kd_budget).items()
    }
    first = start * budget['student_updates']
    shared = [u for u in mine if u >= first and u in kd]
    gaps = [kd[u] - mine[u] for u in shared]
    above = sum(g <= 0 for g in gaps)
    return dict(
        at_or_above=above,
        evaluations=len(shared),
        never_behind=bool(shared) and above == len(shared),
        largest_deficit=max([0.0] + gaps))


def copy_mosaic(run_dir: str, dest: str):
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


def machine() -> dict:
    """The CPU, cores, Python and torch a report was measured with."""
    import torch
    return dict(
        cpu=platform.processor() or platform.machine(),
        cores=cores(),
        python=platform.python_version(),
        torch=torch.__version__)


def reach_kd(report: QualityReport) -> dict:
    """For each method of ``report``, when its mean curve first reaches KD
    on OOD images' final mean score: ``updates`` (student updates) and
    ``minutes`` (mean over seeds of each run's training time up to that
    evaluation, :func:`mmmosaic.utils.runs.train_seconds`; None for a run
    without logged times). None for a method that never reaches it; an
    empty dict without KD on OOD images."""
    methods = report.methods
    if 'kd_ood' not in methods:
        return {}
    target = methods['kd_ood'].last['mean']
    out = {}
    for method, res in methods.items():
        out[method] = None
        per_update = (
            res.budget['student_updates'] // res.budget['outer_iterations'])
        for updates, row in seed_rows(res.curves, res.budget).items():
            if statistics.fmean(row) < target:
                continue
            step = updates // per_update
            seconds = [
                next((t for s, t in clock if s >= step), clock[-1][1])
                for clock in res.train_seconds or [] if clock
            ]
            out[method] = dict(
                updates=updates,
                minutes=(statistics.fmean(seconds) /
                         60 if len(seconds) == len(row) else None))
            break
    return out


def reach_markdown(report: QualityReport) -> list:
    """Markdown lines of the time-to-KD table of a report (none without KD
    on OOD images)."""
    reached = reach_kd(report)
    if not reached:
        return []
    target = report.methods['kd_ood'].last['mean']
    rows = []
    for method, res in report.methods.items():
        hit = reached[method]
        clocks = [c for c in res.train_seconds or [] if c]
        whole = (f'{statistics.fmean(c[-1][1] for c in clocks) / 60:.1f}'
                 if clocks else '-')
        if hit is None:
            rows.append([NAMES[method], 'never', '-', whole])
        else:
            minutes = ('-'
                       if hit['minutes'] is None else f'{hit["minutes"]:.1f}')
            rows.append([NAMES[method], f'{hit["updates"]:,}', minutes, whole])
    return [
        f'Time to KD on OOD images\' final score ({target:.2f}, mean of '
        'seeds): the first evaluation at which a method\'s mean curve '
        'reaches it, in student updates and in minutes of training (mean '
        'per run, from the iteration times the runs log; evaluations '
        f'excluded; {report.jobs} run(s) at a time on '
        f'{report.environment["cores"]} cores, so compare methods within '
        'one report).', '',
        table(rows, [
            'method', 'student updates', 'training minutes',
            'training minutes, whole run'
        ]), ''
    ]


def coverage_markdown(coverage: dict, what: str = 'the OOD images') -> list:
    """Markdown lines that describe how the teacher sees ``what``, from a
    coverage dict (:func:`mmmosaic.analysis.teacher_coverage`)."""
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


def per_class_markdown(report: QualityReport) -> list:
    """Markdown lines of the per-class table of a report (none if no
    method has per-class scores)."""
    methods = [m for m, r in report.methods.items() if r.per_class]
    if not methods:
        return []
    per_class = {m: report.methods[m].per_class for m in methods}
    teacher = report.teacher.per_class
    both = {'mosaickd', 'kd_ood'} <= set(methods)
    coverage = report.coverage
    shares = dict(zip(coverage['classes'],
                      coverage['top_class_share'])) if coverage else {}
    mosaickd = report.methods.get('mosaickd')
    mosaics = mosaickd.mosaic_coverage if mosaickd else None
    mosaic_shares = dict(zip(mosaics['classes'],
                             mosaics['top_class_share'])) if mosaics else {}
    dense = report.metric == 'mIoU'
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


def markdown_report(report: QualityReport) -> str:
    """The report as Markdown (``results.md``)."""
    teacher = report.teacher.score
    rows = []
    for method, res in report.methods.items():
        last, best = res.last, res.best
        rows.append([
            NAMES[method], f'{last["mean"]:.2f} ± {last["std"]:.2f}',
            f'{best["mean"]:.2f} ± {best["std"]:.2f}',
            ', '.join(f'{v:.2f}' for v in last['values']) +
            ('' if res.seeds == report.seeds else f' (seeds {res.seeds})'),
            f'{100 * last["mean"] / teacher:.1f}%', f'{res.minutes:.1f}'
        ])
    lines = [
        f'### {report.title}', '',
        f'Teacher: {teacher:.2f} {report.metric}. Seeds '
        f'{report.seeds}; mean ± standard deviation over seeds; "last" '
        'after the final update, "best" the highest of the evaluations '
        'during training.', '',
        table(rows, [
            'method', 'last', 'best', 'last per seed', 'of teacher',
            'minutes (all seeds)'
        ]), ''
    ]
    budget_ = report.methods.get('mosaickd',
                                 next(iter(report.methods.values()))).budget
    lines.append(
        f'Budget per run: {budget_["student_updates"]} student updates '
        f'({budget_["outer_iterations"]} outer iterations). Images per '
        'student update: ' +
        '; '.join(f'{NAMES[m]} {r.budget["synthetic_per_update"]} synthetic + '
                  f'{r.budget["ood_per_update"]} '
                  f'{"in-domain" if m == "kd_indomain" else "OOD"}'
                  for m, r in report.methods.items()) + '.')
    lines.append('')
    if report.coverage:
        lines += coverage_markdown(report.coverage)
    for method, res in report.methods.items():
        if res.mosaic_coverage:
            lines += coverage_markdown(
                res.mosaic_coverage,
                f'the final {NAMES[method]} generator\'s images (seed '
                f'{res.seeds[0]})')
    lines += per_class_markdown(report)
    lines += reach_markdown(report)
    lines += [f'- {verdict}' for verdict in report.verdicts]
    lines.append(f'- Wall time of the whole setting: '
                 f'{report.total_minutes:.1f} min on '
                 f'{report.environment["cores"]} CPU cores '
                 f'(--jobs {report.jobs}).')
    lines.append('')
    lines.append('![curves](accuracy.png)')
    for method, name in report.mosaics.items():
        lines += [
            '', f'{NAMES[method]}: the generator\'s last grid (seed '
            f'{report.methods[method].seeds[0]}), one row per class, class 0 '
            'at the top; ' + GRID_ROWS[report.metric == 'mIoU'], '',
            f'![{name}]({name})'
        ]
    return '\n'.join(lines) + '\n'


#: How the mosaic grids' rows are chosen, for classification and for
#: segmentation (``mosaic_grid``).
GRID_ROWS = (
    'each image in the row of the class the teacher predicts; an empty row '
    'is a class the teacher never predicted.',
    'each image, followed by the teacher\'s mask, in the row of the class '
    'it shows most relative to the other images; an empty row is a class '
    'no image shows more of than the others.')
