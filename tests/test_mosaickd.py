"""Invariants of the four-player game (MosaicKD.train_step)."""
import copy

import pytest
import torch
from _tiny import build_game, mosaickd, ood_dataset, optim_wrapper_cfg
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper

from mmmosaic.errors import MosaicError
from mmmosaic.registry import DATASETS, MODELS


def fake_batch(model, seed=0):
    dataset = DATASETS.build(ood_dataset())
    steps = model.student_steps
    b = model.synthetic_batch_size
    num = b * (steps + 1) if model.discriminator is not None else 2 * b * steps
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(dataset), generator=gen)[:num].tolist()
    return pseudo_collate([dataset[i] for i in idx])


def state_of(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_teacher_is_frozen_in_eval_and_bit_identical_after_training():
    model, optim = build_game()
    before = state_of(model.teacher)
    for i in range(3):
        model.train_step(fake_batch(model, i), optim)
    assert not model.teacher.training
    assert all(not p.requires_grad for p in model.teacher.parameters())
    assert all(p.grad is None for p in model.teacher.parameters())
    after = model.teacher.state_dict()
    for key, value in before.items():
        assert torch.equal(value, after[key]), key  # params AND BN buffers


def test_every_trainable_player_changes():
    model, optim = build_game()
    before = {
        p: state_of(getattr(model, p))
        for p in ('generator', 'discriminator', 'student')
    }
    logs = model.train_step(fake_batch(model), optim)
    for player, state in before.items():
        after = getattr(model, player).state_dict()
        changed = [
            k for k, v in state.items()
            if v.is_floating_point() and not torch.equal(v, after[k])
        ]
        assert changed, f'{player} did not change'
    for key in ('loss_d', 'loss_g', 'loss_adv', 'loss_align', 'loss_local',
                'loss_balance', 'loss_student'):
        assert torch.isfinite(logs[key]), key


def test_no_gradient_leaks_between_players():
    model, optim = build_game()
    model.train_step(fake_batch(model), optim)
    # update_params zeroes after each step; the G step must not leave
    # gradients on D or S (their weights are kept out of its autograd).
    for player in ('generator', 'discriminator', 'student'):
        for p in getattr(model, player).parameters():
            assert p.grad is None or not p.grad.any(), player


def test_student_update_equals_update_without_other_players():
    """The first S update of the game equals plain SGD on the same inputs."""
    model, optim = build_game(dict(student_steps=1))
    reference = copy.deepcopy(model.student)
    captured = []

    def grab(module, args, kwargs):
        if torch.is_grad_enabled() and module.training and any(
                p.requires_grad for p in module.parameters()):
            captured.append(args[0].detach().clone())

    handle = model.student.register_forward_pre_hook(grab, with_kwargs=True)
    model.train_step(fake_batch(model), optim)
    handle.remove()
    assert len(captured) == 1  # only the S step trains S
    inputs = captured[0]
    assert inputs.shape[0] == 2 * model.synthetic_batch_size

    sgd = torch.optim.SGD(
        reference.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    with torch.no_grad():
        t_logits = model.teacher(inputs, mode='tensor')
    s_logits = reference(inputs, mode='tensor')
    loss = torch.nn.functional.kl_div(
        torch.log_softmax(s_logits, 1),
        torch.softmax(t_logits, 1),
        reduction='batchmean')
    loss.backward()
    sgd.step()
    got = dict(model.student.named_parameters())
    for name, p in reference.named_parameters():
        torch.testing.assert_close(got[name], p, rtol=1e-5, atol=1e-6)


def test_generator_output_is_in_the_preprocessor_space():
    model, _ = build_game()
    img = torch.full((1, 1, 16, 16), 0.5)
    out = model.normalize(img)
    expected = (0.5 * 255 - 127.5) / 64.0
    assert torch.allclose(out, torch.full_like(out, expected))


def test_kd_on_ood_baseline_trains_only_the_student():
    model, optim = build_game(
        dict(generator=None, discriminator=None, ood_batch_size=8))
    before = state_of(model.student)
    logs = model.train_step(fake_batch(model), optim)
    assert set(logs) == {'loss_student'}
    assert any(not torch.equal(v,
                               model.student.state_dict()[k])
               for k, v in before.items() if v.is_floating_point())


def test_data_free_baseline_runs_without_images():
    model, optim = build_game(
        dict(
            discriminator=None,
            ood_batch_size=None,
            loss_weights=dict(align=0, balance=0)))
    logs = model.train_step({}, optim)
    assert 'loss_local' not in logs and 'loss_adv' in logs


def test_discriminator_without_ood_images_is_one_sentence():
    model, optim = build_game()
    with pytest.raises(MosaicError, match='needs OOD images') as info:
        model.train_step({}, optim)
    assert '\n' not in str(info.value)


@pytest.mark.parametrize('overrides,match', [
    (dict(student_steps=0), 'student_steps'),
    (dict(loss_weights=dict(adv=-1)), 'loss_weights.adv'),
    (dict(loss_weights=dict(advv=1)), 'unknown key'),
    (dict(allow_random_teacher=False), 'teacher_ckpt'),
    (dict(allow_random_teacher=False,
          teacher_ckpt='/nope.pth'), 'does not exist'),
    (dict(generator=None), 'needs a model.generator'),
])
def test_config_mistakes_are_one_sentence(overrides, match):
    with pytest.raises(MosaicError, match=match) as info:
        MODELS.build(mosaickd(**overrides))
    assert '\n' not in str(info.value)


def test_batch_size_mismatch_is_explained():
    model, optim = build_game()
    data = fake_batch(model)
    data = {k: {kk: vv[:-1] for kk, vv in v.items()} for k, v in data.items()}
    with pytest.raises(MosaicError, match='batch_size'):
        model.train_step(data, optim)


def test_image_size_mismatch_is_explained():
    model, optim = build_game(
        dict(
            generator=dict(
                type='DCGANGenerator',
                img_size=32,
                out_channels=1,
                latent_dim=8,
                base_channels=8)))
    with pytest.raises(MosaicError, match='img_size'):
        model.train_step(fake_batch(model), optim)


def test_class_count_mismatch_is_explained():
    from _tiny import classifier
    model, optim = build_game(dict(student=classifier((4, 8), num_classes=7)))
    with pytest.raises(MosaicError, match='num_classes'):
        model.train_step(fake_batch(model), optim)


def test_optimiser_for_missing_player_is_rejected():
    model = MODELS.build(mosaickd(generator=None, discriminator=None))
    with pytest.raises(MosaicError, match='optim_wrapper.generator'):
        build_optim_wrapper(
            model,
            dict(
                constructor='PlayerOptimWrapperConstructor',
                **optim_wrapper_cfg()))


def test_optimiser_entry_of_a_removed_player_may_be_none():
    """``--cfg-options model.discriminator=None
    optim_wrapper.discriminator=None`` removes a player from a config; a
    player whose entry is None is still refused."""
    model = MODELS.build(mosaickd(discriminator=None))
    cfg = dict(
        constructor='PlayerOptimWrapperConstructor', **optim_wrapper_cfg())
    cfg['discriminator'] = None
    wrappers = build_optim_wrapper(model, cfg)
    assert sorted(wrappers.keys()) == ['generator', 'student']
    cfg['student'] = None
    with pytest.raises(MosaicError, match='optim_wrapper.student is not'):
        build_optim_wrapper(model, cfg)


def test_batched_preprocessing_equals_per_image():
    """Same-size images are normalised as one batch, with the same result
    as the preprocessor's per-image path; mmseg's keeps its list."""
    from mmseg.models import SegDataPreProcessor

    from mmmosaic.models.algorithms.task_logits import stack_for_preprocessor
    model, _ = build_game()
    data = fake_batch(model)
    view = data['student']
    batched = model.preprocess_view(view, slice(0, 12))
    per_image = model.data_preprocessor(
        dict(inputs=list(view['inputs'][:12])), training=True)['inputs']
    assert torch.equal(batched, per_image)
    images = list(view['inputs'][:3])
    assert stack_for_preprocessor(SegDataPreProcessor(), images) is images
    mixed = [torch.zeros(1, 4, 4), torch.zeros(1, 5, 5)]
    assert stack_for_preprocessor(model.data_preprocessor, mixed) is mixed


def test_forward_is_the_students_so_loss_mode_is_not_the_game():
    """``forward(mode='loss')`` is the student's supervised loss on
    labelled samples (documented); the game's losses come from
    ``train_step`` only."""
    from mmpretrain.structures import DataSample
    model, _ = build_game()
    inputs = torch.randn(4, 1, 16, 16)
    samples = [DataSample().set_gt_label(i) for i in range(4)]
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss'}  # mmpretrain's cross-entropy, no game
    assert torch.equal(losses['loss'],
                       model.student(inputs, samples, mode='loss')['loss'])
    predictions = model(inputs, samples, mode='predict')
    assert [p.pred_label for p in predictions] == [
        p.pred_label for p in model.student(inputs, samples, mode='predict')
    ]
