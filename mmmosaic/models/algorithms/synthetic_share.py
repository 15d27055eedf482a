"""Our departures from the paper's student batch, all off by default.

The paper gives every student update ``B`` fresh mosaics from the first
iteration on, beside ``N`` OOD images, distilled with one loss, and starts
the whole game at once. Early in training those mosaics teach little, and
they take half of each update away from the OOD images. What the game
does instead, where a config asks, lives here, in one object the game
calls (:class:`StudentBatch`):

- :class:`SyntheticWarmup` keeps the student's batch at its size but lets
  the mosaics in as the generator matures (``model.synthetic_warmup``);
- a generator warm start lets G and D play alone before the teacher and
  the student join (``model.generator_warm_start``);
- the OOD images of the batch may have a loss of their own
  (``model.ood_student_loss``).
"""
import inspect
import math
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.dist import all_reduce
from mmengine.logging import MessageHub

from mmmosaic.errors import MosaicError
from mmmosaic.registry import MODELS

SCHEDULES = ('linear', 'maturity')
SIGNALS = ('classes', 'agreement')


def training_progress(key: str) -> Tuple[int, int]:
    """The training loop's iteration (0-based) and ``max_iters``.

    mmengine's ``RuntimeInfoHook`` writes both to the message hub before
    every iteration, and a resumed run restores the iteration, so a
    schedule that is a function of them resumes exactly (mmagic's GANs
    read their iteration the same way).

    Args:
        key (str): The config key that needs them, for the error message.
    """
    hub = MessageHub.get_current_instance()
    iteration, max_iters = hub.get_info('iter'), hub.get_info('max_iters')
    if iteration is None or not max_iters:
        raise MosaicError(
            f'model.{key} follows the training loop\'s iteration and budget,'
            ' which mmengine\'s RuntimeInfoHook records, but none is '
            'recorded; train with tools/train.py (an mmengine Runner with '
            'an iteration-based loop).')
    return int(iteration), int(max_iters)


def iterations_of(fraction: float, max_iters: int) -> int:
    """``fraction`` of the budget in whole iterations (halves round up)."""
    return int(math.floor(fraction * max_iters + 0.5))


def maturity_signal(signal: str, teacher_logits: torch.Tensor,
                    student_logits: torch.Tensor) -> torch.Tensor:
    r"""How mature the generator's images look, in ``[0, 1]``.

    Logits are ``[B, C]`` or dense ``[B, C, h, w]`` (pixels then count as
    images), the student's already at the teacher's size. Under DDP the
    value covers every process's images, so all processes agree on it.

    - ``'classes'``: the effective number of the teacher's classes,
      :math:`e^{H(q)}` with :math:`q` the share of images per teacher's
      top class (``effective_top_classes`` of
      :mod:`mmmosaic.analysis.coverage`, the number the OOD report's
      coverage verdict uses), rescaled as :math:`(e^{H(q)} - 1) / (C - 1)`:
      0 when the teacher calls every image one class, 1 when it calls them
      all ``C`` classes equally often. Top classes rather than the mean
      prediction, so that images the teacher is unsure about do not count
      as covering every class.
    - ``'agreement'``: the share of images where the student's top class
      is the teacher's.
    """
    if signal == 'classes':
        num_classes = teacher_logits.shape[1]
        counts = torch.bincount(
            teacher_logits.argmax(1).flatten(), minlength=num_classes).float()
        all_reduce(counts)  # in place, summed over processes
        share = counts / counts.sum()
        entropy = -(share * share.clamp_min(1e-12).log()).sum()
        return (entropy.exp() - 1) / max(num_classes - 1, 1)
    agreement = (
        student_logits.argmax(1) == teacher_logits.argmax(1)).float().mean()
    all_reduce(agreement, op='mean')
    return agreement


class SyntheticWarmup(nn.Module):
    r"""Let the mosaics into the student's batch as the generator matures.

    Our deviation from the paper; G and D play from the first iteration as
    in the paper, only the student's batch changes. Each student update
    keeps its size ``M`` (the train dataloader's chunk per student step,
    ``M = 2B`` for the paper's half): ``n = round(r * B)`` images from G
    (halves round up) and ``M - n`` OOD images, where ``r`` in ``[0, 1]``
    grows from 0 (OOD images only) to 1 (the paper's ``B`` synthetic
    images). G always makes a batch of ``B`` and the student takes the
    first ``n``, so G's BatchNorm sees the batch it sees in the paper.

    Schedules of ``r``:

    - ``'linear'``: :math:`r = \min(1, (t - t_0) / R)` at outer iteration
      ``t`` (0-based), where ``t_0`` is the first iteration with student
      updates (after a generator warm start; 0 without) and
      ``R = ramp x max_iters`` iterations (``r = 1`` when ``R`` is 0).
    - ``'maturity'``: every G step measures :func:`maturity_signal` on G's
      ``B`` images (``signal``: ``'classes'``, the effective number of the
      teacher's top classes in them rescaled to ``[0, 1]``, or
      ``'agreement'``, the student/teacher top-1 agreement rate on them);
      a running mean :math:`m \leftarrow \mu m + (1 - \mu) x` (``momentum``
      :math:`\mu`, starting at the first value) gives
      :math:`r = \min(1, m / \mathrm{threshold})`, and ``r`` never
      decreases, so one noisy dip does not take mosaics out again. By
      default ``signal='classes'``, ``threshold=0.5`` (the teacher sees
      half-way from one class to all ``C`` equally, e.g. 5.5 of 10
      effective classes), ``momentum=0.9``. G's adversarial term works
      against agreement, so with ``'agreement'`` a high threshold may never
      be reached; ``r`` then stays below 1. The running mean, its count
      and ``r`` are buffers: checkpoints keep them, a resume restores them.

    Args:
        schedule (str): ``'linear'`` or ``'maturity'``.
        ramp (float): Linear only: fraction of ``max_iters`` over which
            ``r`` grows from 0 to 1. Defaults to 0.5.
        signal (str): Maturity only: ``'classes'`` or ``'agreement'``.
        threshold (float): Maturity only: the running mean at which ``r``
            reaches 1, in ``(0, 1]``. Defaults to 0.5.
        momentum (float): Maturity only: weight of the running mean's past,
            in ``[0, 1)``. Defaults to 0.9.
    """

    def __init__(self,
                 schedule: str = 'linear',
                 ramp: Optional[float] = None,
                 signal: Optional[str] = None,
                 threshold: Optional[float] = None,
                 momentum: Optional[float] = None):
        super().__init__()
        if schedule not in SCHEDULES:
            raise MosaicError(
                f'model.synthetic_warmup.schedule must be one of '
                f'{", ".join(SCHEDULES)}, got {schedule!r}.')
        own = dict(
            linear=dict(ramp=ramp),
            maturity=dict(
                signal=signal, threshold=threshold, momentum=momentum))
        for other, keys in own.items():
            for name, value in keys.items():
                if other != schedule and value is not None:
                    raise MosaicError(
                        f'model.synthetic_warmup.{name} belongs to the '
                        f'{other} schedule, not to {schedule!r}; drop it or '
                        f'set model.synthetic_warmup.schedule={other}.')
        self.schedule = schedule
        if schedule == 'linear':
            self.ramp = check_fraction('synthetic_warmup.ramp',
                                       0.5 if ramp is None else ramp)
            return
        self.signal = 'classes' if signal is None else signal
        if self.signal not in SIGNALS:
            raise MosaicError(f'model.synthetic_warmup.signal must be one of '
                              f'{", ".join(SIGNALS)}, got {self.signal!r}.')
        self.threshold = check_fraction(
            'synthetic_warmup.threshold',
            0.5 if threshold is None else threshold,
            open_low=True)
        self.momentum = check_fraction(
            'synthetic_warmup.momentum',
            0.9 if momentum is None else momentum,
            open_high=True)
        self.register_buffer('maturity', torch.zeros(()))
        self.register_buffer('measurements', torch.zeros((), dtype=torch.long))
        self.register_buffer('ratio', torch.zeros(()))

    def observe(self, teacher_logits: torch.Tensor,
                student_logits: torch.Tensor) -> None:
        """Update the maturity schedule from one G step's logits on G's
        images (nothing to do for the linear schedule)."""
        if self.schedule != 'maturity':
            return
        with torch.no_grad():
            value = maturity_signal(self.signal, teacher_logits.detach(),
                                    student_logits.detach())
            value = value.to(self.maturity)
            if self.measurements.item():
                past = self.momentum * self.maturity
                value = past + (1 - self.momentum) * value
            self.maturity.copy_(value)
            self.measurements.add_(1)
            ratio = (self.maturity / self.threshold).clamp(max=1.0)
            self.ratio.copy_(torch.maximum(self.ratio, ratio))

    def num_synthetic(self, batch_size: int, start: int = 0) -> int:
        """How many of G's ``batch_size`` images the student updates of
        this iteration take.

        Args:
            batch_size (int): ``B``, the paper's count.
            start (int): First iteration with student updates (``t_0``).
        """
        if self.schedule == 'maturity':
            ratio = float(self.ratio)
        else:
            iteration, max_iters = training_progress('synthetic_warmup')
            ramp = iterations_of(self.ramp, max_iters)
            done = max(0, iteration - start)
            ratio = min(1.0, done / ramp) if ramp else 1.0
        return int(math.floor(ratio * batch_size + 0.5))


def check_fraction(key: str,
                   value,
                   low: float = 0.0,
                   high: float = 1.0,
                   open_low: bool = False,
                   open_high: bool = False) -> float:
    """``model.<key>`` as a float, or a one-sentence error naming the key
    unless it is a number in its range (open or closed at either end)."""
    ok = (not isinstance(value, bool) and isinstance(value, (int, float))
          and (low < value if open_low else low <= value)
          and (value < high if open_high else value <= high))
    if not ok:
        left, right = '(' if open_low else '[', ')' if open_high else ']'
        raise MosaicError(f'model.{key} must be a number in {left}{low:g}, '
                          f'{high:g}{right}, got {value!r}.')
    return float(value)


class StudentBatch:
    """What the student's batch does where it departs from the paper.

    The game (:class:`~mmmosaic.models.algorithms.MosaicKD`) asks it, every
    iteration, whether the generator is still in its warm start, how many
    of G's images each student update takes and which loss distils the
    batch; with every option off it answers as the paper does.

    Args:
        student_loss (nn.Module): The game's ``student_loss``, built.
        student_loss_cfg (dict): Its config, which ``ood_student_loss``
            overrides.
        ood_student_loss (dict, optional): The student's loss on the OOD
            images of its batch, its keys overriding ``student_loss``'s
            (``model.ood_student_loss.temperature=5.0`` distils the OOD
            images at temperature 5 and the mosaics at ``student_loss``'s);
            the batch's loss is then the mean over its images of either
            loss. None (the paper): ``student_loss`` on the whole batch.
        synthetic_warmup (dict, optional): Arguments of
            :class:`SyntheticWarmup`: the student's batch starts with OOD
            images only and takes in up to ``B`` mosaics as the generator
            matures, at a constant size. The train dataloader must then
            give ``M = B + N`` OOD images per student step (the whole
            batch; ``M = 2B`` for the paper's half) instead of ``N``. None
            (the paper): ``B`` mosaics in every student update.
        generator_warm_start (float): The fraction of ``max_iters``
            (counted in it) during which G and D train alone on the OOD
            images, G only fooling D, with no teacher or student term and
            no student update. Needs a discriminator. 0 (the paper): the
            whole game from the first iteration.
        generator (bool): Whether the game has a generator.
        discriminator (bool): Whether it has a discriminator.
    """

    def __init__(self,
                 student_loss: nn.Module,
                 student_loss_cfg: dict,
                 ood_student_loss: Optional[dict] = None,
                 synthetic_warmup: Optional[dict] = None,
                 generator_warm_start: float = 0.0,
                 generator: bool = True,
                 discriminator: bool = True):
        self.student_loss = student_loss
        self.ood_loss = None if ood_student_loss is None else (MODELS.build(
            dict(student_loss_cfg, **ood_student_loss)))
        self.warmup = None
        if synthetic_warmup is not None:
            if not generator:
                raise MosaicError(
                    'model.synthetic_warmup schedules the generator\'s images'
                    ' in the student\'s batch but there is no '
                    'model.generator; drop model.synthetic_warmup.')
            unknown = sorted(
                set(synthetic_warmup) -
                set(inspect.signature(SyntheticWarmup).parameters))
            if unknown:
                raise MosaicError(
                    f'model.synthetic_warmup has an unknown key {unknown[0]!r}'
                    '; its keys are schedule, ramp (linear), signal, '
                    'threshold and momentum (maturity).')
            self.warmup = SyntheticWarmup(**synthetic_warmup)
        self.warm_start = check_fraction(
            'generator_warm_start', generator_warm_start, open_high=True)
        if self.warm_start and not discriminator:
            raise MosaicError(
                'model.generator_warm_start trains the generator against the '
                'discriminator alone but there is no model.discriminator; '
                'set model.generator_warm_start=0.')

    def warm_start_progress(self) -> Tuple[int, bool]:
        """The first iteration with student updates (the one after the
        generator warm start; 0 without) and whether this iteration is
        still in the warm start."""
        if not self.warm_start:
            return 0, False
        iteration, max_iters = training_progress('generator_warm_start')
        start = iterations_of(self.warm_start, max_iters)
        return start, iteration < start

    def observe(self, teacher_logits: torch.Tensor,
                student_logits: torch.Tensor) -> None:
        """A G step's logits on G's images, for a warm-up that follows the
        generator's maturity."""
        if self.warmup is not None:
            self.warmup.observe(teacher_logits, student_logits)

    def split(self, ood_chunks: List[Optional[torch.Tensor]],
              synthetic_batch_size: int, start: int):
        """How many of G's ``B`` images each student update of this
        iteration takes, ``n``, and its OOD images: ``n = B`` and the whole
        chunk in the paper; under a synthetic warm-up ``n`` is the
        schedule's and the chunk's first ``M - n`` images keep the batch at
        ``M``.

        Returns:
            tuple: ``n``, the chunks to train on and the values to log
            (``synthetic_share``, and ``maturity`` under that schedule).
        """
        if self.warmup is None:
            return synthetic_batch_size, ood_chunks, {}
        num_synthetic = self.warmup.num_synthetic(synthetic_batch_size, start)
        size = len(ood_chunks[0])
        chunks = [chunk[:size - num_synthetic] for chunk in ood_chunks]
        log_vars: Dict[str, torch.Tensor] = dict(
            synthetic_share=torch.tensor(num_synthetic / size))
        if self.warmup.schedule == 'maturity':
            log_vars['maturity'] = self.warmup.maturity.clone()
        return num_synthetic, chunks, log_vars

    def loss(self, student_logits: torch.Tensor, teacher_logits: torch.Tensor,
             num_synthetic: int) -> torch.Tensor:
        """``student_loss`` on the whole batch, or, with an
        ``ood_student_loss``, the image-weighted mean of ``student_loss`` on
        the first ``num_synthetic`` images (the mosaics) and
        ``ood_student_loss`` on the rest."""
        if self.ood_loss is None:
            return self.student_loss(student_logits, teacher_logits)
        total = 0
        for loss_fn, part in ((self.student_loss, slice(0, num_synthetic)),
                              (self.ood_loss, slice(num_synthetic, None))):
            count = len(student_logits[part])
            if count:
                total = total + count * loss_fn(student_logits[part],
                                                teacher_logits[part])
        return total / len(student_logits)
