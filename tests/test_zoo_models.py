"""Teacher and student by reference to model-zoo configs (``cfg_path``),
the worked example config, and the teacher's class names travelling to
the exported student.

The zoo configs ship inside the installed mmpretrain / mmseg packages:
nothing here downloads anything (URLs are ``file://``).
"""
import json
import logging
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
from _tiny import classifier, load_script, mosaickd
from mmengine.config import Config, ConfigDict
from mmengine.logging import MMLogger
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
# The Runner bookkeeping a tool run in this process leaves behind.
from test_bad_inputs import forget_runners, no_launcher_env  # noqa: F401

from mmmosaic.engine import PlayerOptimWrapperConstructor
from mmmosaic.errors import MosaicError
from mmmosaic.export import export_student
from mmmosaic.models.zoo import read_model_ref
from mmmosaic.registry import MODELS
from mmmosaic.runtime import load_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
EXAMPLE = osp.join(ROOT, 'configs', 'zoo',
                   'resnet18_mobilenetv2_own_images.py')
ZOO_TEACHER = 'mmpretrain::resnet/resnet18_8xb16_cifar10.py'
ZOO_STUDENT = 'mmpretrain::mobilenet_v2/mobilenet-v2_8xb32_in1k.py'
#: Names no dataset class declares: seen downstream, they came from the
#: teacher checkpoint.
CLASSES = [f'kind_{i}' for i in range(10)]


def test_a_reference_is_the_zoo_model_alone():
    model, url = read_model_ref(dict(cfg_path=ZOO_TEACHER), 'model.teacher')
    assert url is None
    # The model, its scope, and the config's top-level data_preprocessor
    # folded in; nothing else of the config.
    assert set(model) == {
        'type', 'backbone', 'neck', 'head', 'data_preprocessor', '_scope_'
    }
    assert model._scope_ == 'mmpretrain'
    assert model.backbone.type == 'ResNet_CIFAR'
    assert model.data_preprocessor.mean == [125.307, 122.961, 113.8575]

    # Other keys override the zoo model's, merged as by inheritance.
    student, _ = read_model_ref(
        dict(
            cfg_path=ZOO_STUDENT,
            head=dict(num_classes=10),
            data_preprocessor=dict(mean=[1, 2, 3])), 'model.student')
    assert (student.head.num_classes, student.head.in_channels) == (10, 1280)
    assert student.data_preprocessor.mean == [1, 2, 3]
    assert student.data_preprocessor.to_rgb is True  # the zoo's, kept

    # pretrained=True: the checkpoint the package's metafile lists.
    _, url = read_model_ref(
        dict(cfg_path=ZOO_TEACHER, pretrained=True), 'model.teacher')
    assert url.startswith('https://download.openmmlab.com/')
    assert url.endswith('.pth')


def test_the_example_keeps_our_runtime():
    cfg = load_config(EXAMPLE)
    assert cfg.model.teacher.type == 'ImageClassifier'
    assert cfg.model.student.backbone.type == 'MobileNetV2'
    assert 'cfg_path' not in cfg.model.teacher
    assert cfg.default_scope == 'mmmosaic'
    assert cfg.randomness.seed == 0
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert 'val_dataloader' not in cfg
    assert cfg.model.teacher_ckpt is None
    cfg = load_config(EXAMPLE, {'model.teacher.pretrained': True})
    assert cfg.model.teacher_ckpt.startswith('https://')


def test_a_reference_to_a_file_beside_the_config(tmp_path):
    teacher = classifier((8, 16))
    del teacher['_scope_']
    preprocessor = teacher.pop('data_preprocessor')
    del preprocessor['_scope_']
    (tmp_path / 'my_teacher.py').write_text(
        "default_scope = 'mmpretrain'\n"
        f'data_preprocessor = {preprocessor!r}\nmodel = {teacher!r}\n'
        "train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=9)\n")
    game = mosaickd(teacher=dict(cfg_path='my_teacher.py'))
    Config(dict(model=game)).dump(str(tmp_path / 'game.py'))
    cfg = load_config(str(tmp_path / 'game.py'))
    assert cfg.model.teacher._scope_ == 'mmpretrain'
    assert cfg.model.teacher.data_preprocessor.mean == [127.5]
    assert 'train_cfg' not in cfg


def _save_teacher(model_cfg, path, classes=CLASSES):
    init_default_scope('mmmosaic')
    teacher = MODELS.build(model_cfg)
    torch.save(
        dict(
            state_dict=teacher.state_dict(),
            meta=dict(dataset_meta=dict(classes=classes))), path)
    return teacher


def test_teacher_weights_from_a_url_bring_their_class_names(
        tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    teacher = _save_teacher(classifier((8, 16)), tmp_path / 't.pth')
    model = MODELS.build(
        mosaickd(
            teacher_ckpt=f'file://{tmp_path}/t.pth',
            allow_random_teacher=False))
    for key, value in teacher.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[key], value), key
    assert model.dataset_meta == dict(classes=CLASSES)
    assert osp.isfile(tmp_path / 'torch' / 'hub' / 'checkpoints' / 't.pth')
    # Names for another number of classes are not the teacher's.
    _save_teacher(classifier((8, 16)), tmp_path / 'u.pth', CLASSES[:3])
    model = MODELS.build(mosaickd(teacher_ckpt=str(tmp_path / 'u.pth')))
    assert model.dataset_meta is None

    with pytest.raises(MosaicError, match='could not be downloaded'):
        MODELS.build(mosaickd(teacher_ckpt=f'file://{tmp_path}/none.pth'))


def test_a_normalisation_it_cannot_check_is_a_warning():
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        init_default_scope('mmmosaic')
        teacher = classifier((8, 16))
        del teacher['data_preprocessor']  # as a zoo _base_ leaves it
        MODELS.build(mosaickd(teacher=teacher))
    finally:
        logger.removeHandler(handler)
    said = [m for m in messages if 'cannot be checked' in m]
    assert len(said) == 1 and said[0].startswith('model.teacher names no')

    teacher = classifier((8, 16))
    teacher['data_preprocessor'] = dict(
        teacher['data_preprocessor'], mean=[0.0])
    with pytest.raises(MosaicError, match='model.teacher normalises'):
        MODELS.build(mosaickd(teacher=teacher))


def _seg_ref(cfg_path):
    """An mmseg zoo segmentor shrunk to the tests' images: 3 classes, no
    auxiliary head, no ImageNet initialisation (a download), 32x32."""
    return dict(
        cfg_path=cfg_path,
        pretrained=None,
        auxiliary_head=None,
        decode_head=dict(num_classes=3),
        data_preprocessor=dict(size=(32, 32)))


def test_mmseg_zoo_players_train_and_export(tmp_path):
    from mmseg.apis import init_model
    from mmseg.structures import SegDataSample
    init_default_scope('mmmosaic')
    teacher_ref = _seg_ref('mmseg::fcn/fcn_r18-d8_4xb2-80k_cityscapes'
                           '-512x1024.py')
    teacher, _ = read_model_ref(teacher_ref, 'model.teacher')
    names = ['sky', 'road', 'tree']
    _save_teacher(teacher, tmp_path / 'teacher.pth', names)
    model_cfg = ConfigDict(
        type='MosaicKD',
        teacher=teacher_ref,
        student=_seg_ref('mmseg::mobilenet_v2/mobilenet-v2-d8_fcn_4xb2-80k'
                         '_cityscapes-512x1024.py'),
        teacher_ckpt=str(tmp_path / 'teacher.pth'),
        generator=dict(
            type='DCGANGenerator',
            img_size=32,
            base_channels=4,
            num_upsamples=3),
        discriminator=dict(type='PatchDiscriminator', base_channels=4),
        student_steps=1,
        synthetic_batch_size=2,
        ood_batch_size=2)
    torch.manual_seed(0)
    # As mmengine's Runner does on one process (the zoo configs use SyncBN).
    model = revert_sync_batchnorm(MODELS.build(model_cfg))
    assert type(model.student.backbone).__name__ == 'MobileNetV2'
    assert model.dataset_meta == dict(classes=names)
    model.train()
    players = {
        name: dict(optimizer=dict(type='SGD', lr=0.01))
        for name in ('generator', 'discriminator', 'student')
    }
    wrappers = PlayerOptimWrapperConstructor(players)(model)
    images = [torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)] * 4
    view = dict(
        inputs=images,
        data_samples=[
            SegDataSample(metainfo=dict(img_shape=(32, 32))) for _ in images
        ])
    for _ in range(2):
        losses = model.train_step(dict(real=view, student=view), wrappers)
        assert all(torch.isfinite(v) for v in losses.values())

    ckpt = tmp_path / 'iter_2.pth'
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(task_meta=dict(classes=names))), ckpt)
    out = tmp_path / 'student'
    os.makedirs(out)
    weights, config = export_student(
        load_config_of(model_cfg, tmp_path), str(ckpt), str(out))
    student = init_model(config, weights, device='cpu')
    assert student.dataset_meta['classes'] == names
    x = torch.zeros(1, 3, 32, 32)
    with torch.no_grad():
        assert student(x, mode='tensor').shape[1] == 3


def load_config_of(model_cfg, folder):
    """``model_cfg`` as a config file read by the tools."""
    path = osp.join(folder, 'game.py')
    Config(dict(model=model_cfg)).dump(path)
    return load_config(path)


@pytest.fixture
def own_images(tmp_path):
    """A folder of photos of several sizes, in sub-folders, no labels."""
    rng = np.random.default_rng(0)
    root = tmp_path / 'my_images'
    for i, (h, w) in enumerate([(40, 52), (64, 48), (33, 33), (90, 60)]):
        folder = root / ('a' if i % 2 else 'b')
        os.makedirs(folder, exist_ok=True)
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / f'{i}.png'), image)
    return str(root)


@pytest.mark.slow
def test_the_example_from_report_to_inference(tmp_path, own_images,
                                              monkeypatch, capsys):
    """configs/zoo/: report, train two iterations, export, and mmpretrain's
    inferencer names the class, as the README walks through it."""
    from mmpretrain.apis import ImageClassificationInferencer
    no_launcher_env(monkeypatch)
    monkeypatch.chdir(ROOT)
    teacher, _ = read_model_ref(dict(cfg_path=ZOO_TEACHER), 'model.teacher')
    _save_teacher(teacher, tmp_path / 'teacher.pth')
    # The budget shrunk to two iterations on four images; nothing else.
    options = [
        f'model.teacher_ckpt={tmp_path}/teacher.pth',
        f'train_dataloader.dataset.source.data_root={own_images}',
        'model.synthetic_batch_size=2', 'model.student_steps=1',
        'model.ood_batch_size=2', 'train_dataloader.num_workers=0',
        'train_cfg.max_iters=2', 'default_hooks.checkpoint.interval=2'
    ]

    report = load_script('tools/analysis/ood_report.py', 'zoo_ood_report')
    out = tmp_path / 'report'
    capsys.readouterr()
    assert report.main([
        EXAMPLE, '--out',
        str(out), '--subset-size', '2', '--examples', '1', '--cfg-options',
        *options
    ]) == 0
    # Quiet: nothing on stderr (no warning, no note about hidden ones).
    assert not capsys.readouterr().err.strip()
    with open(out / 'report.json') as f:
        assert json.load(f)['classes'] == CLASSES

    work = tmp_path / 'work'
    monkeypatch.setattr(sys, 'argv', [
        'tools/train.py', EXAMPLE, '--work-dir',
        str(work), '--cfg-options', *options
    ])
    capsys.readouterr()
    assert load_script('tools/train.py', 'zoo_train').main() == 0
    err = capsys.readouterr().err
    # A quiet start: nothing on stderr (the log goes to stdout), and not
    # mmengine's FileClient deprecation lines in the log.
    assert not err.strip(), err
    log = next(work.glob('*/*.log')).read_text()
    assert 'FileClient' not in log
    assert ('Teacher classes (from the teacher checkpoint): kind_0, kind_1'
            in log)
    ckpt = torch.load(work / 'iter_2.pth', weights_only=True)
    assert ckpt['meta']['task_meta']['classes'] == CLASSES

    out = tmp_path / 'student'
    monkeypatch.setattr(sys, 'argv', [
        'tools/model_converters/extract_student.py', EXAMPLE,
        str(work / 'iter_2.pth'),
        str(out)
    ])
    extract = load_script('tools/model_converters/extract_student.py',
                          'zoo_extract')
    assert extract.main() == 0
    assert not capsys.readouterr().err.strip()
    inferencer = ImageClassificationInferencer(
        str(out / 'student.py'), pretrained=str(out / 'student.pth'))
    image = osp.join(own_images, 'a', '1.png')
    result = inferencer(image)[0]
    assert result['pred_class'] in CLASSES
    assert result['pred_class'] == CLASSES[result['pred_label']]
