"""The own-images recipe's teacher can be trained here, and the recipe says
so when no teacher checkpoint is given."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmmosaic.registry import MODELS
from mmmosaic.runtime import load_config
from mmmosaic.utils import load_model_weights

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TEACHER = 'configs/zoo/resnet18_cifar10_teacher.py'
RECIPE = 'configs/zoo/resnet18_mobilenetv2_own_images.py'
CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck')


def _train(*args):
    return subprocess.run([sys.executable, 'tools/train.py', *args],
                          cwd=ROOT,
                          env=dict(
                              os.environ,
                              PYTHONWARNINGS='ignore',
                              OMP_NUM_THREADS='1'),
                          capture_output=True,
                          text=True)


@pytest.mark.slow
def test_the_teacher_config_trains_a_checkpoint_the_recipe_loads(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / 'cifar10'
    for split in ('train', 'test'):
        for name in CLASSES:
            os.makedirs(root / split / name)
            cv2.imwrite(
                str(root / split / name / '0.png'),
                rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    work = tmp_path / 'work'
    proc = _train(TEACHER, '--work-dir', str(work), '--cfg-options',
                  f'train_dataloader.dataset.data_root={root}',
                  f'val_dataloader.dataset.data_root={root}',
                  'train_dataloader.batch_size=4',
                  'train_dataloader.num_workers=0', 'train_cfg.max_iters=2',
                  'val_dataloader.batch_size=10')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'accuracy/top1' in proc.stdout
    init_default_scope('mmmosaic')
    teacher = MODELS.build(load_config(osp.join(ROOT, RECIPE)).model.teacher)
    meta = load_model_weights(teacher, str(work / 'iter_2.pth'), 'teacher')
    assert meta['dataset_meta']['classes'] == CLASSES


def test_the_recipe_without_a_teacher_names_the_teacher_config(tmp_path):
    images = tmp_path / 'images'
    images.mkdir()
    cv2.imwrite(str(images / 'a.png'), np.zeros((40, 40, 3), np.uint8))
    proc = _train(RECIPE, '--work-dir', str(tmp_path / 'work'),
                  '--cfg-options',
                  f'train_dataloader.dataset.source.data_root={images}')
    assert proc.returncode == 2
    assert not proc.stdout.strip(), proc.stdout[:2000]
    assert proc.stderr.strip() == (
        'error: model.teacher_ckpt is not set; pass --cfg-options '
        'model.teacher_ckpt=PATH with the trained teacher (train one with '
        f'`python tools/train.py {TEACHER}`).')
