"""Every registered player over tiny inputs."""
import pytest
import torch

from mmmosaic.registry import MODELS


@pytest.mark.parametrize('img_size,channels,ups', [(32, 3, 2), (28, 1, 2),
                                                   ((16, 24), 3, 3),
                                                   (64, 3, 4)])
def test_generator_shapes_and_range(img_size, channels, ups):
    gen = MODELS.build(
        dict(
            type='DCGANGenerator',
            img_size=img_size,
            out_channels=channels,
            latent_dim=8,
            base_channels=4,
            num_upsamples=ups))
    z = gen.sample_noise(3)
    assert z.shape == (3, 8)
    x = gen(z)
    h, w = (img_size, img_size) if isinstance(img_size, int) else img_size
    assert x.shape == (3, channels, h, w)
    assert x.min() >= 0 and x.max() <= 1


def test_generator_default_is_the_official_32px_layout():
    gen = MODELS.build(dict(type='DCGANGenerator'))
    assert gen.project.out_features == 4 * 64 * 8 * 8
    assert gen(gen.sample_noise(2)).shape == (2, 3, 32, 32)


def test_generator_rejects_indivisible_size():
    with pytest.raises(ValueError, match='divisible'):
        MODELS.build(dict(type='DCGANGenerator', img_size=30))


@pytest.mark.parametrize('depth,field,out', [(1, 4, 16), (2, 10, 8),
                                             (3, 22, 4), (4, 46, 2)])
def test_patch_discriminator_receptive_field_and_shape(depth, field, out):
    disc = MODELS.build(
        dict(
            type='PatchDiscriminator',
            in_channels=3,
            base_channels=4,
            num_downsamples=depth))
    assert disc.receptive_field == field
    assert disc(torch.randn(2, 3, 32, 32)).shape == (2, 1, out, out)


def test_patch_discriminator_last_conv_has_no_bias_unless_asked():
    # The authors' discriminator ends in a 1x1 convolution without bias.
    disc = MODELS.build(dict(type='PatchDiscriminator', base_channels=4))
    assert disc.layers[-1].bias is None
    assert [n for n, _ in disc.named_parameters()
            if n.endswith('bias')] == ['layers.0.bias', 'layers.3.bias']
    disc = MODELS.build(
        dict(type='PatchDiscriminator', base_channels=4, bias=True))
    assert disc.layers[-1].bias.shape == (1, )


def test_receptive_field_is_what_a_logit_actually_sees():
    disc = MODELS.build(
        dict(type='PatchDiscriminator', base_channels=4, num_downsamples=2))
    disc.eval()
    x = torch.zeros(1, 3, 32, 32, requires_grad=True)
    disc(x)[0, 0, 4, 4].backward()
    rows = x.grad[0].abs().sum(0).sum(1).nonzero().flatten()
    assert rows.max() - rows.min() + 1 == disc.receptive_field


def test_small_convnet_backbone():
    net = MODELS.build(
        dict(type='SmallConvNet', in_channels=1, channels=(4, 8)))
    (feat, ) = net(torch.randn(2, 1, 28, 28))
    assert feat.shape == (2, 8)
