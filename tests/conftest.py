import itertools
import os

import pytest
import torch

import mmmosaic  # noqa: F401  (mmcv-lite compat before any mmseg import)

# Two shared cores: one thread is much faster than two under load.
torch.set_num_threads(1)
if int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1')) > 1:
    # One pytest worker a core (make test): the processes a test starts
    # (tools/train.py, benchmark scripts) take one thread each too.
    os.environ['OMP_NUM_THREADS'] = '1'
# Training on the CPU is what the tests mean where GPUs are given but not
# usable: tests/test_slurm.py's cluster hands out fake GPUs (and snapshots
# the environment before any test's own fixtures run).
os.environ['MMMOSAIC_ALLOW_CPU'] = '1'

_COUNTER = itertools.count()


@pytest.fixture(autouse=True)
def _cpu_unless_gpu(request, monkeypatch):
    """Tests mean CPU semantics (gloo, exact float32 resumes, one process
    per core) unless marked ``gpu``: on a machine with GPUs they are pinned
    to the CPU, in this process (``torch.cuda.is_available()`` is False, so
    mmengine picks the CPU) and in every process they start
    (``CUDA_VISIBLE_DEVICES`` empty). ``gpu`` tests (tests/test_gpu.py) run
    only where CUDA is usable, and are skipped with the reason elsewhere."""
    if request.node.get_closest_marker('gpu') is None:
        monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')
        monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    yield


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


@pytest.fixture(scope='module')
def fake_mnist(tmp_path_factory):
    """Tiny IDX files in the layout of fetch_mnist.py: 20 items a split,
    each a filled square whose side depends on its label."""
    import numpy as np
    from _tiny import write_idx
    root = tmp_path_factory.mktemp('idx')
    for name in ('mnist', 'fashion_mnist'):
        folder = root / name
        folder.mkdir()
        for split, count in (('train', 20), ('t10k', 10)):
            labels = np.arange(count) % 10
            items = np.zeros((count, 28, 28), np.uint8)
            for i, label in enumerate(labels):
                side = 6 + label
                items[i, 4:4 + side, 4:4 + side] = 200
                items[i, 3, 4:4 + side] = 60  # a faint edge: background
            write_idx(folder / f'{split}-images-idx3-ubyte', items)
            write_idx(folder / f'{split}-labels-idx1-ubyte', labels)
    return root
