from .bn_statistics_loss import BNStatisticsLoss, batchnorm_layers
from .kd_loss import (AdversarialDisagreementLoss, KLDivergenceLoss,
                      kl_divergence)
from .teacher_losses import ClassBalanceLoss, EntropyLoss, PatchAdversarialLoss

__all__ = [
    'KLDivergenceLoss', 'AdversarialDisagreementLoss', 'EntropyLoss',
    'ClassBalanceLoss', 'PatchAdversarialLoss', 'BNStatisticsLoss',
    'kl_divergence', 'batchnorm_layers'
]
