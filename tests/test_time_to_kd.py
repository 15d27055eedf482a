"""Time to KD's final score: training seconds from logged iteration times,
the first evaluation at which each method's mean curve reaches KD, and how
often a curve is at or above KD's from a fifth of the budget on."""
import json
import os

import pytest
from _tiny import load_script

import mmmosaic.benchmarking as bench
from mmmosaic.benchmarking import at_or_above_kd, reach_kd, reach_markdown
from mmmosaic.errors import MosaicError
from mmmosaic.utils.runs import train_seconds


def _write_run(work_dir, stamp, records):
    folder = os.path.join(work_dir, stamp, 'vis_data')
    os.makedirs(folder)
    with open(os.path.join(folder, 'scalars.json'), 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')


def test_train_seconds_sums_logged_iteration_times(tmp_path):
    work = str(tmp_path)
    _write_run(
        work,
        '20260101_000000',
        [
            dict(iter=10, step=10, time=0.5, loss=1.0),
            dict(iter=20, step=20, time=1.0, loss=0.9),
            # An evaluation's own time is not training time.
            dict(step=20, time=30.0, **{'accuracy/top1': 40.0}),
        ])
    # A resumed stretch: its record at step 20 replaces the first one's.
    _write_run(work, '20260101_010000', [
        dict(iter=20, step=20, time=2.0, loss=0.9),
        dict(iter=40, step=40, time=0.25, loss=0.8),
    ])
    assert train_seconds(work) == [(10, 5.0), (20, 25.0), (40, 30.0)]
    assert train_seconds(str(tmp_path / 'missing')) == []


def _method(curves, clocks, outer=4, updates=20):
    last = [c[-1][1] for c in curves]
    return bench.MethodResult(
        config='cfg.py',
        seeds=list(range(len(curves))),
        curves=curves,
        train_seconds=clocks,
        budget=dict(student_updates=updates, outer_iterations=outer),
        last=dict(mean=sum(last) / len(last), values=last),
        best=dict(mean=max(last)),
        minutes=1.0)


def test_reach_kd_per_method_in_updates_and_minutes():
    clock = [(1, 60.0), (2, 120.0), (3, 180.0), (4, 240.0)]
    slow = [(1, 120.0), (2, 240.0), (3, 360.0), (4, 480.0)]
    report = bench.QualityReport(
        setting='x',
        title='x',
        metric='accuracy/top1',
        seeds=[0, 1],
        jobs=1,
        environment=dict(cores=2),
        teacher=bench.TeacherResult('t.py', 't.pth', 90.0, None, 1.0),
        mosaics={},
        methods=dict(
            kd_ood=_method([[(2, 40.0), (4, 50.0)], [(2, 44.0), (4, 52.0)]],
                           [clock, clock]),
            # Mean 51 at step 2: reaches KD's 51 there.
            mosaickd=_method([[(2, 50.0), (4, 55.0)], [(2, 52.0), (4, 56.0)]],
                             [slow, clock]),
            dfad=_method([[(2, 10.0), (4, 20.0)], [(2, 10.0), (4, 20.0)]],
                         [clock, clock])))
    reached = reach_kd(report)
    assert reached['kd_ood'] == dict(updates=20, minutes=4.0)
    assert reached['mosaickd'] == dict(updates=10, minutes=3.0)
    assert reached['dfad'] is None
    text = '\n'.join(reach_markdown(report))
    assert '| DFAD' in text and 'never' in text
    assert ('MosaicKD\'s mean curve is at or above KD on OOD data\'s at 2 '
            'of the 2 evaluations from 20 % of the budget on (never behind).'
            ) in load_script('benchmarks/quality.py').verdicts(report, 'x')
    # Without KD on OOD images there is nothing to reach.
    # The report goes to JSON and back unchanged; optional fields left
    # unset are not written, and a file of another layout is refused.
    data = json.loads(json.dumps(report.to_json()))
    assert 'coverage' not in data and 'per_class' not in data['methods'][
        'dfad'] and data['teacher']['per_class'] is None
    assert bench.QualityReport.from_json(data).to_json() == data
    del data['methods']['dfad']['curves']
    with pytest.raises(
            MosaicError, match='results.json was written in '
            'another layout'):
        bench.QualityReport.from_json(data, 'results.json')
    del report.methods['kd_ood']
    assert reach_kd(report) == {} and reach_markdown(report) == []


def test_seconds_of_a_run_killed_midway_are_kept(tmp_path, monkeypatch):
    """A call that dies after some progress keeps the time it trained in
    the run's seconds file, on top of what earlier calls recorded."""
    import pytest

    import mmmosaic.benchmarking.runs as bench_runs
    import mmmosaic.utils.runs as utils_runs
    from mmmosaic.cli import ToolFailed
    root = tmp_path / 'repo'
    (root / 'tools').mkdir(parents=True)
    # Two progress lines a quarter-second apart, then death (as a run
    # killed at the end of a session, without the caller's final write).
    (root / 'tools' / 'train.py').write_text(
        'import time\n'
        "print('Iter(train) [ 1/4]  loss: 1.0', flush=True)\n"
        'time.sleep(0.25)\n'
        "print('Iter(train) [ 2/4]  loss: 0.9', flush=True)\n"
        'raise SystemExit(3)\n')
    (root / 'cfg.py').write_text('train_cfg = dict(max_iters=4)\n')
    monkeypatch.setattr(utils_runs, 'REPO_ROOT', str(root))
    monkeypatch.setattr(bench_runs, 'REPO_ROOT', str(root))
    work = tmp_path / 'run'
    work.mkdir()
    bench_runs.write_seconds(str(work / bench_runs.SECONDS_FILE), 100.0)
    with pytest.raises(ToolFailed):
        bench_runs.train_or_reuse(
            'cfg.py',
            str(work), [],
            label='fake',
            iters=4,
            threads=1,
            metric='accuracy/top1',
            tool='test')
    kept = bench_runs.read_seconds(str(work))
    assert 100.25 <= kept < 130, kept


def _budget(outer, updates):
    return dict(outer_iterations=outer, student_updates=updates)


def test_at_or_above_kd_compares_mean_curves_at_equal_updates():
    # KD: 5 student updates an outer iteration, evaluated every 2.
    kd = [[(2, 40.0), (4, 50.0), (6, 55.0), (8, 58.0), (10, 60.0)],
          [(2, 42.0), (4, 52.0), (6, 57.0), (8, 60.0), (10, 62.0)]]
    kd_budget = _budget(10, 50)
    # Behind at 10 updates (mean 38 against 41), level at 20, ahead after.
    mine = [[(2, 37.0), (4, 51.0), (6, 57.0), (8, 60.0), (10, 62.0)],
            [(2, 39.0), (4, 51.0), (6, 57.0), (8, 60.0), (10, 62.0)]]
    got = at_or_above_kd(mine, kd_budget, kd, kd_budget)
    assert got == dict(
        at_or_above=4, evaluations=5, never_behind=False, largest_deficit=3.0)
    # From 30 % of the budget on (15 updates) the early deficit is out.
    got = at_or_above_kd(mine, kd_budget, kd, kd_budget, start=0.3)
    assert got == dict(
        at_or_above=4, evaluations=4, never_behind=True, largest_deficit=0.0)
    # A method with 10 updates an outer iteration: its step 2 is KD's step
    # 4 (20 updates), its step 4 KD's step 8.
    wide = [[(2, 50.0), (4, 59.0)]]
    got = at_or_above_kd(wide, _budget(5, 50), kd, kd_budget)
    assert got == dict(
        at_or_above=1, evaluations=2, never_behind=False, largest_deficit=1.0)
    # With 3 an outer iteration it evaluates at 15 and 30 updates: only 30
    # is one of KD's.
    got = at_or_above_kd([[(5, 0.0), (10, 99.0)]], _budget(10, 30), kd,
                         kd_budget)
    assert (got['at_or_above'], got['evaluations']) == (1, 1)
    # Nothing in common: not "never behind".
    got = at_or_above_kd([[(1, 99.0)]], _budget(1, 1), kd, kd_budget)
    assert got['evaluations'] == 0 and not got['never_behind']


def _fake_run(run_dir, config, options, curve):
    """A finished run's folder as the benchmarks read it: signature, last
    checkpoint, seconds and the logged metric."""
    bench.record_signature(run_dir, config, options)
    iters = curve[-1][0]
    open(os.path.join(run_dir, f'iter_{iters}.pth'), 'w').close()
    with open(os.path.join(run_dir, 'seconds.txt'), 'w') as f:
        f.write('60.0')
    _write_run(run_dir, '20260101_000000',
               [dict(step=s, **{'accuracy/top1': v}) for s, v in curve])


def test_ablation_runner_trains_joins_and_counts_evaluations_above_kd(
        tmp_path, monkeypatch):
    """benchmarks/ablations.py trains the runs it is asked for through the
    benchmark runner, joins the finished runs of earlier calls with the
    same signature, and counts each curve's evaluations at or above KD's
    from 20 % of the budget on."""
    from mmmosaic.benchmarking import runs as runner
    ablations = load_script('benchmarks/ablations.py')
    setting = bench.SETTINGS['mnist_fashion_400']
    configs = setting['configs']
    iters = bench.max_iters(configs['kd_ood'], [])
    steps = [iters * k // 5 for k in range(1, 6)]
    quality, work = str(tmp_path / 'quality'), str(tmp_path / 'ablations')
    teacher = ['randomness.seed=0']
    _fake_run(
        bench.run_dir(quality, setting, 'teacher'), configs['teacher'],
        teacher, [(bench.max_iters(configs['teacher'], teacher), 99.0)])
    curves = dict(
        kd_ood=[50.0, 60.0, 70.0, 80.0, 85.0],
        mosaickd=[40.0, 55.0, 72.0, 81.0, 84.0])
    for method, values in curves.items():
        _fake_run(
            bench.run_dir(quality, setting, method, 0), configs[method], [],
            list(zip(steps, values)))
    trained = []

    def train_or_reuse(config, run_dir, options, label, max_iters, threads,
                       metric, tool):
        if bench.finished(run_dir, max_iters, metric):
            return 60.0, False
        trained.append(label)
        _fake_run(run_dir, config, options,
                  list(zip(steps, [50.0, 60.0, 70.0, 80.0, 85.0])))
        return 60.0, True

    monkeypatch.setattr(runner, 'train_or_reuse', train_or_reuse)
    monkeypatch.setattr(bench, 'check_prepared_data', lambda *args: None)

    def call(*names):
        return ablations.run(
            ablations.parse_args([
                'mnist_fashion_400', '--ablations', *names, '--seeds', '0',
                '--work-dir', work, '--quality-dir', quality
            ]))

    first = call('bn_1', 'ood_none')
    assert trained == ['bn_1/seed0', 'ood_none/seed0']
    # MosaicKD from 20 % of the budget on: behind at 20 % and 40 % and at
    # the end, ahead at 60 % and 80 %; the ablation never behind.
    row = first.ablations['bn_1']
    assert row.baseline['mosaickd']['vs_kd'] == dict(
        at_or_above=2, evaluations=5, never_behind=False, largest_deficit=10.0)
    assert row.vs_kd['never_behind'] and row.vs_kd['evaluations'] == 5
    assert row.minutes == 1.0
    # A second call trains nothing and still reports the earlier call's
    # ablation, whose run has the signature it would give it.
    second = call('bn_1')
    assert trained == ['bn_1/seed0', 'ood_none/seed0']
    assert list(second.ablations) == ['bn_1', 'ood_none']
    assert second.total_minutes == first.total_minutes
    with open(os.path.join(work, 'ablations.md')) as f:
        text = f.read()
    assert (
        '| 0 | 85.00 | 84.00 | 85.00 | +1.00 | +0.00 | '
        '5 of 5, never behind | 2 of 5 (at most 10.00 behind) | 1.0 |') in text
