"""OOD folders: labels removed, bad files skipped, mixed modes, small
images, and clear messages when nothing is usable."""
import json

import _tiny  # noqa: F401  (registers RandomGrayImages)
import cv2
import numpy as np
import pytest
from PIL import Image

from mmmosaic.errors import MosaicError
from mmmosaic.registry import DATASETS

PIPELINE = [
    dict(type='mmpretrain.Resize', scale=(16, 16)),
    dict(type='mmpretrain.PackInputs')
]
STUDENT = [
    dict(type='mmpretrain.Resize', scale=(20, 20)),
    dict(type='mmpretrain.RandomCrop', crop_size=16),
    dict(type='mmpretrain.RandomFlip', prob=0.5),
    dict(type='mmpretrain.PackInputs')
]


def _dataset(root, **kwargs):
    return DATASETS.build(
        dict(
            type='OODDataset',
            source=dict(
                type='UnlabeledImageFolder',
                data_root=str(root),
                pipeline=[dict(type='mmpretrain.LoadImageFromFile')]),
            real_pipeline=PIPELINE,
            student_pipeline=STUDENT,
            **kwargs))


def _write_mixed(root):
    rng = np.random.default_rng(0)
    (root / 'sub').mkdir(parents=True)
    Image.fromarray(rng.integers(0, 255, (40, 30), np.uint8),
                    'L').save(root / 'grey.png')
    Image.fromarray(rng.integers(0, 255, (25, 50, 4), np.uint8),
                    'RGBA').save(root / 'sub' / 'rgba.png')
    Image.fromarray(rng.integers(0, 255, (8, 9, 3), np.uint8),
                    'RGB').save(root / 'tiny.jpg')  # smaller than the crop
    (root / 'notes.txt').write_text('not an image')


def test_mixed_modes_and_small_images_become_uniform_views(tmp_path):
    _write_mixed(tmp_path)
    dataset = _dataset(tmp_path)
    assert len(dataset) == 3  # the .txt file is not listed
    for i in range(3):
        item = dataset[i]
        assert item['real']['inputs'].shape == (3, 16, 16)
        assert item['student']['inputs'].shape == (3, 16, 16)
    assert dataset.num_skipped == 0


def test_corrupt_files_are_skipped_counted_and_replaced(tmp_path):
    _write_mixed(tmp_path)
    (tmp_path / 'broken.jpg').write_bytes(b'\xff\xd8 not really a jpeg')
    (tmp_path / 'empty.png').write_bytes(b'')
    dataset = _dataset(tmp_path)
    assert len(dataset) == 5
    items = [dataset[i] for i in range(len(dataset))]
    assert all(it['real']['inputs'].shape == (3, 16, 16) for it in items)
    assert dataset.num_skipped == 2


@pytest.mark.parametrize('context,workers', [('fork', 2), ('spawn', 1)])
def test_skips_in_loader_workers_count_in_the_main_process(
        tmp_path, context, workers):
    """Loader workers are other processes: what they skip must still be
    counted where the trainer (and a report) reads ``num_skipped``."""
    from mmengine.dataset import pseudo_collate
    from torch.utils.data import DataLoader
    _write_mixed(tmp_path)
    (tmp_path / 'broken.jpg').write_bytes(b'\xff\xd8 not really a jpeg')
    (tmp_path / 'empty.png').write_bytes(b'')
    dataset = _dataset(tmp_path)
    loader = DataLoader(
        dataset,
        batch_size=1,
        num_workers=workers,
        multiprocessing_context=context,
        collate_fn=pseudo_collate)
    assert len(list(loader)) == 5
    assert dataset.num_skipped == 2
    assert sorted(dataset.source_name(i) for i in dataset.bad) == sorted(
        str(tmp_path / name) for name in ('broken.jpg', 'empty.png'))


def test_nothing_usable_is_one_clear_error(tmp_path):
    (tmp_path / 'a.jpg').write_bytes(b'garbage')
    (tmp_path / 'b.png').write_bytes(b'garbage')
    dataset = _dataset(tmp_path)
    with pytest.raises(MosaicError, match='None of the 2 OOD images'):
        dataset[0]


def test_empty_and_missing_folders(tmp_path):
    with pytest.raises(MosaicError, match='holds no image files'):
        _dataset(tmp_path)
    with pytest.raises(MosaicError, match='does not exist'):
        _dataset(tmp_path / 'nope')


def test_labels_never_reach_the_views():
    dataset = DATASETS.build(
        dict(
            type='OODDataset',
            source=dict(type='RandomGrayImages', num=8, labeled=True),
            real_pipeline=[dict(type='mmpretrain.PackInputs')],
            student_pipeline=[dict(type='mmpretrain.PackInputs')]))
    for view in dataset[0].values():
        assert 'gt_label' not in view['data_samples']


def test_subset_file(tmp_path):
    _write_mixed(tmp_path / 'img')
    subset = tmp_path / 'subset.json'
    subset.write_text(json.dumps([2, 0]))
    assert len(_dataset(tmp_path / 'img', subset_file=str(subset))) == 2
    subset.write_text(json.dumps([7]))
    with pytest.raises(MosaicError, match='regenerate'):
        _dataset(tmp_path / 'img', subset_file=str(subset))


def test_grayscale_loading_for_one_channel_teachers(tmp_path):
    _write_mixed(tmp_path)
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
            real_pipeline=PIPELINE,
            student_pipeline=STUDENT))
    assert dataset[1]['real']['inputs'].shape == (1, 16, 16)
    assert cv2 is not None


def test_high_entropy_subset_tool(tmp_path):
    """tools/select_ood_subset.py keeps the images the teacher is least
    sure about, and OODDataset reads its output."""
    import os
    import subprocess
    import sys

    import torch
    from _tiny import mosaickd, ood_dataset, write_runner_config

    from mmmosaic.analysis import select_high_entropy, teacher_entropies
    from mmmosaic.registry import MODELS

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    config = write_runner_config(tmp_path / 'cfg.py', tmp_path / 'work')
    out = tmp_path / 'subset.json'
    proc = subprocess.run([
        sys.executable, 'tools/select_ood_subset.py', config, '--num', '10',
        '--out',
        str(out)
    ],
                          cwd=root,
                          capture_output=True,
                          text=True,
                          env=dict(
                              os.environ,
                              PYTHONPATH=os.path.join(root, 'tests')))
    assert proc.returncode == 0, proc.stderr[-2000:]
    chosen = json.loads(out.read_text())
    assert len(chosen) == 10 and chosen == sorted(set(chosen))

    torch.manual_seed(0)
    model = MODELS.build(mosaickd())
    dataset = DATASETS.build(ood_dataset())
    entropy = teacher_entropies(model, dataset, batch_size=16)
    assert select_high_entropy(entropy, 10, dataset.indices) == sorted(
        torch.topk(entropy, 10).indices.tolist())
    subset = DATASETS.build(ood_dataset() | dict(subset_file=str(out)))
    assert len(subset) == 10


def test_decoded_cache_gives_the_same_views_and_reads_each_file_once(
        tmp_path, monkeypatch):
    import mmcv
    import torch
    _write_mixed(tmp_path)
    reads = []
    imfrombytes = mmcv.imfrombytes
    monkeypatch.setattr(
        mmcv, 'imfrombytes',
        lambda *a, **k: reads.append(1) or imfrombytes(*a, **k))
    plain, cached = _dataset(tmp_path), _dataset(tmp_path, cache_decoded=True)
    # Decoded once, when the dataset is built: data-loader workers forked
    # from this process share the arrays instead of each decoding its own.
    assert len(reads) == len(cached)
    for dataset in (plain, cached):
        reads.clear()
        views = []
        for rounds in range(3):
            np.random.seed(rounds)
            views += [dataset[i] for i in range(len(dataset))]
        dataset.views = views
        dataset.reads = len(reads)
    assert plain.reads == 3 * len(plain)
    assert cached.reads == 0
    for a, b in zip(plain.views, cached.views):
        for view in ('real', 'student'):
            assert torch.equal(a[view]['inputs'], b[view]['inputs'])


def test_gray_to_color_repeats_one_channel():
    from mmmosaic.datasets import GrayToColor
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = GrayToColor()(dict(img=gray))['img']
    assert out.shape == (3, 4, 3) and out.flags['C_CONTIGUOUS']
    for c in range(3):
        assert np.array_equal(out[..., c], gray)
    colour = np.zeros((3, 4, 3), np.uint8)
    assert GrayToColor()(dict(img=colour))['img'] is colour
    with pytest.raises(ValueError, match='one-channel image'):
        GrayToColor()(dict(img=np.zeros((3, 4, 2), np.uint8)))
