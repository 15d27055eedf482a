"""The common part of datasets read from an official archive's folder."""
import os.path as osp
from typing import ClassVar, List, Optional, Tuple

from mmpretrain.datasets import BaseDataset

from mmmosaic.errors import MosaicError


class ArchiveSplitDataset(BaseDataset):
    """One split (``'train'`` or ``'test'``) of a labelled data set kept in
    the layout of its official archive; subclasses read the archive's
    index files in ``load_data_list`` and call :meth:`_fail` when the
    folder does not match.

    Args:
        data_root (str, optional): The extracted archive's folder;
            ``DEFAULT_ROOT`` when None.
        split (str): ``'train'`` or ``'test'``.
        **kwargs: See mmpretrain's ``BaseDataset``.
    """
    #: What ``data_root`` must be, completing "data_root must ...".
    LAYOUT: ClassVar[str] = ''
    #: ``data_root`` when none is given.
    DEFAULT_ROOT: ClassVar[str] = ''
    SPLIT_NAMES: ClassVar[Tuple[str, ...]] = ('train', 'test')

    def __init__(self,
                 data_root: Optional[str] = None,
                 split: str = 'train',
                 **kwargs):
        data_root = data_root or self.DEFAULT_ROOT
        if split not in self.SPLIT_NAMES:
            raise MosaicError(f"{type(self).__name__} split must be 'train' "
                              f"or 'test', got {split!r}.")
        self.split = split
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def _fail(self, problem: str):
        raise MosaicError(f'{problem}; data_root must {self.LAYOUT}.')

    def _check_images(self, data_list: List[dict], name: str,
                      index_file: str) -> List[dict]:
        """``data_list``, after checking that every image it lists exists
        (:meth:`_fail` names the first missing one, listed in
        ``index_file`` of the data set ``name``)."""
        missing = [
            d['img_path'] for d in data_list if not osp.isfile(d['img_path'])
        ]
        if missing:
            self._fail(f'The {name} image {missing[0]!r} listed in '
                       f'{index_file} does not exist ({len(missing)} of the '
                       f'{len(data_list)} {self.split} images are missing)')
        return data_list
