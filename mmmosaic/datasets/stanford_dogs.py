"""Stanford Dogs, in the layout of its official archives."""
import os.path as osp
from typing import List

import numpy as np

from mmmosaic.registry import DATASETS
from .archive import ArchiveSplitDataset

NUM_CLASSES = 120
LIST_FILES = dict(train='train_list.mat', test='test_list.mat')


def _strings(cell) -> List[str]:
    """A MATLAB cell array of strings (as scipy loads it) as a list."""
    out = []
    for item in np.asarray(cell, dtype=object).ravel():
        while isinstance(item, np.ndarray) and item.size == 1:
            item = item.ravel()[0]
        if not isinstance(item, str):
            raise TypeError(f'{item!r} is not a string')
        out.append(item)
    return out


@DATASETS.register_module()
class StanfordDogs(ArchiveSplitDataset):
    """Stanford Dogs: 20,580 photographs of 120 dog breeds.

    Layout of the official archives (``images.tar`` and ``lists.tar``
    extracted into one folder)::

        data_root/Images/n02085620-Chihuahua/n02085620_5927.jpg ...
        data_root/train_list.mat   file_list, labels (12,000 images)
        data_root/test_list.mat    file_list, labels (8,580 images)

    Each list is a MATLAB file with ``file_list`` (paths under ``Images/``)
    and ``labels`` (1..120). Labels here are those minus 1; the class names
    are the breed part of the folder names (``Chihuahua``), in label order.
    Images are loaded by the pipeline (``LoadImageFromFile``), BGR like
    every image file.

    Args:
        data_root (str): Folder holding ``Images/`` and the list files.
        split (str): ``'train'`` or ``'test'``.
        **kwargs: See mmpretrain's ``BaseDataset``.
    """

    LAYOUT = ('hold Images/ (images.tar) and train_list.mat / test_list.mat '
              '(lists.tar) of the official Stanford Dogs release')

    DEFAULT_ROOT = 'data/StanfordDogs'

    def _read_list(self, path: str):
        from scipy.io import loadmat
        try:
            mat = loadmat(path)
        except Exception as exc:  # scipy raises several types
            self._fail(f'The Stanford Dogs list {path!r} is not a readable '
                       f'MATLAB file ({type(exc).__name__}: {exc})')
        for key in ('file_list', 'labels'):
            if key not in mat:
                self._fail(f'The Stanford Dogs list {path!r} has no {key} '
                           'field')
        try:
            files = _strings(mat['file_list'])
            labels = np.asarray(mat['labels']).ravel().astype(np.int64)
        except (TypeError, ValueError) as exc:
            self._fail(f'The Stanford Dogs list {path!r} does not hold '
                       f'strings in file_list and numbers in labels ({exc})')
        if len(files) != len(labels):
            self._fail(f'The Stanford Dogs list {path!r} has {len(files)} '
                       f'files but {len(labels)} labels')
        if len(labels) and not np.isin(labels, np.arange(
                1, NUM_CLASSES + 1)).all():
            self._fail(f'The Stanford Dogs list {path!r} has labels outside '
                       f'1..{NUM_CLASSES}')
        return files, labels - 1

    def load_data_list(self) -> List[dict]:
        root = self.data_root
        if not osp.isdir(root):
            self._fail(f'The Stanford Dogs folder {root!r} does not exist')
        path = osp.join(root, LIST_FILES[self.split])
        if not osp.isfile(path):
            self._fail(f'The Stanford Dogs list {path!r} does not exist')
        image_dir = osp.join(root, 'Images')
        if not osp.isdir(image_dir):
            self._fail(f'The Stanford Dogs image folder {image_dir!r} does '
                       'not exist')
        files, labels = self._read_list(path)
        names = {}
        for file, label in zip(files, labels):
            folder = file.replace('\\', '/').split('/')[0]
            names.setdefault(int(label), folder.split('-', 1)[-1])
        if 'classes' not in self._metainfo:
            self._metainfo['classes'] = tuple(
                names.get(i, str(i)) for i in range(NUM_CLASSES))
        data_list = [
            dict(img_path=osp.join(image_dir, file), gt_label=int(label))
            for file, label in zip(files, labels)
        ]
        return self._check_images(data_list, 'Stanford Dogs',
                                  LIST_FILES[self.split])
