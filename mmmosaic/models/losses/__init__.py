from .kd_loss import (AdversarialDisagreementLoss, KLDivergenceLoss,
                      kl_divergence)
from .teacher_losses import ClassBalanceLoss, EntropyLoss, PatchAdversarialLoss

__all__ = [
    'KLDivergenceLoss', 'AdversarialDisagreementLoss', 'EntropyLoss',
    'ClassBalanceLoss', 'PatchAdversarialLoss', 'kl_divergence'
]
