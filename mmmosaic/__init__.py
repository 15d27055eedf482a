"""mmmosaic: MosaicKD (knowledge distillation from out-of-domain data) for
OpenMMLab. Importing it makes mmseg importable with mmcv-lite."""
from .compat import install_mmcv_ops_fallback
from .version import __version__

install_mmcv_ops_fallback()

__all__ = ['__version__']
