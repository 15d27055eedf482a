"""Labelled images in ``<data_root>/<split>/<class>/*`` folders, a chosen
subset of the classes."""
import os
import os.path as osp
from typing import List, Sequence

from mmengine.dataset import BaseDataset

from mmmosaic.errors import MosaicError
from mmmosaic.registry import DATASETS
from .ood_dataset import IMG_EXTENSIONS


@DATASETS.register_module()
class ClassFolderSubset(BaseDataset):
    """Images of some class folders, labelled by the order of ``classes``.

    mmpretrain's ``CustomDataset`` takes every sub-folder as a class; this
    one takes the listed ones only, e.g. the six animal classes of a CIFAR-10
    folder tree as an in-domain task and its four vehicle classes as
    out-of-domain images (their labels are dropped by :class:`OODDataset`).

    Args:
        data_root (str): Folder holding ``split``.
        split (str): Sub-folder of ``data_root`` (``train``, ``test``).
        classes (Sequence[str]): Class folder names; label ``i`` is
            ``classes[i]``.
        pipeline (list): Transforms; usually ``[LoadImageFromFile, ...]``.
    """

    def __init__(self,
                 data_root: str,
                 split: str,
                 classes: Sequence[str],
                 pipeline: Sequence = (),
                 **kwargs):
        self.split = split
        kwargs.setdefault('metainfo', dict(classes=tuple(classes)))
        super().__init__(
            data_root=data_root, pipeline=list(pipeline), **kwargs)

    def load_data_list(self) -> List[dict]:
        split_dir = osp.join(self.data_root, self.split)
        classes = self.metainfo['classes']
        data_list = []
        for label, name in enumerate(classes):
            folder = osp.join(split_dir, name)
            if not osp.isdir(folder):
                raise MosaicError(
                    f'Class folder {folder!r} does not exist; data_root '
                    f'must hold {self.split}/<class>/ folders for the '
                    f'classes {", ".join(classes)}.')
            files = sorted(
                f for f in os.listdir(folder)
                if f.lower().endswith(IMG_EXTENSIONS))
            if not files:
                raise MosaicError(
                    f'Class folder {folder!r} holds no image files; add '
                    'images or fix data_root.')
            data_list += [
                dict(img_path=osp.join(folder, f), gt_label=label)
                for f in files
            ]
        return data_list
