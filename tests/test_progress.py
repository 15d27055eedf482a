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
    ]


@pytest.mark.slow
def test_the_last_iteration_and_each_minute_are_logged(tmp_path):
    config = write_runner_config(
        tmp_path / 'cfg.py', tmp_path / 'work', max_iters=5, ckpt_interval=5)
    # An interval the run never reaches: the last iteration still is.
    assert _train(config, 'default_hooks.logger.interval=50') == [5]
    # A line is due whenever the time since the last one has passed.
    assert _train(config, 'default_hooks.logger.interval=50',
                  'default_hooks.logger.min_interval_s=0',
                  f'work_dir={tmp_path}/again') == [1, 2, 3, 4, 5]
