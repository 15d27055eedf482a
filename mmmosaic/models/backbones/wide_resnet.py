import torch
from mmengine.model import BaseModule
from torch import nn

from mmmosaic.registry import MODELS


class PreActBasicBlock(nn.Module):
    """``BN-ReLU-Conv3x3(stride)-BN-ReLU-[Dropout]-Conv3x3`` plus shortcut.

    When the block changes width or resolution, the shortcut is a 1x1
    convolution of the pre-activated input (so the first BN-ReLU is shared
    by both paths); otherwise it is the identity on the raw input.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 dropout: float):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, 1, padding=1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.projection = None
        if stride != 1 or in_channels != out_channels:
            self.projection = nn.Conv2d(
                in_channels, out_channels, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = self.relu(self.bn1(x))
        shortcut = x if self.projection is None else self.projection(activated)
        out = self.conv1(activated)
        out = self.conv2(self.dropout(self.relu(self.bn2(out))))
        return out + shortcut


@MODELS.register_module()
class WideResNet_CIFAR(BaseModule):
    """Wide residual network for 32x32 images (Zagoruyko & Komodakis 2016).

    ``WRN-depth-k``: a 3x3 convolution to 16 channels, then three groups of
    ``(depth - 4) / 6`` pre-activation basic blocks with ``16k``, ``32k`` and
    ``64k`` channels and strides 1, 2, 2, then a final BN-ReLU. A 32x32 input
    gives an 8x8 map of ``64k`` channels, returned as a 1-tuple so that
    mmpretrain's ``GlobalAveragePooling`` neck and ``LinearClsHead`` (with
    ``in_channels=64 * widen_factor``) complete the classifier. WRN-40-2,
    WRN-16-1, WRN-40-1 and WRN-16-2 are the MosaicKD CIFAR-100 networks.

    Args:
        depth (int): Number of weighted layers; ``depth - 4`` must be a
            multiple of 6 (16, 22, 28, 40, ...).
        widen_factor (int): Width multiplier ``k``.
        dropout (float): Dropout probability between the two convolutions
            of every block. Defaults to 0.
        in_channels (int): Image channels. Defaults to 3.
        init_cfg (dict | list[dict], optional): Initialisation; defaults to
            Kaiming-normal convolutions and unit BatchNorm scales.
    """

    def __init__(self,
                 depth: int,
                 widen_factor: int,
                 dropout: float = 0.,
                 in_channels: int = 3,
                 init_cfg=(dict(type='Kaiming', layer='Conv2d'),
                           dict(type='Constant', val=1, layer='_BatchNorm'))):
        super().__init__(init_cfg=list(init_cfg) if init_cfg else None)
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(
                f'WideResNet_CIFAR depth must be 6n + 4 with n >= 1 (16, 22, '
                f'28, 40, ...), got {depth}.')
        if widen_factor < 1:
            raise ValueError(
                f'WideResNet_CIFAR widen_factor must be >= 1, got '
                f'{widen_factor}.')
        num_blocks = (depth - 4) // 6
        widths = [16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        self.depth = depth
        self.widen_factor = widen_factor
        self.out_channels = widths[-1]

        self.stem = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        channels = 16
        groups = []
        for width, stride in zip(widths, (1, 2, 2)):
            blocks = []
            for i in range(num_blocks):
                blocks.append(
                    PreActBasicBlock(channels, width, stride if i == 0 else 1,
                                     dropout))
                channels = width
            groups.append(nn.Sequential(*blocks))
        self.groups = nn.Sequential(*groups)
        self.final_norm = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor):
        x = self.groups(self.stem(x))
        return (self.relu(self.final_norm(x)), )
