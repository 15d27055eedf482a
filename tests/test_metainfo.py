"""Class names and colours of a dataset config, without building it: one
helper for the runtime's class-count check, the OOD report and the mosaic
grids."""
import numpy as np
import pytest
from mmengine.config import Config

from mmmosaic.datasets import class_palette, declared_metainfo
from mmmosaic.datasets.camvid import CAMVID_CLASSES, CAMVID_PALETTE
from mmmosaic.errors import MosaicError
from mmmosaic.runtime import check_class_counts


def test_declared_metainfo_reads_config_then_subset_then_class():
    camvid = dict(type='CamVidDataset', data_root='/nowhere')
    meta = declared_metainfo(camvid)
    assert meta['classes'] == CAMVID_CLASSES
    assert meta['palette'] == CAMVID_PALETTE
    # The config's own metainfo wins; the class fills in the rest only
    # when the config names no classes.
    mine = dict(camvid, metainfo=dict(classes=('a', 'b')))
    assert declared_metainfo(mine) == dict(classes=('a', 'b'))
    mine = dict(camvid, metainfo=dict(palette=[[1, 2, 3]]))
    assert declared_metainfo(mine)['palette'] == [[1, 2, 3]]
    # A ClassFolderSubset names its classes itself.
    subset = dict(type='ClassFolderSubset', classes=['cat', 'dog'])
    assert declared_metainfo(subset)['classes'] == ['cat', 'dog']
    # Another package's registry, through the config's scope.
    cifar = declared_metainfo(dict(_scope_='mmpretrain', type='CIFAR10'))
    assert len(cifar['classes']) == 10
    # Unknown: nothing, and no error.
    assert declared_metainfo(dict(type='NoSuchDataset')) == {}
    assert declared_metainfo(None) == {}


def test_class_count_check_sees_a_class_folder_subsets_classes():
    model = dict(
        teacher=dict(head=dict(num_classes=6)),
        student=dict(head=dict(num_classes=6)))
    subset = dict(type='ClassFolderSubset', classes=['a', 'b', 'c'])
    cfg = Config(dict(model=model, val_dataloader=dict(dataset=subset)))
    with pytest.raises(MosaicError, match='dataset 3'):
        check_class_counts(cfg)
    subset['classes'] = list('abcdef')
    check_class_counts(
        Config(dict(model=model, val_dataloader=dict(dataset=subset))))


def test_class_palette_is_the_datasets_or_fixed_colours():
    palette = [[1, 2, 3], [4, 5, 6]]
    assert class_palette(2, palette).tolist() == palette
    assert class_palette(2, palette).dtype == np.uint8
    fixed = class_palette(5)
    assert fixed.shape == (5, 3) and fixed.dtype == np.uint8
    assert fixed[0].tolist() == [0, 0, 0]  # class 0 (background) black
    assert (fixed[1:] >= 40).all()  # the others stand out from it
    assert np.array_equal(class_palette(5), fixed)  # the same every call
    assert np.array_equal(class_palette(5, palette), fixed)  # wrong length
