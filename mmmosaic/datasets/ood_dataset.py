"""Unlabeled out-of-domain (OOD) images and the two views MosaicKD uses."""
import json
import logging
import os
import os.path as osp
from typing import Callable, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset, Compose
from mmengine.logging import print_log

from mmmosaic.errors import MosaicError
from mmmosaic.registry import DATASETS

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                  '.tiff', '.webp')
#: Keys of a sample that carry ground truth; OODDataset removes them so no
#: label can reach the distillation.
LABEL_KEYS = ('gt_label', 'gt_score', 'gt_sem_seg', 'seg_map_path',
              'gt_seg_map', 'label', 'gt_labels')


class UnreadableItems:
    """The items of a dataset that could not be read, as every process sees
    them: the main process and each data-loader worker.

    Loader workers are separate processes, so a plain set filled in a
    worker stays empty in the main process. The marks live in a
    shared-memory tensor instead (inherited by forked workers, handed to
    spawned ones by torch's multiprocessing), so ``len()`` counts what any
    worker skipped and no worker tries an item another found unreadable.
    Iterating gives the marked indices.

    Args:
        size (int): Number of items of the dataset.
    """

    def __init__(self, size: int):
        self._marks = torch.zeros(size, dtype=torch.uint8).share_memory_()
        self.last_error: Optional[str] = None

    def add(self, index: int) -> None:
        self._marks[index] = 1

    def __contains__(self, index: int) -> bool:
        return bool(self._marks[index])

    def __len__(self) -> int:
        return int(self._marks.sum())

    def __iter__(self) -> Iterator[int]:
        return iter(self._marks.nonzero().flatten().tolist())

    def first_readable(self, start: int, load: Callable[[int], dict],
                       name_of: Callable[[int], object]) -> dict:
        """``load(i)`` for the first item ``i`` from ``start`` on (wrapping
        round) that is not marked and loads without an error.

        An item whose ``load`` raises is marked, and skipped with a
        warning naming it (``name_of(i)``): one bad file must not stop
        training or a report. If no item loads, a :class:`MosaicError`
        says so.
        """
        size = len(self._marks)
        for offset in range(size):
            i = (start + offset) % size
            if i in self:
                continue
            try:
                return load(i)
            except Exception as exc:  # a bad file must not stop the run
                self.add(i)
                self.last_error = f'{type(exc).__name__}: {exc}'
                print_log(
                    f'Skipped OOD image {name_of(i)!r} ({self.last_error}); '
                    f'{len(self)} skipped so far.',
                    logger='current',
                    level=logging.WARNING)
        raise MosaicError(
            f'None of the {size} OOD images could be read (last error: '
            f'{self.last_error}); check the files and the pipelines of '
            'train_dataloader.dataset.')


@DATASETS.register_module()
class UnlabeledImageFolder(BaseDataset):
    """Every image file under ``data_root`` (recursively), without labels.

    Any folder tree works: ImageNet's, ADE20K's, Places', or a flat folder.
    Files are listed in sorted order, so indices are stable between runs.

    Args:
        data_root (str): Folder to scan.
        pipeline (list): Transforms; usually ``[LoadImageFromFile]``.
        extensions (Sequence[str]): File suffixes counted as images.
    """

    def __init__(self,
                 data_root: str,
                 pipeline: Sequence = (),
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 **kwargs):
        self.extensions = tuple(e.lower() for e in extensions)
        super().__init__(
            data_root=data_root, pipeline=list(pipeline), **kwargs)

    def load_data_list(self) -> List[dict]:
        root = self.data_root
        if not osp.isdir(root):
            raise MosaicError(
                f'OOD image folder {root!r} (data_root) does not exist; point '
                'it at a folder of unlabeled images.')
        paths = []
        for folder, _, files in os.walk(root, followlinks=True):
            paths += [
                osp.join(folder, f) for f in files
                if f.lower().endswith(self.extensions)
            ]
        if not paths:
            raise MosaicError(
                f'OOD image folder {root!r} holds no image files '
                f'({", ".join(self.extensions)}); add images or fix '
                'data_root.')
        return [dict(img_path=p) for p in sorted(paths)]


@DATASETS.register_module()
class OODDataset:
    """OOD samples in the two views of MosaicKD, labels removed.

    Each item is ``dict(real=packed, student=packed)``: ``real`` is the
    un-augmented view the discriminator sees as real (official: in-domain
    normalisation, no augmentation), ``student`` the augmented view added to
    the student's inputs (official: random crop with padding and flip).
    Normalisation happens later, in the model's data preprocessor.

    Args:
        source (dict | Dataset): Where the images come from: an
            :class:`UnlabeledImageFolder` or any mmpretrain / mmseg dataset
            (its labels are dropped). Give it a pipeline that only loads.
        real_pipeline (list): Transforms of the ``real`` view, ending with a
            packer (``mmpretrain.PackInputs`` / ``mmseg.PackSegInputs``).
        student_pipeline (list): Transforms of the ``student`` view.
        subset_file (str, optional): JSON list of source indices to keep,
            e.g. written by ``tools/select_ood_subset.py``.
        cache_decoded (bool): Keep each source sample in memory after its
            first read (the decoded image, before the two views' random
            transforms), so that a small set of large photos is decoded
            once instead of at every draw. The views are unchanged; the
            images are decoded when the dataset is built, and data-loader
            workers share them, so the memory is that of every decoded
            image once per process that builds the dataset (each rank):
            680 photos with a short side of 256 pixels take about 200 MB.
            Defaults to False.

    An image that cannot be read or transformed (corrupt file, unreadable
    format) is skipped with a warning and counted in ``num_skipped`` (also
    when data-loader workers read it, see :class:`UnreadableItems`); the
    next image takes its place. If no image can be read, a
    :class:`MosaicError` says so.
    """

    def __init__(self,
                 source: Union[dict, object],
                 real_pipeline: Sequence[dict],
                 student_pipeline: Sequence[dict],
                 subset_file: Optional[str] = None,
                 cache_decoded: bool = False):
        self.source = DATASETS.build(source) if isinstance(source,
                                                           dict) else source
        self.real_pipeline = Compose(list(real_pipeline))
        self.student_pipeline = Compose(list(student_pipeline))
        self.indices = list(range(len(self.source)))
        if subset_file is not None:
            self.indices = self._read_subset(subset_file)
        if not self.indices:
            raise MosaicError(
                'The OOD dataset is empty; check train_dataloader.dataset.')
        self.bad = UnreadableItems(len(self.indices))
        self._cache = {} if cache_decoded else None
        if cache_decoded:
            self._fill_cache()

    def _read_subset(self, path: str) -> List[int]:
        if not osp.isfile(path):
            raise MosaicError(
                f'OOD subset file {path!r} (subset_file) does not exist; '
                'write it with tools/select_ood_subset.py.')
        try:
            with open(path) as f:
                indices = json.load(f)
        except ValueError as exc:
            raise MosaicError(
                f'OOD subset file {path!r} (subset_file) is not JSON ({exc}); '
                'write it again with tools/select_ood_subset.py.') from None
        size = len(self.source)
        if not isinstance(indices, list) or not all(
                isinstance(i, int) and 0 <= i < size for i in indices):
            raise MosaicError(
                f'OOD subset file {path!r} must be a JSON list of indices in '
                f'[0, {size}); regenerate it for this dataset.')
        return indices

    def _fill_cache(self) -> None:
        """Decode every image now, in the process that builds the dataset:
        the data-loader workers forked from it then share these arrays
        (nothing writes them: transforms get copies) instead of each
        decoding and keeping its own. An image that cannot be read stays
        out, to be skipped with a warning when it is drawn."""
        for idx in range(len(self)):
            try:
                self.raw_sample(idx)
            except Exception:  # reported where it is drawn
                pass

    @property
    def metainfo(self) -> dict:
        return dict(getattr(self.source, 'metainfo', {}))

    def __len__(self) -> int:
        return len(self.indices)

    def raw_sample(self, idx: int) -> dict:
        """The source sample at ``idx`` of this dataset, labels removed."""
        if self._cache is not None and idx in self._cache:
            return _copy_sample(self._cache[idx])
        sample = dict(self.source[self.indices[idx]])
        for key in LABEL_KEYS:
            sample.pop(key, None)
        if self._cache is not None:
            self._cache[idx] = _copy_sample(sample)
        return sample

    @property
    def num_skipped(self) -> int:
        return len(self.bad)

    def _views(self, idx: int) -> dict:
        sample = self.raw_sample(idx)
        return dict(
            real=self.real_pipeline(dict(sample)),
            student=self.student_pipeline(dict(sample)))

    def source_name(self, idx: int):
        """The file of item ``idx`` if its source says, else ``idx``."""
        if hasattr(self.source, 'get_data_info'):
            path = self.source.get_data_info(self.indices[idx]).get('img_path')
            if path:
                return path
        return idx

    def __getitem__(self, idx: int) -> dict:
        return self.bad.first_readable(idx, self._views, self.source_name)


def _copy_sample(sample: dict) -> dict:
    """A copy of a sample whose arrays a transform may change in place."""
    return {
        key: value.copy() if isinstance(value, np.ndarray) else value
        for key, value in sample.items()
    }


@DATASETS.register_module()
class NoImagesDataset:
    """A dataset of ``length`` empty samples, for data-free training.

    mmengine's loops iterate a dataloader; data-free adversarial KD uses no
    images, so its train dataloader yields empty batches.
    """

    def __init__(self, length: int = 1000):
        self.length = length
        self.metainfo = {}

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, idx: int) -> dict:
        return {}
