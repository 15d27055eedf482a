import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmmosaic.registry import MODELS


@MODELS.register_module()
class DCGANGenerator(BaseModule):
    """The MosaicKD / DFAD generator: a DCGAN-style decoder ending in sigmoid.

    ``z -> Linear(latent_dim -> C0*s*s) -> BN -> [Upsample x2 -> Conv3x3 ->
    BN -> LeakyReLU(0.2)] * num_upsamples -> Conv3x3(-> out_channels) ->
    Sigmoid``, with ``s = img_size / 2**num_upsamples`` and channels halving
    from ``C0 = base_channels * 2**num_upsamples`` to ``base_channels``.
    With the defaults (32px, 2 upsamplings, ``base_channels=64``) it is the
    authors' 32x32 generator. The output lies in ``[0, 1]``; the algorithm
    maps it to the data preprocessor's normalised space.

    Args:
        img_size (int | tuple[int, int]): Output height and width.
        out_channels (int): Image channels (3 colour, 1 grey).
        latent_dim (int): Size of the noise vector ``z``.
        base_channels (int): Channels of the last stage (``ngf``).
        num_upsamples (int): Upsampling stages; larger images want more.
    """

    def __init__(self,
                 img_size=32,
                 out_channels: int = 3,
                 latent_dim: int = 100,
                 base_channels: int = 64,
                 num_upsamples: int = 2,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        height, width = (img_size,
                         img_size) if isinstance(img_size, int) else img_size
        scale = 2**num_upsamples
        if num_upsamples < 1 or height % scale or width % scale:
            raise ValueError(
                f'img_size {img_size} must be divisible by 2**num_upsamples '
                f'= {scale} (num_upsamples={num_upsamples} >= 1).')
        self.img_size = (height, width)
        self.out_channels = out_channels
        self.latent_dim = latent_dim
        self.init_shape = (base_channels * scale, height // scale,
                           width // scale)

        self.project = nn.Linear(
            latent_dim,
            self.init_shape[0] * self.init_shape[1] * self.init_shape[2])
        layers = [nn.BatchNorm2d(self.init_shape[0])]
        channels = self.init_shape[0]
        for _ in range(num_upsamples):
            layers += [
                nn.Upsample(scale_factor=2),
                nn.Conv2d(channels, channels // 2, 3, padding=1, bias=False),
                nn.BatchNorm2d(channels // 2),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            channels //= 2
        layers += [
            nn.Conv2d(channels, out_channels, 3, padding=1),
            nn.Sigmoid()
        ]
        self.decode = nn.Sequential(*layers)

    def sample_noise(self,
                     batch_size: int,
                     device=None,
                     generator: torch.Generator = None) -> torch.Tensor:
        """Draw ``z ~ N(0, I)`` of shape ``(batch_size, latent_dim)``."""
        return torch.randn(
            batch_size, self.latent_dim, device=device, generator=generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.project(z.flatten(1))
        return self.decode(x.view(x.shape[0], *self.init_shape))
