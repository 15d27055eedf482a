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
        convs_per_stage (int): ``Conv3x3 -> BN -> ReLU`` blocks before each
            stage's pooling (1 by default; 2 makes a VGG-like network for
            colour images).
    """

    def __init__(self,
                 in_channels: int = 1,
                 channels=(16, 32),
                 convs_per_stage: int = 1,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        layers = []
        for out in channels:
            for _ in range(convs_per_stage):
                layers += [
                    nn.Conv2d(in_channels, out, 3, padding=1, bias=False),
                    nn.BatchNorm2d(out),
                    nn.ReLU(inplace=True)
                ]
                in_channels = out
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.out_channels = in_channels

    def forward(self, x: torch.Tensor):
        return (self.features(x).mean(dim=(2, 3)), )
