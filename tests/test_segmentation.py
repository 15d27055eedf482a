"""MosaicKD on dense predictions: losses, the game on mmseg models, the
segmentation demo's data and configs."""
import copy
import math
import os
import os.path as osp

import numpy as np
import pytest
import torch
from _tiny import load_script
from mmengine.config import Config, ConfigDict
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.evaluation import IoUMetric
from mmseg.structures import SegDataSample

from mmmosaic.datasets import MNISTCanvasDataset
from mmmosaic.engine import PlayerOptimWrapperConstructor
from mmmosaic.errors import MosaicError
from mmmosaic.models import batch_rule
from mmmosaic.models.algorithms.task_logits import match_student_to_teacher
from mmmosaic.models.losses import (AdversarialDisagreementLoss,
                                    ClassBalanceLoss, EntropyLoss,
                                    KLDivergenceLoss, PatchAdversarialLoss)
from mmmosaic.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
LN3 = math.log(3.0)


def _converter(name):
    """Import ``tools/dataset_converters/<name>.py`` as a module."""
    return load_script(f'tools/dataset_converters/{name}.py',
                       f'{name}_converter')


canvas = _converter('mnist_canvas')


# ---------------------------------------------------------------- losses
def _dense(pixels):
    """[1, C, 2, 2] logits from a row-major list of 4 per-pixel vectors."""
    return torch.tensor(pixels, dtype=torch.float64).T.reshape(1, -1, 2, 2)


# Two classes. Per pixel: teacher logits -> p_T, student logits -> p_S.
T_PIX = [[0.0, LN3], [0.0, 0.0], [LN3, 0.0], [0.0, 0.0]]
S_PIX = [[0.0, 0.0], [0.0, LN3], [0.0, 0.0], [0.0, 0.0]]
P_T = [[.25, .75], [.5, .5], [.75, .25], [.5, .5]]
P_S = [[.5, .5], [.25, .75], [.5, .5], [.5, .5]]


def _kl(p, q):
    return sum(a * math.log(a / b) for a, b in zip(p, q))


def _entropy(p):
    return -sum(a * math.log(a) for a in p)


def test_kl_divergence_is_a_pixel_mean():
    per_pixel = [_kl(p, q) for p, q in zip(P_T, P_S)]
    loss = KLDivergenceLoss()(_dense(S_PIX), _dense(T_PIX))
    assert loss.item() == pytest.approx(sum(per_pixel) / 4, abs=1e-12)
    none = KLDivergenceLoss(reduction='none')(_dense(S_PIX), _dense(T_PIX))
    assert none.shape == (1, 2, 2)
    assert none.flatten().tolist() == pytest.approx(per_pixel, abs=1e-12)
    # Temperature 2 on doubled logits: the same distributions, times 4.
    hot = KLDivergenceLoss(temperature=2.0)(2 * _dense(S_PIX),
                                            2 * _dense(T_PIX))
    assert hot.item() == pytest.approx(4 * sum(per_pixel) / 4, abs=1e-12)
    # A batch of two: the mean runs over batch and pixels alike.
    batch = KLDivergenceLoss()(torch.cat([_dense(S_PIX),
                                          _dense(T_PIX)]),
                               torch.cat([_dense(T_PIX),
                                          _dense(T_PIX)]))
    assert batch.item() == pytest.approx(sum(per_pixel) / 8, abs=1e-12)


def test_adversarial_term_is_minus_kl_with_gradients_to_both():
    s = _dense(S_PIX).requires_grad_()
    t = _dense(T_PIX).requires_grad_()
    loss = AdversarialDisagreementLoss()(s, t)
    expected = -sum(_kl(p, q) for p, q in zip(P_T, P_S)) / 4
    assert loss.item() == pytest.approx(expected, abs=1e-12)
    loss.backward()
    assert s.grad.abs().sum() > 0 and t.grad.abs().sum() > 0


def test_entropy_pixel_mean_and_valid_mask():
    entropies = [_entropy(p) for p in P_T]
    logits = _dense(T_PIX)
    assert EntropyLoss()(logits).item() == pytest.approx(
        sum(entropies) / 4, abs=1e-12)
    # Ignore handling: only the True positions are averaged.
    mask = torch.tensor([[[True, False], [True, False]]])
    assert EntropyLoss()(
        logits, valid_mask=mask).item() == pytest.approx(
            (entropies[0] + entropies[2]) / 2, abs=1e-12)
    mask = torch.tensor([[[False, True], [False, False]]])
    assert EntropyLoss()(
        logits, valid_mask=mask).item() == pytest.approx(
            math.log(2), abs=1e-12)
    # Nothing valid: 0, not NaN.
    empty = torch.zeros(1, 2, 2, dtype=torch.bool)
    assert EntropyLoss()(logits, valid_mask=empty).item() == 0.0
    assert EntropyLoss(loss_weight=3.0)(logits).item() == pytest.approx(
        3 * sum(entropies) / 4, abs=1e-12)


def test_class_balance_pools_batch_and_pixels():
    pbar = [sum(p[c] for p in P_T) / 4 for c in range(2)]
    expected = sum(b * math.log2(b) for b in pbar)
    assert ClassBalanceLoss()(_dense(T_PIX)).item() == pytest.approx(
        expected, abs=1e-12)
    # Image 1 is all class 0, image 2 all class 1 (confidently): pooled over
    # the batch the classes are balanced, -log2(2) = -1, although each
    # image on its own is as unbalanced as can be.
    one = _dense([[20.0, -20.0]] * 4)
    two = _dense([[-20.0, 20.0]] * 4)
    assert ClassBalanceLoss()(torch.cat([one, two])).item() == pytest.approx(
        -1.0, abs=1e-9)
    assert ClassBalanceLoss()(one).item() == pytest.approx(0.0, abs=1e-9)
    # Three classes, uniform: the minimum -log2(3).
    flat = torch.zeros(1, 3, 2, 2, dtype=torch.float64)
    assert ClassBalanceLoss()(flat).item() == pytest.approx(
        -math.log2(3), abs=1e-12)


def test_class_balance_presence_counts_each_class_once_per_image():
    # T_PIX: class 0 peaks at .75 (pixel 3), class 1 at .75 (pixel 1).
    assert ClassBalanceLoss(dense='presence')(
        _dense(T_PIX)).item() == pytest.approx(
            -1.0, abs=1e-12)
    # Image A: class 0 everywhere but one pixel of class 1; image B: all
    # class 0. Pixels: class 1 is 1/8 of the batch; presence: class 0 is in
    # both images (1 + 1), class 1 in one (1 + 0), so a = (2/3, 1/3).
    big = 20.0
    a = _dense([[big, -big]] * 3 + [[-big, big]])
    b = _dense([[big, -big]] * 4)
    batch = torch.cat([a, b])
    pixels = [7 / 8, 1 / 8]
    presence = [2 / 3, 1 / 3]
    assert ClassBalanceLoss()(batch).item() == pytest.approx(
        sum(x * math.log2(x) for x in pixels), abs=1e-9)
    assert ClassBalanceLoss(dense='presence')(batch).item() == pytest.approx(
        sum(x * math.log2(x) for x in presence), abs=1e-9)
    # One label per image: the same term as the paper's.
    logits = torch.randn(6, 5, dtype=torch.float64)
    assert ClassBalanceLoss(dense='presence')(logits).item() == pytest.approx(
        ClassBalanceLoss()(logits).item(), abs=1e-12)
    with pytest.raises(MosaicError, match="dense option .* is 'area'; set"):
        ClassBalanceLoss(dense='area')


def test_patch_adversarial_sums_patches_averages_batch():
    logits = torch.tensor(
        [[[[0.0, LN3], [-LN3, 0.0]]], [[[0.0, 0.0], [0.0, 0.0]]]],
        dtype=torch.float64)  # [2, 1, 2, 2]
    real = [math.log(1 + math.exp(-x)) for x in (0, LN3, -LN3, 0)]
    fake = [math.log(1 + math.exp(x)) for x in (0, LN3, -LN3, 0)]
    loss = PatchAdversarialLoss()
    assert loss(logits, True).item() == pytest.approx(
        (sum(real) + 4 * math.log(2)) / 2, abs=1e-12)
    assert loss(logits, False).item() == pytest.approx(
        (sum(fake) + 4 * math.log(2)) / 2, abs=1e-12)


def test_student_logits_resized_to_teacher():
    student = torch.arange(8.0).reshape(1, 2, 2, 2).requires_grad_()
    teacher = torch.zeros(1, 2, 4, 4)
    out = match_student_to_teacher(student, teacher)
    assert out.shape == (1, 2, 4, 4)
    # Bilinear, align_corners=False: the corners keep the corner values.
    assert out[0, 0, 0, 0].item() == pytest.approx(0.0)
    assert out[0, 1, 3, 3].item() == pytest.approx(7.0)
    out.sum().backward()
    assert student.grad is not None
    same = torch.zeros(1, 2, 4, 4)
    assert match_student_to_teacher(same, teacher) is same


# ----------------------------------------------------------- tiny models
PRE = dict(
    type='SegDataPreProcessor',
    mean=[120.0, 110.0, 100.0],
    std=[60.0, 60.0, 60.0],
    bgr_to_rgb=True,
    size=(32, 32))
NUM_CLASSES = 4


def tiny_unet(width=4):
    """mmseg UNet + FCN head: logits at full resolution."""
    return dict(
        _scope_='mmseg',
        type='EncoderDecoder',
        data_preprocessor=PRE,
        backbone=dict(
            type='UNet',
            in_channels=3,
            base_channels=width,
            num_stages=3,
            strides=(1, 1, 1),
            enc_num_convs=(1, 1, 1),
            dec_num_convs=(1, 1),
            downsamples=(True, True),
            enc_dilations=(1, 1, 1),
            dec_dilations=(1, 1),
            norm_cfg=dict(type='BN'),
            upsample_cfg=dict(type='InterpConv')),
        decode_head=dict(
            type='FCNHead',
            in_channels=width,
            in_index=2,
            channels=width,
            num_convs=1,
            concat_input=False,
            num_classes=NUM_CLASSES,
            norm_cfg=dict(type='BN'),
            loss_decode=dict(type='CrossEntropyLoss')),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def tiny_deeplab():
    """DeepLabV3 (ASPP) on a thin MobileNetV2: logits at 1/8."""
    return dict(
        _scope_='mmseg',
        type='EncoderDecoder',
        data_preprocessor=PRE,
        backbone=dict(
            type='MobileNetV2',
            widen_factor=0.25,
            strides=(1, 2, 2, 1, 1, 1, 1),
            dilations=(1, 1, 1, 2, 2, 4, 4),
            out_indices=(1, 2, 4, 6)),
        decode_head=dict(
            type='ASPPHead',
            in_channels=80,
            in_index=3,
            channels=8,
            dilations=(1, 2, 3),
            num_classes=NUM_CLASSES,
            loss_decode=dict(type='CrossEntropyLoss')),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def build_game(generator=True,
               discriminator=True,
               batch=2,
               steps=2,
               **model_args):
    init_default_scope('mmmosaic')
    model_args.setdefault('ood_batch_size', batch)
    # ConfigDict, as from a config file: mmseg reads test_cfg.mode.
    cfg = dict(
        type='MosaicKD',
        teacher=ConfigDict(tiny_unet()),
        student=ConfigDict(tiny_deeplab()),
        allow_random_teacher=True,
        student_steps=steps,
        synthetic_batch_size=batch,
        **model_args)
    if generator:
        cfg['generator'] = dict(
            type='DCGANGenerator',
            img_size=32,
            out_channels=3,
            base_channels=4,
            num_upsamples=3)
    if discriminator:
        cfg['discriminator'] = dict(
            type='PatchDiscriminator',
            in_channels=3,
            base_channels=4,
            num_downsamples=3)
    if not generator:
        cfg['student_loss'] = dict(type='KLDivergenceLoss', temperature=5.0)
    model = MODELS.build(cfg)
    model.init_weights()
    model.train()
    players = {
        name: dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
        for name in ('generator', 'discriminator', 'student')
        if getattr(model, name) is not None
    }
    wrappers = PlayerOptimWrapperConstructor(players)(model)
    return model, wrappers


def ood_view(num, size=32, seed=0):
    """A packed OOD view, as mmseg's PackSegInputs gives it: no labels."""
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=[
            torch.randint(
                0, 256, (3, size, size), generator=g, dtype=torch.uint8)
            for _ in range(num)
        ],
        data_samples=[
            SegDataSample(
                metainfo=dict(img_shape=(size, size), ori_shape=(size, size)))
            for _ in range(num)
        ])


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before, module):
    return any(not torch.equal(before[k], v)
               for k, v in module.state_dict().items()
               if v.dtype.is_floating_point)


def test_game_on_mmseg_encoder_decoders():
    torch.manual_seed(0)
    model, wrappers = build_game()
    # Teacher: full-resolution logits; student: 1/8, resized in the game.
    x = torch.zeros(1, 3, 32, 32)
    with torch.no_grad():
        assert model.teacher(
            x, mode='tensor').shape == (1, NUM_CLASSES, 32, 32)
        assert model.student(x, mode='tensor').shape == (1, NUM_CLASSES, 4, 4)
    before = {
        n: snapshot(getattr(model, n))
        for n in ('teacher', 'student', 'generator', 'discriminator')
    }
    n = 2 * (2 + 1)
    data = dict(real=ood_view(n, seed=1), student=ood_view(n, seed=2))
    log_vars = model.train_step(data, wrappers)
    assert set(log_vars) == {
        'loss_d', 'loss_adv', 'loss_align', 'loss_balance', 'loss_local',
        'loss_g', 'loss_student'
    }
    assert all(torch.isfinite(v) for v in log_vars.values())
    # Class balance over batch and pixels lies in [-log2 C, 0].
    assert -math.log2(NUM_CLASSES) - 1e-6 <= log_vars['loss_balance'] <= 0
    assert log_vars['loss_adv'] <= 0
    for name in ('student', 'generator', 'discriminator'):
        assert changed(before[name], getattr(model, name)), name
    assert not changed(before['teacher'], model.teacher)
    assert all(p.grad is None for p in model.teacher.parameters())
    assert not model.teacher.training and model.student.training
    # No gradient is left behind for the next player's update.
    for name in ('student', 'generator', 'discriminator'):
        for p in getattr(model, name).parameters():
            assert p.grad is None or not p.grad.any(), name


def test_game_with_presence_balance():
    """``balance_loss=dict(dense='presence')`` (no type needed, as from
    ``--cfg-options``) gives the generator the presence term."""
    torch.manual_seed(0)
    model, wrappers = build_game(balance_loss=dict(dense='presence'))
    assert model.balance_loss.dense == 'presence'
    assert build_game()[0].balance_loss.dense == 'pixels'
    z = model.generator.sample_noise(2)
    with torch.no_grad():
        t_logits = model.teacher_logits(model.normalize(model.generator(z)))
    assert model.balance_loss(t_logits).item() == pytest.approx(
        ClassBalanceLoss(dense='presence')(t_logits).item())
    n = 2 * (2 + 1)
    data = dict(real=ood_view(n, seed=1), student=ood_view(n, seed=2))
    log_vars = model.train_step(data, wrappers)
    assert -math.log2(NUM_CLASSES) - 1e-6 <= log_vars['loss_balance'] <= 0


def test_kd_on_ood_images_dense():
    torch.manual_seed(0)
    model, wrappers = build_game(generator=False, discriminator=False)
    before = snapshot(model.student)
    data = dict(real=ood_view(4, seed=3), student=ood_view(4, seed=4))
    log_vars = model.train_step(data, wrappers)
    assert set(log_vars) == {'loss_student'}
    assert torch.isfinite(log_vars['loss_student'])
    assert changed(before, model.student)


def _labelled_batch(num=2, size=32):
    data = ood_view(num, size, seed=5)
    g = torch.Generator().manual_seed(6)
    for sample in data['data_samples']:
        gt = torch.randint(0, NUM_CLASSES, (1, size, size), generator=g)
        gt[:, :8] = 255  # an unlabelled band
        sample.gt_sem_seg = PixelData(data=gt)
    return data


def test_validation_runs_the_student_and_iou_metric_ignores_255():
    torch.manual_seed(0)
    model, _ = build_game()
    model.eval()
    data = _labelled_batch()
    outputs = model.val_step(copy.deepcopy(data))
    assert len(outputs) == 2
    with torch.no_grad():
        expected = model.student.val_step(copy.deepcopy(data))
    evaluator = Evaluator(IoUMetric(iou_metrics=['mIoU']))
    evaluator.dataset_meta = dict(classes=tuple('abcd'))
    evaluator.process(data_samples=outputs, data_batch=data)
    result = evaluator.evaluate(len(outputs))
    # Hand-computed mIoU on the labelled pixels only.
    inter = np.zeros(NUM_CLASSES)
    union = np.zeros(NUM_CLASSES)
    for out, ref in zip(outputs, expected):
        pred = out.pred_sem_seg.data[0].numpy()
        assert np.array_equal(pred, ref.pred_sem_seg.data[0].numpy())
        gt = out.gt_sem_seg.data[0].numpy()
        valid = gt != 255
        for c in range(NUM_CLASSES):
            p, t = (pred == c) & valid, (gt == c) & valid
            inter[c] += (p & t).sum()
            union[c] += (p | t).sum()
    with np.errstate(invalid='ignore', divide='ignore'):
        ious = inter / union
    assert result['mIoU'] == pytest.approx(
        round(float(np.nanmean(ious)) * 100, 2), abs=0.011)


# ------------------------------------------------------- demo data set
def test_canvas_builder(fake_mnist, tmp_path):
    from PIL import Image
    out = str(tmp_path / 'canvas')
    kwargs = dict(
        num_train=6,
        num_test=3,
        num_ood=5,
        size=40,
        seed=1,
        mnist_root=str(fake_mnist / 'mnist'),
        fashion_root=str(fake_mnist / 'fashion_mnist'),
        verbose=False)
    canvas.build_canvas_dataset(out, **kwargs)
    for sub, count in (('images/train', 6), ('annotations/train', 6),
                       ('images/test', 3), ('annotations/test', 3), ('ood',
                                                                     5)):
        assert len(os.listdir(osp.join(out, sub))) == count, sub
    for i in range(6):
        img = np.array(Image.open(f'{out}/images/train/{i:05d}.png'))
        ann = np.array(Image.open(f'{out}/annotations/train/{i:05d}.png'))
        assert img.shape == ann.shape == (40, 40)
        # Labels: background 0, digit class + 1 exactly on bright strokes.
        assert set(np.unique(ann)) <= set(range(11))
        assert np.array_equal(ann > 0, img > 127)
        assert (ann > 0).any()
    # Idempotent: a second call rewrites nothing.
    stamp = os.stat(f'{out}/images/train/00000.png').st_mtime_ns
    canvas.build_canvas_dataset(out, **kwargs)
    assert os.stat(f'{out}/images/train/00000.png').st_mtime_ns == stamp
    # Same seed, same canvases; other parameters rebuild.
    first = np.array(Image.open(f'{out}/ood/00000.png'))
    canvas.build_canvas_dataset(out, **dict(kwargs, num_train=4))
    assert len(os.listdir(osp.join(out, 'images/train'))) == 4
    assert np.array_equal(first, np.array(Image.open(f'{out}/ood/00000.png')))
    with pytest.raises(MosaicError, match='fetch_mnist.py'):
        canvas.build_canvas_dataset(
            str(tmp_path / 'x'), **dict(kwargs, mnist_root=str(tmp_path)))


def test_canvas_dataset_missing_folder(tmp_path):
    init_default_scope('mmmosaic')
    with pytest.raises(MosaicError, match='dataset_converters/mnist_canvas'):
        MNISTCanvasDataset(data_root=str(tmp_path / 'none'))


def _file_bytes(folder):
    """Every file under ``folder``: relative path -> its bytes."""
    found = {}
    for parent, _, files in os.walk(folder):
        for name in files:
            path = osp.join(parent, name)
            with open(path, 'rb') as f:
                found[osp.relpath(path, folder)] = f.read()
    return found


def test_canvas_converter_command_line(fake_mnist, tmp_path):
    """The script writes what build_canvas_dataset writes with the same
    parameters, and refuses an --out-dir that is a file."""
    roots = dict(
        mnist_root=str(fake_mnist / 'mnist'),
        fashion_root=str(fake_mnist / 'fashion_mnist'))
    canvas.build_canvas_dataset(
        str(tmp_path / 'call'),
        num_train=3,
        num_test=2,
        num_ood=4,
        size=36,
        seed=5,
        digits=(2, 2),
        threshold=100,
        verbose=False,
        **roots)
    assert canvas.main([
        '--out-dir',
        str(tmp_path / 'cli'), '--mnist-root', roots['mnist_root'],
        '--fashion-root', roots['fashion_root'], '--num-train', '3',
        '--num-test', '2', '--num-ood', '4', '--size', '36', '--seed', '5',
        '--digits', '2', '2', '--threshold', '100'
    ]) == 0
    made = _file_bytes(tmp_path / 'cli')
    assert len(made) == 3 * 2 + 2 * 2 + 4 + 1
    assert made == _file_bytes(tmp_path / 'call')
    (tmp_path / 'file').write_text('x')
    assert canvas.main(['--out-dir', str(tmp_path / 'file')]) == 2


def test_idx_reader_rejects_broken_files(fake_mnist, tmp_path):
    """One IDX header reader serves fetch_mnist.py's check and the
    canvases' loader; both reject a truncated or non-uint8 file."""
    fetch = _converter('fetch_mnist')
    good = fake_mnist / 'mnist' / 'train-images-idx3-ubyte'
    assert fetch.read_idx(str(good)).shape == (20, 28, 28)
    assert fetch.idx_problem(good, 20) is None
    assert fetch.idx_problem(good, 60000) == 'holds 20 items, not 60000'
    cut = tmp_path / 'train-images-idx3-ubyte'
    cut.write_bytes(good.read_bytes()[:-5])
    with pytest.raises(MosaicError, match='truncated'):
        fetch.read_idx(str(cut))
    assert fetch.idx_problem(cut, 20).startswith('is 15691 bytes')
    for data in (b'\x00\x00', b'\x00\x00\x0d\x01' + bytes(12)):
        cut.write_bytes(data)
        with pytest.raises(MosaicError, match='not an uncompressed uint8'):
            fetch.read_idx(str(cut))
    problem = fetch.idx_problem(cut, 20)
    assert problem == 'has the wrong magic number 0x00000d01'


def _tiny_demo_cfg(path, canvas_root, work_dir):
    cfg = Config.fromfile(osp.join(REPO, path))
    cfg.work_dir = str(work_dir)
    small = dict(
        base_channels=4,
        num_stages=3,
        strides=(1, 1, 1),
        enc_num_convs=(1, 1, 1),
        dec_num_convs=(1, 1),
        downsamples=(True, True),
        enc_dilations=(1, 1, 1),
        dec_dilations=(1, 1))
    for name in ('teacher', 'student'):
        net = cfg.model[name]
        net.backbone.update(small)
        net.decode_head.update(in_channels=4, channels=4, in_index=2)
        net.data_preprocessor.size = (40, 40)
    # The Runner gives the model the top-level data_preprocessor.
    cfg.data_preprocessor.size = (40, 40)
    cfg.model.teacher_ckpt = None
    cfg.model.allow_random_teacher = True
    cfg.model.synthetic_batch_size = 2
    cfg.model.student_steps = 2
    # OOD images per student update: 2 beside 2 mosaics, or 4 (KD on OOD).
    cfg.model.ood_batch_size = 4
    if cfg.model.generator is not None:
        cfg.model.generator.update(img_size=40, base_channels=4)
        cfg.model.discriminator.update(base_channels=4, num_downsamples=2)
        cfg.model.ood_batch_size = 2
    cfg.train_dataloader.batch_size = None
    batch_rule(cfg)  # 2 + 2 x 2, or 2 x 4
    cfg.train_dataloader.dataset.source.data_root = f'{canvas_root}/ood'
    cfg.val_dataloader.dataset.data_root = canvas_root
    cfg.val_dataloader.batch_size = 3
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 100
    cfg.visualizer = dict(type='Visualizer', vis_backends=[])
    return cfg


@pytest.mark.parametrize('config', [
    'configs/demo/seg_mosaickd_mnist_canvas.py',
    'configs/demo/seg_kd_ood_mnist_canvas.py'
])
def test_demo_configs_train_and_validate(config, fake_mnist, tmp_path):
    from mmengine.runner import Runner
    root = str(tmp_path / 'canvas')
    canvas.build_canvas_dataset(
        root,
        num_train=2,
        num_test=3,
        num_ood=12,
        size=40,
        seed=0,
        mnist_root=str(fake_mnist / 'mnist'),
        fashion_root=str(fake_mnist / 'fashion_mnist'),
        verbose=False)
    cfg = _tiny_demo_cfg(config, root, tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    assert 'mIoU' in metrics and 0.0 <= metrics['mIoU'] <= 100.0


def test_demo_teacher_config_builds(fake_mnist, tmp_path):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/demo/seg_teacher_mnist_canvas.py'))
    init_default_scope('mmmosaic')
    teacher = MODELS.build(cfg.model)
    student = MODELS.build(
        Config.fromfile(
            osp.join(
                REPO,
                'configs/demo/seg_mosaickd_mnist_canvas.py')).model.student)
    n_t = sum(p.numel() for p in teacher.parameters())
    n_s = sum(p.numel() for p in student.parameters())
    assert n_s * 2 < n_t
    x = torch.zeros(2, 1, 48, 48)
    teacher.eval()
    student.eval()
    with torch.no_grad():
        assert teacher(x, mode='tensor').shape == (2, 11, 48, 48)
        assert student(x, mode='tensor').shape == (2, 11, 48, 48)


def test_mosaic_grid_rows_segmented_images_by_their_characteristic_class():
    """Background fills most of every canvas; an image goes to the row of
    the class it shows more of than the others do, not to background."""
    from mmmosaic.engine.hooks import mosaic_grid
    from mmmosaic.engine.hooks.mosaic_visualization_hook import \
        characteristic_class
    masks = torch.zeros(3, 4, 4, dtype=torch.long)
    masks[0, 0, :2] = 3  # 2 of 16 pixels digit 3
    masks[1, :2, :] = 5  # 8 of 16 pixels digit 5
    # Image 2 is all background: its only class, and under-represented
    # nowhere, so it stays in row 0.
    assert characteristic_class(masks, 11).tolist() == [3, 5, 0]
    logits = torch.nn.functional.one_hot(masks, 11).permute(0, 3, 1, 2)
    images = torch.rand(3, 1, 4, 4)
    grid = mosaic_grid(images, 10.0 * logits.float(), per_class=2)
    # 11 rows of 4-pixel-high cells, 2 cells of image | mask per row.
    assert grid.shape == (11 * 4, 2 * 8, 3)
    for row, image in ((3, 0), (5, 1), (0, 2)):
        cell = grid[4 * row:4 * row + 4, :4, 0]
        expected = (images[image, 0] * 255).round().to(torch.uint8).numpy()
        assert (cell == expected).all(), row
    assert not grid[4:4 * 3].any()  # rows 1 and 2: no image
