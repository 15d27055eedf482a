"""Our game against the game written in plain PyTorch, update for update.

:class:`MosaicKD.train_step` (players built from the demo's config,
optimisers from its ``optim_wrapper`` through our constructor, mmengine's
cosine schedulers) and ``benchmarks/plain_loop.py`` (the same equations with
plain modules, losses, optimisers and schedules) start from identical
weights and are fed the same noise and the same images, in float64. After
three outer iterations every parameter and BatchNorm buffer of G, D and S
must agree to round-off. The negative cases change one loss weight, or one
player's train/eval mode, on our side only and show that the comparison
sees it.
"""
import copy
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.optim.scheduler import CosineAnnealingLR

from mmmosaic.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'benchmarks'))
from plain_loop import PlainMosaicKD  # noqa: E402

CONFIG = osp.join(ROOT, 'configs', 'demo', 'mosaickd_mnist_fashion.py')
ITERATIONS = 3
T_MAX = 10
TOLERANCE = 1e-9


@pytest.fixture
def float64():
    saved = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(saved)


def _game(batch: int, steps: int, loss_weights=None):
    """Our MosaicKD of the demo config at a small batch, in float64, with
    its optimiser wrappers and a cosine schedule per player."""
    cfg = Config.fromfile(CONFIG)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.update(
        teacher_ckpt=None,
        allow_random_teacher=True,
        synthetic_batch_size=batch,
        ood_batch_size=batch,
        student_steps=steps)
    if loss_weights:
        model_cfg['loss_weights'] = dict(
            model_cfg.get('loss_weights', {}), **loss_weights)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).double()
    model.init_weights()
    model.train()
    wrappers = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    schedulers = [
        CosineAnnealingLR(wrappers[name], T_max=T_MAX, by_epoch=False)
        for name in ('generator', 'discriminator', 'student')
    ]
    return model, wrappers, schedulers


def _images(count: int, seed: int) -> torch.Tensor:
    rng = torch.Generator().manual_seed(seed)
    return torch.randint(
        0, 256, (count, 1, 28, 28), generator=rng).to(torch.uint8)


def _state(model) -> dict:
    """Every parameter and buffer of G, D and S (and T, which must not
    change), by name."""
    out = {}
    for player in ('generator', 'discriminator', 'student', 'teacher'):
        module = getattr(model, player)
        for name, tensor in list(module.named_parameters()) + list(
                module.named_buffers()):
            out[f'{player}.{name}'] = tensor.detach().clone()
    return out


def _run_both(ours_changed=None, loss_weights=None):
    """Three outer iterations on each side; the largest difference per
    tensor after them."""
    batch, steps = 8, 3
    model, wrappers, schedulers = _game(batch, steps, loss_weights)
    if ours_changed is not None:
        ours_changed(model)
    start = _state(model)
    mean = model.data_preprocessor.mean.flatten().tolist()
    std = model.data_preprocessor.std.flatten().tolist()
    plain = PlainMosaicKD(
        copy.deepcopy(model.generator),
        copy.deepcopy(model.discriminator),
        copy.deepcopy(model.teacher),
        copy.deepcopy(model.student),
        mean,
        std,
        batch_size=batch,
        student_steps=steps,
        loss_weights=dict(adv=1.0, align=1.0, local=1.0, balance=10.0),
        temperature=1.0,
        t_max=T_MAX)
    for it in range(ITERATIONS):
        # The loader batch of the batch rule: B samples whose real view D
        # sees, then k chunks of N = B samples for the student steps.
        real = _images(batch * (steps + 1), 2 * it)
        student = _images(batch * (steps + 1), 2 * it + 1)
        data = dict(
            real=dict(inputs=list(real)), student=dict(inputs=list(student)))
        torch.manual_seed(100 + it)
        model.train_step(data, wrappers)
        for scheduler in schedulers:
            scheduler.step()
        torch.manual_seed(100 + it)
        plain.run_iter(real[:batch], student[batch:])
    ours = _state(model)
    theirs = {}
    for player, module in (('generator', plain.G), ('discriminator', plain.D),
                           ('student', plain.S), ('teacher', plain.T)):
        for name, tensor in list(module.named_parameters()) + list(
                module.named_buffers()):
            theirs[f'{player}.{name}'] = tensor.detach()
    assert ours.keys() == theirs.keys()
    diffs = {
        name: (ours[name].double() - theirs[name].double()).abs().max().item()
        for name in ours
    }
    moved = {
        name: (ours[name].double() - start[name].double()).abs().max().item()
        for name in ours
    }
    return diffs, moved


def test_our_game_equals_the_plain_loop(float64):
    diffs, moved = _run_both()
    worst = max(diffs, key=diffs.get)
    assert diffs[worst] < TOLERANCE, (worst, diffs[worst])
    # Both sides trained: every player's weights and running statistics
    # moved, so the agreement is not that of untouched tensors.
    for player in ('generator', 'discriminator', 'student'):
        assert any(v > 1e-4 for k, v in moved.items()
                   if k.startswith(player + '.')
                   and not k.endswith('num_batches_tracked')), player
        assert any(v > 1e-4 for k, v in moved.items()
                   if k.startswith(player + '.') and 'running_mean' in k)
    assert all(v == 0 for k, v in moved.items() if k.startswith('teacher.'))


@pytest.mark.parametrize(
    'change',
    [
        dict(loss_weights=dict(align=0.9)),
        dict(loss_weights=dict(balance=9.0)),
        # S in eval mode (its BatchNorm on running statistics) where the
        # paper trains it in train mode.
        dict(ours_changed=lambda model: model.student.eval()),
        dict(ours_changed=lambda model: model.discriminator.eval()),
    ],
    ids=['align_weight', 'balance_weight', 'student_eval', 'discrim_eval'])
def test_the_comparison_sees_a_changed_weight_or_mode(float64, change):
    diffs, _ = _run_both(**change)
    weights = {
        k: v
        for k, v in diffs.items() if not k.endswith('num_batches_tracked')
    }
    assert max(weights.values()) > 1e3 * TOLERANCE
