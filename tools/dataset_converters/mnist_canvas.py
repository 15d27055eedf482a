"""Draw the segmentation demo's MNIST and Fashion-MNIST canvases as PNGs.

    python tools/dataset_converters/mnist_canvas.py [--out-dir DIR]
        [--mnist-root DIR] [--fashion-root DIR] [--num-train N] ...

In-domain task (what the teacher learns and the student is scored on):
grey canvases of ``size x size`` pixels holding a few MNIST digits at
random, non-overlapping positions. The per-pixel label is 0 (background)
everywhere except where a digit's stroke is brighter than ``threshold``,
which gets the digit's class + 1, so there are 11 classes. Train canvases
use MNIST's training digits, test canvases its test digits.

Out-of-domain data: canvases built the same way from Fashion-MNIST items
(training split), written without any label.

Everything is drawn with a fixed seed, in the folder layout mmseg reads::

    OUT/images/{train,test}/00000.png       grey canvases
    OUT/annotations/{train,test}/00000.png  uint8 labels, 0..10
    OUT/ood/00000.png                       OOD canvases, no labels
    OUT/canvas_meta.json                    the parameters, for idempotence

so ``MNISTCanvasDataset`` (``mmmosaic.datasets``) reads the in-domain
splits and ``UnlabeledImageFolder`` reads ``OUT/ood``. The IDX files come
from ``fetch_mnist.py`` next to this script, whose reader this one uses.
The run is idempotent and takes seconds: a folder already built with the
same parameters is left alone.
"""
import inspect
import json
import os
import os.path as osp
import shutil
import sys
import tempfile

import numpy as np
from PIL import Image

# isort: off
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from fetch_mnist import read_idx  # noqa: E402
from mmmosaic.cli import ArgumentParser, tool_main  # noqa: E402
from mmmosaic.errors import MosaicError  # noqa: E402
# isort: on

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


def _load_items(root: str, split: str,
                with_labels: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The 28x28 items of one split under ``root`` and, when
    ``with_labels``, their labels (else None)."""
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
    """Write each 2-d uint8 array as ``folder/00000.png``, ``00001.png``..."""
    os.makedirs(folder, exist_ok=True)
    for i, array in enumerate(arrays):
        Image.fromarray(
            array, mode='L').save(
                osp.join(folder, f'{i:05d}.png'), compress_level=1)


def _is_complete(out_dir: str, params: dict) -> bool:
    """Whether ``out_dir`` holds every file of a set built with
    ``params``."""
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


@tool_main
def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    # The defaults are build_canvas_dataset's, so the two cannot disagree.
    defaults = inspect.signature(build_canvas_dataset).parameters

    def option(name: str, text: str, **kwargs) -> None:
        parser.add_argument(
            '--' + name.replace('_', '-'),
            default=defaults[name].default,
            help=f'{text} (default: %(default)s)',
            **kwargs)

    option('out_dir', 'folder to write')
    option('mnist_root', "folder of MNIST's IDX files")
    option('fashion_root', "folder of Fashion-MNIST's IDX files")
    option('num_train', 'in-domain training canvases', type=int)
    option('num_test', 'in-domain test canvases', type=int)
    option('num_ood', 'Fashion-MNIST canvases', type=int)
    option('size', 'canvas side in pixels, >= 28', type=int)
    option('seed', 'seed of every random choice', type=int)
    option(
        'digits',
        'least and most items on a canvas',
        type=int,
        nargs=2,
        metavar=('LEAST', 'MOST'))
    option(
        'threshold',
        "stroke intensity (0-255) above which a pixel gets its digit's label",
        type=int)
    args = parser.parse_args(argv)

    if osp.exists(args.out_dir) and not osp.isdir(args.out_dir):
        raise MosaicError(f'--out-dir {args.out_dir!r} is a file; give the '
                          'folder to write the canvases to.')
    build_canvas_dataset(
        args.out_dir,
        num_train=args.num_train,
        num_test=args.num_test,
        num_ood=args.num_ood,
        size=args.size,
        seed=args.seed,
        digits=tuple(args.digits),
        threshold=args.threshold,
        mnist_root=args.mnist_root,
        fashion_root=args.fashion_root)
    return 0


if __name__ == '__main__':
    sys.exit(main())
