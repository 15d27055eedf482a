"""Class names and colours of a dataset, known without building it."""
from typing import Optional, Sequence

import numpy as np


def declared_metainfo(dataset_cfg) -> dict:
    """The metainfo (``classes``, ``palette``, ...) a dataset config
    declares, read without building the dataset (its files need not exist).

    The config's own ``metainfo`` first; then, for the classes, a
    :class:`~mmmosaic.datasets.ClassFolderSubset`'s ``classes``; then the
    ``METAINFO`` of the class its ``type`` names, looked up in the registry
    of its ``_scope_``. Empty when nothing is known (not a config dict, an
    unknown type).
    """
    if not isinstance(dataset_cfg, dict):
        return {}
    meta = dict(dataset_cfg.get('metainfo') or {})
    if 'classes' not in meta and dataset_cfg.get('classes'):
        meta['classes'] = dataset_cfg['classes']
    name = dataset_cfg.get('type')
    if 'classes' not in meta and isinstance(name, str):
        from mmmosaic.registry import DATASETS
        try:
            with DATASETS.switch_scope_and_registry(
                    dataset_cfg.get('_scope_')) as registry:
                cls = registry.get(name)
        except Exception:  # an unknown dataset is reported when it is built
            cls = None
        meta = {**getattr(cls, 'METAINFO', {}), **meta}
    return meta


def class_palette(num_classes: int,
                  palette: Optional[Sequence] = None) -> np.ndarray:
    """RGB colours of ``num_classes`` classes, ``uint8 [num_classes, 3]``.

    ``palette`` (a dataset's, one ``[r, g, b]`` a class) when it has a
    colour for every class; else fixed colours, the same in every call:
    class 0 (often the background) black, the others drawn from a seeded
    generator, bright enough to tell apart from it.
    """
    if palette is not None and len(palette) == num_classes:
        return np.array(palette, dtype=np.uint8)
    rng = np.random.default_rng(12345)
    colors = rng.integers(40, 256, (num_classes, 3), dtype=np.uint8)
    colors[0] = 0
    return colors
