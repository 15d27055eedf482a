"""NYUv2: the converter, the dataset, and the deeplabv3_nyu configs."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from _tiny import load_script
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from mmmosaic.datasets.nyu import NYU13_CLASSES, NYUv2Dataset
from mmmosaic.errors import MosaicError
from mmmosaic.models import batch_rule
from mmmosaic.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PREPARE = 'python tools/dataset_converters/nyu.py SRC data/nyuv2'
MOSAICKD_NYU = osp.join(REPO, 'configs/mosaickd/deeplabv3_nyu.py')
TEACHER_NYU = osp.join(REPO, 'configs/teachers/deeplabv3_r50-d8_nyu13.py')

converter = load_script('tools/dataset_converters/nyu.py', 'nyu_converter')
H, W = 6, 8


def _labels_seg13(seed):
    """0..13 with every value present, 0 = unlabeled."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 14, size=(H, W)).astype(np.uint8)
    labels.flat[:14] = np.arange(14)
    return labels


@pytest.fixture
def public_nyu(tmp_path):
    """A tiny copy in the authors' layout: image/<split>, seg13/<split>."""
    src = tmp_path / 'NYUv2'
    truth = {}
    for split, names in (('train', ('0001', '0002', '0003')),
                         ('test', ('0004', '0005'))):
        (src / 'image' / split).mkdir(parents=True)
        (src / 'seg13' / split).mkdir(parents=True)
        (src / 'depth' / split).mkdir(parents=True)  # ignored
        for i, name in enumerate(names):
            rgb = np.random.default_rng(i).integers(
                0, 256, size=(H, W, 3), dtype=np.uint8)
            labels = _labels_seg13(int(name))
            Image.fromarray(rgb).save(src / 'image' / split / f'{name}.png')
            Image.fromarray(labels).save(src / 'seg13' / split / f'{name}.png')
            truth[(split, name)] = (rgb, labels)
    return src, truth


def _read(path):
    return np.array(Image.open(path))


def test_converter_seg13(public_nyu, tmp_path, capsys):
    src, truth = public_nyu
    dst = tmp_path / 'nyuv2'
    assert converter.main([str(src), str(dst)]) == 0
    out = capsys.readouterr().out
    assert '[nyu] train: 3/3' in out and 'wrote 3 train, 2 test' in out
    for (split, name), (rgb, labels) in truth.items():
        image = _read(dst / 'images' / split / f'{name}.png')
        ann = _read(dst / 'annotations' / split / f'{name}.png')
        assert np.array_equal(image, rgb)
        assert ann.dtype == np.uint8 and ann.shape == (H, W)
        # 0 (unlabeled) -> 255, 1..13 -> 0..12.
        assert np.all(ann[labels == 0] == 255)
        assert np.array_equal(ann[labels > 0], labels[labels > 0] - 1)
    # Running it again is harmless.
    assert converter.main([str(src), str(dst)]) == 0


def test_converter_zero_based_split_first_npy(tmp_path):
    src = tmp_path / 'mtl'
    for split in ('train', 'test'):
        (src / split / 'image').mkdir(parents=True)
        (src / split / 'label').mkdir(parents=True)
        image = np.random.default_rng(0).random((H, W, 3)).astype(np.float32)
        labels = np.arange(H * W).reshape(H, W) % 14 - 1.0  # -1..12
        np.save(src / split / 'image' / '7.npy', image)
        np.save(src / split / 'label' / '7.npy', labels)
    dst = tmp_path / 'out'
    assert converter.main([str(src), str(dst), '--labels', 'zero-based']) == 0
    ann = _read(dst / 'annotations' / 'test' / '7.png')
    assert np.all(ann[labels < 0] == 255)
    assert np.array_equal(ann[labels >= 0], labels[labels >= 0])
    rgb = _read(dst / 'images' / 'test' / '7.png')
    assert np.abs(rgb.astype(int) - np.rint(image * 255)).max() <= 1


def _error(capsys, argv):
    assert converter.main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: ') and '\n' not in err
    return err


def test_converter_errors(public_nyu, tmp_path, capsys):
    src, _ = public_nyu
    dst = tmp_path / 'out'
    err = _error(capsys, [src, dst, '--labels', 'zero-based'])
    assert 'value 13' in err and '--labels seg13' in err
    err = _error(capsys, [tmp_path / 'missing', dst])
    assert 'does not exist' in err
    err = _error(capsys, [src, dst, '--label-dir', 'seg40'])
    assert 'No train images and labels' in err and '--label-dir' in err
    os.remove(src / 'seg13' / 'test' / '0005.png')
    err = _error(capsys, [src, dst])
    assert "'0005'" in err and 'no label map' in err
    # 40-class labels given as seg13.
    Image.fromarray(np.full(
        (H, W), 40, np.uint8)).save(src / 'seg13' / 'test' / '0005.png')
    err = _error(capsys, [src, dst])
    assert 'value 40' in err


def test_dataset_reads_the_converted_layout(public_nyu, tmp_path):
    src, truth = public_nyu
    dst = tmp_path / 'nyuv2'
    assert converter.main([str(src), str(dst)]) == 0
    init_default_scope('mmmosaic')
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='mmseg.LoadAnnotations'),
        dict(type='mmseg.PackSegInputs')
    ]
    train = NYUv2Dataset(data_root=str(dst), pipeline=pipeline)
    test = NYUv2Dataset(
        data_root=str(dst),
        data_prefix=dict(
            img_path='images/test', seg_map_path='annotations/test'),
        test_mode=True,
        pipeline=pipeline)
    assert len(train) == 3 and len(test) == 2
    assert train.metainfo['classes'] == NYU13_CLASSES
    assert len(NYU13_CLASSES) == 13 and len(train.metainfo['palette']) == 13
    sample = test[0]
    _, labels = truth[('test', '0004')]
    gt = sample['data_samples'].gt_sem_seg.data[0].numpy()
    assert np.array_equal(gt, np.where(labels == 0, 255, labels - 1))
    assert sample['inputs'].shape == (3, H, W)


def test_dataset_missing_paths_name_the_command(tmp_path):
    init_default_scope('mmmosaic')
    with pytest.raises(MosaicError) as info:
        NYUv2Dataset(data_root=str(tmp_path / 'nyuv2'))
    msg = str(info.value)
    assert 'nyuv2' in msg and PREPARE in msg and msg.count('. ') == 0
    (tmp_path / 'nyuv2' / 'images' / 'train').mkdir(parents=True)
    with pytest.raises(MosaicError, match='annotations/train'):
        NYUv2Dataset(data_root=str(tmp_path / 'nyuv2'))


# ---------------------------------------------------------------- configs
def test_mosaickd_nyu_config_models_build_and_run():
    cfg = Config.fromfile(MOSAICKD_NYU)
    init_default_scope('mmmosaic')
    assert cfg.model.type == 'MosaicKD'
    assert cfg.model.loss_weights == dict(
        adv=1.0, align=1.0, local=1.0, balance=10.0)
    assert batch_rule(cfg).batch_size == 64 * 6
    assert cfg.val_evaluator.type == 'mmseg.IoUMetric'
    assert cfg.val_dataloader.dataset.data_root == 'data/nyuv2'
    # Nothing may try to download weights.
    for name in ('teacher', 'student'):
        net = cfg.model[name]
        assert net.get('pretrained') is None
        assert net.backbone.get('init_cfg') is None
    teacher = MODELS.build(cfg.model.teacher)
    student = MODELS.build(cfg.model.student)
    teacher.init_weights()
    student.init_weights()
    teacher.eval()
    student.eval()
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        assert teacher(x, mode='tensor').shape == (1, 13, 16, 16)
        assert student(x, mode='tensor').shape == (1, 13, 16, 16)
    n_t = sum(p.numel() for p in teacher.parameters())
    n_s = sum(p.numel() for p in student.parameters())
    assert n_s * 5 < n_t
    generator = MODELS.build(cfg.model.generator)
    discriminator = MODELS.build(cfg.model.discriminator)
    with torch.no_grad():
        images = generator(generator.sample_noise(1))
        assert images.shape == (1, 3, 128, 128)
        assert discriminator(images).shape == (1, 1, 8, 8)
    assert discriminator.receptive_field == 46


def test_teacher_config_matches_mosaickd_teacher():
    teacher = Config.fromfile(TEACHER_NYU)
    mosaic = Config.fromfile(MOSAICKD_NYU)
    assert teacher.model.to_dict() == mosaic.model.teacher.to_dict()
    assert teacher.model.decode_head.num_classes == 13
    assert teacher.model.auxiliary_head.num_classes == 13
    assert teacher.val_dataloader.to_dict() == \
        mosaic.val_dataloader.to_dict()
    assert teacher.train_dataloader.dataset.type == 'NYUv2Dataset'


def test_missing_data_and_teacher_are_one_sentence(tmp_path, monkeypatch):
    from mmmosaic.runtime import check_data_paths
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(MOSAICKD_NYU)
    with pytest.raises(MosaicError, match='data/ood_images'):
        check_data_paths(cfg)
    (tmp_path / 'data' / 'ood_images').mkdir(parents=True)
    with pytest.raises(MosaicError) as info:
        check_data_paths(cfg)
    assert 'data/nyuv2' in str(info.value) and PREPARE in str(info.value)
    # With the data in place but no teacher: MosaicKD names the checkpoint.
    init_default_scope('mmmosaic')
    model = cfg.model.copy()
    model.teacher_ckpt = 'work_dirs/none/iter_20000.pth'
    with pytest.raises(MosaicError, match='teacher'):
        MODELS.build(model)


@pytest.mark.slow
def test_deeplabv3_nyu_config_trains_and_evaluates_via_train_py(
        public_nyu, tmp_path):
    """The shipped config's wiring, end to end, without the real NYUv2: a
    generated NYUv2-layout fixture (converted), OOD photos in a folder, and
    a teacher checkpoint made here from the teacher config."""
    import subprocess
    import sys
    src, _ = public_nyu
    data = tmp_path / 'nyuv2'
    assert converter.main([str(src), str(data)]) in (0, None)
    ood = tmp_path / 'ood'
    ood.mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        Image.fromarray(rng.integers(0, 256, (150, 200, 3),
                                     np.uint8)).save(ood / f'{i}.jpg')
    init_default_scope('mmmosaic')
    torch.manual_seed(0)
    teacher = MODELS.build(Config.fromfile(TEACHER_NYU).model)
    ckpt = tmp_path / 'teacher.pth'
    torch.save({'state_dict': teacher.state_dict()}, ckpt)
    work = tmp_path / 'work'
    options = [
        f'model.teacher_ckpt={ckpt}', 'model.synthetic_batch_size=2',
        'model.student_steps=1', 'model.ood_batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        f'train_dataloader.dataset.source.data_root={ood}',
        f'val_dataloader.dataset.data_root={data}',
        f'test_dataloader.dataset.data_root={data}', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2'
    ]
    proc = subprocess.run([
        sys.executable, 'tools/train.py', MOSAICKD_NYU, '--work-dir',
        str(work), '--cfg-options', *options
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          env=dict(
                              os.environ,
                              PYTHONWARNINGS='ignore',
                              OMP_NUM_THREADS='1'))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert (work / 'iter_2.pth').is_file()
    assert 'mIoU' in out and 'Iter(val)' in out
