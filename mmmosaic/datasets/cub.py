"""CUB-200-2011 (Caltech-UCSD Birds), in the layout of its official archive."""
import os.path as osp
from typing import ClassVar, Dict, List

from mmpretrain.datasets.categories import CUB_CATEGORIES

from mmmosaic.errors import MosaicError
from mmmosaic.registry import DATASETS
from .archive import ArchiveSplitDataset

SPLITS = dict(train='1', test='0')
INDEX_FILES = ('images.txt', 'image_class_labels.txt', 'train_test_split.txt')


def read_id_table(path: str) -> Dict[str, str]:
    """``{image id: value}`` of a CUB ``<image id> <value>`` text file."""
    table = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2:
                raise MosaicError(
                    f'Line {number} of {path!r} is {line.strip()!r}, not '
                    "'<image id> <value>'; use the files of the official "
                    'CUB_200_2011 archive.')
            table[parts[0]] = parts[1]
    return table


@DATASETS.register_module()
class CUB200(ArchiveSplitDataset):
    """CUB-200-2011: 11,788 bird photographs of 200 species.

    Layout of the official archive (``CUB_200_2011.tgz`` extracted)::

        data_root/images/<class folder>/<name>.jpg
        data_root/images.txt              <image id> <path under images/>
        data_root/image_class_labels.txt  <image id> <class id, 1..200>
        data_root/train_test_split.txt    <image id> <1 = train, 0 = test>

    (5,994 train / 5,794 test images). Labels are the class ids minus 1;
    class names are mmpretrain's ``CUB_CATEGORIES``. Images are loaded by
    the pipeline (``LoadImageFromFile``), BGR like every image file.

    Args:
        data_root (str): The extracted ``CUB_200_2011`` folder.
        split (str): ``'train'`` or ``'test'``.
        **kwargs: See mmpretrain's ``BaseDataset``.
    """
    METAINFO: ClassVar[dict] = dict(classes=CUB_CATEGORIES)

    LAYOUT = ('be the CUB_200_2011 folder of the official archive (images/, '
              'images.txt, image_class_labels.txt, train_test_split.txt)')

    DEFAULT_ROOT = 'data/CUB_200_2011'

    def load_data_list(self) -> List[dict]:
        root = self.data_root
        if not osp.isdir(root):
            self._fail(f'The CUB-200 folder {root!r} does not exist')
        for name in INDEX_FILES:
            if not osp.isfile(osp.join(root, name)):
                self._fail(f'The CUB-200 file {osp.join(root, name)!r} does '
                           'not exist')
        image_dir = osp.join(root, 'images')
        if not osp.isdir(image_dir):
            self._fail(f'The CUB-200 image folder {image_dir!r} does not '
                       'exist')
        paths, labels, splits = (
            read_id_table(osp.join(root, name)) for name in INDEX_FILES)
        for name, table in zip(INDEX_FILES[1:], (labels, splits)):
            if set(table) != set(paths):
                self._fail(f'{name} lists {len(table)} image ids and '
                           f'images.txt {len(paths)}, not the same ones')
        num_classes = len(self.metainfo['classes'])
        data_list = []
        for image_id in sorted(paths, key=int):
            if splits[image_id] not in ('0', '1'):
                self._fail(f'train_test_split.txt gives image {image_id} '
                           f'the value {splits[image_id]!r}, not 0 or 1')
            label = int(labels[image_id]) - 1
            if not 0 <= label < num_classes:
                self._fail(f'image_class_labels.txt gives image {image_id} '
                           f'class {labels[image_id]}, outside 1..'
                           f'{num_classes}')
            if splits[image_id] == SPLITS[self.split]:
                data_list.append(
                    dict(
                        img_path=osp.join(image_dir, paths[image_id]),
                        gt_label=label))
        return self._check_images(data_list, 'CUB-200', 'images.txt')
