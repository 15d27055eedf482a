"""The MosaicKD game in plain PyTorch: the reference side of the benchmark.

Written from the paper's description of the game, not by calling any
method of :class:`mmmosaic.models.MosaicKD`. It takes already-built
``nn.Module`` players (the benchmark deep-copies the very modules our
config builds, so both sides run identical networks from identical
weights) and owns ordinary torch optimisers and cosine schedules.

Data path: :func:`make_loader` wraps the same kind of dataset as ours
(an :class:`mmmosaic.datasets.OODDataset` built from the same config, so
every sample costs the same two pipeline views on both sides) in a plain
``torch.utils.data.DataLoader`` with a plain infinite shuffling sampler and
a collate function that stacks the uint8 images into two tensors. The
normalisation to the teacher's input space happens here, batched, in
:meth:`PlainMosaicKD.preprocess`. So the comparison covers the whole
iteration (data loading, preprocessing, the three kinds of updates) and
differs only in what mmengine / mmpretrain / mmmosaic add around them.

One outer iteration (:meth:`PlainMosaicKD.run_iter`): one D update, one G
update and ``k`` S updates. As in the authors' code, gradients that the G
step leaves on D and S are simply cleared by ``zero_grad()`` right before
D's and S's own backward passes, so nothing leaks into their updates.
"""
import math
from typing import Dict, Iterator, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Sampler

__all__ = ['InfiniteShuffle', 'stack_views', 'make_loader', 'PlainMosaicKD']


class InfiniteShuffle(Sampler):
    """Endless stream of dataset indices, reshuffled every pass."""

    def __init__(self, size: int, seed: int = 0):
        self.size = size
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        rng = torch.Generator().manual_seed(self.seed)
        while True:
            yield from torch.randperm(self.size, generator=rng).tolist()

    def __len__(self) -> int:  # DataLoader only needs it to exist
        return self.size


class _StackViews:
    """Collate: ``real`` views of the first ``num_real`` samples and
    ``student`` views of the rest, each stacked into one uint8 tensor."""

    def __init__(self, num_real: int):
        self.num_real = num_real

    def __call__(self, samples: Sequence[dict]):
        return stack_views(samples, self.num_real)


def stack_views(samples: Sequence[dict],
                num_real: int) -> Tuple[torch.Tensor, torch.Tensor]:
    real = torch.stack([s['real']['inputs'] for s in samples[:num_real]])
    student = torch.stack([s['student']['inputs'] for s in samples[num_real:]])
    return real, student


def make_loader(dataset,
                batch_size: int,
                num_real: int,
                seed: int = 0,
                num_workers: int = 0) -> DataLoader:
    """A plain DataLoader giving ``(real_uint8, student_uint8)`` batches."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=InfiniteShuffle(len(dataset), seed),
        num_workers=num_workers,
        collate_fn=_StackViews(num_real))


def _bce_sum(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(
        logits, torch.full_like(logits, target), reduction='sum')


class PlainMosaicKD:
    """The four-player game with plain modules, optimisers and schedules.

    Args:
        generator, discriminator, teacher, student (nn.Module): Players.
            ``generator.latent_dim`` is the size of ``z``; the classifiers
            map normalised images to ``[N, C]`` logits when called.
        mean, std (float | Sequence[float]): Normalisation of the 0-255
            pixels (the teacher's data preprocessor).
        batch_size (int): ``B``, images G makes per step; also the size of
            the real batch and of each OOD chunk.
        student_steps (int): ``k``.
        loss_weights (dict): ``adv``, ``align``, ``local``, ``balance``.
        temperature (float): KD temperature of the S steps.
        t_max (int): Iterations of the cosine schedules (eta_min 0).
    """

    def __init__(self,
                 generator: nn.Module,
                 discriminator: nn.Module,
                 teacher: nn.Module,
                 student: nn.Module,
                 mean,
                 std,
                 batch_size: int,
                 student_steps: int = 5,
                 loss_weights: Optional[Dict[str, float]] = None,
                 temperature: float = 1.0,
                 t_max: int = 1000):
        self.G, self.D, self.T, self.S = (generator, discriminator, teacher,
                                          student)
        self.T.eval()
        self.T.requires_grad_(False)
        # In torch's default dtype, as the players and the noise: float64
        # under torch.set_default_dtype(torch.float64) for exact checks.
        # On the players' device (a GPU too), as the noise.
        dtype = torch.get_default_dtype()
        self.device = next(generator.parameters()).device
        self.mean = torch.tensor(
            mean, dtype=dtype, device=self.device).view(1, -1, 1, 1)
        self.std = torch.tensor(
            std, dtype=dtype, device=self.device).view(1, -1, 1, 1)
        self.B = batch_size
        self.k = student_steps
        self.w = dict(adv=1.0, align=1.0, local=1.0, balance=10.0)
        self.w.update(loss_weights or {})
        self.tau = temperature
        self.opt_g = torch.optim.Adam(
            self.G.parameters(), lr=1e-3, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(
            self.D.parameters(), lr=1e-3, betas=(0.5, 0.999))
        self.opt_s = torch.optim.SGD(
            self.S.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        self.schedules = [
            torch.optim.lr_scheduler.CosineAnnealingLR(opt, t_max)
            for opt in (self.opt_g, self.opt_d, self.opt_s)
        ]

    # ----------------------------------------------------------- helpers
    def train(self):
        """G, D and S in train mode (BN batch statistics), T in eval."""
        for m in (self.G, self.D, self.S):
            m.train()
        self.T.eval()

    def preprocess(self, images_uint8: torch.Tensor) -> torch.Tensor:
        images = images_uint8.to(self.device, self.mean.dtype)
        return (images - self.mean) / self.std

    def synthesize(self) -> torch.Tensor:
        """``norm(G(z))``, z ~ N(0, I); G's output is in [0, 1]."""
        z = torch.randn(self.B, self.G.latent_dim, device=self.device)
        return (self.G(z) * 255.0 - self.mean) / self.std

    # ---------------------------------------------------------- the game
    def d_step(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """Fake and real through D in two forwards; BCE sums over 2B."""
        loss = (_bce_sum(self.D(fake.detach()), 0.0) +
                _bce_sum(self.D(real), 1.0)) / (2 * fake.shape[0])
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        return loss.detach()

    def g_step(self, fake: torch.Tensor) -> torch.Tensor:
        """adv + align + local + balance on the same ``fake`` (graph kept).

        S stays in train mode; the weight gradients this leaves on D and S
        are cleared before their own steps (authors' way).
        """
        t = self.T(fake)
        s = self.S(fake)
        log_p_t = F.log_softmax(t, dim=1)
        p_t = log_p_t.exp()
        log_p_s = F.log_softmax(s, dim=1)
        adv = -(p_t * (log_p_t - log_p_s)).sum(1).mean()
        align = -(p_t * log_p_t).sum(1).mean()
        p_bar = p_t.mean(0)
        balance = (p_bar * torch.log2(p_bar.clamp(min=1e-12))).sum()
        local = _bce_sum(self.D(fake), 1.0) / fake.shape[0]
        w = self.w
        loss = (
            w['adv'] * adv + w['align'] * align + w['local'] * local +
            w['balance'] * balance)
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        return loss.detach()

    def s_step(self, ood: torch.Tensor) -> torch.Tensor:
        """Fresh mosaics plus an augmented OOD chunk; KL(T || S) at tau."""
        with torch.no_grad():
            inputs = torch.cat([self.synthesize(), ood])
            t = self.T(inputs)
        s = self.S(inputs)
        tau = self.tau
        loss = F.kl_div(
            F.log_softmax(s / tau, dim=1),
            F.log_softmax(t / tau, dim=1),
            reduction='batchmean',
            log_target=True) * tau**2
        self.opt_s.zero_grad()
        loss.backward()
        self.opt_s.step()
        return loss.detach()

    def run_iter(self, real_uint8: torch.Tensor,
                 student_uint8: torch.Tensor) -> Dict[str, torch.Tensor]:
        """One outer iteration on one batch of the loader."""
        self.train()
        real = self.preprocess(real_uint8)
        chunks = self.preprocess(student_uint8).chunk(self.k)
        fake = self.synthesize()
        loss_d = self.d_step(fake, real)
        loss_g = self.g_step(fake)
        loss_s = torch.stack([self.s_step(c) for c in chunks]).mean()
        for schedule in self.schedules:
            schedule.step()
        return dict(loss_d=loss_d, loss_g=loss_g, loss_student=loss_s)


def check_finite(losses: Dict[str, torch.Tensor]) -> bool:
    """For sanity checks outside the timed region only."""
    return all(math.isfinite(float(v)) for v in losses.values())
