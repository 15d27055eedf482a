"""tools/test.py evaluates the student of a run trained without some
player (the OOD report's dfq_ood keys remove the discriminator) from the
recipe as it is, without repeating those keys."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from _tiny import classifier, mosaickd, write_runner_config, write_test_config
from mmengine.registry import init_default_scope

from mmmosaic.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _test(config, checkpoint, work_dir):
    return subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'test.py'), config, checkpoint, '--work-dir',
        work_dir
    ],
                          cwd=ROOT,
                          env=dict(
                              os.environ,
                              PYTHONPATH=osp.join(ROOT, 'tests'),
                              OMP_NUM_THREADS='1'),
                          capture_output=True,
                          text=True,
                          timeout=300)


@pytest.mark.slow
def test_a_run_without_discriminator_is_tested_from_the_recipe(tmp_path):
    write_runner_config(tmp_path / 'tiny.py', tmp_path / 'work')
    config = write_test_config(tmp_path / 'tinytest.py')
    init_default_scope('mmmosaic')
    # What a run with model.discriminator=None saves: no discriminator.
    game = MODELS.build(mosaickd(discriminator=None))
    assert not any(k.startswith('discriminator.') for k in game.state_dict())
    ckpt = tmp_path / 'dfq_ood.pth'
    torch.save(dict(state_dict=game.state_dict(), meta={}), ckpt)
    done = _test(str(config), str(ckpt), str(tmp_path / 'a'))
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'accuracy/top1' in done.stdout

    # The student is still checked strictly: another student stops it.
    other = MODELS.build(
        mosaickd(discriminator=None, student=classifier((8, 16))))
    torch.save(
        dict(state_dict=other.state_dict(), meta={}), tmp_path / 'other.pth')
    done = _test(str(config), str(tmp_path / 'other.pth'), str(tmp_path / 'b'))
    assert done.returncode == 2
    assert 'does not fit the model architecture: shape mismatches' in \
        done.stderr, done.stderr
