"""Segmentation images and label maps in mmseg's folder layout:
``images/<split>/NAME`` paired with ``annotations/<split>/NAME``."""
import os.path as osp
from typing import Callable, Dict, List

from mmengine import fileio


def image_label_pairs(dataset, img_dir: str, ann_dir: str,
                      missing_label: Callable[[str, str], None]) -> List[dict]:
    """Data infos of every image under ``img_dir`` (recursively) with the
    label map of the same name under ``ann_dir``, for an mmseg
    ``BaseSegDataset`` (its ``img_suffix``, ``seg_map_suffix``,
    ``label_map`` and ``backend_args``). ``missing_label(image, label)`` is
    called, and must raise, when an image has no label map."""
    data_list = []
    for name in fileio.list_dir_or_file(
            img_dir,
            list_dir=False,
            suffix=dataset.img_suffix,
            recursive=True,
            backend_args=dataset.backend_args):
        stem = next(name[:-len(s)] for s in dataset.img_suffix
                    if name.endswith(s))
        seg_map = osp.join(ann_dir, stem + dataset.seg_map_suffix)
        if not osp.isfile(seg_map):
            missing_label(osp.join(img_dir, name), seg_map)
        data_list.append(
            dict(
                img_path=osp.join(img_dir, name),
                seg_map_path=seg_map,
                label_map=dataset.label_map,
                reduce_zero_label=False,
                seg_fields=[]))
    return data_list


def split_prefix(split: str = 'train') -> Dict[str, str]:
    """``data_prefix`` of one split: ``images/<split>`` and
    ``annotations/<split>`` under ``data_root``."""
    return dict(
        img_path=f'images/{split}', seg_map_path=f'annotations/{split}')
