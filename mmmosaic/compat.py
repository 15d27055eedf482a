"""Compatibility with the two mmcv flavours, torch >= 2.6 loading, and
every use of mmengine's private internals.

mmcv-lite
    mmcv without compiled ops installs anywhere, but four mmseg modules do an
    unguarded ``from mmcv.ops import ...`` and ``mmcv.ops`` loads the compiled
    extension, so ``import mmseg.models`` fails. When (and only when) that
    extension is missing, :func:`install_mmcv_ops_fallback` registers a small
    stand-in ``mmcv.ops`` holding mmcv's own pure-PyTorch ``point_sample``.
    Every other op name raises ``ModuleNotFoundError``, which keeps mmseg's
    guarded ``try: from mmcv.ops import X`` imports working. With the stand-in,
    encoder-decoder models (FCN, PSPNet, DeepLabV3/V3+, UNet, MobileNetV2 and
    ResNet backbones, ...) build and run; the models in
    :data:`UNAVAILABLE_WITHOUT_MMCV_OPS` need full mmcv, and the error when
    one is built says so (no warning at import: most runs need none of
    them). With full mmcv installed (``mim install mmcv``) nothing here
    does anything.

torch >= 2.6 loading is handled by
:class:`mmmosaic.engine.SafeCheckpointHook`.

mmengine internals
    Where mmengine offers no public hook point, mmmosaic relies on private
    methods or on the exact text and layout of mmengine 0.10 (the version
    setup.cfg pins), all of it in this module and nowhere else:

    * checkpoints: ``CheckpointHook._save_checkpoint_with_step`` is the one
      method every checkpoint goes through, and it writes
      ``<runner.work_dir>/last_checkpoint`` in place
      (:func:`saves_through_save_step`, :func:`save_step_as_mmengine`,
      :func:`save_checkpoint_now`);
    * errors: the text of a registry's missing-type ``KeyError`` and the
      file that calls a class with a config entry's arguments
      (:func:`registry_miss`, :func:`raised_by_build`);
    * training loops: the body of ``IterBasedTrainLoop.run``, which
      :func:`run_train_iterations` repeats for ``benchmarks/speed.py``, and
      ``Runner.call_hook`` looking each hook's method up when it calls it
      (so a wrapper set on a hook instance is what runs).

    :func:`mmengine_changes` says which of these no longer hold for the
    installed mmengine; ``tests/test_compat.py`` fails with its sentences.
"""
import importlib.util
import inspect
import os.path as osp
import re
import sys
import traceback
import types
import warnings
from typing import List, Optional, Tuple

#: mmseg components that need mmcv's compiled ops (full ``mmcv``).
UNAVAILABLE_WITHOUT_MMCV_OPS = ('CCHead (CCNet)', 'PSAHead (PSANet)',
                                'SideAdapterCLIPHead (SAN)',
                                'FocalLoss on CUDA tensors',
                                'DCN-based backbones')


def _has_compiled_mmcv_ops() -> bool:
    try:
        import mmcv.ops  # noqa: F401
    except ModuleNotFoundError:
        return False
    return True


def _load_pure_point_sample():
    import mmcv
    path = osp.join(osp.dirname(mmcv.__file__), 'ops', 'point_sample.py')
    spec = importlib.util.spec_from_file_location(
        'mmmosaic._mmcv_point_sample', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.point_sample


def _sigmoid_focal_loss_unavailable(*args, **kwargs):
    raise RuntimeError(
        'sigmoid_focal_loss needs mmcv with compiled ops; install full mmcv '
        '(`mim install "mmcv>=2.0.0rc4,<2.2.0"`) or use FocalLoss on CPU '
        'tensors.')


def install_mmcv_ops_fallback() -> bool:
    """Register a stand-in ``mmcv.ops`` if mmcv has no compiled ops.

    Returns:
        bool: True if the stand-in was installed (mmcv-lite), False if mmcv's
        own ops are importable (full mmcv) or the stand-in is already there.
    """
    current = sys.modules.get('mmcv.ops')
    if getattr(current, '__mmmosaic_fallback__', False):
        return False
    if _has_compiled_mmcv_ops():
        return False
    import mmcv

    ops = types.ModuleType('mmcv.ops')
    ops.__doc__ = 'mmmosaic stand-in for mmcv.ops (mmcv-lite, no compiled ops)'
    ops.__mmmosaic_fallback__ = True
    ops.point_sample = _load_pure_point_sample()
    ops.sigmoid_focal_loss = _sigmoid_focal_loss_unavailable

    def __getattr__(name):
        if name.startswith('__'):
            raise AttributeError(name)
        # ModuleNotFoundError, not ImportError: mmseg guards optional ops
        # with `except ModuleNotFoundError`.
        raise ModuleNotFoundError(
            f'mmcv.ops.{name} needs mmcv with compiled ops (mmcv-lite is '
            'installed, without ' + ', '.join(UNAVAILABLE_WITHOUT_MMCV_OPS) +
            '); install full mmcv to use it.')

    ops.__getattr__ = __getattr__
    sys.modules['mmcv.ops'] = ops
    mmcv.ops = ops
    # mmcv warns at import that mmcv-lite lacks this op: expected here, and
    # said above where it matters (when a model needs a missing op).
    warnings.filterwarnings(
        'ignore',
        message='Fail to import ``MultiScaleDeformableAttention``',
        category=UserWarning)
    return True


class _AfterMmcvImport:
    """A ``sys.meta_path`` finder that installs the stand-in right after
    ``mmcv`` itself is imported (mmseg, and any ``from mmcv.ops import``,
    import ``mmcv`` first), so that ``import mmmosaic`` costs no torch
    import: a tool's ``--help`` stays quick."""

    def __init__(self):
        self._finding = False

    def find_spec(self, fullname, path=None, target=None):
        if fullname != 'mmcv' or self._finding:
            return None
        self._finding = True
        try:  # the module spec the other import finders give
            spec = importlib.util.find_spec('mmcv')
        finally:
            self._finding = False
        if spec is not None and spec.loader is not None:
            spec.loader = _InstallAfterExec(spec.loader, self)
        return spec


class _InstallAfterExec:
    """The loader of ``mmcv``, installing the stand-in once it ran."""

    def __init__(self, loader, finder):
        self._loader = loader
        self._finder = finder

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__spec__.loader = module.__loader__ = self._loader
        self._loader.exec_module(module)
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        install_mmcv_ops_fallback()

    def __getattr__(self, name):
        return getattr(self._loader, name)


def install_mmcv_ops_fallback_on_import() -> None:
    """:func:`install_mmcv_ops_fallback` now if mmcv is imported already,
    else as soon as it is (without importing it, nor torch, here)."""
    if 'mmcv' in sys.modules:
        install_mmcv_ops_fallback()
    elif not any(isinstance(f, _AfterMmcvImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterMmcvImport())


# ---------------------------------------------------------------- mmengine
#: What to do when a check of :func:`mmengine_changes` fails.
_UPDATE = 'update mmmosaic/compat.py for it'


class _WorkDirView:
    """``runner`` seen with another ``work_dir``; all else is the runner's."""

    def __init__(self, runner, work_dir: str):
        self._runner = runner
        self.work_dir = work_dir

    def __getattr__(self, name):
        return getattr(self._runner, name)


def saves_through_save_step(cls):
    """Class decorator for a ``CheckpointHook`` subclass that defines
    ``save_step(runner, step, meta)``: every checkpoint the hook saves (at
    its interval, the last one, the best one) then goes through that
    method. mmengine saves each of them through its private
    ``_save_checkpoint_with_step``, which this overrides."""

    def _save_checkpoint_with_step(self, runner, step, meta):
        self.save_step(runner, step, meta)

    cls._save_checkpoint_with_step = _save_checkpoint_with_step
    return cls


def save_step_as_mmengine(hook,
                          runner,
                          step: int,
                          meta: dict,
                          pointer_dir: Optional[str] = None) -> None:
    """What mmengine's ``CheckpointHook`` does to save the checkpoint after
    ``step``: drop the oldest beyond ``max_keep_ckpts``, save through
    ``runner.save_checkpoint``, set ``hook.last_ckpt`` and, on the main
    process, write its path to ``last_checkpoint``: in ``pointer_dir``
    when given, else (as mmengine does) in ``runner.work_dir``."""
    from mmengine.hooks import CheckpointHook
    view = runner if pointer_dir is None else _WorkDirView(runner, pointer_dir)
    CheckpointHook._save_checkpoint_with_step(hook, view, step, meta)


def save_checkpoint_now(hook, runner, step: int) -> str:
    """Save, through an iteration-based ``CheckpointHook`` ``hook`` (its
    folder, file names, ``max_keep_ckpts``, backend, ``last_checkpoint``),
    the checkpoint after iteration ``step`` (1-based) unless the hook has
    just saved it; returns its path."""
    path = hook.file_backend.join_path(hook.out_dir,
                                       hook.filename_tmpl.format(step))
    if hook.last_ckpt != path:
        hook._save_checkpoint_with_step(
            runner, step, meta=dict(epoch=runner.epoch, iter=step))
    return path


_REGISTRY_MISS = re.compile(r'^(\S+) is not in the (\S+) registry')
#: The file of mmengine that calls a class with a config entry's arguments.
_BUILD_FILE = 'mmengine/registry/build_functions.py'


def registry_miss(exc: BaseException) -> Optional[Tuple[str, str]]:
    """``(type, registry)`` if ``exc`` is mmengine's error for a ``type``
    that is not registered, else None."""
    if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str):
        match = _REGISTRY_MISS.match(exc.args[0])
        if match:
            return match.group(1), match.group(2)
    return None


def raised_by_build(exc: BaseException) -> bool:
    """Whether mmengine's registry raised ``exc`` calling a class with the
    arguments of a config entry (not code deeper inside the class)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and frames[-1].filename.replace(
        '\\', '/').endswith(_BUILD_FILE)


def run_train_iterations(loop, n: int) -> float:
    """Run ``n`` iterations of an ``IterBasedTrainLoop`` as its ``run``
    does (train mode, next batch, ``run_iter`` with its hooks, validation
    when due), without ``run``'s before/after-train hooks or its end
    condition; returns the seconds spent fetching batches."""
    import time
    data_time = 0.0
    for _ in range(n):
        loop.runner.model.train()
        start = time.perf_counter()
        data_batch = next(loop.dataloader_iterator)
        data_time += time.perf_counter() - start
        loop.run_iter(data_batch)
        loop._decide_current_val_interval()
        if (loop.runner.val_loop is not None and loop._iter >= loop.val_begin
                and (loop._iter % loop.val_interval == 0
                     or loop._iter == loop._max_iters)):
            loop.runner.val_loop.run()
    return data_time


#: The lines of ``IterBasedTrainLoop.run``'s loop body that
#: :func:`run_train_iterations` repeats.
_LOOP_BODY = ('self.runner.model.train()',
              'data_batch = next(self.dataloader_iterator)',
              'self.run_iter(data_batch)',
              'self._decide_current_val_interval()',
              'if (self.runner.val_loop is not None',
              'and self._iter >= self.val_begin',
              'and (self._iter % self.val_interval == 0',
              'or self._iter == self._max_iters)):',
              'self.runner.val_loop.run()')


def _code_lines(function) -> List[str]:
    return [line.strip() for line in inspect.getsource(function).splitlines()]


def mmengine_changes() -> List[str]:
    """Sentences for each behaviour of mmengine this module relies on that
    the installed mmengine no longer has; empty when all hold."""
    import mmengine
    from mmengine.hooks import CheckpointHook
    from mmengine.registry import Registry
    from mmengine.runner import IterBasedTrainLoop, Runner
    version = f'mmengine {mmengine.__version__}'
    changes = []

    save = getattr(CheckpointHook, '_save_checkpoint_with_step', None)
    if save is None or list(inspect.signature(save).parameters) != [
            'self', 'runner', 'step', 'meta'
    ]:
        changes.append(
            f'{version} has no CheckpointHook._save_checkpoint_with_step('
            'self, runner, step, meta) to save checkpoints through; ' +
            _UPDATE)
    elif not any("osp.join(runner.work_dir, 'last_checkpoint')" in line
                 for line in _code_lines(save)):
        changes.append(
            f'{version} no longer writes last_checkpoint into '
            'runner.work_dir in CheckpointHook._save_checkpoint_with_step '
            '(save_step_as_mmengine redirects it there); ' + _UPDATE)

    try:
        Registry('mmmosaic_compat_check').build(dict(type='NoSuchType'))
    except Exception as exc:  # what it raises is the point
        said = registry_miss(exc)
        if not said or said[0] != 'NoSuchType' or not said[1].endswith(
                'mmmosaic_compat_check'):
            changes.append(
                f'{version} reports a missing registry type as '
                f'{type(exc).__name__}: {exc}, which registry_miss does '
                'not recognise; ' + _UPDATE)
    else:
        changes.append(f'{version} builds an unregistered type; ' + _UPDATE)

    registry = Registry('mmmosaic_compat_check')
    registry.register_module(name='Takes', module=type('Takes', (), {}))
    try:
        registry.build(dict(type='Takes', unexpected=1))
    except Exception as exc:  # what it raises is the point
        if not (isinstance(exc, TypeError) and raised_by_build(exc)):
            changes.append(
                f'{version} no longer calls a class with a config entry\'s '
                f'arguments in {_BUILD_FILE}; ' + _UPDATE)
    else:
        changes.append(
            f'{version} built a class with an argument it does not take; ' +
            _UPDATE)

    body = _code_lines(IterBasedTrainLoop.run)
    missing = [line for line in _LOOP_BODY if line not in body]
    if missing:
        changes.append(
            f'{version} changed the loop of IterBasedTrainLoop.run (no '
            f'{missing[0]!r}), which run_train_iterations repeats; ' + _UPDATE)

    if not isinstance(getattr(Runner, 'hooks', None),
                      property) or ('getattr(hook, fn_name)(self, **kwargs)'
                                    not in _code_lines(Runner.call_hook)):
        changes.append(
            f'{version} no longer looks each hook\'s method up when '
            'Runner.call_hook calls it (benchmarks/speed.py times hooks by '
            'wrapping those methods on runner.hooks); ' + _UPDATE)
    return changes
