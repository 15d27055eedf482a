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
