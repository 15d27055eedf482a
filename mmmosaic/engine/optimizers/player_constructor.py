from typing import Optional

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict

from mmmosaic.errors import MosaicError
from mmmosaic.models.algorithms import PLAYERS
from mmmosaic.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmmosaic.utils import unwrap_model


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class PlayerOptimWrapperConstructor:
    """One optimiser wrapper per trainable player of the game.

    ``optim_wrapper_cfg`` maps player names (``generator``,
    ``discriminator``, ``student``) to ordinary optim-wrapper configs; the
    result is an :class:`OptimWrapperDict` with the same keys. mmengine's
    Runner applies a ``param_scheduler`` list to every one of them (the
    configs' one cosine list, which ends at ``train_cfg.max_iters``); a dict
    by player must have a list for each of them. Every player
    the model has must have an entry, and every entry a player, so that a
    typo cannot leave a player untrained. An entry set to None is that of a
    player the config removes (``--cfg-options model.discriminator=None
    optim_wrapper.discriminator=None``).
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None):
        if paramwise_cfg is not None:
            raise MosaicError(
                'optim_wrapper.paramwise_cfg applies to one optimiser; put it '
                'inside the player entry it is for (e.g. '
                'optim_wrapper.student.paramwise_cfg).')
        self.optim_wrapper_cfg = dict(optim_wrapper_cfg)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        model = unwrap_model(model)
        players = {
            name: getattr(model, name)
            for name in PLAYERS if getattr(model, name, None) is not None
        }
        for name, cfg in self.optim_wrapper_cfg.items():
            if name not in players and cfg is not None:
                raise MosaicError(
                    f'optim_wrapper.{name} has no matching player in the '
                    f'model (players: {", ".join(players)}); remove it, set '
                    'it to None or fix the name.')
        wrappers = {}
        for name, module in players.items():
            if self.optim_wrapper_cfg.get(name) is None:
                raise MosaicError(
                    f'The model has a {name} but optim_wrapper.{name} is not '
                    'set; add an optimiser for it.')
            cfg = dict(self.optim_wrapper_cfg[name])
            paramwise = cfg.pop('paramwise_cfg', None)
            wrappers[name] = DefaultOptimWrapperConstructor(cfg, paramwise)(
                module)
        return OptimWrapperDict(**wrappers)
