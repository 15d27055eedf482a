"""Compatibility with the two mmcv flavours and with torch >= 2.6 loading.

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
"""
import importlib.util
import os.path as osp
import sys
import types
import warnings

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
