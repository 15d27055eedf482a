"""Each loss against values computed by hand."""
import math

import pytest
import torch

from mmmosaic.models.losses import (AdversarialDisagreementLoss,
                                    ClassBalanceLoss, EntropyLoss,
                                    KLDivergenceLoss, PatchAdversarialLoss)


def _softmax(row):
    e = [math.exp(v) for v in row]
    return [v / sum(e) for v in e]


def test_kl_matches_hand_computation_with_temperature():
    s = torch.tensor([[1.0, 0.0, -1.0], [0.5, 0.5, 2.0]])
    t = torch.tensor([[2.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    tau = 2.0
    expected = 0.0
    for srow, trow in zip(s.tolist(), t.tolist()):
        ps = _softmax([v / tau for v in srow])
        pt = _softmax([v / tau for v in trow])
        expected += sum(a * (math.log(a) - math.log(b))
                        for a, b in zip(pt, ps))
    expected = expected / 2 * tau**2
    loss = KLDivergenceLoss(temperature=tau)(s, t)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    # PyTorch's batchmean KL gives the same number.
    ref = torch.nn.functional.kl_div(
        torch.log_softmax(s / tau, 1),
        torch.softmax(t / tau, 1),
        reduction='batchmean') * tau**2
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)


def test_kl_is_zero_for_equal_logits_and_gives_no_teacher_grad():
    t = torch.randn(4, 5, requires_grad=True)
    s = t.detach().clone().requires_grad_(True)
    loss = KLDivergenceLoss()(s, t)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    (loss + (s * 1.0).sum()).backward()
    assert t.grad is None


def test_adversarial_is_negative_kl_and_reaches_both_inputs():
    s = torch.randn(3, 4, requires_grad=True)
    t = torch.randn(3, 4, requires_grad=True)
    adv = AdversarialDisagreementLoss()(s, t)
    assert adv.item() == pytest.approx(-KLDivergenceLoss()(s, t).item())
    adv.backward()
    assert s.grad.abs().sum() > 0 and t.grad.abs().sum() > 0


def test_entropy_natural_log_batch_mean():
    logits = torch.tensor([[0.0, 0.0], [10.0, -10.0]])
    # uniform over 2 classes: ln 2; near one-hot: ~0.
    p = _softmax([10.0, -10.0])
    h2 = -sum(v * math.log(v) for v in p)
    expected = (math.log(2) + h2) / 2
    assert EntropyLoss()(logits).item() == pytest.approx(expected, rel=1e-5)


def test_class_balance_is_negative_entropy_in_bits_of_mean_prediction():
    # Teacher always predicts class 0: pbar ~ one-hot, loss ~ 0.
    confident = torch.tensor([[20.0, 0.0, 0.0, 0.0]] * 3)
    assert ClassBalanceLoss()(confident).item() == pytest.approx(0, abs=1e-6)
    # Each class predicted equally often: minimum -log2(C).
    balanced = torch.eye(4) * 30
    assert ClassBalanceLoss()(balanced).item() == pytest.approx(-2.0, abs=1e-6)
    logits = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    pbar = [(a + b) / 2 for a, b in zip(_softmax([1, 0]), _softmax([0, 0]))]
    expected = sum(v * math.log2(v) for v in pbar)
    assert ClassBalanceLoss()(logits).item() == pytest.approx(expected)


def test_patch_bce_sums_patches_and_averages_batch():
    logits = torch.tensor([[[[0.0, 1.0], [2.0, -1.0]]],
                           [[[0.5, 0.5], [0.0, 3.0]]]])

    def bce(x, y):
        sig = 1 / (1 + math.exp(-x))
        return -(y * math.log(sig) + (1 - y) * math.log(1 - sig))

    for real in (True, False):
        expected = sum(bce(v, float(real))
                       for v in logits.flatten().tolist()) / 2
        got = PatchAdversarialLoss()(logits, real).item()
        assert got == pytest.approx(expected, rel=1e-6)


def test_loss_weight_scales():
    s, t = torch.randn(2, 3), torch.randn(2, 3)
    assert KLDivergenceLoss(loss_weight=3)(s, t).item() == pytest.approx(
        3 * KLDivergenceLoss()(s, t).item(), rel=1e-6)
    with pytest.raises(ValueError):
        KLDivergenceLoss(temperature=0)


def test_entropy_helpers_agree_and_take_0_log_0_as_0():
    from mmmosaic.analysis import image_entropy
    from mmmosaic.models.losses import distribution_entropy, softmax_entropy
    torch.manual_seed(0)
    logits = torch.randn(3, 5, 4, 2) * 3
    probs = logits.softmax(1)
    assert torch.allclose(
        softmax_entropy(logits), distribution_entropy(probs, dim=1))
    assert torch.allclose(
        image_entropy(logits),
        softmax_entropy(logits).mean((1, 2)))
    assert torch.equal(
        image_entropy(logits[..., 0, 0]), softmax_entropy(logits[..., 0, 0]))
    half = torch.tensor([0.5, 0.0, 0.5])
    assert float(distribution_entropy(half)) == pytest.approx(math.log(2))
    assert float(distribution_entropy(torch.tensor([1.0, 0.0]))) == 0.0
