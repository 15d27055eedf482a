"""An exported segmentation student in mmseg's own API: ``init_model``,
``inference_model`` and ``MMSegInferencer``, run as a user runs them (a
fresh interpreter with the README's lines), on the config and weights that
``tools/model_converters/extract_student.py`` writes."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

from mmmosaic.export import export_student
from mmmosaic.registry import MODELS
from mmmosaic.runtime import load_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
NAMES = ['sky', 'road', 'tree']
CROP = (32, 32)


def _seg_ref(cfg_path):
    """An mmseg zoo segmentor shrunk to 3 classes and 32x32 crops, with no
    auxiliary head and no ImageNet initialisation (a download)."""
    return dict(
        cfg_path=cfg_path,
        pretrained=None,
        auxiliary_head=None,
        decode_head=dict(num_classes=3),
        data_preprocessor=dict(size=CROP))


def _game_config(path, images):
    """A MosaicKD config of mmseg zoo players distilled from a folder of
    images whose views are random crops, as the segmentation configs have
    them, and no evaluation data."""
    student = _seg_ref('mmseg::mobilenet_v2/mobilenet-v2-d8_fcn_4xb2-80k'
                       '_cityscapes-512x1024.py')
    crop = dict(type='mmseg.RandomCrop', crop_size=CROP)
    Config(
        dict(
            default_scope='mmmosaic',
            model=dict(
                type='MosaicKD',
                teacher=student,
                student=student,
                generator=dict(
                    type='DCGANGenerator',
                    img_size=32,
                    base_channels=4,
                    num_upsamples=3),
                discriminator=dict(type='PatchDiscriminator', base_channels=4),
                student_steps=1,
                synthetic_batch_size=2,
                allow_random_teacher=True),
            train_dataloader=dict(
                batch_size=4,
                dataset=dict(
                    type='OODDataset',
                    source=dict(
                        type='UnlabeledImageFolder',
                        data_root=images,
                        pipeline=[dict(type='LoadImageFromFile')]),
                    real_pipeline=[
                        dict(
                            type='mmseg.Resize',
                            scale=(1024, 40),
                            keep_ratio=True), crop,
                        dict(type='mmseg.PackSegInputs')
                    ],
                    student_pipeline=[
                        dict(
                            type='RandomResize',
                            scale=(1024, 40),
                            ratio_range=(1.0, 1.5),
                            keep_ratio=True), crop,
                        dict(type='mmseg.RandomFlip', prob=0.5),
                        dict(type='mmseg.PhotoMetricDistortion'),
                        dict(type='mmseg.PackSegInputs')
                    ])))).dump(str(path))
    return str(path)


#: What a user runs after the export (README), printing what it got.
USE = r'''
import sys
import mmmosaic  # mmcv-lite: lets mmseg import (see the README)
from mmseg.apis import MMSegInferencer, inference_model, init_model
config, weights, image, out = sys.argv[1:]
model = init_model(config, weights, device='cpu')
result = inference_model(model, image)
print('init_model+inference_model', model.dataset_meta['classes'],
      tuple(result.pred_sem_seg.data.shape))
inferencer = MMSegInferencer(config, weights, device='cpu')
found = inferencer(image, out_dir=out)
print('MMSegInferencer', found['predictions'].shape)
'''


@pytest.mark.slow
def test_exported_segmentor_runs_in_mmseg_apis(tmp_path):
    rng = np.random.default_rng(0)
    images = tmp_path / 'my_images'
    images.mkdir()
    for i, (h, w) in enumerate([(40, 52), (48, 64)]):
        cv2.imwrite(
            str(images / f'{i}.png'),
            rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    config = load_config(_game_config(tmp_path / 'game.py', str(images)))
    init_default_scope('mmmosaic')
    torch.manual_seed(0)
    model = revert_sync_batchnorm(MODELS.build(config.model))
    ckpt = tmp_path / 'iter_2.pth'
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(iter=2, task_meta=dict(classes=NAMES))), ckpt)
    out = tmp_path / 'student'
    out.mkdir()
    weights, exported = export_student(config, str(ckpt), str(out))

    cfg = Config.fromfile(exported)
    # Deterministic: the teacher's view of the images without its crop.
    for pipeline in (cfg.test_pipeline, cfg.test_dataloader.dataset.pipeline):
        kinds = [t['type'].split('.')[-1] for t in pipeline]
        assert kinds == ['LoadImageFromFile', 'Resize', 'PackSegInputs'], kinds
    assert cfg.test_pipeline[0].type == 'LoadImageFromFile'
    assert cfg.visualizer.type == 'SegLocalVisualizer'

    # A photo of another size than the training crops.
    image = str(tmp_path / 'photo.jpg')
    cv2.imwrite(image, rng.integers(0, 256, (45, 70, 3), dtype=np.uint8))
    proc = subprocess.run([
        sys.executable, '-c', USE, exported, weights, image,
        str(tmp_path / 'vis')
    ],
                          cwd=str(tmp_path),
                          capture_output=True,
                          text=True)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    # mmseg resizes the prediction back to the photo: 45 x 70.
    assert f"init_model+inference_model {NAMES} (1, 45, 70)" in proc.stdout
    assert 'MMSegInferencer (45, 70)' in proc.stdout
    assert list((tmp_path / 'vis' / 'vis').glob('*.jpg'))
    with open(osp.join(ROOT, 'README.md')) as f:
        readme = f.read()
    assert 'import mmmosaic' in readme and 'MMSegInferencer' in readme
    json.dumps(cfg.to_dict())  # a plain config: nothing of ours to import


SEG_RECIPE = 'configs/zoo/deeplabv3_r50_mobilenetv2_own_images.py'


def _shrunk_recipe(path, recipe, images, teacher_ckpt):
    """``recipe`` as a user's copy for a CPU: 32x64 crops (every key that
    depends on the crop size), tiny batches, two iterations."""
    crop = (32, 64)
    resize = dict(type='mmseg.Resize', scale=(4096, 64), keep_ratio=True)
    cfg = dict(
        _base_=[osp.join(ROOT, recipe)],
        model=dict(
            teacher=dict(data_preprocessor=dict(size=crop)),
            student=dict(pretrained=None, data_preprocessor=dict(size=crop)),
            teacher_ckpt=teacher_ckpt,
            synthetic_batch_size=2,
            student_steps=1,
            ood_batch_size=2),
        train_dataloader=dict(
            num_workers=0,
            dataset=dict(
                source=dict(data_root=images),
                real_pipeline=[
                    resize,
                    dict(type='mmseg.RandomCrop', crop_size=crop),
                    dict(type='mmseg.PackSegInputs')
                ],
                student_pipeline=[
                    resize,
                    dict(type='mmseg.RandomCrop', crop_size=crop),
                    dict(type='mmseg.RandomFlip', prob=0.5),
                    dict(type='mmseg.PackSegInputs')
                ])),
        train_cfg=dict(max_iters=2),
        default_hooks=dict(checkpoint=dict(interval=2)))
    if not recipe.endswith('_kd_ood.py'):
        cfg['model'].update(
            generator=dict(img_size=crop, base_channels=4, num_upsamples=2),
            discriminator=dict(base_channels=4, num_downsamples=2))
    else:
        cfg['model']['ood_batch_size'] = 4
    with open(path, 'w') as f:
        f.write(''.join(f'{k} = {v!r}\n' for k, v in cfg.items()))
    return str(path)


def _run(*args, cwd=ROOT):
    proc = subprocess.run([sys.executable, *args],
                          cwd=cwd,
                          env=dict(
                              os.environ,
                              PYTHONWARNINGS='ignore',
                              OMP_NUM_THREADS='1'),
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    'recipe', [SEG_RECIPE, SEG_RECIPE.replace('.py', '_kd_ood.py')],
    ids=['mosaickd', 'kd_ood'])
def test_segmentation_recipe_trains_exports_and_infers(tmp_path, recipe):
    """The own-images segmentation recipe (and its KD form), shrunk for a
    CPU: two iterations of tools/train.py, extract_student.py, then the
    README's mmseg lines on a photo."""
    rng = np.random.default_rng(0)
    images = tmp_path / 'my_images'
    images.mkdir()
    for i, (h, w) in enumerate([(60, 90), (80, 64), (70, 70)]):
        cv2.imwrite(
            str(images / f'{i}.png'),
            rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    cfg = load_config(osp.join(ROOT, recipe))
    init_default_scope('mmmosaic')
    teacher = revert_sync_batchnorm(MODELS.build(cfg.model.teacher))
    classes = [f'part_{i}' for i in range(19)]
    torch.save(
        dict(
            state_dict=teacher.state_dict(),
            meta=dict(dataset_meta=dict(classes=classes))),
        tmp_path / 'teacher.pth')
    config = _shrunk_recipe(tmp_path / 'mine.py', recipe, str(images),
                            str(tmp_path / 'teacher.pth'))

    work = tmp_path / 'work'
    out = _run('tools/train.py', config, '--work-dir', str(work))
    assert 'loss_student' in out
    out = tmp_path / 'out'
    _run('tools/model_converters/extract_student.py', config,
         str(work / 'iter_2.pth'), str(out))
    image = str(tmp_path / 'photo.jpg')
    cv2.imwrite(image, rng.integers(0, 256, (45, 70, 3), dtype=np.uint8))
    said = _run(
        '-c',
        USE,
        str(out / 'student.py'),
        str(out / 'student.pth'),
        image,
        str(tmp_path / 'vis'),
        cwd=str(tmp_path))
    assert f'init_model+inference_model {classes} (1, 45, 70)' in said
    assert 'MMSegInferencer (45, 70)' in said
