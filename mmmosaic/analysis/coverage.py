"""Class coverage: which of the teacher's classes out-of-domain images show.

Plain KD on OOD images can only teach the student what the teacher sees in
those images. If the teacher calls nearly every OOD image (or pixel) one
class, KD on them teaches little about the others; MosaicKD's class-balance
term exists for that case. These measures say where a setting stands.
"""
import math
import random
from typing import Callable, List, NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch.utils.data import Subset

from mmmosaic.models.losses import distribution_entropy
from .ood_subset import teacher_logit_batches


def spread_sample(total: int, num: Optional[int], seed: int = 0) -> List[int]:
    """``num`` of ``range(total)``, one drawn from each of ``num`` equal
    stretches (seeded); all of them when ``num`` is None or ``>= total``.

    Not every ``step``-th item: datasets can have a period. A
    Fashion-MNIST teacher called 84.8 % of MNIST's even-numbered training
    images sandals and 95.4 % of the odd-numbered ones, so a fixed even
    step measured a biased sample.
    """
    if num is None or num >= total:
        return list(range(total))
    rng = random.Random(seed)
    bounds = [int(i * total / num) for i in range(num + 1)]
    return [rng.randrange(lo, hi) for lo, hi in zip(bounds, bounds[1:])]


def _effective_number(shares: torch.Tensor) -> float:
    """``exp`` of the entropy (nats) of a distribution over classes: 1 when
    one class takes everything, ``C`` when ``C`` classes share equally."""
    return math.exp(float(distribution_entropy(shares[shares > 0])))


def class_coverage(counts: torch.Tensor, prob_sums: torch.Tensor,
                   num_units: int, max_prob_sum: float) -> dict:
    """Coverage measures from accumulated teacher outputs.

    Args:
        counts (Tensor): ``[C]``, how many images (pixels, for
            segmentation) have class ``c`` as the teacher's top class.
        prob_sums (Tensor): ``[C]``, the sum of the teacher's probability of
            class ``c`` over the same images (pixels).
        num_units (int): Number of images (pixels) summed.
        max_prob_sum (float): Sum of the teacher's top probability.

    Returns:
        dict: ``top_class_share`` (share of images/pixels per top class),
        ``mean_prob`` (the mean prediction ``pbar``), ``effective_classes``
        (``exp H(pbar)``), ``effective_top_classes`` (``exp H`` of the
        top-class shares), ``mean_confidence`` (mean top probability) and
        ``num_classes``.
    """
    if num_units <= 0:
        raise ValueError('class_coverage needs at least one image.')
    share = counts.double() / num_units
    mean_prob = prob_sums.double() / num_units
    return dict(
        num_classes=len(counts),
        top_class_share=share.tolist(),
        mean_prob=mean_prob.tolist(),
        effective_classes=_effective_number(mean_prob),
        effective_top_classes=_effective_number(share),
        mean_confidence=max_prob_sum / num_units)


def pixel_probs(logits: torch.Tensor) -> torch.Tensor:
    """Teacher logits ``[B, C]`` or ``[B, C, H, W]`` as probabilities
    ``[B, pixels, C]`` (float32, CPU; ``pixels`` is 1 for a
    classification)."""
    probs = F.softmax(logits.detach().float().cpu(), dim=1)
    b, c = probs.shape[:2]
    return probs.movedim(1, -1).reshape(b, -1, c)


class ClassSums(NamedTuple):
    """Per image, the sums :func:`class_coverage` is computed from, float64.

    ``counts`` ``[B, C]``: the image's pixels (or the image) whose top
    class is ``c``; ``prob_sums`` ``[B, C]``: the sum of the probability of
    class ``c`` over them; ``max_sums`` ``[B]``: the sum of the top
    probability; ``pixels``: the units each image adds.
    """
    counts: torch.Tensor
    prob_sums: torch.Tensor
    max_sums: torch.Tensor
    pixels: int


def class_sums(probs: torch.Tensor) -> ClassSums:
    """:class:`ClassSums` of :func:`pixel_probs` ``[B, pixels, C]``."""
    top_prob, top = probs.max(-1)
    counts = torch.zeros(
        probs.shape[::2], dtype=torch.float64).scatter_add_(
            1, top, torch.ones(top.shape, dtype=torch.float64))
    return ClassSums(counts,
                     probs.double().sum(1),
                     top_prob.double().sum(1), probs.shape[1])


class CoverageSums:
    """Running totals of :func:`class_sums`, image batch by image batch;
    :meth:`coverage` gives :func:`class_coverage` of everything added."""

    def __init__(self):
        self.counts = self.prob_sums = None
        self.max_prob_sum = 0.0
        self.units = 0
        self.num_images = 0

    def add(self, sums: ClassSums) -> None:
        """Add images' :func:`class_sums`."""
        counts, prob_sums, max_sums, pixels = sums
        if self.counts is None:
            self.counts = torch.zeros(counts.shape[1], dtype=torch.float64)
            self.prob_sums = torch.zeros_like(self.counts)
        self.counts += counts.sum(0)
        self.prob_sums += prob_sums.sum(0)
        self.max_prob_sum += float(max_sums.sum())
        self.units += len(counts) * pixels
        self.num_images += len(counts)

    def coverage(self) -> dict:
        """:func:`class_coverage` of the images added, plus
        ``num_images``."""
        if self.counts is None:
            raise ValueError('class_coverage needs at least one image.')
        result = class_coverage(self.counts, self.prob_sums, self.units,
                                self.max_prob_sum)
        result['num_images'] = self.num_images
        return result


def _coverage_of(logit_batches) -> dict:
    """:func:`class_coverage` of teacher logits given batch by batch, plus
    ``num_images``. Dense outputs count every pixel."""
    sums = CoverageSums()
    for logits in logit_batches:
        sums.add(class_sums(pixel_probs(logits)))
    return sums.coverage()


@torch.no_grad()
def teacher_coverage(
        model,
        dataset,
        max_images: Optional[int] = None,
        batch_size: int = 64,
        progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """Run ``model.teacher`` (a built ``MosaicKD``) over the ``real`` view of
    an :class:`OODDataset` and return :func:`class_coverage` of it, plus
    ``num_images``. ``max_images`` takes that many images spread over the
    dataset (:func:`spread_sample`). Dense (segmentation) outputs count
    every pixel.
    """
    if max_images is not None and max_images < len(dataset):
        dataset = Subset(dataset, spread_sample(len(dataset), max_images))

    def batches():
        seen = 0
        for logits in teacher_logit_batches(model, dataset, batch_size):
            yield logits
            seen += len(logits)
            if progress is not None:
                progress(seen, len(dataset))

    return _coverage_of(batches())


@torch.no_grad()
def synthetic_coverage(model, num_images: int = 512) -> dict:
    """:func:`class_coverage` of ``model.teacher`` on ``num_images`` images
    of ``model.generator`` (a built, trained ``MosaicKD``), drawn as the
    student steps draw them: batches of ``model.synthetic_batch_size``
    with the generator in train mode (its batch-norm uses batch
    statistics). Set against :func:`teacher_coverage` of the OOD images it
    says which classes the mosaics add to, or take from, the student's
    batch. Draws from torch's global random generator; the model's weights
    are not changed, its batch-norm running statistics may be.
    """
    if getattr(model, 'generator', None) is None:
        raise ValueError('synthetic_coverage needs a MosaicKD with a '
                         'generator.')
    was_training = model.training
    model.train()  # the teacher stays in eval mode (MosaicKD.train)
    batch = model.synthetic_batch_size

    def batches():
        left = num_images
        while left > 0:
            images = model.synthesize(batch, wrapped=False)[:left]
            left -= len(images)
            yield model.teacher_logits(images)

    try:
        return _coverage_of(batches())
    finally:
        model.train(was_training)
