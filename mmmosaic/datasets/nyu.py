"""NYUv2 semantic segmentation with the 13-class label set.

The layout is the one ``tools/dataset_converters/nyu.py`` writes::

    data/nyuv2/images/{train,test}/<name>.png (or .jpg)   RGB images
    data/nyuv2/annotations/{train,test}/<name>.png        uint8 labels

Labels are 0..12 in the order of :data:`NYU13_CLASSES`; 255 marks pixels
without a label (ignored by mmseg's losses and ``IoUMetric``).
"""
from __future__ import annotations
import os.path as osp
from collections.abc import Sequence
from typing import ClassVar

from mmseg.datasets import BaseSegDataset

from mmmosaic.errors import MosaicError
from mmmosaic.registry import DATASETS
from .seg_pairs import image_label_pairs, split_prefix

NYU13_CLASSES = ('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture',
                 'objects', 'picture', 'sofa', 'table', 'tv', 'wall', 'window')
NYU13_PALETTE = [[0, 0, 128], [0, 128, 0], [0, 128, 128], [128, 0, 0],
                 [128, 0, 128], [128, 128, 0], [128, 128, 128], [0, 0, 64],
                 [0, 0, 192], [0, 128, 64], [0, 128, 192], [128, 0, 64],
                 [128, 0, 192]]
PREPARE_CMD = 'python tools/dataset_converters/nyu.py SRC data/nyuv2'


def _missing_label(image: str, label: str):
    raise MosaicError(f'NYUv2 image {image!r} has no label map {label!r}; '
                      f'prepare NYUv2 again with `{PREPARE_CMD}`.')


@DATASETS.register_module()
class NYUv2Dataset(BaseSegDataset):
    """NYUv2, 13 classes, 255 = ignore (see the module doc for the layout).

    Args:
        data_root (str): Folder written by the converter.
        data_prefix (dict): ``img_path`` and ``seg_map_path`` under
            ``data_root``; defaults to the training split.
        img_suffix (str | Sequence[str]): Image suffixes to read; an image
            of ``name`` + any of them is paired with ``name`` +
            ``seg_map_suffix``.
        seg_map_suffix (str): Suffix of the label maps.
        **kwargs: See mmseg's ``BaseSegDataset``.
    """
    METAINFO: ClassVar[dict] = dict(
        classes=NYU13_CLASSES, palette=NYU13_PALETTE)

    def __init__(self,
                 data_root: str = 'data/nyuv2',
                 data_prefix: dict | None = None,
                 img_suffix: str | Sequence[str] = ('.png', '.jpg'),
                 seg_map_suffix: str = '.png',
                 **kwargs):
        if isinstance(img_suffix, str):
            img_suffix = (img_suffix, )
        if data_prefix is None:
            data_prefix = split_prefix('train')
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            img_suffix=tuple(img_suffix),
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=False,
            ignore_index=255,
            **kwargs)

    def _check_folder(self, folder: str, what: str):
        if self.data_root and not osp.isdir(self.data_root):
            missing, what = self.data_root, 'data_root'
        elif not folder or not osp.isdir(folder):
            missing = folder
        else:
            return
        raise MosaicError(
            f'The NYUv2 {what} folder {missing!r} does not exist; prepare '
            f'NYUv2 with `{PREPARE_CMD}`.')

    def load_data_list(self) -> list[dict]:
        img_dir = self.data_prefix.get('img_path')
        ann_dir = self.data_prefix.get('seg_map_path')
        self._check_folder(img_dir, 'image')
        self._check_folder(ann_dir, 'annotation')
        data_list = image_label_pairs(self, img_dir, ann_dir, _missing_label)
        if not data_list:
            raise MosaicError(
                f'The NYUv2 image folder {img_dir!r} holds no '
                f'{"/".join(self.img_suffix)} file; prepare NYUv2 with '
                f'`{PREPARE_CMD}`.')
        return sorted(data_list, key=lambda info: info['img_path'])
