from .bn_statistics_loss import BNStatisticsLoss, batchnorm_layers
from .kd_loss import (AdversarialDisagreementLoss, KLDivergenceLoss,
                      kl_divergence)
from .teacher_losses import (ClassBalanceLoss, EntropyLoss,
                             PatchAdversarialLoss, distribution_entropy,
                             softmax_entropy)

__all__ = [
    'KLDivergenceLoss', 'AdversarialDisagreementLoss', 'EntropyLoss',
    'ClassBalanceLoss', 'PatchAdversarialLoss', 'BNStatisticsLoss',
    'kl_divergence', 'batchnorm_layers', 'softmax_entropy',
    'distribution_entropy'
]
