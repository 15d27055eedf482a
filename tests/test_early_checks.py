"""Mistakes in the inputs of a run stop tools/train.py with one sentence
before mmengine's Runner prints its start-up listing (environment, config,
hooks): an image folder without images and keys nothing takes."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RECIPE = 'configs/zoo/resnet18_mobilenetv2_own_images.py'

CASES = [
    ('empty-folder', ['train_dataloader.dataset.source.data_root={empty}'],
     "OOD image folder '{empty}' "
     '(train_dataloader.dataset.source.data_root) holds no image files'),
    ('top-level-key', ['model.student_step=3'],
     "model.student_step is not a key of MosaicKD (did you mean "
     "'student_steps'?)"),
    ('player-key', ['model.student.head.num_clases=10'],
     "model.student: ClsHead takes no argument 'num_clases'"),
    ('backbone-key', ['model.teacher.backbone.dept=18'],
     "model.teacher: ResNet takes no argument 'dept'"),
]


@pytest.mark.parametrize(
    'options,said', [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_stops_before_the_runner_listing(tmp_path, options, said):
    images, empty = tmp_path / 'images', tmp_path / 'empty'
    images.mkdir()
    (empty / 'sub').mkdir(parents=True)
    (empty / 'sub' / 'notes.txt').write_text('not an image')
    cv2.imwrite(str(images / 'a.png'), np.zeros((40, 40, 3), np.uint8))
    # Only its existence is checked before the Runner.
    (tmp_path / 'teacher.pth').write_bytes(b'')
    fill = dict(empty=str(empty))
    proc = subprocess.run([
        sys.executable, 'tools/train.py', RECIPE, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        f'train_dataloader.dataset.source.data_root={images}',
        f'model.teacher_ckpt={tmp_path}/teacher.pth',
        *[o.format(**fill) for o in options]
    ],
                          cwd=ROOT,
                          env=dict(os.environ, PYTHONWARNINGS='ignore'),
                          capture_output=True,
                          text=True)
    assert proc.returncode == 2, proc.stderr[-2000:]
    # Nothing before the sentence: no environment, config or hook listing.
    assert not proc.stdout.strip(), proc.stdout[:2000]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith('error: ' + said.format(**fill)), lines[0]


@pytest.mark.parametrize(
    'options', [[], ['model.student.head.num_classes=100']],
    ids=['as-configured', 'student-set-to-the-checkpoint'])
def test_a_teacher_checkpoint_of_another_class_count_stops_first(
        tmp_path, options):
    # With the student set to the checkpoint's 100 classes, the teacher's
    # config (10) is what is wrong: named as such, not as a student of the
    # wrong count.
    import torch
    from mmengine.registry import init_default_scope

    from mmmosaic.models.zoo import read_model_ref
    from mmmosaic.registry import MODELS
    init_default_scope('mmmosaic')
    # The recipe's teacher, trained for 100 classes instead of 10.
    teacher, _ = read_model_ref(
        dict(
            cfg_path='mmpretrain::resnet/resnet18_8xb16_cifar10.py',
            head=dict(num_classes=100)), 'model.teacher')
    torch.save(
        dict(state_dict=MODELS.build(teacher).state_dict()),
        tmp_path / 'teacher.pth')
    images = tmp_path / 'images'
    images.mkdir()
    cv2.imwrite(str(images / 'a.png'), np.zeros((40, 40, 3), np.uint8))
    proc = subprocess.run([
        sys.executable, 'tools/train.py', RECIPE, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        f'train_dataloader.dataset.source.data_root={images}',
        f'model.teacher_ckpt={tmp_path}/teacher.pth', *options
    ],
                          cwd=ROOT,
                          env=dict(os.environ, PYTHONWARNINGS='ignore'),
                          capture_output=True,
                          text=True)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert not proc.stdout.strip(), proc.stdout[:2000]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith(
        f"error: '{tmp_path}/teacher.pth' does not fit the teacher "
        'architecture: shape mismatches 2 (head.fc.weight (100, 512) vs '
        '(10, 512)'), lines[0]


def test_a_class_count_mismatch_names_the_key_to_change():
    from mmmosaic.errors import MosaicError
    from mmmosaic.runtime import check_class_counts, load_config
    cfg = load_config(
        osp.join(ROOT, RECIPE), {'model.student.head.num_classes': 7})
    with pytest.raises(MosaicError) as error:
        check_class_counts(cfg)
    assert str(error.value) == (
        'Class counts disagree (teacher 10 (model.teacher.head.num_classes)'
        ', student 7 (model.student.head.num_classes)); set '
        "model.student.head.num_classes to 10, the classes of the teacher's "
        'task.')
