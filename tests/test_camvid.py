"""CamVid (SegNet layout): the dataset and the configs/benchmarks/*_camvid
configs, on a tiny generated copy of the layout."""
import glob
import os
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.runner import Runner
from mmengine.structures import PixelData
from PIL import Image

from mmmosaic.datasets.camvid import (CAMVID_CLASSES, CAMVID_PALETTE,
                                      CamVidDataset)
from mmmosaic.engine import ensure_guarantee_hooks
from mmmosaic.errors import MosaicError
from mmmosaic.models import batch_rule
from mmmosaic.registry import MODELS
from mmmosaic.runtime import check_data_paths, load_config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {
    name: osp.join(REPO, 'configs', 'benchmarks', f'{name}_camvid.py')
    for name in ('teacher', 'mosaickd')
}
#: The baselines: MosaicKD's config with ``baseline=NAME``.
BASELINES = ('kd_ood', 'dfad', 'dfq')
METHODS = ('teacher', *BASELINES, 'mosaickd')


def _config(name):
    """The config of ``name`` (the teacher, MosaicKD or a baseline) as
    the tools read it."""
    if name in BASELINES:
        return load_config(CONFIGS['mosaickd'], dict(baseline=name))
    return load_config(CONFIGS[name])


H, W = 12, 16  # the pipelines resize frames to 160x120 whatever their size
SPLITS = dict(train=('f0', 'f1', 'f2', 'f3'), val=('f4', 'f5'), test=('f6', ))
LOAD = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.LoadAnnotations'),
    dict(type='mmseg.PackSegInputs')
]


def _labels(seed):
    """0..11 (11 = Unlabelled), every value present."""
    labels = np.random.default_rng(seed).integers(0, 12, (H, W), np.uint8)
    labels.flat[:12] = np.arange(12)
    return labels


@pytest.fixture(scope='module')
def camvid(tmp_path_factory):
    root = tmp_path_factory.mktemp('data') / 'camvid'
    for split, names in SPLITS.items():
        os.makedirs(root / split)
        os.makedirs(root / f'{split}annot')
        for i, name in enumerate(names):
            rgb = np.random.default_rng(i).integers(0, 256, (H, W, 3),
                                                    np.uint8)
            # JPEG frames like SegNet's copy, one PNG: both are read.
            suffix = '.png' if name == 'f0' else '.jpg'
            Image.fromarray(rgb).save(root / split / f'{name}{suffix}')
            Image.fromarray(_labels(i)).save(root / f'{split}annot' /
                                             f'{name}.png')
    return root


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    """A folder tree of a few OOD photos, landscape and portrait."""
    root = tmp_path_factory.mktemp('photos')
    rng = np.random.default_rng(0)
    for i, size in enumerate([(40, 60), (60, 40), (50, 50), (40, 70)]):
        folder = root / f'set{i % 2}'
        folder.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (*size, 3),
                                     np.uint8)).save(folder / f'{i}.jpg')
    return root


# ---------------------------------------------------------------- dataset
def test_dataset_pairs_labels_and_metainfo(camvid):
    init_default_scope('mmmosaic')
    train = CamVidDataset(data_root=str(camvid), split='train', pipeline=LOAD)
    assert len(train) == 4
    for i, name in enumerate(SPLITS['train']):
        info = train.get_data_info(i)
        assert osp.basename(info['img_path']).startswith(name + '.')
        assert info['seg_map_path'] == str(camvid / 'trainannot' /
                                           f'{name}.png')
    assert train.metainfo['classes'] == CAMVID_CLASSES
    assert train.metainfo['palette'] == CAMVID_PALETTE
    assert len(CAMVID_CLASSES) == len(CAMVID_PALETTE) == 11
    assert CAMVID_PALETTE[CAMVID_CLASSES.index('Road')] == [128, 64, 128]
    # Through mmseg's LoadAnnotations: 11 (Unlabelled) -> 255, rest as is.
    for i in range(4):
        gt = train[i]['data_samples'].gt_sem_seg.data[0].numpy()
        labels = _labels(i)
        assert np.array_equal(gt, np.where(labels == 11, 255, labels))
    test = CamVidDataset(
        data_root=str(camvid), split='test', test_mode=True, pipeline=LOAD)
    assert len(test) == 1 and test[0]['inputs'].shape == (3, H, W)


def test_class_subset_still_ignores_unlabelled(camvid):
    init_default_scope('mmmosaic')
    subset = CamVidDataset(
        data_root=str(camvid),
        split='val',
        metainfo=dict(classes=('Sky', 'Road')),
        pipeline=LOAD)
    assert subset.metainfo['palette'] == [[128, 128, 128], [128, 64, 128]]
    gt = subset[0]['data_samples'].gt_sem_seg.data[0].numpy()
    labels = _labels(0)
    expected = np.full_like(labels, 255)
    expected[labels == 0], expected[labels == 3] = 0, 1
    assert np.array_equal(gt, expected)


def _one_sentence(info):
    msg = str(info.value)
    assert '\n' not in msg and msg.endswith('.') and msg.count('. ') == 0
    return msg


def test_dataset_errors(tmp_path, camvid):
    init_default_scope('mmmosaic')
    root = tmp_path / 'camvid'
    with pytest.raises(MosaicError) as info:
        CamVidDataset(data_root=str(root))
    assert "data_root '" in _one_sentence(info) and str(root) in str(
        info.value)
    root.mkdir()
    with pytest.raises(MosaicError) as info:
        CamVidDataset(data_root=str(root), split='val')
    assert 'val image folder' in _one_sentence(info)
    (root / 'val').mkdir()
    with pytest.raises(MosaicError) as info:
        CamVidDataset(data_root=str(root), split='val')
    assert 'annotation folder' in _one_sentence(info)
    assert 'valannot' in str(info.value)
    (root / 'valannot').mkdir()
    with pytest.raises(MosaicError) as info:
        CamVidDataset(data_root=str(root), split='val')
    assert 'holds no .png/.jpg file' in _one_sentence(info)
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(root / 'val' / 'a.png')
    with pytest.raises(MosaicError) as info:
        CamVidDataset(data_root=str(root), split='val')
    assert 'has no label map' in _one_sentence(info)
    assert 'valannot/a.png' in str(info.value)
    with pytest.raises(MosaicError, match='split must be one of'):
        CamVidDataset(data_root=str(camvid), split='trainval')


def test_iou_metric_ignores_unlabelled_pixels(camvid):
    """A prediction that is wrong only where the label is 11 scores 100."""
    cfg = _config('teacher')
    init_default_scope('mmmosaic')
    val = CamVidDataset(
        data_root=str(camvid),
        split='val',
        test_mode=True,
        pipeline=cfg.test_pipeline)

    def score(pred_of):
        evaluator = Evaluator(dict(type='mmseg.IoUMetric'))
        evaluator.dataset_meta = val.metainfo
        samples = []
        for i in range(len(val)):
            sample = val[i]['data_samples']
            # The evaluation pipeline keeps the labels at full resolution.
            assert sample.gt_sem_seg.shape == (H, W)
            labels = torch.from_numpy(_labels(i)).long()
            sample.pred_sem_seg = PixelData(data=pred_of(labels)[None])
            samples.append(sample)
        evaluator.process(samples)
        return evaluator.evaluate(len(samples))['mIoU']

    # Unlabelled pixels predicted as Sky (a wrong class, a false positive
    # for Sky if they counted).
    assert score(lambda y: torch.where(y == 11, 0, y)) == 100.0
    assert score(lambda y: torch.where(y == 11, 10, y)) == 100.0

    def one_wrong(y):
        # One labelled pixel wrong does count.
        pred = torch.where(y == 11, 0, y)
        pred[0, 0] = (y[0, 0] + 1) % 11  # y[0, 0] is 0, labelled
        return pred

    assert score(one_wrong) < 100.0


# ---------------------------------------------------------------- configs
def _options(name, camvid, photos):
    """The --cfg-options keys benchmarks/quality.py sets."""
    opts = {
        'val_dataloader.dataset.data_root': str(camvid),
        'test_dataloader.dataset.data_root': str(camvid),
    }
    if name == 'teacher':
        opts['train_dataloader.dataset.data_root'] = str(camvid)
    elif name != 'dfad':
        opts['train_dataloader.dataset.source.data_root'] = str(photos)
    return opts


def _tiny_run(name, camvid, photos, work_dir, teacher_ckpt=None):
    """The config's own models and pipelines; 2 iterations on tiny batches
    with one validation at the end."""
    cfg = _config(name)
    cfg.merge_from_dict(_options(name, camvid, photos))
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.val_dataloader.batch_size = 2
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 2
    cfg.visualizer = dict(type='Visualizer', vis_backends=[])
    if name == 'teacher':
        cfg.train_dataloader.batch_size = 2
        return cfg
    model = cfg.model
    model.teacher_ckpt = teacher_ckpt
    model.synthetic_batch_size = 2
    if name in ('mosaickd', 'kd_ood'):
        # 2 OOD images per student update beside 2 mosaics (KD: 4 OOD).
        model.ood_batch_size = 2 if name == 'mosaickd' else 4
        cfg.train_dataloader.batch_size = None
    batch_rule(cfg)
    for hook in cfg.custom_hooks:
        if hook.type == 'MosaicVisualizationHook':
            hook.update(interval=2, num_samples=8)
    return cfg


@pytest.fixture(scope='module')
def teacher_ckpt(camvid, photos, tmp_path_factory):
    work = tmp_path_factory.mktemp('teacher')
    runner = Runner.from_cfg(
        ensure_guarantee_hooks(_tiny_run('teacher', camvid, photos, work)))
    runner.train()
    assert runner.iter == 2
    assert 'val/mIoU' in runner.message_hub.log_scalars
    ckpt = work / 'iter_2.pth'
    torch.load(ckpt, map_location='cpu', weights_only=True)
    return str(ckpt)


def _logged_per_class_iou(work_dir):
    """The last per-class IoU table mmseg's IoUMetric printed in a run's log
    (``{class: IoU}``)."""
    row = re.compile(r'^\|\s*([^|]+?)\s*\|\s*(-?[\d.]+|nan)\s*\|')
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))
    with open(logs[-1]) as f:
        lines = f.read().splitlines()
    head = max(i for i, line in enumerate(lines)
               if 'per class results' in line)
    table = {}
    for line in lines[head + 1:]:
        match = row.match(line.strip())
        if match:
            table[match.group(1)] = float(match.group(2))
        elif table and not line.startswith(('|', '+')):
            break
    return table


def test_per_class_iou_is_the_table_validation_logged(camvid, photos,
                                                      teacher_ckpt):
    """Per-class IoU from the evaluator's results on the final checkpoint
    gives the figures of mmseg's table at the run's last validation."""
    from mmmosaic.analysis import per_class_iou
    from mmmosaic.utils.checkpoint import load_model_weights
    work = osp.dirname(teacher_ckpt)
    cfg = _tiny_run('teacher', camvid, photos, work)
    init_default_scope('mmmosaic')
    model = MODELS.build(cfg.model)
    load_model_weights(model, teacher_ckpt)
    loader = Runner.build_dataloader(cfg.val_dataloader)
    iou = per_class_iou(model, loader, cfg.val_evaluator,
                        loader.dataset.metainfo['classes'])
    logged = _logged_per_class_iou(work)
    assert list(iou) == list(logged) == list(CAMVID_CLASSES)
    np.testing.assert_array_equal(list(iou.values()), list(logged.values()))


@pytest.mark.slow
@pytest.mark.parametrize('name', ['mosaickd', 'kd_ood', 'dfad'])
def test_distillation_configs_train_and_validate(name, camvid, photos,
                                                 teacher_ckpt, tmp_path):
    cfg = _tiny_run(name, camvid, photos, tmp_path, teacher_ckpt)
    runner = Runner.from_cfg(ensure_guarantee_hooks(cfg))
    runner.train()
    assert runner.iter == 2 and (tmp_path / 'iter_2.pth').is_file()
    scalars = runner.message_hub.log_scalars
    assert np.isfinite(scalars['train/loss_student'].current())
    assert 0.0 <= scalars['val/mIoU'].current() <= 100.0
    # The teacher is the checkpoint's, untouched by training.
    saved = torch.load(
        teacher_ckpt, map_location='cpu', weights_only=True)['state_dict']
    for key, value in runner.model.teacher.state_dict().items():
        assert torch.equal(value, saved[key]), key
    mosaics = tmp_path / 'mosaics' / 'iter_000002.png'
    assert mosaics.is_file() == (name != 'kd_ood')


def test_config_values():
    cfgs = {name: _config(name) for name in METHODS}
    teacher, mosaic = cfgs['teacher'], cfgs['mosaickd']
    for cfg in cfgs.values():
        assert cfg.val_dataloader.dataset.data_root == 'data/camvid'
        assert cfg.val_dataloader.dataset.split == 'val'
        assert cfg.test_dataloader.dataset.split == 'test'
    assert teacher.train_dataloader.dataset.split == 'train'
    for name in ('kd_ood', 'mosaickd'):
        source = cfgs[name].train_dataloader.dataset.source
        assert source.data_root == 'data/scene-photos'
    # The same teacher and student everywhere.
    for name in ('kd_ood', 'dfad', 'mosaickd'):
        model = cfgs[name].model
        assert model.teacher.to_dict() == teacher.model.to_dict()
        assert model.student.to_dict() == mosaic.model.student.to_dict()
        assert model.teacher.get('pretrained') is None
        assert cfgs[name].optim_wrapper.student.to_dict() == \
            mosaic.optim_wrapper.student.to_dict()
        assert cfgs[name].train_cfg.max_iters == mosaic.train_cfg.max_iters
        assert model.student_steps == 5
    m = mosaic.model
    assert m.loss_weights == dict(adv=1.0, align=1.0, local=1.0, balance=10.0)
    assert m.student_loss.temperature == 1.0
    assert cfgs['kd_ood'].model.student_loss.temperature == 5.0
    assert cfgs['dfad'].model.discriminator is None
    assert cfgs['dfad'].train_dataloader.dataset.type == 'NoImagesDataset'
    # Images per student update: MosaicKD 16 synthetic + 16 OOD.
    b = m.synthetic_batch_size
    assert batch_rule(mosaic)[:5] == (b, b, 5, b, b)  # B, D's, k, N, chunk
    assert batch_rule(cfgs['kd_ood'])[:5] == (0, 0, 5, 2 * b, 2 * b)
    assert cfgs['dfad'].model.synthetic_batch_size == 2 * b
    # DFQ is DFAD plus the teacher's BatchNorm statistics and class balance.
    dfq, dfad = cfgs['dfq'].to_dict(), cfgs['dfad'].to_dict()
    weights = dfq['model'].pop('loss_weights')
    assert weights == dict(
        dfad['model'].pop('loss_weights'), balance=6.02, bn=1.0)
    # Each in a work dir of its own (work_dirs/mosaickd_camvid_dfq, ...).
    assert dfq.pop('work_dir') != dfad.pop('work_dir')
    assert dfq == dfad
    # Generator, crops and OOD views agree on 96x128.
    crop = tuple(mosaic.crop_size)
    assert crop == (96, 128) and tuple(m.generator.img_size) == crop
    pipelines = (
        teacher.train_pipeline + mosaic.ood_real_pipeline +
        mosaic.ood_student_pipeline)
    crops = [t.crop_size for t in pipelines if 'RandomCrop' in t.type]
    assert len(crops) == 3 and all(tuple(c) == crop for c in crops)


def test_models_shapes_and_sizes():
    cfg = _config('mosaickd')
    with DefaultScope.overwrite_default_scope('mmmosaic'):
        teacher = MODELS.build(cfg.model.teacher)
        student = MODELS.build(cfg.model.student)
        generator = MODELS.build(cfg.model.generator)
        discriminator = MODELS.build(cfg.model.discriminator)
    n_t = sum(p.numel() for p in teacher.parameters())
    n_s = sum(p.numel() for p in student.parameters())
    assert 3.5 < n_t / n_s < 4.5
    teacher.eval()
    student.eval()
    x = torch.zeros(1, 3, 96, 128)
    with torch.no_grad():
        assert teacher(x, mode='tensor').shape == (1, 11, 96, 128)
        assert student(x, mode='tensor').shape == (1, 11, 96, 128)
        images = generator(generator.sample_noise(2))
        assert images.shape == (2, 3, 96, 128)
        assert discriminator(images).shape == (2, 1, 12, 16)
    assert discriminator.receptive_field == 22


def test_missing_data_names_the_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MosaicError) as info:
        check_data_paths(_config('teacher'))
    assert 'data/camvid' in str(info.value) and 'SegNet' in str(info.value)
    with pytest.raises(MosaicError) as info:
        check_data_paths(_config('mosaickd'))
    assert 'data/scene-photos' in str(info.value)
    assert 'source.data_root' in str(info.value)
