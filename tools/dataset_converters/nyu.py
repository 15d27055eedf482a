"""Convert a public NYUv2 release into the layout of ``NYUv2Dataset``.

Output (what ``mmmosaic.datasets.NYUv2Dataset`` reads)::

    DST/images/{train,test}/<name>.png        RGB images (PNG, lossless)
    DST/annotations/{train,test}/<name>.png   uint8 labels, 0..12, 255=ignore

Input layouts found automatically under SRC (``<split>`` is train / test):

* ``image/<split>/*`` and ``seg13/<split>/*`` (folder type first), as in the
  NYUv2 release used by the MosaicKD / DFAD authors;
* ``<split>/image/*`` and ``<split>/seg13/*`` or ``<split>/label/*``
  (split first), as in several multi-task NYUv2 releases.

Folder names tried for images: image, images, rgb; for labels: seg13,
label13, labels13, label, labels, annotations (``--image-dir`` /
``--label-dir`` name others). Files are paired by name without suffix.
Images may be PNG/JPEG/BMP/TIFF or ``.npy`` (HxWx3, uint8 or float in
[0, 1]); labels PNG (8- or 16-bit, one channel) or ``.npy``.

Label values, the one assumption to check for your copy (``--labels``):

* ``seg13`` (default): 0 = unlabeled, 1..13 = the 13 classes in the order
  bed, books, ceiling, chair, floor, furniture, objects, picture, sofa,
  table, tv, wall, window. 0 becomes 255 and 1..13 become 0..12.
* ``zero-based``: already 0..12, with 255 or any negative value (e.g. -1)
  as unlabeled; negative values become 255.

Any other value stops the conversion with the file named, so a wrong
``--labels`` (or 40-class labels) is caught instead of silently shifting
classes. Usage::

    python tools/dataset_converters/nyu.py SRC data/nyuv2 [--labels seg13]
"""
import argparse
import os
import os.path as osp
import shutil
import sys
from collections.abc import Sequence

import numpy as np
from PIL import Image

# isort: off
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmmosaic.cli import ArgumentParser, tool_main  # noqa: E402
from mmmosaic.errors import MosaicError  # noqa: E402
# isort: on

SPLITS = ('train', 'test')
IMAGE_DIRS = ('image', 'images', 'rgb')
LABEL_DIRS = ('seg13', 'label13', 'labels13', 'label', 'labels', 'annotations')
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.npy')
LABEL_SUFFIXES = ('.png', '.npy', '.tif', '.tiff', '.bmp')
NUM_CLASSES = 13
IGNORE = 255


class ConvertError(MosaicError):
    """A problem to report as one sentence, without a traceback."""


def log(msg: str) -> None:
    print(f'[nyu] {msg}', flush=True)


def find_split_dirs(src: str, split: str, image_dirs: Sequence[str],
                    label_dirs: Sequence[str]) -> tuple[str, str]:
    """The image and label folders of ``split`` under ``src``."""
    tried = []
    for image_name in image_dirs:
        for label_name in label_dirs:
            for images, labels in ((osp.join(src, image_name, split),
                                    osp.join(src, label_name, split)),
                                   (osp.join(src, split, image_name),
                                    osp.join(src, split, label_name))):
                if osp.isdir(images) and osp.isdir(labels):
                    return images, labels
                tried.append(osp.relpath(images, src))
    raise ConvertError(
        f'No {split} images and labels found under {src!r} (looked for '
        f'{"/".join(image_dirs)} and {"/".join(label_dirs)} folders as '
        f'<type>/{split} or {split}/<type>); pass --image-dir/--label-dir '
        'with the folder names of your copy.')


def list_files(folder: str, suffixes: Sequence[str]) -> dict[str, str]:
    """``{name without suffix: path}`` of the files of ``folder``."""
    files = {}
    for name in sorted(os.listdir(folder)):
        stem, suffix = osp.splitext(name)
        if suffix.lower() in suffixes:
            if stem in files:
                raise ConvertError(
                    f'{folder!r} holds two files named {stem!r} with '
                    'different suffixes; keep one of them.')
            files[stem] = osp.join(folder, name)
    return files


def read_array(path: str) -> np.ndarray:
    try:
        if path.lower().endswith('.npy'):
            return np.load(path, allow_pickle=False)
        with Image.open(path) as img:
            return np.array(img)
    except (OSError, ValueError) as exc:
        raise ConvertError(
            f'{path!r} could not be read ({exc}); replace the file or '
            'remove it.') from None


def to_rgb(array: np.ndarray, path: str) -> np.ndarray:
    if array.ndim == 3 and array.shape[0] == 3 and array.shape[2] != 3:
        array = array.transpose(1, 2, 0)  # CHW .npy
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ConvertError(
            f'Image {path!r} has shape {array.shape}, not HxWx3; give RGB '
            'images.')
    array = array[..., :3]
    if array.dtype != np.uint8:
        array = array.astype(np.float64)
        if array.max() <= 1.0:
            array = array * 255.0
        array = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    return array


def convert_labels(array: np.ndarray, path: str, fmt: str) -> np.ndarray:
    """Map one label map to 0..12 / 255 (see the module doc)."""
    if array.ndim == 3 and 1 in (array.shape[0], array.shape[-1]):
        array = array.squeeze()
    if array.ndim != 2:
        raise ConvertError(
            f'Label map {path!r} has shape {array.shape}, not HxW; give '
            'single-channel class-index maps (not colour-coded ones).')
    values = np.asarray(array)
    if values.dtype.kind == 'f' and not np.all(values == np.rint(values)):
        raise ConvertError(
            f'Label map {path!r} holds non-integer values; give '
            'class-index maps.')
    values = values.astype(np.int64)
    out = np.full(values.shape, IGNORE, np.uint8)
    if fmt == 'seg13':
        bad = (values < 0) | (values > NUM_CLASSES)
        other = 'zero-based'
        expected = '0..13 (0 = unlabeled)'
        labelled = values >= 1
        out[labelled & ~bad] = (values[labelled & ~bad] - 1)
    else:
        bad = (values > NUM_CLASSES - 1) & (values != IGNORE)
        other = 'seg13'
        expected = '0..12, 255 or negative (unlabeled)'
        labelled = (values >= 0) & (values < NUM_CLASSES)
        out[labelled] = values[labelled]
    if bad.any():
        value = int(values[bad].flat[0])
        raise ConvertError(
            f'Label map {path!r} holds the value {value}, outside {expected} '
            f'of --labels {fmt}; check whether these are 13-class labels and '
            f'try --labels {other}.')
    return out


def convert_split(src: str,
                  dst: str,
                  split: str,
                  fmt: str,
                  image_dirs: Sequence[str],
                  label_dirs: Sequence[str],
                  progress_every: int = 100) -> int:
    image_dir, label_dir = find_split_dirs(src, split, image_dirs, label_dirs)
    images = list_files(image_dir, IMAGE_SUFFIXES)
    labels = list_files(label_dir, LABEL_SUFFIXES)
    if not images:
        raise ConvertError(f'{image_dir!r} holds no image file '
                           f'({", ".join(IMAGE_SUFFIXES)}); check SRC.')
    missing = [name for name in images if name not in labels]
    if missing:
        raise ConvertError(
            f'{len(missing)} {split} image(s) have no label map in '
            f'{label_dir!r} (first: {missing[0]!r}); images and labels '
            'must share file names.')
    out_images = osp.join(dst, 'images', split)
    out_labels = osp.join(dst, 'annotations', split)
    os.makedirs(out_images, exist_ok=True)
    os.makedirs(out_labels, exist_ok=True)
    log(f'{split}: {len(images)} images from {image_dir} and {label_dir}')
    ignored = total = 0
    for i, (name, image_path) in enumerate(images.items(), 1):
        label = convert_labels(read_array(labels[name]), labels[name], fmt)
        image_out = osp.join(out_images, name + '.png')
        if image_path.lower().endswith('.png') and _is_rgb_png(image_path):
            shape = _png_size(image_path)
            shutil.copyfile(image_path, image_out)
        else:
            rgb = to_rgb(read_array(image_path), image_path)
            shape = rgb.shape[:2]
            Image.fromarray(rgb, mode='RGB').save(image_out)
        if tuple(shape) != label.shape:
            raise ConvertError(
                f'Image {image_path!r} is {shape[0]}x{shape[1]} but its '
                f'label map {labels[name]!r} is {label.shape[0]}x'
                f'{label.shape[1]}; they must have the same size.')
        Image.fromarray(
            label, mode='L').save(osp.join(out_labels, name + '.png'))
        ignored += int((label == IGNORE).sum())
        total += label.size
        if i % progress_every == 0 or i == len(images):
            log(f'{split}: {i}/{len(images)}')
    log(f'{split}: done, {100.0 * ignored / max(total, 1):.1f}% of pixels '
        f'unlabeled (255) -> {out_images}, {out_labels}')
    return len(images)


def _is_rgb_png(path: str) -> bool:
    with Image.open(path) as img:
        return img.format == 'PNG' and img.mode == 'RGB'


def _png_size(path: str) -> tuple[int, int]:
    with Image.open(path) as img:
        return img.size[1], img.size[0]


def convert(src: str,
            dst: str,
            labels: str = 'seg13',
            splits: Sequence[str] = SPLITS,
            image_dir: str | None = None,
            label_dir: str | None = None) -> dict[str, int]:
    """Convert ``src`` into ``dst``; returns the image count per split."""
    if not osp.isdir(src):
        raise ConvertError(
            f'Source folder {src!r} does not exist; give the folder of your '
            'NYUv2 copy (the one holding image/ and seg13/).')
    if osp.exists(dst) and not osp.isdir(dst):
        raise ConvertError(
            f'DST {dst!r} is a file; give a folder for the converted set, '
            'such as data/nyuv2.')
    if osp.abspath(src) == osp.abspath(dst):
        raise ConvertError(
            'SRC and DST are the same folder; write the converted set to a '
            'new folder such as data/nyuv2.')
    image_dirs = (image_dir, ) if image_dir else IMAGE_DIRS
    label_dirs = (label_dir, ) if label_dir else LABEL_DIRS
    counts = {}
    for split in splits:
        counts[split] = convert_split(src, dst, split, labels, image_dirs,
                                      label_dirs)
    return counts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Convert a public NYUv2 copy into data/nyuv2 for '
        'NYUv2Dataset (13 classes, 255 = ignore).')
    parser.add_argument('src', help='folder of the public NYUv2 copy')
    parser.add_argument('dst', help='output folder, e.g. data/nyuv2')
    parser.add_argument(
        '--labels',
        choices=('seg13', 'zero-based'),
        default='seg13',
        help='seg13: 0 = unlabeled, 1..13 = classes (default); '
        'zero-based: 0..12 = classes, 255 or negative = unlabeled')
    parser.add_argument(
        '--splits', nargs='+', default=list(SPLITS), help='splits to convert')
    parser.add_argument('--image-dir', help='name of the image folders')
    parser.add_argument('--label-dir', help='name of the label folders')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts = convert(args.src, args.dst, args.labels, args.splits,
                     args.image_dir, args.label_dir)
    summary = ', '.join(f'{n} {split}' for split, n in counts.items())
    log(f'wrote {summary} images to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
