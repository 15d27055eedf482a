"""tools/train.py prints a progress line at least every minute (whatever
the logger interval) and after the last iteration."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from _tiny import write_runner_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _train(config, *options):
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'), config, '--cfg-options', *options
    ],
                          env=dict(
                              os.environ,
                              PYTHONPATH=osp.join(ROOT, 'tests'),
                              OMP_NUM_THREADS='1',
                              PYTHONWARNINGS='ignore'),
                          cwd=ROOT,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [
        int(n)
        for n in re.findall(r'Iter\(train\) \[\s*(\d+)/5\]', proc.stdout)
    ], re.findall(r'Duration estimate: .*', proc.stdout)


@pytest.mark.slow
def test_the_last_iteration_and_each_minute_are_logged(tmp_path):
    config = write_runner_config(
        tmp_path / 'cfg.py', tmp_path / 'work', max_iters=5, ckpt_interval=5)
    # An interval the run never reaches: the last iteration still is.
    logged, estimates = _train(config, 'default_hooks.logger.interval=50')
    assert logged == [5]
    # The duration, once, from iterations 2-4 (the first has the start-up).
    assert len(estimates) == 1
    assert re.match(
        r'Duration estimate: about \d+ s for the 1 iteration left of 5 at '
        r'[\d.e-]+ s each on this machine \(timed over iterations 2-4\)',
        estimates[0]), estimates
    # A line is due whenever the time since the last one has passed.
    logged, estimates = _train(config, 'default_hooks.logger.interval=50',
                               'default_hooks.logger.min_interval_s=0',
                               f'work_dir={tmp_path}/again')
    assert logged == [1, 2, 3, 4, 5]
    assert len(estimates) == 1 and '(timed over iteration 2)' in estimates[0]


class _Logger:

    def __init__(self):
        self.lines = []

    def info(self, line):
        self.lines.append(line)


class _Runner:
    """What the hook's estimate reads of a Runner."""

    def __init__(self, max_iters, start=0):
        self.iter, self.max_iters = start, max_iters
        self.logger = _Logger()


def _estimates(runner, seconds, hook, clock):
    """Run the estimate of ``hook`` over iterations lasting ``seconds``."""
    for s in seconds:
        clock[0] += s
        hook._estimate(runner, clock[0])
        runner.iter += 1
    return [line for line in runner.logger.lines if 'estimate' in line]


def _hook(**kwargs):
    from mmmosaic.engine import ProgressLoggerHook
    hook = ProgressLoggerHook(**kwargs)
    hook.before_train(None)
    return hook


def test_the_duration_estimate_leaves_out_the_first_iteration():
    # 20,000 iterations: a 50 s start-up, then 4 s an iteration.
    runner = _Runner(20000)
    lines = _estimates(runner, [50, 4, 4, 4, 4, 4, 4], _hook(), [0.0])
    assert len(lines) == 1  # once
    assert lines[0].startswith(
        'Duration estimate: about 22.2 h for the 19,996 iterations left of '
        '20,000 at 4 s each on this machine (timed over iterations 2-4), '
        'done around ')
    assert lines[0].endswith('; lower train_cfg.max_iters for a shorter run.')


def test_slow_iterations_are_estimated_after_a_minute():
    # 100 s an iteration (a big game on a CPU): the second iteration gives
    # it: three weeks for the 19,498 iterations a run resumed at 500 has
    # left.
    runner = _Runner(20000, start=500)
    lines = _estimates(runner, [120, 100, 100], _hook(), [0.0])
    assert len(lines) == 1
    assert ('about 22.6 days for the 19,498 iterations left of 20,000 at '
            '100 s each on this machine (timed over iteration 502)'
            in lines[0])


def test_no_estimate_for_a_run_that_is_over():
    runner = _Runner(2)
    assert _estimates(runner, [5, 5], _hook(), [0.0]) == []


def test_duration_units():
    from mmmosaic.engine.hooks.progress_logger_hook import duration_estimate
    line = duration_estimate(0.5, 100, 100, (2, 4), now=0)
    assert 'about 50 s for 100 iterations at 0.5 s each' in line
    assert 'about 50 min' in duration_estimate(30, 100, 200, (2, 4))
