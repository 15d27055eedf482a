"""mmmosaic: MosaicKD (knowledge distillation from out-of-domain data) for
OpenMMLab. Importing it makes mmseg importable with mmcv-lite (as soon as
mmcv is imported: importing mmmosaic itself imports neither mmcv nor torch,
which keeps the tools' ``--help`` quick)."""
from .compat import install_mmcv_ops_fallback_on_import
from .version import __version__

install_mmcv_ops_fallback_on_import()

__all__ = ['__version__']
