"""A run shortened with train_cfg.max_iters (what the duration estimate
suggests) trains: schedulers that would begin after its end are left out
instead of stopping mmengine ("end should be larger than begin")."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmmosaic.runtime import drop_schedulers_after_the_end

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TEACHER = 'configs/zoo/resnet18_cifar10_teacher.py'
CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck')


def test_schedulers_that_begin_after_the_end_are_left_out():
    warm = dict(type='LinearLR', by_epoch=False, begin=0, end=500)
    cosine = dict(type='CosineAnnealingLR', by_epoch=False, begin=500)
    cfg = Config(
        dict(train_cfg=dict(max_iters=100), param_scheduler=[warm, cosine]))
    assert drop_schedulers_after_the_end(cfg).param_scheduler == [warm]
    # Long enough, or an explicit end, or counted in epochs: kept.
    kept = [([warm, cosine], 501), ([warm, dict(cosine, end=900)], 100),
            ([warm, dict(cosine, by_epoch=True)], 100)]
    for steps, max_iters in kept:
        cfg = Config(
            dict(train_cfg=dict(max_iters=max_iters), param_scheduler=steps))
        assert drop_schedulers_after_the_end(cfg).param_scheduler == steps
    # One list per player.
    cfg = Config(
        dict(
            train_cfg=dict(max_iters=10),
            param_scheduler=dict(student=[warm, cosine], generator=cosine)))
    assert drop_schedulers_after_the_end(cfg).param_scheduler == dict(
        student=[warm], generator=[])


@pytest.mark.slow
def test_the_zoo_teacher_recipe_trains_a_few_iterations(tmp_path):
    # Its cosine begins after a 500-iteration warm-up.
    for split in ('train', 'test'):
        for name in CLASSES:
            folder = tmp_path / 'cifar' / split / name
            folder.mkdir(parents=True)
            cv2.imwrite(
                str(folder / '0.png'),
                np.random.default_rng(0).integers(0, 255, (32, 32, 3),
                                                  np.uint8))
    data = str(tmp_path / 'cifar')
    proc = subprocess.run([
        sys.executable, 'tools/train.py', TEACHER, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', 'train_cfg.max_iters=2',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'val_dataloader.num_workers=0',
        f'train_dataloader.dataset.data_root={data}',
        f'val_dataloader.dataset.data_root={data}'
    ],
                          cwd=ROOT,
                          env=dict(
                              os.environ,
                              OMP_NUM_THREADS='1',
                              PYTHONWARNINGS='ignore'),
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (tmp_path / 'work' / 'iter_2.pth').is_file()
