import itertools
import os

import pytest
import torch

import mmmosaic  # noqa: F401  (mmcv-lite compat before any mmseg import)

# Two shared cores: one thread is much faster than two under load.
torch.set_num_threads(1)

_COUNTER = itertools.count()


@pytest.fixture(autouse=True)
def _mmmosaic_scope():
    from mmengine.registry import DefaultScope
    name = f'mmmosaic-test-{os.getpid()}-{next(_COUNTER)}'
    DefaultScope.get_instance(name, scope_name='mmmosaic')
    yield


@pytest.fixture(scope='session')
def official_data(tmp_path_factory):
    """Tiny copies of the paper's data sets in their official layouts
    (tests/_official_layouts.py), written once per session."""
    from _official_layouts import write_all
    return write_all(tmp_path_factory.mktemp('official_data'))
