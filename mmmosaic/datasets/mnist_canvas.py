"""The segmentation demo's data: MNIST digits and Fashion-MNIST items on
canvases.

In-domain task (what the teacher learns and the student is scored on):
grey canvases of ``size x size`` pixels holding a few MNIST digits at
random, non-overlapping positions. The per-pixel label is 0 (background)
everywhere except where a digit's stroke is brighter than ``threshold``,
which gets the digit's class + 1, so there are 11 classes. Train canvases
use MNIST's training digits, test canvases its test digits.

Out-of-domain data: canvases built the same way from Fashion-MNIST items
(training split), written without any label.

:func:`build_canvas_dataset` writes everything as PNG files with a fixed
seed, in the folder layout mmseg reads::

    OUT/images/{train,test}/00000.png       grey canvases
    OUT/annotations/{train,test}/00000.png  uint8 labels, 0..10
    OUT/ood/00000.png                       OOD canvases, no labels
    OUT/canvas_meta.json                    the parameters, for idempotence

so :class:`MNISTCanvasDataset` reads the in-domain splits and
:class:`~mmmosaic.datasets.UnlabeledImageFolder` reads ``OUT/ood``. The IDX
files come from ``python tools/dataset_converters/fetch_mnist.py``.
"""
from __future__ import annotations
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import ClassVar

import numpy as np
from mmseg.datasets import BaseSegDataset
from PIL import Image

from mmmosaic.errors import MosaicError
from mmmosaic.registry import DATASETS

CANVAS_CLASSES = ('background', ) + tuple(str(d) for d in range(10))
# Black background, then ten well separated colours for the digits.
CANVAS_PALETTE = [[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25],
                  [0, 130, 200], [245, 130, 48], [145, 30, 180],
                  [70, 240, 240], [240, 50, 230], [210, 245, 60],
                  [250, 190, 212]]

FETCH_CMD = 'python tools/dataset_converters/fetch_mnist.py'
BUILD_CMD = ('python -c "from mmmosaic.datasets.mnist_canvas import '
             "build_canvas_dataset; build_canvas_dataset('data/mnist_canvas')"
             '"')
META_FILE = 'canvas_meta.json'
#: Bump when the drawing code changes, so old folders are rebuilt.
FORMAT_VERSION = 1

_IDX_IMAGES = {
    'train': 'train-images-idx3-ubyte',
    'test': 't10k-images-idx3-ubyte'
}
_IDX_LABELS = {
    'train': 'train-labels-idx1-ubyte',
    'test': 't10k-labels-idx1-ubyte'
}


def read_idx(path: str) -> np.ndarray:
    """Read an uncompressed IDX file (the MNIST format) into a uint8 array."""
    if not osp.isfile(path):
        raise MosaicError(f'IDX file {path!r} does not exist; fetch MNIST and '
                          f'Fashion-MNIST with `{FETCH_CMD}`.')
    with open(path, 'rb') as f:
        header = f.read(4)
        if len(header) != 4 or header[:2] != b'\x00\x00' or header[2] != 8:
            raise MosaicError(
                f'{path!r} is not an uncompressed uint8 IDX file; fetch it '
                f'again with `{FETCH_CMD}`.')
        ndim = header[3]
        shape = tuple(int.from_bytes(f.read(4), 'big') for _ in range(ndim))
        data = np.frombuffer(f.read(), dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        raise MosaicError(
            f'{path!r} is truncated ({data.size} of {int(np.prod(shape))} '
            f'values); fetch it again with `{FETCH_CMD}`.')
    return data.reshape(shape)


def _load_items(root: str, split: str,
                with_labels: bool) -> tuple[np.ndarray, np.ndarray | None]:
    images = read_idx(osp.join(root, _IDX_IMAGES[split]))
    labels = (
        read_idx(osp.join(root, _IDX_LABELS[split])) if with_labels else None)
    return images, labels


def _stroke_box(item: np.ndarray, threshold: int) -> tuple[int, int, int, int]:
    """Tight box (y0, x0, y1, x1) of the item's pixels above threshold."""
    ys, xs = np.nonzero(item > threshold)
    if len(ys) == 0:
        return 0, 0, item.shape[0], item.shape[1]
    return ys.min(), xs.min(), ys.max() + 1, xs.max() + 1


def draw_canvases(items: np.ndarray,
                  labels: np.ndarray | None,
                  num: int,
                  size: int,
                  digits: tuple[int, int],
                  threshold: int,
                  rng: np.random.Generator,
                  max_tries: int = 50):
    """Draw ``num`` canvases from 28x28 ``items``.

    Each canvas gets between ``digits[0]`` and ``digits[1]`` items at
    random positions whose stroke boxes do not overlap (an item that finds
    no free place after ``max_tries`` draws is left out, so a canvas always
    has at least one). Pixels are composited with ``max``.

    Returns:
        tuple: ``uint8`` canvases ``[num, size, size]`` and, when
        ``labels`` is given, ``uint8`` label maps of the same shape
        (0 background, class + 1 on strokes brighter than ``threshold``);
        otherwise None.
    """
    side = items.shape[1]
    if size < side:
        raise MosaicError(
            f'The canvas size {size} is smaller than the {side}x{side} '
            'items; use size >= 28.')
    canvases = np.zeros((num, size, size), np.uint8)
    maps = (
        np.zeros((num, size, size), np.uint8) if labels is not None else None)
    picks = rng.integers(0, len(items), size=(num, digits[1]))
    counts = rng.integers(digits[0], digits[1] + 1, size=num)
    for n in range(num):
        boxes: list[tuple[int, int, int, int]] = []
        for j in range(counts[n]):
            item = items[picks[n, j]]
            y0, x0, y1, x1 = _stroke_box(item, threshold)
            for _ in range(max_tries):
                top, left = rng.integers(0, size - side + 1, size=2)
                box = (top + y0, left + x0, top + y1, left + x1)
                if all(box[2] <= b[0] or b[2] <= box[0] or box[3] <= b[1]
                       or b[3] <= box[1] for b in boxes):
                    break
            else:
                if boxes:
                    continue
            boxes.append(box)
            region = canvases[n, top:top + side, left:left + side]
            np.maximum(region, item, out=region)
            if maps is not None:
                stroke = item > threshold
                maps[n, top:top + side, left:left + side][stroke] = (
                    labels[picks[n, j]] + 1)
    return canvases, maps


def _write_pngs(folder: str, arrays: np.ndarray):
    os.makedirs(folder, exist_ok=True)
    for i, array in enumerate(arrays):
        Image.fromarray(
            array, mode='L').save(
                osp.join(folder, f'{i:05d}.png'), compress_level=1)


def _is_complete(out_dir: str, params: dict) -> bool:
    meta = osp.join(out_dir, META_FILE)
    if not osp.isfile(meta):
        return False
    try:
        with open(meta) as f:
            if json.load(f) != params:
                return False
    except (OSError, ValueError):
        return False
    expected = {
        'images/train': params['num_train'],
        'annotations/train': params['num_train'],
        'images/test': params['num_test'],
        'annotations/test': params['num_test'],
        'ood': params['num_ood'],
    }
    for sub, count in expected.items():
        folder = osp.join(out_dir, sub)
        if not osp.isdir(folder) or len(os.listdir(folder)) != count:
            return False
    return True


def build_canvas_dataset(out_dir: str = 'data/mnist_canvas',
                         num_train: int = 6000,
                         num_test: int = 1000,
                         num_ood: int = 6000,
                         size: int = 48,
                         seed: int = 0,
                         digits: tuple[int, int] = (1, 3),
                         threshold: int = 127,
                         mnist_root: str = 'data/mnist',
                         fashion_root: str = 'data/fashion_mnist',
                         verbose: bool = True) -> str:
    """Write the demo's canvases under ``out_dir`` (see the module doc).

    Idempotent: when ``out_dir`` already holds a complete set built with the
    same parameters, nothing is written. Otherwise the set is built in a
    temporary sibling folder and moved into place, so an interrupted run
    never leaves a half-written set that looks complete.

    Args:
        out_dir (str): Output folder.
        num_train (int): In-domain training canvases (MNIST train digits).
        num_test (int): In-domain test canvases (MNIST test digits).
        num_ood (int): OOD canvases (Fashion-MNIST train items, no labels).
        size (int): Canvas side in pixels (>= 28).
        seed (int): Seed of every random choice.
        digits (tuple[int, int]): Least and most items on a canvas.
        threshold (int): Stroke intensity (0-255) above which a pixel gets
            its digit's label; darker pixels are background.
        mnist_root (str): Folder of MNIST's IDX files.
        fashion_root (str): Folder of Fashion-MNIST's IDX files.
        verbose (bool): Print what is done.

    Returns:
        str: ``out_dir``.
    """
    if not (1 <= digits[0] <= digits[1]):
        raise MosaicError(
            f'digits must be (least, most) with 1 <= least <= most, got '
            f'{digits!r}.')
    if min(num_train, num_test, num_ood) < 1:
        raise MosaicError(
            'num_train, num_test and num_ood must all be >= 1, got '
            f'{num_train}, {num_test}, {num_ood}.')
    params = dict(
        format_version=FORMAT_VERSION,
        num_train=int(num_train),
        num_test=int(num_test),
        num_ood=int(num_ood),
        size=int(size),
        seed=int(seed),
        digits=[int(d) for d in digits],
        threshold=int(threshold))
    if _is_complete(out_dir, params):
        if verbose:
            print(
                f'[canvas] {out_dir} is up to date, nothing to do', flush=True)
        return out_dir

    # Independent streams per split, so changing one count does not change
    # the canvases of the other splits.
    train_rng, test_rng, ood_rng = (
        np.random.default_rng(s)
        for s in np.random.SeedSequence(seed).spawn(3))
    mnist_train = _load_items(mnist_root, 'train', True)
    mnist_test = _load_items(mnist_root, 'test', True)
    fashion, _ = _load_items(fashion_root, 'train', False)

    parent = osp.dirname(osp.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.canvas_', dir=parent)
    try:
        jobs = [('train', mnist_train, num_train, train_rng),
                ('test', mnist_test, num_test, test_rng)]
        for split, (items, labels), num, rng in jobs:
            images, maps = draw_canvases(items, labels, num, size, digits,
                                         threshold, rng)
            _write_pngs(osp.join(tmp, 'images', split), images)
            _write_pngs(osp.join(tmp, 'annotations', split), maps)
            if verbose:
                print(f'[canvas] {split}: {num} MNIST canvases', flush=True)
        images, _ = draw_canvases(fashion, None, num_ood, size, digits,
                                  threshold, ood_rng)
        _write_pngs(osp.join(tmp, 'ood'), images)
        if verbose:
            print(
                f'[canvas] ood: {num_ood} Fashion-MNIST canvases', flush=True)
        with open(osp.join(tmp, META_FILE), 'w') as f:
            json.dump(params, f, indent=1)
        if osp.exists(out_dir):
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        if osp.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    if verbose:
        print(f'[canvas] wrote {out_dir}', flush=True)
    return out_dir


@DATASETS.register_module()
class MNISTCanvasDataset(BaseSegDataset):
    """In-domain split of the segmentation demo (11 classes, see the module
    doc), as written by :func:`build_canvas_dataset`.

    Args:
        data_root (str): The folder given to :func:`build_canvas_dataset`.
        data_prefix (dict): ``img_path`` / ``seg_map_path`` under it,
            defaults to the training split.
        **kwargs: See mmseg's ``BaseSegDataset``.
    """
    METAINFO: ClassVar[dict] = dict(
        classes=CANVAS_CLASSES, palette=CANVAS_PALETTE)
    #: Command named in the error raised when the folders are missing.
    PREPARE_CMD = BUILD_CMD

    def __init__(self,
                 data_root: str = 'data/mnist_canvas',
                 data_prefix: dict | None = None,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 **kwargs):
        if data_prefix is None:
            data_prefix = dict(
                img_path='images/train', seg_map_path='annotations/train')
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=False,
            **kwargs)

    def load_data_list(self) -> list[dict]:
        for key in ('img_path', 'seg_map_path'):
            folder = self.data_prefix.get(key)
            if folder and not osp.isdir(folder):
                raise MosaicError(
                    f'MNIST canvas folder {folder!r} does not exist; build '
                    f'it with `{self.PREPARE_CMD}`.')
        data_list = super().load_data_list()
        if not data_list:
            raise MosaicError(
                f'MNIST canvas folder {self.data_prefix["img_path"]!r} holds '
                f'no {self.img_suffix} image; rebuild it with '
                f'`{self.PREPARE_CMD}`.')
        return data_list
