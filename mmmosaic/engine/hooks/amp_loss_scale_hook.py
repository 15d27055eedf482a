"""Mixed precision's own skipped updates, counted and logged."""
import math
from typing import Dict

from mmengine.hooks import Hook
from mmengine.optim import OptimWrapperDict

from mmmosaic.registry import HOOKS


def loss_scalers(optim_wrapper) -> Dict[str, object]:
    """The dynamic loss scalers (``AmpOptimWrapper.loss_scaler``) of a
    runner's optimiser wrapper, by player (``''`` for a single wrapper)."""
    wrappers = (
        dict(optim_wrapper.items())
        if isinstance(optim_wrapper, OptimWrapperDict) else {
            '': optim_wrapper
        })
    return {
        name: wrapper.loss_scaler
        for name, wrapper in wrappers.items()
        if getattr(wrapper, 'loss_scaler', None) is not None
        and wrapper.loss_scaler.is_enabled()
    }


@HOOKS.register_module()
class AmpLossScaleHook(Hook):
    """Log each player's loss scale and count the updates that mixed
    precision skipped (added to ``--amp`` runs).

    ``AmpOptimWrapper``'s gradient scaler skips an optimiser step whose
    scaled gradients are not finite and halves its scale; that is expected
    now and then (most often in the first iterations, while the scale
    settles) and is not one of the game's non-finite losses
    (``skipped_updates``). This hook logs ``loss_scale`` (for the game's
    players ``loss_scale_<player>``) and the running count
    ``amp_skipped_updates``, which checkpoints carry. A scaler halves its
    scale once per skipped step and doubles it only after
    ``growth_interval`` (2000) good steps in a row, so the halvings of an
    iteration are its skipped steps.
    """

    priority = 'NORMAL'  # before the LoggerHook writes the iteration's log

    def __init__(self):
        self.skipped = 0
        self._before: Dict[str, float] = {}

    def before_train_iter(self, runner, batch_idx: int, data_batch=None):
        self._before = {
            name: scaler.get_scale()
            for name, scaler in loss_scalers(runner.optim_wrapper).items()
        }

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        scalers = loss_scalers(runner.optim_wrapper)
        for name, scaler in scalers.items():
            scale = scaler.get_scale()
            before = self._before.get(name, scale)
            if 0 < scale < before:
                self.skipped += round(math.log2(before / scale))
            key = f'train/loss_scale_{name}' if name else 'train/loss_scale'
            runner.message_hub.update_scalar(key, scale)
        if scalers:
            runner.message_hub.update_scalar('train/amp_skipped_updates',
                                             self.skipped)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['amp_skipped_updates'] = self.skipped

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self.skipped = int(checkpoint.get('amp_skipped_updates', 0))
