"""Time to KD's final score: training seconds from logged iteration times,
and the first evaluation at which each method's mean curve reaches KD."""
import json
import os

from mmmosaic.benchmarking import reach_kd, reach_markdown
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
    return dict(
        curves=curves,
        train_seconds=clocks,
        budget=dict(student_updates=updates, outer_iterations=outer),
        last=dict(mean=sum(c[-1][1] for c in curves) / len(curves)))


def test_reach_kd_per_method_in_updates_and_minutes():
    clock = [(1, 60.0), (2, 120.0), (3, 180.0), (4, 240.0)]
    slow = [(1, 120.0), (2, 240.0), (3, 360.0), (4, 480.0)]
    report = dict(
        jobs=1,
        environment=dict(cores=2),
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
    # Without KD on OOD images there is nothing to reach.
    del report['methods']['kd_ood']
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
