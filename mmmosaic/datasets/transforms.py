"""Small data transforms the benchmarks need and OpenMMLab lacks."""
import numpy as np
from mmcv.transforms import BaseTransform

from mmmosaic.registry import TRANSFORMS


@TRANSFORMS.register_module()
class GrayToColor(BaseTransform):
    """Repeat a grayscale image into ``channels`` identical channels.

    Grayscale images (MNIST digits, say) can then serve as OOD data for a
    colour teacher. An ``HxW`` or ``HxWx1`` image becomes ``HxWxC``; an
    image that already has ``channels`` channels is left as it is.

    Required keys: ``img``. Modified keys: ``img``.

    Args:
        channels (int): Channels of the output. Defaults to 3.
    """

    def __init__(self, channels: int = 3):
        if channels < 1:
            raise ValueError(
                f'GrayToColor channels must be at least 1, got {channels}.')
        self.channels = channels

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 3 and img.shape[2] == self.channels:
            return results
        if img.ndim == 3 and img.shape[2] != 1:
            raise ValueError(
                f'GrayToColor expects a one-channel image, got shape '
                f'{img.shape}.')
        img = img.reshape(img.shape[0], img.shape[1], 1)
        results['img'] = np.ascontiguousarray(
            np.repeat(img, self.channels, axis=2))
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(channels={self.channels})'
