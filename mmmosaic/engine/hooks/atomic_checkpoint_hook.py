"""mmengine's CheckpointHook, with every file it writes replaced atomically.

After each checkpoint, mmengine's ``CheckpointHook`` writes the path of the
newest checkpoint to ``work_dir/last_checkpoint`` (what ``--resume`` reads)
with ``open(path, 'w')``, which empties the file before writing it: a crash
or a kill at that moment leaves an empty pointer. This subclass lets
mmengine write the pointer into a private temporary folder inside the work
dir and then replaces ``last_checkpoint`` with it through
:func:`atomic_write` (temporary file in the same folder, flushed to disk,
``os.replace``), so a reader sees the old pointer or the new one. When no
storage backend is configured for a local folder, the checkpoint files
themselves are written through the ``atomic_local`` backend, the same way.
"""
import logging
import os.path as osp
import shutil
import tempfile

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mmmosaic.compat import save_step_as_mmengine, saves_through_save_step
from mmmosaic.engine.atomic_backend import atomic_write
from mmmosaic.registry import HOOKS

POINTER = 'last_checkpoint'


class _DropMessages(logging.Filter):
    """Drops log records whose message starts with one of ``starts``."""

    def __init__(self, *starts: str):
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.starts)


@HOOKS.register_module()
@saves_through_save_step
class AtomicCheckpointHook(CheckpointHook):
    """A :class:`mmengine.hooks.CheckpointHook` whose ``last_checkpoint``
    file (and, by default, checkpoint files) are replaced atomically.

    It takes the same arguments and has the same priority as
    ``CheckpointHook``. ``backend_args`` defaults to
    ``dict(backend='atomic_local')`` when neither ``backend_args`` nor
    ``file_client_args`` is given and ``out_dir`` is a local folder (or
    unset: the work dir).
    """

    def __init__(self, interval: int = -1, **kwargs):
        local = '://' not in str(kwargs.get('out_dir') or '')
        if local and kwargs.get('backend_args') is None and kwargs.get(
                'file_client_args') is None:
            kwargs['backend_args'] = dict(backend='atomic_local')
        super().__init__(interval, **kwargs)

    def before_train(self, runner) -> None:
        # mmengine's CheckpointHook and save_checkpoint build a FileClient
        # they do not use (kept for backward compatibility), which logs two
        # deprecation warnings at the start and at every checkpoint, about
        # an API no config here asks for.
        runner.logger.addFilter(
            _DropMessages('"FileClient" will be deprecated',
                          '"HardDiskBackend" is the alias'))
        super().before_train(runner)

    def save_step(self, runner, step: int, meta: dict) -> None:
        """Save the checkpoint after ``step`` as mmengine's hook does, with
        ``last_checkpoint`` replaced atomically."""
        if not is_main_process():  # only the main process writes a pointer
            save_step_as_mmengine(self, runner, step, meta)
            return
        staging = tempfile.mkdtemp(
            prefix=f'.{POINTER}.', suffix='.tmp', dir=runner.work_dir)
        try:
            # mmengine writes last_checkpoint in place: let it write into
            # the staging folder, then publish it atomically.
            save_step_as_mmengine(
                self, runner, step, meta, pointer_dir=staging)
            staged = osp.join(staging, POINTER)
            if osp.isfile(staged):
                with open(staged, 'rb') as f:
                    atomic_write(osp.join(runner.work_dir, POINTER), f.read())
        finally:
            shutil.rmtree(staging, ignore_errors=True)
