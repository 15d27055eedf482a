"""The DFQ baseline: the BatchNorm-statistics loss, its generator term and
the quality benchmark's DFQ method."""
import math

import pytest
import torch
import torch.nn as nn
from _tiny import build_game, load_script, mosaickd

from mmmosaic import benchmarking as bench
from mmmosaic.errors import MosaicError
from mmmosaic.models.losses import BNStatisticsLoss
from mmmosaic.registry import MODELS


class TwoBN(nn.Module):
    """bn1 sees x, bn2 sees 2x: two layers with hand-checkable inputs."""

    def __init__(self, bn=nn.BatchNorm1d):
        super().__init__()
        self.bn1, self.bn2 = bn(2), bn(2)
        self.bn1.running_mean.copy_(torch.tensor([0., 1.]))
        self.bn1.running_var.copy_(torch.tensor([1., 2.]))
        # bn2 keeps the defaults: running mean 0, running variance 1.

    def forward(self, x):
        return self.bn1(x) + self.bn2(2 * x)


# Per channel: x = (1, 3) and (2, 6): mean (2, 4), biased variance (1, 4);
# 2x: mean (4, 8), variance (4, 16).
EXPECTED = (
    math.sqrt(2**2 + 3**2)  # bn1 mean: (2, 4) - (0, 1)
    + math.sqrt(0**2 + 2**2)  # bn1 variance: (1, 4) - (1, 2)
    + math.sqrt(4**2 + 8**2)  # bn2 mean: (4, 8) - (0, 0)
    + math.sqrt(3**2 + 15**2))  # bn2 variance: (4, 16) - (1, 1)


@pytest.mark.parametrize(
    'bn,x',
    [
        (nn.BatchNorm1d, torch.tensor([[1., 2.], [3., 6.]])),
        # Channels first, statistics over batch and space: [1, 2, 1, 2].
        (nn.BatchNorm2d, torch.tensor([[[[1., 3.]], [[2., 6.]]]])),
    ])
def test_bn_loss_matches_hand_computed_value(bn, x):
    net = TwoBN(bn).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    loss_fn = BNStatisticsLoss()
    x.requires_grad_(True)
    with loss_fn.record(net) as stats:
        out = net(x)
    loss = loss_fn(stats)
    assert loss.item() == pytest.approx(EXPECTED, rel=1e-6)
    # The hooks are gone and changed nothing: the same output without them,
    # the running statistics untouched, and the images get the gradient.
    assert not net.bn1._forward_pre_hooks and not net.bn2._forward_pre_hooks
    torch.testing.assert_close(net(x), out, rtol=0, atol=0)
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key
    loss.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert BNStatisticsLoss(loss_weight=0.5)(stats).item() == pytest.approx(
        EXPECTED / 2, rel=1e-6)


def test_bn_loss_without_batchnorm_is_an_error():
    loss_fn = BNStatisticsLoss()
    with loss_fn.record(nn.Linear(2, 2)) as stats:
        pass
    with pytest.raises(ValueError, match='no BatchNorm'):
        loss_fn(stats)


def test_bn_weight_needs_a_teacher_with_batchnorm(monkeypatch):
    import mmmosaic.models.algorithms.mosaickd as algorithm
    monkeypatch.setattr(algorithm, 'batchnorm_layers', lambda model: [])
    with pytest.raises(MosaicError, match='loss_weights.bn is 1.0') as info:
        MODELS.build(mosaickd(loss_weights=dict(bn=1)))
    assert '\n' not in str(info.value)


def _model(**weights):
    return build_game(
        dict(
            discriminator=None,
            ood_batch_size=None,
            loss_weights=dict(align=0, local=0, **weights)))


def test_generator_bn_term_is_the_loss_on_the_teacher():
    model, optim = _model(adv=0, balance=0, bn=2.0)
    fake = model.synthesize(model.synthetic_batch_size)
    with torch.no_grad(), model.bn_loss.record(model.teacher) as stats:
        model.teacher(fake, mode='tensor')
        expected = BNStatisticsLoss()(stats)
    logs = model.generator_step(fake, optim['generator'])
    torch.testing.assert_close(logs['loss_bn'], expected)
    torch.testing.assert_close(logs['loss_g'], 2.0 * expected)
    assert not any(m._forward_pre_hooks for m in model.teacher.modules())


def test_dfq_game_keeps_the_teacher_bit_identical():
    model, optim = _model(balance=6.0, bn=1.0)
    before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    for _ in range(2):
        logs = model.train_step({}, optim)
    assert math.isfinite(logs['loss_bn']) and logs['loss_bn'] > 0
    assert not model.teacher.training
    assert all(p.grad is None for p in model.teacher.parameters())
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_bn_term_is_off_by_default():
    model, optim = _model()
    assert model.loss_weights['bn'] == 0
    logs = model.train_step({}, optim)
    assert 'loss_bn' not in logs


def test_quality_benchmark_has_a_dfq_method_for_every_setting():
    quality = load_script('benchmarks/quality.py')
    assert quality.parse_args(['mnist_fashion'
                               ]).methods == list(bench.DEFAULT_METHODS)
    assert quality.parse_args(['camvid', '--methods',
                               'dfq']).methods == ['dfq']
    for name, setting in bench.SETTINGS.items():
        options = bench.method_options(setting, 'dfq', '/data', '/ood')
        # Data-free: no OOD folder, like DFAD.
        assert [o for o in options if 'data_root' in o] == [
            o for o in bench.method_options(setting, 'dfad', '/data', '/ood')
            if 'data_root' in o
        ]
        assert 'baseline=dfq' in options
        cfg = bench.load_config_with_options(setting['configs']['dfq'],
                                             options)
        assert cfg.model.loss_weights.bn > 0, name
        assert cfg.train_dataloader.dataset.type == 'NoImagesDataset'
        dfad = bench.load_config_with_options(
            setting['configs']['dfad'],
            bench.method_options(setting, 'dfad', '/data', '/ood'))
        assert cfg.train_cfg.max_iters == dfad.train_cfg.max_iters, name
    shared = bench.SETTINGS['cifar10_ships_long']['shared']
    assert shared['dfq'] == shared['dfad'] == 'cifar10_animals_long'
