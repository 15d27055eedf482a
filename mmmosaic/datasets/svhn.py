"""SVHN (Street View House Numbers), the cropped-digits release."""
import os.path as osp
from typing import ClassVar

import numpy as np

from mmmosaic.errors import MosaicError
from mmmosaic.registry import DATASETS
from .array_images import ArrayImageDataset

SPLITS = ('train', 'test', 'extra')


@DATASETS.register_module()
class SVHN(ArrayImageDataset):
    """SVHN's 32x32 cropped digits, read from the official MATLAB files.

    Layout (the files of the "Format 2" release, side by side)::

        data_root/train_32x32.mat   X: uint8 [32, 32, 3, 73257], y: [73257, 1]
        data_root/test_32x32.mat    26,032 images
        data_root/extra_32x32.mat   531,131 images (optional)

    ``y`` holds 1..10 with 10 for the digit 0; labels here are the digits
    (``y % 10``). Images are RGB arrays, as mmpretrain's CIFAR datasets give
    them. As out-of-domain data, ``OODDataset`` drops the labels.

    Args:
        data_root (str): Folder holding the ``*_32x32.mat`` files.
        split (str): ``'train'``, ``'test'`` or ``'extra'``.
        **kwargs: See mmpretrain's ``BaseDataset``.
    """
    METAINFO: ClassVar[dict] = dict(classes=tuple(str(d) for d in range(10)))

    def __init__(self, data_root: str, split: str = 'train', **kwargs):
        if split not in SPLITS:
            raise MosaicError(f'SVHN split must be one of {", ".join(SPLITS)}'
                              f', got {split!r}.')
        self.split = split
        super().__init__(data_root=data_root, **kwargs)

    def load_arrays(self):
        path = osp.join(self.data_root, f'{self.split}_32x32.mat')
        if not osp.isfile(path):
            raise MosaicError(
                f'SVHN file {path!r} does not exist; download '
                f'{self.split}_32x32.mat (the cropped digits) from the SVHN '
                'site into data_root.')
        from scipy.io import loadmat
        try:
            mat = loadmat(path)
        except Exception as exc:  # scipy raises several types
            raise MosaicError(
                f'SVHN file {path!r} is not a readable MATLAB file '
                f'({type(exc).__name__}: {exc}); download it again.') from None
        for key in ('X', 'y'):
            if key not in mat:
                raise MosaicError(
                    f'SVHN file {path!r} has no {key!r} array; it is not the '
                    f'cropped-digits {self.split}_32x32.mat of the release.')
        images, digits = mat['X'], np.asarray(mat['y']).ravel()
        if (images.dtype != np.uint8 or images.ndim != 4
                or images.shape[:3] != (32, 32, 3)
                or images.shape[3] != len(digits)):
            raise MosaicError(
                f'SVHN file {path!r} holds X of shape {images.shape} '
                f'({images.dtype}) for {len(digits)} labels; the release has '
                'uint8 X of shape [32, 32, 3, N] with N labels in y.')
        if len(digits) and not np.isin(digits, np.arange(1, 11)).all():
            raise MosaicError(
                f'SVHN file {path!r} has labels outside 1..10 in y; it is '
                'not the cropped-digits release.')

        def image_at(i: int) -> np.ndarray:
            return np.ascontiguousarray(images[..., i])

        return image_at, digits.astype(np.int64) % 10
