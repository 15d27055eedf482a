"""tools/analysis/ood_report.py and its measures (mmmosaic.analysis)."""
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch
from _tiny import load_script, mosaickd, ood_dataset, write_runner_config
from mmengine.config import Config
from PIL import Image
from torch.utils.data import Subset

from mmmosaic.analysis import (OODTeacherStats, RealViews, class_coverage,
                               select_high_entropy, spread_sample, verdict)
from mmmosaic.analysis.ood_report import CONFIDENT_PROB, RARE_SHARE
from mmmosaic.registry import DATASETS, MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
NAMES = [f'c{i}' for i in range(10)]
PALETTE = [[0, 0, 0], [200, 0, 0], [0, 0, 200], [0, 200, 0]]


def _stats_of(logits, batch=8, **kwargs):
    stats = OODTeacherStats(logits.shape[1], **kwargs)
    for start in range(0, len(logits), batch):
        chunk = logits[start:start + batch]
        stats.update(chunk, range(start, start + len(chunk)))
    return stats


# ------------------------------------------------- measures and verdict
def test_one_class_teacher_is_narrow():
    logits = torch.zeros(50, 10)
    logits[:, 0] = 10.0
    cov = _stats_of(logits).coverage()
    assert cov['effective_top_classes'] == pytest.approx(1.0)
    assert cov['confident_share'] == 1.0
    said = verdict(cov, NAMES)
    assert said['kind'] == 'narrow'
    assert said['sentences'][0].startswith(
        'The teacher sees only 1 of its 10 classes')
    assert "MosaicKD's class balance is needed" in said['sentences'][0]
    assert said['sentences'][1] == ('Rare (under 1% of the images): ' +
                                    ', '.join(f'c{i} (never)'
                                              for i in range(1, 10)) + '.')


def test_spread_teacher_is_broad():
    # Each image confidently one class, every class equally often.
    logits = torch.zeros(50, 10)
    logits[torch.arange(50), torch.arange(50) % 10] = 10.0
    cov = _stats_of(logits).coverage()
    assert cov['effective_top_classes'] == pytest.approx(10.0)
    assert cov['effective_classes'] == pytest.approx(10.0)
    said = verdict(cov, NAMES)
    assert said['kind'] == 'broad'
    assert said['sentences'] == [
        'Coverage is broad (10.00 of 10 classes): run KD on these images '
        'first, it is a strong baseline; MosaicKD has little to add.'
    ]


def test_partial_coverage_names_the_rare_classes():
    # 4 classes share the images; c4 gets one image in 200 (under 1 %).
    top = torch.tensor([0, 1, 2, 3] * 50)
    top[0] = 4
    logits = torch.zeros(200, 10)
    logits[torch.arange(200), top] = 10.0
    cov = _stats_of(logits).coverage()
    assert cov['top_class_share'][4] == pytest.approx(0.005)
    assert 0.005 < RARE_SHARE
    said = verdict(cov, NAMES)
    assert said['kind'] == 'partial'
    assert 'not the rare ones' in said['sentences'][0]
    assert said['sentences'][1] == ('Rare (under 1% of the images): c4, '
                                    'c5 (never), c6 (never), c7 (never), '
                                    'c8 (never), c9 (never).')


def test_a_teacher_confident_on_no_image_gets_a_hint():
    # 4 classes share the images (partial coverage), each image's top
    # class only slightly ahead: top probability e / (e + 9) = 0.23.
    logits = torch.zeros(200, 10)
    logits[torch.arange(200), torch.arange(200) % 4] = 1.0
    cov = _stats_of(logits).coverage()
    assert cov['confident_share'] == 0
    said = verdict(cov, NAMES)
    assert said['kind'] == 'partial'
    hint = said['sentences'][1]
    assert hint.startswith(
        'The teacher is confident (top probability >= 0.9) on none of '
        'these images, with a mean top probability of 0.23 where a uniform '
        'guess gives 0.10: either the images are far from its task')
    assert 'the recommended recipe still applies' in hint
    assert 'model.teacher_ckpt' in hint and 'mean and std' in hint
    assert 'uniform guess:' not in hint
    # About as unsure as a uniform guess: a broken teacher is likely.
    torch.manual_seed(0)
    cov = _stats_of(torch.randn(200, 10) * 0.01).coverage()
    hint = verdict(cov, NAMES)['sentences'][1]
    assert '(about a uniform guess: an untrained checkpoint or another ' \
        'normalisation is likely)' in hint
    # Segmentation: images whose pixel-averaged top probability is low.
    dense = dict(cov, dense=True)
    assert ('(top probability >= 0.9, pixel-averaged) on none of these '
            'images' in verdict(dense, NAMES)['sentences'][1])
    # One confident image: no hint.
    logits[0, 0] = 10.0
    said = verdict(_stats_of(logits).coverage(), NAMES)
    assert not any('none of these' in s for s in said['sentences'])


def test_streamed_measures_match_the_outputs():
    torch.manual_seed(0)
    logits = torch.randn(37, 10) * 3
    stats = _stats_of(logits, per_class=3, subset_size=5)
    probs = logits.softmax(1)
    top_prob, top = probs.max(1)
    expected = class_coverage(
        torch.bincount(top, minlength=10), probs.sum(0), 37,
        float(top_prob.sum()))
    cov = stats.coverage()
    for key, value in expected.items():
        assert cov[key] == pytest.approx(value, rel=1e-5), key
    assert cov['num_images'] == 37 and not cov['dense']
    assert cov['confident_share'] == pytest.approx(
        float((top_prob >= CONFIDENT_PROB).float().mean()))
    entropy = -(probs * probs.log()).sum(1)
    assert cov['mean_entropy'] == pytest.approx(float(entropy.mean()))

    # Per class, the images with the highest probability of the class.
    for c, best in enumerate(stats.examples()):
        assert [i for i, _ in best] == probs[:, c].topk(3).indices.tolist()

    # The subset is select_high_entropy's, and its coverage is theirs,
    # although only a few rows were kept while streaming.
    subset = stats.subset(5)
    chosen = select_high_entropy(entropy, 5, list(range(37)))
    assert subset['items'] == chosen
    assert len(stats._candidates) <= 2 * 5 + 8
    p = probs[chosen]
    tp, t = p.max(1)
    expected = class_coverage(
        torch.bincount(t, minlength=10), p.sum(0), 5, float(tp.sum()))
    for key, value in expected.items():
        assert subset['coverage'][key] == pytest.approx(value, rel=1e-5)
    assert subset['min_entropy'] == pytest.approx(float(entropy[chosen].min()))


def test_dense_outputs_count_pixels():
    torch.manual_seed(1)
    logits = torch.randn(6, 4, 5, 7) * 4
    stats = _stats_of(logits, batch=4, per_class=2, subset_size=3)
    cov = stats.coverage()
    probs = logits.softmax(1)
    top_prob, top = probs.max(1)
    assert cov['dense'] and cov['num_images'] == 6
    assert cov['top_class_share'] == pytest.approx(
        (torch.bincount(top.flatten(), minlength=4) / top.numel()).tolist())
    # Confident share of each class per image ranks the examples.
    sure = (top_prob >= CONFIDENT_PROB)
    share = torch.stack([((top == c) & sure).float().mean((1, 2))
                         for c in range(4)], 1)
    for c, best in enumerate(stats.examples()):
        want = [float(s) for s in share[:, c].topk(2).values if s > 0]
        assert [s for _, s in best] == pytest.approx(want)
        assert all(share[i, c] == pytest.approx(s) for i, s in best)
    entropy = -(probs * probs.log()).sum(1).mean((1, 2))
    assert stats.subset(3)['items'] == select_high_entropy(
        entropy, 3, list(range(6)))


def test_real_views_repeat_their_random_crops_and_skip_bad_images(tmp_path):
    for i in range(3):
        pixels = np.random.default_rng(i).integers(0, 256, (20, 20), np.uint8)
        Image.fromarray(pixels).save(tmp_path / f'{i}.png')
    (tmp_path / '1.png').write_bytes(b'not an image')
    dataset = DATASETS.build(
        dict(
            type='OODDataset',
            source=dict(
                type='UnlabeledImageFolder',
                data_root=str(tmp_path),
                pipeline=[
                    dict(
                        type='mmpretrain.LoadImageFromFile',
                        color_type='grayscale')
                ]),
            real_pipeline=[
                dict(type='mmpretrain.RandomCrop', crop_size=8),
                dict(type='mmpretrain.PackInputs')
            ],
            student_pipeline=[dict(type='mmpretrain.PackInputs')]))
    views = RealViews(dataset, [0, 1, 2])
    first = views.view(0)['inputs']
    np.random.seed(123)  # the global state does not matter
    assert torch.equal(views.view(0)['inputs'], first)
    assert not torch.equal(views.view(2)['inputs'], first)
    state = np.random.get_state()[1].copy()
    assert torch.equal(views[1]['real']['inputs'], views.view(2)['inputs'])
    assert set(views.bad) == {1} and len(views.bad) == 1
    assert np.array_equal(np.random.get_state()[1], state)  # restored
    assert views.source_name(2).endswith('2.png')


# ------------------------------------------------------ the tool
def _tool():
    return load_script('tools/analysis/ood_report.py', 'ood_report_tool')


def _teacher_ckpt(model_cfg, path, calibrate=None):
    """A random teacher's checkpoint; with ``calibrate`` (an OOD dataset
    config), its BatchNorm layers' running statistics are those of the
    dataset's real views, all in one batch (as if trained on them)."""
    torch.manual_seed(0)
    model = MODELS.build(dict(model_cfg, allow_random_teacher=True))
    if calibrate is not None:
        from mmengine.dataset import pseudo_collate
        ood = DATASETS.build(calibrate)
        views = RealViews(ood, range(len(ood)))
        batch = pseudo_collate([views[j] for j in range(len(views))])
        inputs = model.data_preprocessor(batch['real'], False)['inputs']
        for layer in model.teacher.modules():
            if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
                layer.reset_running_stats()
                layer.momentum = None
        model.teacher.train()
        with torch.no_grad():
            model.teacher(inputs, mode='tensor')
    torch.save({'state_dict': model.teacher.state_dict()}, str(path))
    return str(path)


def test_samples_one_image_from_each_stretch():
    positions = spread_sample(1000, 30)
    assert len(set(positions)) == 30 and positions == sorted(positions)
    stretch = [int(i * 1000 / 30) for i in range(31)]
    assert all(lo <= p < hi
               for p, lo, hi in zip(positions, stretch, stretch[1:]))
    # Not a fixed step: odd and even items both drawn.
    assert {p % 2 for p in positions} == {0, 1}
    assert spread_sample(10, 20) == spread_sample(10, None) == list(range(10))


def test_tool_on_a_tiny_classifier(tmp_path, capsys):
    config = write_runner_config(tmp_path / 'tiny.py', tmp_path / 'work')
    # The teacher's BatchNorm statistics are these images': not far.
    ckpt = _teacher_ckpt(
        mosaickd(), tmp_path / 'teacher.pth', calibrate=ood_dataset())
    out = tmp_path / 'report'
    status = _tool().main([
        config, '--cfg-options', f'model.teacher_ckpt={ckpt}', '--out',
        str(out), '--max-images', '40', '--subset-size', '32', '--examples',
        '3', '--batch-size', '16'
    ])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert '[ood_report] 40/40 images' in printed
    for name in ('report.md', 'report.json', 'coverage.png', 'entropy.png',
                 'examples_01.png'):
        assert (out / name).is_file(), name
    report = json.loads((out / 'report.json').read_text())
    assert report['task'] == 'classification' and report['units'] == 'images'
    assert report['images'] == dict(total=64, used=40, measured=40, skipped=0)
    cov = report['coverage']
    assert cov['num_images'] == 40 and cov['num_classes'] == 10
    assert sum(cov['top_class_share']) == pytest.approx(1.0)
    # 32 of 64 images, scaled to the 40 looked at.
    assert report['subset_size'] == dict(requested=32, used=20)
    assert report['subset']['coverage']['num_images'] == 20
    assert report['classes'] == [str(i) for i in range(10)]
    assert sum(report['entropy_histogram']['counts']) == 40
    assert report['verdict']['kind'] in ('narrow', 'partial', 'broad')
    assert all(len(e['images']) <= 3 for e in report['examples'])
    # The same measures as teacher_coverage on the same 40 images.
    from mmmosaic.analysis import teacher_coverage
    model = MODELS.build(mosaickd(teacher_ckpt=ckpt))
    images = Subset(DATASETS.build(ood_dataset()), spread_sample(64, 40))
    direct = teacher_coverage(model, images)
    assert cov['top_class_share'] == pytest.approx(direct['top_class_share'])
    assert cov['effective_classes'] == pytest.approx(
        direct['effective_classes'], rel=1e-5)
    text = (out / 'report.md').read_text()
    assert '## Verdict' in text and report['verdict']['sentences'][0] in text
    assert '![examples](examples_01.png)' in text
    # The teacher has BatchNorm layers: DFQ's generator with the OOD images
    # as a quarter of the student's batch, as keys for this config (B + N =
    # 6 + 2 images an update as 4 + 4 were, k = 2 updates' OOD images a
    # loader batch, no discriminator).
    rec = report['recommendation']
    assert rec['teacher_has_bn'] and rec['name'] == 'dfq_ood_quarter'
    assert rec['options'] == [
        'model.loss_weights.adv=1', 'model.loss_weights.align=0',
        'model.loss_weights.balance=6.02', 'model.loss_weights.bn=1',
        'model.discriminator=None', 'optim_wrapper.discriminator=None',
        'model.synthetic_batch_size=6', 'model.ood_batch_size=2',
        'train_dataloader.batch_size=4'
    ]
    assert '## Recommended recipe' in text and ' '.join(rec['options']) in text
    assert '[ood_report] recommended recipe: dfq_ood_quarter (' in printed
    shift = report['bn_shift']
    assert len(shift['per_layer']) == 2 and shift['value'] < 0.01
    assert 'BatchNorm layers by' in printed
    assert 'OOD images below 0.2 (a quarter of each update' in printed
    # The randomly initialised teacher is sure of no image: said, with
    # what to check.
    assert cov['confident_share'] == 0
    hint = report['verdict']['sentences'][1]
    assert hint.startswith('The teacher is confident (top probability >= '
                           '0.9) on none of these images')
    assert f'[ood_report] {hint}' in printed and f'- {hint}' in text


def test_tool_recommends_dfq_where_the_images_are_far(tmp_path, capsys):
    """The random teacher's running statistics (mean 0, variance 1) are far
    from these images' features: DFQ, with the form to write for it."""
    config = write_runner_config(tmp_path / 'tiny.py', tmp_path / 'work')
    ckpt = _teacher_ckpt(mosaickd(), tmp_path / 'teacher.pth')
    out = tmp_path / 'report'
    status = _tool().main([
        config, '--cfg-options', f'model.teacher_ckpt={ckpt}', '--out',
        str(out), '--max-images', '16', '--examples', '1'
    ])
    printed = capsys.readouterr().out
    assert status == 0, printed
    report = json.loads((out / 'report.json').read_text())
    from mmmosaic.analysis.recipes import FAR_BN_SHIFT, FORMS
    assert report['bn_shift']['value'] >= FAR_BN_SHIFT
    rec = report['recommendation']
    assert rec['name'] == 'dfq' and rec['options'] is None
    assert FORMS['dfq']['example'] in rec['keys_text']
    assert '[ood_report] recommended recipe: dfq (' in printed
    assert f'(far from {FAR_BN_SHIFT:g} on)' in printed
    assert 'far from' in (out / 'report.md').read_text()


def _seg_config(tmp_path):
    from test_segmentation import tiny_unet
    photos = tmp_path / 'photos'
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i, size in enumerate([(40, 60), (60, 40), (50, 50), (40, 70),
                              (48, 48)]):
        Image.fromarray(rng.integers(0, 256, (*size, 3),
                                     np.uint8)).save(photos / f'{i}.jpg')
    view = [
        dict(type='mmseg.Resize', scale=(64, 32), keep_ratio=True),
        dict(type='mmseg.RandomCrop', crop_size=(32, 32)),
        dict(type='mmseg.PackSegInputs')
    ]
    model = dict(
        type='MosaicKD',
        teacher=tiny_unet(),
        student=tiny_unet(),
        generator=None,
        discriminator=None,
        student_loss=dict(type='KLDivergenceLoss', temperature=5.0),
        student_steps=1,
        synthetic_batch_size=2)
    classes = ('ground', 'wall', 'sky', 'thing')
    cfg = dict(
        default_scope='mmmosaic',
        model=model,
        train_dataloader=dict(
            batch_size=2,
            dataset=dict(
                type='OODDataset',
                source=dict(
                    type='UnlabeledImageFolder',
                    data_root=str(photos),
                    pipeline=[dict(type='LoadImageFromFile')]),
                real_pipeline=view,
                student_pipeline=view)),
        val_dataloader=dict(
            dataset=dict(
                type='mmseg.BaseSegDataset',
                metainfo=dict(classes=classes, palette=PALETTE))))
    path = tmp_path / 'seg.py'
    Config(cfg).dump(str(path))
    return str(path), Config(cfg).model, classes


def test_tool_recommends_the_paper_for_a_teacher_without_batchnorm(
        tmp_path, capsys):
    config, model_cfg, _ = _seg_config(tmp_path)
    cfg = Config.fromfile(config)
    group_norm = dict(type='GN', num_groups=1)
    cfg.model.teacher.backbone.norm_cfg = group_norm
    cfg.model.teacher.decode_head.norm_cfg = group_norm
    cfg.dump(config)
    ckpt = _teacher_ckpt(cfg.model, tmp_path / 'teacher.pth')
    out = tmp_path / 'report'
    status = _tool().main([
        config, '--cfg-options', f'model.teacher_ckpt={ckpt}', '--out',
        str(out), '--subset-size', '3', '--batch-size', '2'
    ])
    printed = capsys.readouterr().out
    assert status == 0, printed
    report = json.loads((out / 'report.json').read_text())
    rec = report['recommendation']
    assert not rec['teacher_has_bn'] and rec['name'] == 'mosaickd'
    # A KD config: the recipe goes to its MosaicKD form.
    assert rec['options'] is None and 'no generator' in rec['keys_text']
    assert '[ood_report] recommended recipe: mosaickd ' in printed
    # No BatchNorm statistics: no shift, said in one sentence.
    assert report['bn_shift']['layers'] == 0
    assert report['bn_shift']['value'] is None
    assert 'has no BatchNorm layer with running statistics' in printed


def test_tool_on_a_tiny_segmentor(tmp_path, capsys):
    config, model_cfg, classes = _seg_config(tmp_path)
    ckpt = _teacher_ckpt(model_cfg, tmp_path / 'teacher.pth')
    out = tmp_path / 'report'
    status = _tool().main([
        config, '--cfg-options', f'model.teacher_ckpt={ckpt}', '--out',
        str(out), '--subset-size', '3', '--batch-size', '2'
    ])
    printed = capsys.readouterr().out
    assert status == 0, printed
    report = json.loads((out / 'report.json').read_text())
    assert report['task'] == 'segmentation' and report['units'] == 'pixels'
    assert report['classes'] == list(classes)
    cov = report['coverage']
    assert cov['dense'] and cov['num_images'] == 5
    assert sum(cov['top_class_share']) == pytest.approx(1.0)
    assert 0 <= cov['mean_entropy'] <= math.log(4)
    assert report['subset']['coverage']['num_images'] == 3
    for example in report['examples']:
        for image in example['images']:
            assert image['file'].endswith('.jpg') and 0 < image['score'] <= 1
    assert (out / 'examples_01.png').is_file()
    assert 'pixel-averaged' in (out / 'report.md').read_text()
    # The segmentor's BatchNorm layers, over every pixel of its inputs.
    shift = report['bn_shift']
    assert shift['layers'] == len(shift['per_layer']) > 0
    assert math.isfinite(shift['value']) and shift['value'] > 0


def test_missing_teacher_checkpoint_is_one_sentence(tmp_path, capsys):
    config = write_runner_config(tmp_path / 'tiny.py', tmp_path / 'work')
    missing = tmp_path / 'no_teacher.pth'
    status = _tool().main([
        config, '--cfg-options', f'model.teacher_ckpt={missing}', '--out',
        str(tmp_path / 'report')
    ])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert len(err.splitlines()) == 1 and err.startswith('error: ')
    assert str(missing) in err and 'does not exist' in err
    assert not (tmp_path / 'report').exists()


@pytest.mark.parametrize('argv,words', [
    (['--max-images', '0'], ['--max-images', 'at least 1']),
    (['--device', 'tpu'], ["'tpu'", 'cpu or cuda']),
])
def test_bad_arguments_are_one_sentence(argv, words, tmp_path, capsys):
    config = write_runner_config(tmp_path / 'tiny.py', tmp_path / 'work')
    status = _tool().main([config, '--out', str(tmp_path / 'r'), *argv])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1
    assert all(w in err for w in words), err


def test_config_without_ood_images_is_one_sentence(capsys):
    status = _tool().main([osp.join(ROOT, 'configs/demo/teacher_mnist.py')])
    err = capsys.readouterr().err.strip()
    assert status == 2 and 'OODDataset' in err and 'teacher_mnist.py' in err


# ------------------------------------------------- the recommended recipe
@pytest.mark.parametrize('kind', ['narrow', 'partial', 'broad'])
@pytest.mark.parametrize('has_bn', [True, False])
@pytest.mark.parametrize('shift', [None, 0.05, 0.15, 0.2, 0.3])
def test_recommendation_follows_the_teacher_and_the_coverage(
        kind, has_bn, shift):
    """Without BatchNorm statistics the paper; with them DFQ's generator,
    the OOD images as a quarter of the student's batch, half where they
    show most of the teacher's classes in large numbers, or none where they
    shift those statistics far."""
    from mmmosaic.analysis.recipes import RECIPES, recommend
    near = 'dfq_ood_quarter'
    expected = {
        None: near,
        0.05: near,
        0.15: near,
        0.2: 'dfq',
        0.3: 'dfq'
    }[shift] if has_bn else 'mosaickd'
    # 68 images a class (the ten-class photo crops), 3,333 (the animals'
    # vehicle images), and unknown.
    for per_class in (None, 68, 3333):
        rec = recommend(kind, has_bn, shift if has_bn else None, per_class)
        many = kind == 'broad' and per_class == 3333 and expected == near
        assert rec['name'] == ('dfq_ood' if many else expected)
        assert RECIPES[rec['name']]['needs_bn'] <= has_bn
        assert rec['also'] == ('kd_ood' if kind == 'broad' else None)
        assert '\n' not in rec['why']
        if shift is not None and has_bn:
            assert f'{shift:.2f}' in rec['why']
        if many:
            assert '3,333 per class' in rec['why']


def test_the_quarter_recipe_gives_a_quarter_of_each_update():
    from mmmosaic.analysis.recipes import RECIPES, recipe_options
    from mmmosaic.runtime import load_config
    cfg = load_config(
        osp.join(ROOT, 'configs/benchmarks/mosaickd_cifar10_photos.py'))
    options = recipe_options(cfg, **RECIPES['dfq_ood_quarter']['options'])
    # 128 images an update as the config's 64 + 64; the loader gives k = 5
    # updates' OOD images (no discriminator: none for D).
    assert options[-3:] == [
        'model.synthetic_batch_size=96', 'model.ood_batch_size=32',
        'train_dataloader.batch_size=160'
    ]


def test_batchnorm_shift_is_the_gaussian_divergence_per_channel():
    """0 for inputs with the running statistics; for inputs of mean m and
    standard deviation s against running (0, 1), the per-channel KL
    0.5 (s^2 + m^2 - 1 - ln s^2), averaged over channels and layers."""
    from mmmosaic.analysis import BatchNormShift
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.BatchNorm2d(3), torch.nn.Identity(),
        torch.nn.BatchNorm2d(3)).eval()
    x = torch.randn(4000, 3, 2, 2)
    mean, std = torch.tensor([0., 1., -2.]), torch.tensor([1., 2., .5])
    for layer in (net[0], net[2]):
        layer.running_mean.copy_(x.mean((0, 2, 3)))
        layer.running_var.copy_(x.var((0, 2, 3), unbiased=False))
    with BatchNormShift(net) as shift:
        for chunk in x.split(300):  # uneven batches merge exactly
            net[0](chunk)
    assert shift.per_layer()[0] == pytest.approx(0, abs=1e-6)
    assert len(shift.per_layer()) == 1  # the second layer never ran
    # Around 1000 (the first layer's running mean): a large mean does not
    # cancel the variance.
    for layer, centre in ((net[0], 1e3), (net[2], 0)):
        layer.running_mean.fill_(centre)
        layer.running_var.fill_(1 - layer.eps)
    y = (x - x.mean((0, 2, 3), keepdim=True)) / x.std(
        (0, 2, 3), unbiased=False, keepdim=True)
    y = y * std[:, None, None] + mean[:, None, None] + 1e3
    with BatchNormShift(net) as shift:
        for chunk in y.split(700):
            net(chunk)
    var = std**2
    expected = float((0.5 * (var + mean**2 - 1 - var.log())).mean())
    assert shift.per_layer()[0] == pytest.approx(expected, rel=1e-4)
    # The second layer sees the first's output (normalised by 0, 1): the same.
    assert shift.value() == pytest.approx(expected, rel=1e-4)
    assert BatchNormShift(torch.nn.Linear(2, 2)).value() is None


def test_recipe_options_keep_the_images_of_a_student_update():
    from mmmosaic.analysis.recipes import recipe_options
    from mmmosaic.models import batch_rule
    from mmmosaic.runtime import load_config
    path = osp.join(ROOT, 'configs/demo/mosaickd_mnist_fashion.py')
    cfg = load_config(path)
    options = recipe_options(cfg, dict(bn=1.0), 0.0)
    assert options == [
        'model.loss_weights.bn=1', 'model.synthetic_batch_size=128',
        'model.ood_batch_size=0', 'train_dataloader.batch_size=128'
    ]
    from mmmosaic.benchmarking import load_config_with_options
    changed = load_config_with_options(path, options)
    assert batch_rule(changed)[:4] == (128, 128, 5, 0)
    assert recipe_options(cfg, dict(bn=1.0)) == ['model.loss_weights.bn=1']
    with pytest.raises(Exception, match='OOD share'):
        recipe_options(cfg, {}, 1.0)
