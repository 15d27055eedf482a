import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmmosaic.registry import MODELS


@MODELS.register_module()
class PatchDiscriminator(BaseModule):
    """PatchGAN discriminator: one real/fake logit per local patch.

    ``Conv4x4 s2 (in -> C) -> LeakyReLU(0.2) -> [Conv4x4 s2 (no bias) -> BN
    -> LeakyReLU(0.2)] * (num_downsamples - 1) -> Conv1x1 (no bias, -> 1)``,
    channels doubling at each stride-2 layer, as the authors' discriminator.
    The number of stride-2 layers sets the patch size: each output logit
    sees a square of :attr:`receptive_field` pixels (10 with the default 2
    layers, the authors' setting; 22 with 3, 46 with 4). A 32x32 input
    gives 8x8 logits by default.

    Args:
        in_channels (int): Image channels.
        base_channels (int): Channels of the first layer (``ndf``).
        num_downsamples (int): Stride-2 layers (>= 1).
        bias (bool): Give the last 1x1 convolution a bias (one learned
            constant added to every patch logit). False: the authors'
            discriminator.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 128,
                 num_downsamples: int = 2,
                 bias: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if num_downsamples < 1:
            raise ValueError(
                f'num_downsamples must be >= 1, got {num_downsamples}')
        layers = [
            nn.Conv2d(in_channels, base_channels, 4, 2, 1),
            nn.LeakyReLU(0.2, inplace=True)
        ]
        channels = base_channels
        for _ in range(num_downsamples - 1):
            layers += [
                nn.Conv2d(channels, channels * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels * 2),
                nn.LeakyReLU(0.2, inplace=True)
            ]
            channels *= 2
        layers.append(nn.Conv2d(channels, 1, 1, bias=bias))
        self.layers = nn.Sequential(*layers)

    @property
    def receptive_field(self) -> int:
        """Side, in input pixels, of the patch each output logit judges."""
        field, jump = 1, 1
        for layer in self.layers:
            if isinstance(layer, nn.Conv2d):
                field += (layer.kernel_size[0] - 1) * jump
                jump *= layer.stride[0]
        return field

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
