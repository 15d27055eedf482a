import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmmosaic.errors import MosaicError
from mmmosaic.registry import MODELS


def softmax_entropy(logits: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Entropy (nats) of ``softmax(logits)`` along ``dim``, that dim
    removed: ``-sum_c p_c ln p_c`` from ``log_softmax``."""
    log_p = F.log_softmax(logits, dim=dim)
    return -(log_p.exp() * log_p).sum(dim=dim)


def distribution_entropy(probs: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Entropy (nats) of distributions given as probabilities along
    ``dim``, with ``0 ln 0 = 0``."""
    return -torch.xlogy(probs, probs).sum(dim)


@MODELS.register_module()
class EntropyLoss(nn.Module):
    r"""Teacher-entropy alignment (MosaicKD Eq. 4).

    .. math:: L_{align} = \frac{1}{N}\sum_n H(p_n)
              = -\frac{1}{N}\sum_n \sum_c p_{n,c} \ln p_{n,c}

    with the natural log, averaged over the batch (and the pixels of dense
    ``[B, C, H, W]`` logits). Minimising it makes the teacher confident on
    the synthetic images.

    ``forward(logits, valid_mask=None)``: where a boolean ``valid_mask`` of
    the logits' shape without the class dim is given, only its True
    positions are averaged.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self,
                logits: torch.Tensor,
                valid_mask: torch.Tensor = None) -> torch.Tensor:
        entropy = softmax_entropy(logits)
        if valid_mask is not None:
            valid = valid_mask.to(entropy.dtype)
            return self.loss_weight * (entropy *
                                       valid).sum() / valid.sum().clamp(min=1)
        return self.loss_weight * entropy.mean()


@MODELS.register_module()
class ClassBalanceLoss(nn.Module):
    r"""Class-balance term: negative entropy, in bits, of the mean prediction.

    .. math:: \bar p_c = \frac{1}{N}\sum_n p_{n,c}, \qquad
              L_{balance} = \sum_c \bar p_c \log_2 \bar p_c

    where ``n`` runs over the batch and, for dense logits with
    ``dense='pixels'`` (the default), the pixels too. Its minimum,
    ``-log2(C)``, is reached when the teacher predicts every class equally
    often over the batch.

    With ``dense='presence'`` a dense prediction counts each class once per
    image, by the largest probability it has at any pixel, and the entropy
    is that of the normalised batch mean of these presences:

    .. math:: a_{n,c} = \max_{i,j} p_{n,c,i,j}, \qquad
              \bar a_c = \frac{\sum_n a_{n,c}}{\sum_{n,c'} a_{n,c'}}, \qquad
              L_{balance} = \sum_c \bar a_c \log_2 \bar a_c

    It asks for every class to appear in as many images as the others,
    whatever area it covers, instead of asking every class to cover the same
    number of pixels (which, where one class fills most of every in-domain
    image, pushes the generator towards images that are mostly other
    classes). For ``[N, C]`` logits both modes are the same term.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.
        dense (str): ``'pixels'`` or ``'presence'``. Defaults to
            ``'pixels'``.
    """

    DENSE = ('pixels', 'presence')

    def __init__(self, loss_weight: float = 1.0, dense: str = 'pixels'):
        super().__init__()
        if dense not in self.DENSE:
            raise MosaicError(
                f"The class balance's dense option (model.balance_loss.dense)"
                f" is {dense!r}; set it to 'pixels' (per pixel, the paper's "
                "pooling) or 'presence' (each class once per image).")
        self.dense = dense
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        probs = F.softmax(logits, dim=1)
        if self.dense == 'presence' and probs.dim() > 2:
            presence = probs.flatten(2).amax(dim=2).mean(dim=0)
            mean_prob = presence / presence.sum()
        else:
            mean_prob = probs.transpose(0, 1).flatten(1).mean(dim=1)
        # clamp: 0 * log 0 = 0 without producing NaN gradients.
        log2 = torch.log(mean_prob.clamp(min=1e-12)) / math.log(2)
        return self.loss_weight * (mean_prob * log2).sum()


@MODELS.register_module()
class PatchAdversarialLoss(nn.Module):
    r"""Binary cross-entropy over every patch logit of a patch discriminator.

    .. math:: L = \frac{1}{B}\sum_{b,i,j}
              \mathrm{BCE}(\sigma(D(x)_{b,i,j}), y)

    i.e. summed over patches, averaged over the batch (the official
    reduction). The discriminator's loss is the mean of the fake (``y=0``)
    and real (``y=1``) terms, ``[sum_fake + sum_real] / (2B)`` for batches
    of equal size; the generator's local term (MosaicKD Eq. 3) is this loss
    with ``y=1`` on its own images.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, patch_logits: torch.Tensor,
                target_is_real: bool) -> torch.Tensor:
        target = torch.full_like(patch_logits, float(target_is_real))
        bce = F.binary_cross_entropy_with_logits(
            patch_logits, target, reduction='sum')
        return self.loss_weight * bce / patch_logits.shape[0]
