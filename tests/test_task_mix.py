"""A teacher and a student of different tasks (an mmpretrain classifier
and an mmseg segmentor) are named as the problem, in one sentence, before
any other check could point elsewhere."""
import os
import os.path as osp
import subprocess
import sys

import pytest
from _tiny import classifier, mosaickd
from mmengine.registry import init_default_scope

from mmmosaic.errors import MosaicError
from mmmosaic.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RECIPE = osp.join('configs', 'zoo', 'resnet18_mobilenetv2_own_images.py')
SEG_STUDENT = ('mmseg::mobilenet_v2/mobilenet-v2-d8_fcn_4xb2-80k_cityscapes'
               '-512x1024.py')


def _segmentor():
    # Wrong in other ways too (a classifier's head key, no decode head):
    # the task mix is what gets named.
    return dict(
        _scope_='mmseg',
        type='EncoderDecoder',
        backbone=dict(type='MobileNetV2'),
        head=dict(num_classes=10))


def test_building_a_game_of_two_tasks_names_the_mix():
    init_default_scope('mmmosaic')
    with pytest.raises(MosaicError) as error:
        MODELS.build(mosaickd(student=_segmentor()))
    said = str(error.value)
    assert said.startswith(
        'model.teacher is an mmpretrain classifier (ImageClassifier) but '
        'model.student an mmseg segmentor (EncoderDecoder)'), said
    assert "a student of the teacher's task" in said
    with pytest.raises(
            MosaicError, match='cannot distil segmentation into '
            'classification'):
        MODELS.build(mosaickd(teacher=_segmentor(), student=classifier()))


def test_train_with_a_segmentor_student_stops_at_once(tmp_path):
    """The README's recipe with the student switched to an mmseg zoo
    segmentor: one sentence, before mmengine's start-up listing."""
    env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')
    proc = subprocess.run([
        sys.executable, 'tools/train.py', RECIPE, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        f'model.student.cfg_path={SEG_STUDENT}',
        f'model.teacher_ckpt={tmp_path}/teacher.pth'
    ],
                          cwd=ROOT,
                          env=env,
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0
    assert not proc.stdout.strip(), proc.stdout[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith('error: model.teacher is an mmpretrain '
                               'classifier (ImageClassifier) but '
                               'model.student an mmseg segmentor')
