"""The segmentation demo's in-domain data: MNIST digits on canvases.

Grey canvases holding a few MNIST digits; the per-pixel label is 0
(background) everywhere except on a digit's bright strokes, which get the
digit's class + 1, so there are 11 classes. The PNG files are drawn by
``tools/dataset_converters/mnist_canvas.py`` in the folder layout mmseg
reads::

    data_root/images/{train,test}/00000.png       grey canvases
    data_root/annotations/{train,test}/00000.png  uint8 labels, 0..10
    data_root/ood/00000.png                       OOD canvases, no labels

:class:`MNISTCanvasDataset` reads the in-domain splits;
:class:`~mmmosaic.datasets.UnlabeledImageFolder` reads ``ood``.
"""
from __future__ import annotations
import os.path as osp
from typing import ClassVar

from mmseg.datasets import BaseSegDataset

from mmmosaic.errors import MosaicError
from mmmosaic.registry import DATASETS
from .seg_pairs import split_prefix

CANVAS_CLASSES = ('background', ) + tuple(str(d) for d in range(10))
# Black background, then ten well separated colours for the digits.
CANVAS_PALETTE = [[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25],
                  [0, 130, 200], [245, 130, 48], [145, 30, 180],
                  [70, 240, 240], [240, 50, 230], [210, 245, 60],
                  [250, 190, 212]]


@DATASETS.register_module()
class MNISTCanvasDataset(BaseSegDataset):
    """In-domain split of the segmentation demo (11 classes, see the module
    doc), as written by ``tools/dataset_converters/mnist_canvas.py``.

    Args:
        data_root (str): The folder the converter wrote (its ``--out-dir``).
        data_prefix (dict): ``img_path`` / ``seg_map_path`` under it,
            defaults to the training split.
        **kwargs: See mmseg's ``BaseSegDataset``.
    """
    METAINFO: ClassVar[dict] = dict(
        classes=CANVAS_CLASSES, palette=CANVAS_PALETTE)
    #: Command named in the error raised when the folders are missing.
    PREPARE_CMD = 'python tools/dataset_converters/mnist_canvas.py'

    def __init__(self,
                 data_root: str = 'data/mnist_canvas',
                 data_prefix: dict | None = None,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 **kwargs):
        if data_prefix is None:
            data_prefix = split_prefix('train')
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=False,
            **kwargs)

    def load_data_list(self) -> list[dict]:
        build = f'{self.PREPARE_CMD} --out-dir {self.data_root}'
        for key in ('img_path', 'seg_map_path'):
            folder = self.data_prefix.get(key)
            if folder and not osp.isdir(folder):
                raise MosaicError(
                    f'MNIST canvas folder {folder!r} does not exist; build '
                    f'it with `{build}`.')
        data_list = super().load_data_list()
        if not data_list:
            raise MosaicError(
                f'MNIST canvas folder {self.data_prefix["img_path"]!r} holds '
                f'no {self.img_suffix} image; rebuild it with '
                f'`{build}`.')
        return data_list
