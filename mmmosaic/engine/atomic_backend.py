"""Checkpoint files that are either complete or absent.

mmengine's local backend writes a checkpoint in place, so a crash or a kill
during the write leaves a truncated file under the final name. The
``atomic_local`` backend writes to a temporary file in the same folder,
flushes it to disk and renames it over the final name (an atomic operation
on POSIX), so a reader sees the old state or the new one, never half.
Use it with ``CheckpointHook(backend_args=dict(backend='atomic_local'))``;
:class:`AtomicCheckpointHook` uses it by default and writes
``last_checkpoint`` the same way (:func:`atomic_write`).
"""
import glob
import os
import os.path as osp
import re
import tempfile
import zipfile
from typing import Optional

from mmengine.fileio import LocalBackend, register_backend


def atomic_write(filepath, data: bytes) -> None:
    """Replace ``filepath`` by ``data``: old or new, never half-written.

    The bytes go to a temporary file in the same folder, are flushed to
    disk, and the temporary file is renamed over ``filepath``
    (``os.replace``). On any error the temporary file is removed and
    ``filepath`` is left as it was.
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix='.' + osp.basename(filepath), suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


@register_backend('atomic_local', force=True)
class AtomicLocalBackend(LocalBackend):
    """A local file backend whose ``put`` is atomic."""

    def put(self, obj: bytes, filepath) -> None:
        """Write ``obj`` to ``filepath`` with :func:`atomic_write`."""
        atomic_write(filepath, obj)


def is_complete_checkpoint(path: str) -> bool:
    """True if ``path`` is an intact torch zip checkpoint (CRCs checked)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (OSError, zipfile.BadZipFile):
        return False


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The newest intact checkpoint of ``work_dir``, or None.

    Tries the file named in ``last_checkpoint`` first, then ``iter_*.pth`` /
    ``epoch_*.pth`` from the highest number down, so a damaged file (or a
    damaged ``last_checkpoint``) never stops a resume when an older good
    checkpoint exists.
    """
    candidates = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            candidates.append(f.read().strip())

    def number(path):
        match = re.search(r'(\d+)\.pth$', path)
        return int(match.group(1)) if match else -1

    found = glob.glob(osp.join(work_dir, 'iter_*.pth')) + glob.glob(
        osp.join(work_dir, 'epoch_*.pth'))
    candidates += sorted(found, key=number, reverse=True)
    for path in candidates:
        if path and osp.isfile(path) and is_complete_checkpoint(path):
            return path
    return None
