"""Resize the official Places365 images into a small-image folder tree.

    python tools/dataset_converters/places365.py SRC DST --size 32 [--jobs N]

SRC is any folder of the official Places365 images, e.g. where
``train_256_places365standard.tar`` (``data_256/<letter>/<class>/*.jpg``),
``val_256.tar`` (``val_256/*.jpg``), the "easy format" archive
(``train/<class>/*.jpg``, ``val/<class>/*.jpg``) or the high-resolution
archives were extracted. Every image under SRC becomes
``DST/<the same relative path>.png``: its centre square (the short side),
resized to ``--size`` x ``--size`` with a box filter (every source pixel
counts equally, as in the downsampled ImageNet release), saved losslessly.

DST is what ``UnlabeledImageFolder`` (the out-of-domain source of the
Places365 configs) reads; the class folders are kept, so it also works as
an ImageFolder. The paper's settings use 32x32 (CIFAR-100, ImageNet 32x32)
and 64x64 (CUB-200, Stanford Dogs). Files already in DST are kept, so an
interrupted conversion continues where it stopped; unreadable images are
skipped and counted.
"""
import os
import os.path as osp
import sys
from multiprocessing import Pool
from typing import List, Optional, Tuple

from PIL import Image, UnidentifiedImageError

# isort: off
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmmosaic.cli import ArgumentParser, tool_main  # noqa: E402
from mmmosaic.errors import MosaicError  # noqa: E402
# isort: on

SUFFIXES = ('.jpg', '.jpeg', '.png')


def log(msg: str) -> None:
    print(f'[places365] {msg}', flush=True)


def list_images(src: str) -> List[str]:
    """Paths of every image under ``src``, relative to it, sorted."""
    found = []
    for folder, _, files in os.walk(src, followlinks=True):
        found += [
            osp.relpath(osp.join(folder, f), src) for f in files
            if f.lower().endswith(SUFFIXES)
        ]
    return sorted(found)


def square_resize(image: Image.Image, size: int) -> Image.Image:
    """The centre square of ``image`` (short side), ``size`` x ``size``."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    box = (left, top, left + side, top + side)
    return image.convert('RGB').resize((size, size), Image.BOX, box=box)


def convert_one(job: Tuple[str, str, int]) -> Optional[str]:
    """Write one resized image; returns an error message or None."""
    src, dst, size = job
    if osp.isfile(dst):
        return None
    try:
        with Image.open(src) as image:
            small = square_resize(image, size)
    except (OSError, UnidentifiedImageError) as exc:
        return f'{src}: {exc}'
    os.makedirs(osp.dirname(dst), exist_ok=True)
    # Not an image suffix: an interrupted write is never read as an image.
    tmp = dst + '.part'
    small.save(tmp, format='PNG')
    os.replace(tmp, dst)
    return None


def convert(src: str, dst: str, size: int, jobs: int = 1) -> dict:
    """Convert every image under ``src``; returns counts."""
    if not osp.isdir(src):
        raise MosaicError(
            f'Source folder {src!r} does not exist; give the folder where '
            'the Places365 archives (e.g. train_256_places365standard.tar) '
            'were extracted.')
    if size < 1:
        raise MosaicError(f'--size must be >= 1, got {size}; the paper uses '
                          '32 or 64.')
    if osp.exists(dst) and not osp.isdir(dst):
        raise MosaicError(f'DST {dst!r} is a file; give a folder for the '
                          'resized images, such as data/places365_32.')
    src_abs, dst_abs = osp.abspath(src), osp.abspath(dst)
    if dst_abs == src_abs or dst_abs.startswith(src_abs + os.sep):
        raise MosaicError(f'DST {dst!r} is inside SRC {src!r}; write the '
                          'resized images to a folder outside it.')
    names = list_images(src)
    if not names:
        raise MosaicError(
            f'Source folder {src!r} holds no {"/".join(SUFFIXES)} images; '
            'give the folder where the Places365 archives were extracted.')
    work = [(osp.join(src,
                      name), osp.join(dst,
                                      osp.splitext(name)[0] + '.png'), size)
            for name in names]
    errors = []
    with Pool(jobs) if jobs > 1 else _Serial() as pool:
        for done, error in enumerate(
                pool.imap_unordered(convert_one, work, chunksize=64), 1):
            if error:
                errors.append(error)
            if done % 10000 == 0:
                log(f'{done}/{len(work)} images')
    for error in errors[:5]:
        log(f'skipped {error}')
    return dict(images=len(work) - len(errors), skipped=len(errors))


class _Serial:
    """``multiprocessing.Pool``'s ``imap_unordered`` in this process."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    @staticmethod
    def imap_unordered(func, items, chunksize=1):
        return map(func, items)


@tool_main
def main(argv: Optional[List[str]] = None) -> int:
    parser = ArgumentParser(
        description='Resize the official Places365 images into a folder of '
        'small PNG images for UnlabeledImageFolder.')
    parser.add_argument('src', help='folder of the extracted Places365 images')
    parser.add_argument(
        'dst',
        help='output folder, e.g. data/places365_32 or '
        'data/places365_64')
    parser.add_argument(
        '--size', type=int, default=32, help='output side (default 32)')
    parser.add_argument(
        '--jobs', type=int, default=1, help='processes (default 1)')
    args = parser.parse_args(argv)
    if args.jobs < 1:
        raise MosaicError(f'--jobs must be >= 1, got {args.jobs}.')
    counts = convert(args.src, args.dst, args.size, args.jobs)
    log(f'wrote {counts["images"]} images of {args.size}x{args.size} to '
        f'{args.dst} ({counts["skipped"]} unreadable skipped)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
