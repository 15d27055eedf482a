import itertools
import os

import mmmosaic  # noqa: F401  (mmcv-lite compat before any mmseg import)
import pytest
import torch

# Two cores, shared: keep each test process on a predictable thread count.
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


_COUNTER = itertools.count()


@pytest.fixture(autouse=True)
def _mmmosaic_scope():
    from mmengine.registry import DefaultScope
    name = f'mmmosaic-test-{os.getpid()}-{next(_COUNTER)}'
    DefaultScope.get_instance(name, scope_name='mmmosaic')
    yield
