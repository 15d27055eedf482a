from .algorithms import BatchRule, MosaicKD, batch_rule, is_game_config
from .backbones import *  # noqa: F401,F403
from .discriminators import PatchDiscriminator
from .generators import DCGANGenerator
from .losses import (AdversarialDisagreementLoss, ClassBalanceLoss,
                     EntropyLoss, KLDivergenceLoss, PatchAdversarialLoss)

__all__ = [
    'MosaicKD', 'BatchRule', 'batch_rule', 'is_game_config', 'DCGANGenerator',
    'PatchDiscriminator', 'KLDivergenceLoss', 'AdversarialDisagreementLoss',
    'EntropyLoss', 'ClassBalanceLoss', 'PatchAdversarialLoss'
]
