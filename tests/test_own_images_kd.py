"""The KD-on-OOD and DFQ forms of the own-images recipe train, and the OOD
report points to them when it recommends them."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from mmmosaic.models.zoo import read_model_ref
from mmmosaic.registry import MODELS
from mmmosaic.runtime import load_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RECIPE = 'configs/zoo/resnet18_mobilenetv2_own_images.py'
KD = 'configs/zoo/resnet18_mobilenetv2_own_images_kd_ood.py'
DFQ = 'configs/zoo/resnet18_mobilenetv2_own_images_dfq.py'


def _images_and_teacher(tmp_path):
    """Three photos of odd sizes and a random CIFAR-10 ResNet-18 teacher
    checkpoint with class names."""
    rng = np.random.default_rng(0)
    images = tmp_path / 'my_images'
    images.mkdir()
    for i, (h, w) in enumerate([(40, 52), (64, 48), (33, 33)]):
        cv2.imwrite(
            str(images / f'{i}.png'),
            rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    init_default_scope('mmmosaic')
    teacher, _ = read_model_ref(
        dict(cfg_path='mmpretrain::resnet/resnet18_8xb16_cifar10.py'),
        'model.teacher')
    torch.save(
        dict(
            state_dict=MODELS.build(teacher).state_dict(),
            meta=dict(dataset_meta=dict(classes=[str(i) for i in range(10)]))),
        tmp_path / 'teacher.pth')
    return images


def _train(config, work, options):
    return subprocess.run(
        [
            sys.executable, 'tools/train.py', config, '--work-dir',
            str(work), '--cfg-options'
        ] + options,
        cwd=ROOT,
        env=dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1'),
        capture_output=True,
        text=True)


@pytest.mark.slow
def test_kd_form_of_the_recipe_trains_two_iterations(tmp_path):
    images = _images_and_teacher(tmp_path)
    cfg = load_config(osp.join(ROOT, KD))
    assert cfg.model.generator is None and cfg.model.discriminator is None
    assert set(cfg.optim_wrapper) == {'constructor', 'student'}
    # As many images a student update as the MosaicKD recipe gives it.
    recipe = load_config(osp.join(ROOT, RECIPE))
    assert cfg.model.ood_batch_size == (
        recipe.model.synthetic_batch_size + recipe.model.ood_batch_size)

    work = tmp_path / 'work'
    proc = _train(KD, work, [
        f'model.teacher_ckpt={tmp_path}/teacher.pth',
        f'train_dataloader.dataset.source.data_root={images}',
        'model.student_steps=1', 'model.ood_batch_size=2',
        'train_dataloader.num_workers=0', 'train_cfg.max_iters=2',
        'default_hooks.checkpoint.interval=2'
    ])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'loss_student' in proc.stdout
    assert 'loss_g' not in proc.stdout
    ckpt = torch.load(work / 'iter_2.pth', weights_only=True)
    assert not any(
        k.startswith(('generator.', 'discriminator.'))
        for k in ckpt['state_dict'])


def test_the_kd_form_is_named_for_the_report(monkeypatch):
    """The sentence the OOD report gives when it recommends KD."""
    from mmmosaic.analysis.recipes import FORMS, form_text
    monkeypatch.chdir(ROOT)
    said = form_text(load_config(osp.join(ROOT, RECIPE)).filename, 'kd_ood')
    assert said.startswith(f'KD on the OOD images alone is {KD}, ')
    # A copy of the recipe elsewhere: the form to write, with the example.
    said = form_text('/elsewhere/my_recipe.py', 'kd_ood')
    assert FORMS['kd_ood']['example'] == KD and KD in said
    assert '--cfg-options baseline=kd_ood' in said
    assert 'work_dirs/<config>_kd_ood' in said


@pytest.mark.slow
def test_dfq_form_of_the_recipe_trains_two_iterations(tmp_path):
    """Data-free: no discriminator, no image read, DFQ's generator terms,
    as many generated images a student update as the recipe's B + N."""
    _images_and_teacher(tmp_path)
    cfg = load_config(osp.join(ROOT, DFQ))
    recipe = load_config(osp.join(ROOT, RECIPE))
    assert cfg.model.discriminator is None and cfg.model.ood_batch_size is None
    assert cfg.train_dataloader.dataset.type == 'NoImagesDataset'
    assert cfg.model.synthetic_batch_size == (
        recipe.model.synthetic_batch_size + recipe.model.ood_batch_size)
    from mmmosaic.analysis.recipes import DFQ_TERMS
    assert {k: cfg.model.loss_weights[k] for k in DFQ_TERMS} == DFQ_TERMS
    work = tmp_path / 'work'
    proc = _train(DFQ, work, [
        f'model.teacher_ckpt={tmp_path}/teacher.pth', 'model.student_steps=1',
        'model.synthetic_batch_size=4', 'train_cfg.max_iters=2',
        'default_hooks.checkpoint.interval=1'
    ])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'loss_bn' in proc.stdout and 'loss_local' not in proc.stdout
    # Every update taken, with finite losses (4 images an update: 2 made
    # the zoo MobileNetV2 diverge).
    assert 'non-finite' not in proc.stdout + proc.stderr
    assert 'nan' not in ' '.join(line for line in proc.stdout.splitlines()
                                 if 'loss_g' in line)
    ckpt = torch.load(work / 'iter_2.pth', weights_only=True)
    assert not any(k.startswith('discriminator.') for k in ckpt['state_dict'])
    assert any(k.startswith('generator.') for k in ckpt['state_dict'])


def test_the_dfq_form_is_named_for_the_report(monkeypatch):
    from mmmosaic.analysis.recipes import FORMS, form_text
    monkeypatch.chdir(ROOT)
    said = form_text(load_config(osp.join(ROOT, RECIPE)).filename, 'dfq')
    assert said.startswith('DFQ (data-free') and f' is {DFQ}, ' in said
    said = form_text('/elsewhere/my_recipe.py', 'dfq')
    assert FORMS['dfq']['example'] == DFQ and DFQ in said
    assert '--cfg-options baseline=dfq' in said
    # A form is not given a form of its own.
    assert 'baseline=dfq' in form_text(osp.join(ROOT, KD), 'dfq')


@pytest.mark.slow
def test_the_recommended_recipe_trains_two_iterations(tmp_path):
    """The keys the OOD report prints for the dfq_ood_quarter recipe, given
    to the own-images recipe (at a CPU-sized batch), train without a
    discriminator and with the teacher's BatchNorm term."""
    from mmmosaic.analysis.recipes import RECIPES, recipe_options
    images = _images_and_teacher(tmp_path)
    keys = recipe_options(
        load_config(osp.join(ROOT, RECIPE)),
        **RECIPES['dfq_ood_quarter']['options'])
    assert 'model.discriminator=None' in keys
    work = tmp_path / 'work'
    proc = _train(
        RECIPE, work, keys + [
            f'model.teacher_ckpt={tmp_path}/teacher.pth',
            f'train_dataloader.dataset.source.data_root={images}',
            'model.student_steps=1', 'model.synthetic_batch_size=2',
            'model.ood_batch_size=2', 'train_dataloader.batch_size=None',
            'train_dataloader.num_workers=0', 'train_cfg.max_iters=2',
            'default_hooks.checkpoint.interval=2'
        ])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'loss_bn' in proc.stdout and 'loss_local' not in proc.stdout
    ckpt = torch.load(work / 'iter_2.pth', weights_only=True)
    assert not any(k.startswith('discriminator.') for k in ckpt['state_dict'])
    assert any(k.startswith('generator.') for k in ckpt['state_dict'])
