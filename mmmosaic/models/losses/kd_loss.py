import torch
import torch.nn as nn
import torch.nn.functional as F

from mmmosaic.registry import MODELS


def kl_divergence(student_logits: torch.Tensor,
                  teacher_logits: torch.Tensor,
                  temperature: float = 1.0,
                  reduction: str = 'mean') -> torch.Tensor:
    """``KL(softmax(t/tau) || softmax(s/tau)) * tau^2`` over dim 1.

    ``reduction='mean'`` sums over classes and averages over every other
    position (batch, and pixels for dense logits); for ``[B, C]`` logits
    that is PyTorch's ``batchmean``. ``'none'`` keeps the per-position map.
    """
    log_p_s = F.log_softmax(student_logits / temperature, dim=1)
    log_p_t = F.log_softmax(teacher_logits / temperature, dim=1)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1) * temperature**2
    if reduction == 'mean':
        return kl.mean()
    if reduction == 'none':
        return kl
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


@MODELS.register_module()
class KLDivergenceLoss(nn.Module):
    r"""Knowledge-distillation loss (Hinton et al.).

    .. math::
        L = \tau^2 \cdot \frac{1}{N} \sum_n \sum_c p^T_{n,c}
            (\log p^T_{n,c} - \log p^S_{n,c}),
        \quad p = \mathrm{softmax}(z / \tau)

    where ``n`` runs over the batch (and the pixels of dense logits), so the
    reduction is PyTorch's ``batchmean`` for ``[B, C]`` logits and a pixel
    mean for ``[B, C, H, W]`` logits. The teacher logits get no gradient.

    Args:
        temperature (float): Softmax temperature ``tau``. Defaults to 1.
        reduction (str): ``'mean'`` or ``'none'`` (per position).
        loss_weight (float): Multiplier of the loss. Defaults to 1.
    """

    def __init__(self,
                 temperature: float = 1.0,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, student_logits: torch.Tensor,
                teacher_logits: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * kl_divergence(
            student_logits, teacher_logits.detach(), self.temperature,
            self.reduction)


@MODELS.register_module()
class AdversarialDisagreementLoss(nn.Module):
    r"""Generator's adversarial term (MosaicKD Eq. 7, DFAD).

    .. math:: L_{adv} = -\frac{1}{N}\sum_n \mathrm{KL}(p^T_n \,\|\, p^S_n)

    at temperature ``tau`` (1 by default), reduced as
    :class:`KLDivergenceLoss`. Minimising it drives the generator towards
    samples on which student and teacher disagree. Gradients flow through
    both logits (to the generator); the caller keeps teacher and student
    weights out of the update.
    """

    def __init__(self, temperature: float = 1.0, loss_weight: float = 1.0):
        super().__init__()
        self.temperature = temperature
        self.loss_weight = loss_weight

    def forward(self, student_logits: torch.Tensor,
                teacher_logits: torch.Tensor) -> torch.Tensor:
        return -self.loss_weight * kl_divergence(
            student_logits, teacher_logits, self.temperature)
