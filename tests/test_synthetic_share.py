"""The student-batch options of MosaicKD that depart from the paper: the
synthetic-share warm-up, the generator warm start and a separate loss on
the OOD images. Each is off by default."""
import itertools
import math

import pytest
import torch
from _tiny import build_game, ood_dataset
from mmengine.dataset import pseudo_collate
from mmengine.logging import MessageHub

from mmmosaic.errors import MosaicError
from mmmosaic.models.algorithms.synthetic_share import maturity_signal
from mmmosaic.models.losses import kl_divergence
from mmmosaic.registry import DATASETS, MODELS

_HUBS = itertools.count()


def _progress(iteration=None, max_iters=None):
    """A fresh current message hub holding the loop's iteration and budget
    (what mmengine's RuntimeInfoHook records), or neither."""
    hub = MessageHub.get_instance(f'test-synthetic-share-{next(_HUBS)}')
    if iteration is not None:
        hub.update_info('iter', iteration)
        hub.update_info('max_iters', max_iters)
    return hub


def _batch(model, per_step, seed=0):
    """B real images for D, then k chunks of ``per_step`` student images."""
    dataset = DATASETS.build(ood_dataset())
    num = model.synthetic_batch_size + model.student_steps * per_step
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(dataset), generator=gen)[:num].tolist()
    return pseudo_collate([dataset[i] for i in idx])


def _student_inputs(model):
    """Record the inputs of every student update (the forwards that train
    the student's weights, not the G step's)."""
    captured = []

    def grab(module, args, kwargs):
        if torch.is_grad_enabled() and module.training and any(
                p.requires_grad for p in module.parameters()):
            captured.append(args[0].detach().clone())

    return captured, model.student.register_forward_pre_hook(
        grab, with_kwargs=True)


def _state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(module, before):
    after = module.state_dict()
    return any(not torch.equal(v, after[k]) for k, v in before.items()
               if v.is_floating_point())


B, K = 4, 2
M = 2 * B  # the student's whole batch: the paper's B synthetic + N = B OOD


def _linear_game(ramp=0.5, warm_start=0.0):
    return build_game(
        dict(
            synthetic_warmup=dict(schedule='linear', ramp=ramp),
            generator_warm_start=warm_start))


@pytest.mark.parametrize(
    'warm_start,iteration,num_synthetic',
    [
        # ramp 0.5 of 8 iterations: 4 iterations from 0 to B = 4 images.
        (0.0, 0, 0),
        (0.0, 1, 1),
        (0.0, 2, 2),
        (0.0, 3, 3),
        (0.0, 4, 4),
        (0.0, 7, 4),
        # A warm start of 2 iterations moves the ramp to iterations 2-6.
        (0.25, 2, 0),
        (0.25, 4, 2),
        (0.25, 6, 4),
    ])
def test_linear_warmup_gives_the_stated_share_at_a_constant_batch_size(
        warm_start, iteration, num_synthetic):
    model, optim = _linear_game(warm_start=warm_start)
    _progress(iteration, max_iters=8)
    data = _batch(model, per_step=M)
    captured, handle = _student_inputs(model)
    logs = model.train_step(data, optim)
    handle.remove()
    assert len(captured) == K
    for step, inputs in enumerate(captured):
        assert inputs.shape[0] == M
        # The OOD part is the chunk's first M - n images, in order.
        first = B + step * M
        ood = model.preprocess_view(data['student'],
                                    slice(first, first + M - num_synthetic))
        assert torch.equal(inputs[num_synthetic:], ood)
    assert logs['synthetic_share'].item() == pytest.approx(num_synthetic / M)


def test_the_synthetic_part_is_the_generators_usual_batch_cut_short():
    """G makes B images as in the paper (its BatchNorm sees B) and the
    student takes the first n of them."""
    model, optim = _linear_game()
    _progress(2, max_iters=8)  # n = 2
    data = _batch(model, per_step=M)
    captured, handle = _student_inputs(model)
    drawn = []
    synthesize = model.synthesize

    def record(batch_size, wrapped=True):
        images = synthesize(batch_size, wrapped)
        drawn.append(images.detach().clone())
        return images

    model.synthesize = record
    model.train_step(data, optim)
    handle.remove()
    # One draw for the D/G steps, then one per student update.
    assert [len(d) for d in drawn] == [B] * (1 + K)
    for inputs, images in zip(captured, drawn[1:]):
        assert torch.equal(inputs[:2], images[:2])


def test_generator_warm_start_trains_only_the_generator_and_the_discriminator(
):
    model, optim = _linear_game(warm_start=0.25)  # iterations 0 and 1
    teacher_calls = []
    model.teacher.register_forward_pre_hook(
        lambda module, args: teacher_calls.append(1))
    before = {
        p: _state(getattr(model, p))
        for p in ('generator', 'discriminator', 'student')
    }
    _progress(1, max_iters=8)
    logs = model.train_step(_batch(model, per_step=M), optim)
    assert not teacher_calls
    assert _changed(model.generator, before['generator'])
    assert _changed(model.discriminator, before['discriminator'])
    assert not _changed(model.student, before['student'])
    assert set(logs) == {'loss_d', 'loss_g', 'loss_local'}
    assert logs['loss_g'] == logs['loss_local']

    _progress(2, max_iters=8)  # the first iteration of the whole game
    logs = model.train_step(_batch(model, per_step=M, seed=1), optim)
    assert teacher_calls
    assert _changed(model.student, before['student'])
    assert {'loss_adv', 'loss_student', 'synthetic_share'} <= set(logs)


def test_generator_warm_start_keeps_the_papers_batch_rule():
    model, optim = build_game(dict(generator_warm_start=0.5))
    _progress(4, max_iters=8)
    captured, handle = _student_inputs(model)
    model.train_step(_batch(model, per_step=B), optim)
    handle.remove()
    assert [len(x) for x in captured] == [2 * B] * K


@pytest.mark.parametrize('dense', [False, True])
def test_maturity_signals_on_known_logits(dense):
    big = 20.0
    # Four classes; the teacher sees classes 0 and 1, one image each.
    teacher = torch.full((2, 4), -big)
    teacher[0, 0] = teacher[1, 1] = big
    student = torch.full((2, 4), -big)
    student[0, 0] = student[1, 2] = big  # agrees on the first image only
    if dense:  # the same prediction on every pixel
        teacher = teacher[:, :, None, None].expand(2, 4, 3, 5)
        student = student[:, :, None, None].expand(2, 4, 3, 5)
    # Two equally frequent top classes: exp H = 2, rescaled (2 - 1) / 3.
    classes = maturity_signal('classes', teacher, student)
    assert classes.item() == pytest.approx(1 / 3, abs=1e-5)
    agreement = maturity_signal('agreement', teacher, student)
    assert agreement.item() == pytest.approx(0.5)
    one_class = teacher.clone()
    one_class[1] = one_class[0]
    assert maturity_signal('classes', one_class,
                           student).item() == pytest.approx(
                               0, abs=1e-5)


@pytest.mark.parametrize('signal', ['classes', 'agreement'])
def test_maturity_schedule_measures_the_generators_images(signal):
    # A random teacher sees at most 4 of 10 classes in 4 images: a share
    # below the paper's.
    threshold, momentum = 1.0, 0.5
    model, optim = build_game(
        dict(
            synthetic_warmup=dict(
                schedule='maturity',
                signal=signal,
                threshold=threshold,
                momentum=momentum)))
    warmup = model.synthetic_warmup
    assert int(warmup.measurements) == 0 and float(warmup.ratio) == 0
    # The first teacher and student forwards of an iteration are the G
    # step's, on G's B images.
    seen = dict(teacher=[], student=[])
    for name in seen:
        getattr(
            model,
            name).register_forward_hook(lambda module, args, out, name=name:
                                        seen[name].append(out.detach()))
    _progress()  # the maturity schedule needs no iteration count
    mean = ratio = None
    for it in range(3):
        for logits in seen.values():
            logits.clear()
        captured, handle = _student_inputs(model)
        logs = model.train_step(_batch(model, per_step=M, seed=it), optim)
        handle.remove()
        teacher, student = seen['teacher'][0], seen['student'][0]
        assert len(teacher) == B
        value = maturity_signal(signal, teacher, student).item()
        assert 0 <= value <= 1
        mean = value if mean is None else momentum * mean + (1 -
                                                             momentum) * value
        ratio = max(ratio or 0.0, min(1.0, mean / threshold))
        assert int(warmup.measurements) == it + 1
        assert float(warmup.maturity) == pytest.approx(mean, abs=1e-6)
        assert float(warmup.ratio) == pytest.approx(ratio, abs=1e-6)
        assert logs['maturity'].item() == pytest.approx(mean, abs=1e-6)
        num_synthetic = math.floor(ratio * B + 0.5)
        assert logs['synthetic_share'].item() == pytest.approx(num_synthetic /
                                                               M)
        assert [len(x) for x in captured] == [M] * K


def test_maturity_share_never_decreases():
    model, _ = build_game(
        dict(
            synthetic_warmup=dict(
                schedule='maturity', threshold=1.0, momentum=0.0)))
    warmup = model.synthetic_warmup
    every_class = torch.eye(10) * 50.0  # ten images, ten top classes
    one_class = torch.zeros(10, 10)
    one_class[:, 0] = 50.0
    warmup.observe(every_class, every_class)
    assert float(warmup.ratio) == pytest.approx(1.0, abs=1e-5)
    warmup.observe(one_class, one_class)
    assert float(warmup.maturity) == pytest.approx(0.0, abs=1e-5)
    assert float(warmup.ratio) == pytest.approx(1.0, abs=1e-5)
    assert warmup.num_synthetic(B) == B


def test_maturity_state_is_in_the_checkpointed_state_dict():
    model, _ = build_game(
        dict(synthetic_warmup=dict(schedule='maturity', momentum=0.5)))
    every_class = torch.eye(10) * 50.0
    model.synthetic_warmup.observe(every_class, every_class)
    state = model.state_dict()
    keys = {k for k in state if k.startswith('synthetic_warmup.')}
    assert keys == {
        'synthetic_warmup.maturity', 'synthetic_warmup.measurements',
        'synthetic_warmup.ratio'
    }
    fresh, _ = build_game(
        dict(synthetic_warmup=dict(schedule='maturity', momentum=0.5)))
    fresh.load_state_dict(state)
    for key in keys:
        assert torch.equal(fresh.state_dict()[key], state[key]), key
    assert fresh.synthetic_warmup.num_synthetic(B) == (
        model.synthetic_warmup.num_synthetic(B)) == B


def test_defaults_are_the_papers_and_need_no_loop_state():
    model, optim = build_game()
    departures = model.student_batch
    assert departures.warmup is None and model.synthetic_warmup is None
    assert departures.ood_loss is None and departures.warm_start == 0
    assert not any(
        k.startswith('synthetic_warmup') for k in model.state_dict())
    _progress()  # nothing recorded: the paper's game does not ask
    captured, handle = _student_inputs(model)
    logs = model.train_step(_batch(model, per_step=B), optim)
    handle.remove()
    assert [len(x) for x in captured] == [2 * B] * K
    assert 'synthetic_share' not in logs and 'maturity' not in logs


@pytest.mark.parametrize('overrides', [
    dict(synthetic_warmup=dict(schedule='linear')),
    dict(generator_warm_start=0.1),
])
def test_schedules_by_iteration_need_the_loops_iteration(overrides):
    model, optim = build_game(overrides)
    _progress()
    per_step = M if 'synthetic_warmup' in overrides else B
    with pytest.raises(MosaicError, match='tools/train.py') as info:
        model.train_step(_batch(model, per_step=per_step), optim)
    assert '\n' not in str(info.value)


def test_warmup_needs_the_student_batch_in_every_chunk():
    """Under the warm-up a chunk is a student update's whole batch,
    M = B + N, so the paper's chunks of N are refused, naming M."""
    model, optim = _linear_game()
    _progress(0, max_iters=8)
    with pytest.raises(
            MosaicError,
            match=r'model.synthetic_warmup\) needs 4 \+ 2 x \(4 \+ 4\) = 20'
    ) as info:
        model.train_step(_batch(model, per_step=B), optim)  # paper's N = B
    assert '\n' not in str(info.value)
    assert 'train_dataloader.batch_size is 12' in str(info.value)


def test_temperature_on_the_whole_batch_is_student_loss():
    model, _ = build_game(
        dict(student_loss=dict(type='KLDivergenceLoss', temperature=5.0)))
    torch.manual_seed(0)
    s, t = torch.randn(8, 10), torch.randn(8, 10)
    assert torch.equal(
        model.student_batch.loss(s, t, num_synthetic=4),
        kl_divergence(s, t, temperature=5.0))


def test_ood_temperature_applies_to_the_ood_images_only():
    model, _ = build_game(dict(ood_student_loss=dict(temperature=5.0)))
    ood_loss = model.student_batch.ood_loss
    assert type(ood_loss).__name__ == 'KLDivergenceLoss'
    assert ood_loss.temperature == 5.0
    assert model.student_loss.temperature == 1.0
    torch.manual_seed(0)
    s, t = torch.randn(8, 10), torch.randn(8, 10)
    for n in (0, 3, 8):
        expected = (n * kl_divergence(s[:n], t[:n]) if n else 0) + (
            (8 - n) *
            kl_divergence(s[n:], t[n:], temperature=5.0) if n < 8 else 0)
        torch.testing.assert_close(
            model.student_batch.loss(s, t, num_synthetic=n), expected / 8)
    # The same loss on both parts is the paper's loss on the whole batch.
    same, _ = build_game(dict(ood_student_loss=dict()))
    torch.testing.assert_close(
        same.student_batch.loss(s, t, num_synthetic=3), kl_divergence(s, t))


def test_ood_temperature_in_a_train_step():
    """The student's first update at an OOD temperature of 5 equals plain
    SGD on the mixed loss of the same inputs."""
    import copy
    model, optim = build_game(
        dict(student_steps=1, ood_student_loss=dict(temperature=5.0)))
    reference = copy.deepcopy(model.student)
    captured, handle = _student_inputs(model)
    data = _batch(model, per_step=B)
    model.train_step(data, optim)
    handle.remove()
    inputs = captured[0]
    sgd = torch.optim.SGD(
        reference.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    with torch.no_grad():
        t = model.teacher(inputs, mode='tensor')
    s = reference(inputs, mode='tensor')
    loss = (kl_divergence(s[:B], t[:B]) +
            kl_divergence(s[B:], t[B:], temperature=5.0)) / 2
    loss.backward()
    sgd.step()
    got = dict(model.student.named_parameters())
    for name, p in reference.named_parameters():
        torch.testing.assert_close(got[name], p, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('overrides,match', [
    (dict(generator=None, discriminator=None,
          synthetic_warmup=dict()), 'no model.generator'),
    (dict(synthetic_warmup=dict(schedule='cosine')), 'schedule must be'),
    (dict(synthetic_warmup=dict(ramp=1.5)), r'ramp must be .* \[0, 1\]'),
    (dict(synthetic_warmup=dict(steps=3)), "unknown key 'steps'"),
    (dict(synthetic_warmup=dict(schedule='maturity', ramp=0.2)),
     'belongs to the linear'),
    (dict(synthetic_warmup=dict(threshold=0.5)), 'belongs to the maturity'),
    (dict(synthetic_warmup=dict(schedule='maturity', signal='loss')),
     'signal must be'),
    (dict(synthetic_warmup=dict(schedule='maturity', threshold=0)),
     r'threshold .* \(0, 1\]'),
    (dict(synthetic_warmup=dict(schedule='maturity', momentum=1)),
     r'momentum .* \[0, 1\)'),
    (dict(generator_warm_start=1.0), r'generator_warm_start .* \[0, 1\)'),
    (dict(generator_warm_start=True), 'generator_warm_start'),
    (dict(discriminator=None,
          generator_warm_start=0.1), 'no model.discriminator'),
])
def test_option_mistakes_are_one_sentence(overrides, match):
    from _tiny import mosaickd
    with pytest.raises(MosaicError, match=match) as info:
        MODELS.build(mosaickd(**overrides))
    assert '\n' not in str(info.value)


def test_segmentation_warmup_measures_dense_logits_at_a_constant_batch():
    """The maturity schedule on the tiny segmentation game: the signal pools
    the teacher's pixels, the student's batch keeps its size."""
    from test_segmentation import build_game as build_segmentation_game
    from test_segmentation import ood_view
    torch.manual_seed(0)
    batch, steps, size = 2, 2, 4  # B, k, M
    model, wrappers = build_segmentation_game(
        batch=batch,
        steps=steps,
        synthetic_warmup=dict(schedule='maturity', threshold=1.0))
    captured, handle = _student_inputs(model)
    data = dict(
        real=ood_view(batch + steps * size, seed=1),
        student=ood_view(batch + steps * size, seed=2))
    logs = model.train_step(data, wrappers)
    handle.remove()
    assert [len(x) for x in captured] == [size] * steps
    assert int(model.synthetic_warmup.measurements) == 1
    maturity = float(model.synthetic_warmup.maturity)
    assert 0 < maturity <= 1
    num_synthetic = math.floor(maturity * batch + 0.5)
    assert logs['synthetic_share'].item() == pytest.approx(num_synthetic /
                                                           size)
