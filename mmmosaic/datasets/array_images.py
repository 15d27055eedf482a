"""Labelled images held in arrays that a release ships as one file."""
from typing import Callable, List, Sequence, Tuple

import numpy as np
from mmpretrain.datasets import BaseDataset


class ArrayImageDataset(BaseDataset):
    """A classification dataset whose images live in in-memory arrays.

    Subclasses implement :meth:`load_arrays`, returning a function that
    gives image ``i`` as an ``HxWxC`` uint8 array (RGB) and the 0-based
    labels. The data list holds only labels and row numbers; each image is
    attached when its sample is read, so a million images are not copied
    into a million serialized dicts.

    Args:
        data_root (str): Folder of the release's files.
        pipeline (list): Transforms; the samples already hold ``img``, so
            no loading transform is needed.
        **kwargs: See mmpretrain's ``BaseDataset``.
    """

    def __init__(self, data_root: str, pipeline: Sequence = (), **kwargs):
        super().__init__(
            ann_file='', data_root=data_root, pipeline=pipeline, **kwargs)

    def load_arrays(self) -> Tuple[Callable[[int], np.ndarray], Sequence]:
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        self._image_at, labels = self.load_arrays()
        return [
            dict(gt_label=int(label), array_index=i)
            for i, label in enumerate(labels)
        ]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info['img'] = self._image_at(info.pop('array_index'))
        return info
