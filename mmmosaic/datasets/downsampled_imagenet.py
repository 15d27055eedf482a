"""Downsampled ImageNet (ImageNet 32x32 / 64x64 / 16x16, Chrabaszcz et al.
2017), read from the official batch files without running pickled code."""
import os.path as osp
import pickle
from typing import ClassVar, List

import numpy as np

from mmmosaic.errors import MosaicError
from mmmosaic.registry import DATASETS
from .array_images import ArrayImageDataset

NUM_CLASSES = 1000
TRAIN_BATCHES = tuple(f'train_data_batch_{i}' for i in range(1, 11))
VAL_BATCHES = ('val_data', )
#: The release's archives extract into these folders; data_root may hold
#: the batch files directly or these folders.
RELEASE_FOLDERS = dict(
    train=('Imagenet32_train', 'Imagenet64_train', 'Imagenet16_train'),
    val=('Imagenet32_val', 'Imagenet64_val', 'Imagenet16_val'))
#: The only globals a batch file may name: numpy's array and scalar
#: reconstruction and dtype. Lists, dicts, ints and strings need none.
SAFE_GLOBALS = frozenset({
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'),
    ('numpy', 'ndarray'),
    ('numpy', 'dtype'),
})


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """An unpickler that refuses every global but :data:`SAFE_GLOBALS`, so a
    file cannot make loading call arbitrary functions."""

    def find_class(self, module: str, name: str):
        if (module, name) not in SAFE_GLOBALS:
            raise pickle.UnpicklingError(f'{module}.{name}')
        return super().find_class(module, name)


def load_batch(path: str) -> dict:
    """One batch file of the release as ``dict(data=..., labels=...)``.

    A pickle is read with :class:`_ArraysOnlyUnpickler` (Python 2 pickles
    too, with latin-1 strings); a ``.npz`` file (the release's other format)
    with ``allow_pickle=False``. Raises :class:`MosaicError` for a file that
    names any other global, is damaged, or lacks ``data`` / ``labels``.
    """
    try:
        if path.endswith('.npz'):
            with np.load(path, allow_pickle=False) as npz:
                batch = {key: npz[key] for key in npz.files}
        else:
            with open(path, 'rb') as f:
                batch = _ArraysOnlyUnpickler(f, encoding='latin1').load()
    except pickle.UnpicklingError as exc:
        raise MosaicError(
            f'Downsampled ImageNet file {path!r} was not loaded: it is not a '
            f'plain pickle of arrays (it names {exc}, which could run code); '
            'use the official batch files or their .npz release.') from None
    except Exception as exc:  # truncated or foreign files raise many types
        raise MosaicError(
            f'Downsampled ImageNet file {path!r} could not be read '
            f'({type(exc).__name__}: {exc}); download it again.') from None
    if not isinstance(batch, dict) or not {'data', 'labels'} <= set(batch):
        raise MosaicError(
            f'Downsampled ImageNet file {path!r} is not a batch of the '
            "release (a dict with 'data' and 'labels'); check data_root.")
    return batch


@DATASETS.register_module()
class DownsampledImageNet(ArrayImageDataset):
    """ImageNet at 32x32 (or 64x64, 16x16) from the official batch files.

    Layout of the release (``Imagenet32_train.zip``, ``Imagenet32_val.zip``
    extracted; the ``_npz`` variants work the same)::

        data_root/Imagenet32_train/train_data_batch_1 ... _10
        data_root/Imagenet32_val/val_data

    or the batch files directly under ``data_root``. Each file is a dict:
    ``data``, uint8 ``[N, 3 * S * S]`` (red, green and blue planes, row-major;
    S = 32 for ImageNet 32x32), ``labels``, N ints in 1..1000, and for train
    batches ``mean``. Labels here are 0-based; images are RGB ``SxSx3``
    arrays, as mmpretrain's CIFAR datasets give them. Files are read without
    executing code (:func:`load_batch`).

    Class names are the release's 1-based label numbers as strings (the
    label order is that of the ImageNet devkit's ``map_clsloc.txt``, not
    the sorted WordNet ids other ImageNet loaders use).

    Args:
        data_root (str): Folder of the release (see the layout).
        split (str): ``'train'`` (1,281,167 images) or ``'val'`` (50,000).
        **kwargs: See mmpretrain's ``BaseDataset``.
    """
    METAINFO: ClassVar[dict] = dict(
        classes=tuple(str(i) for i in range(1, NUM_CLASSES + 1)))

    def __init__(self, data_root: str, split: str = 'train', **kwargs):
        if split not in ('train', 'val'):
            raise MosaicError(
                "DownsampledImageNet split must be 'train' or 'val', got "
                f'{split!r}.')
        self.split = split
        super().__init__(data_root=data_root, **kwargs)

    def _batch_paths(self) -> List[str]:
        root = self.data_root
        if not osp.isdir(root):
            raise MosaicError(
                f'Downsampled ImageNet folder {root!r} (data_root) does not '
                'exist; extract Imagenet32_train.zip and Imagenet32_val.zip '
                'there.')
        names = TRAIN_BATCHES if self.split == 'train' else VAL_BATCHES
        folders = [root] + [
            osp.join(root, sub) for sub in RELEASE_FOLDERS[self.split]
        ]
        for folder in folders:
            for suffix in ('', '.npz'):
                if osp.isfile(osp.join(folder, names[0] + suffix)):
                    paths = [osp.join(folder, n + suffix) for n in names]
                    missing = [p for p in paths if not osp.isfile(p)]
                    if missing:
                        raise MosaicError(
                            f'Downsampled ImageNet file {missing[0]!r} does '
                            f'not exist ({len(missing)} of the {self.split} '
                            'batch files are missing); extract the whole '
                            'archive.')
                    return paths
        raise MosaicError(
            f'Downsampled ImageNet {self.split} file {names[0]!r} is in none '
            f'of {", ".join(repr(f) for f in folders)}; extract '
            f'{RELEASE_FOLDERS[self.split][0]}.zip into data_root.')

    def load_arrays(self):
        rows, labels = [], []
        for path in self._batch_paths():
            batch = load_batch(path)
            data = np.asarray(batch['data'])
            batch_labels = np.asarray(batch['labels']).ravel()
            side = int(round((data.shape[-1] / 3)**0.5)) if data.ndim else 0
            if (data.dtype != np.uint8 or data.ndim != 2
                    or data.shape[1] != 3 * side * side
                    or len(data) != len(batch_labels)):
                raise MosaicError(
                    f'Downsampled ImageNet file {path!r} holds data of shape '
                    f'{data.shape} ({data.dtype}) for {len(batch_labels)} '
                    'labels; the release has uint8 [N, 3 * S * S] data with '
                    'N labels.')
            if rows and data.shape[1] != rows[0].shape[1]:
                raise MosaicError(
                    f'Downsampled ImageNet file {path!r} holds images of '
                    'another size than the first batch; do not mix the 16, '
                    '32 and 64 releases.')
            if len(batch_labels) and not np.isin(
                    batch_labels, np.arange(1, NUM_CLASSES + 1)).all():
                raise MosaicError(
                    f'Downsampled ImageNet file {path!r} has labels outside '
                    f'1..{NUM_CLASSES}; it is not a batch of the release.')
            rows.append(data)
            labels.append(batch_labels.astype(np.int64) - 1)
        starts = np.cumsum([0] + [len(r) for r in rows])
        side = int(round((rows[0].shape[1] / 3)**0.5))

        def image_at(i: int) -> np.ndarray:
            b = int(np.searchsorted(starts, i, side='right')) - 1
            planes = rows[b][i - starts[b]].reshape(3, side, side)
            return np.ascontiguousarray(planes.transpose(1, 2, 0))

        return image_at, np.concatenate(labels)
