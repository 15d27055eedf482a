import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmmosaic.registry import MODELS


@MODELS.register_module()
class SmallConvNet(BaseModule):
    """A small configurable CNN backbone for small images (MNIST-sized).

    ``[Conv3x3 -> BN -> ReLU -> MaxPool2]`` per entry of ``channels``,
    then global average pooling. Returns a 1-tuple of ``[B, C_last]``
    features, as mmpretrain backbones do, for a ``LinearClsHead``.

    Args:
        in_channels (int): Image channels.
        channels (Sequence[int]): Output channels of each stage.
    """

    def __init__(self, in_channels: int = 1, channels=(16, 32), init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        layers = []
        for out in channels:
            layers += [
                nn.Conv2d(in_channels, out, 3, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2)
            ]
            in_channels = out
        self.features = nn.Sequential(*layers)
        self.out_channels = in_channels

    def forward(self, x: torch.Tensor):
        return (self.features(x).mean(dim=(2, 3)), )
