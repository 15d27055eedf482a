"""Carry what mmengine does not checkpoint through a checkpoint, for exact
resumes: torch's random state and the model's training counters."""
import torch
from mmengine.hooks import Hook

from mmmosaic.registry import HOOKS
from mmmosaic.utils import unwrap_model


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save torch's RNG states and the model's training counters with each
    checkpoint; restore them on resume.

    The game draws its noise from torch's global generator, which mmengine
    does not checkpoint, so a resumed run would otherwise draw different
    noise than an uninterrupted one. Data order and augmentation are
    already reproduced by mmengine's resume (seeded sampler, and it replays
    the skipped batches), so only torch's state is restored, and only at
    the first iteration after a resume (not after ``load_from``), after
    the skipped batches were replayed. Only rank 0 writes checkpoints, so
    after a multi-process resume every rank holds rank 0's state; the game
    still draws different noise per rank, as each rank takes its own slice
    of one draw for the global batch (``MosaicKD.synthesize``).

    A model with ``training_counters()`` and ``load_training_counters()``
    (``MosaicKD``: its skipped updates and non-finite streak) has them
    saved and restored the same way, so that a resumed run counts on from
    where it stopped and a run loaded with ``load_from`` counts from zero.
    """

    priority = 'VERY_LOW'

    def __init__(self):
        self._pending = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(cpu=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state
        checkpoint['rng_state_iter'] = runner.iter + 1
        model = unwrap_model(runner.model)
        if hasattr(model, 'training_counters'):
            checkpoint['training_counters'] = model.training_counters()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'rng_state' in checkpoint:
            self._pending = (checkpoint['rng_state_iter'],
                             checkpoint['rng_state'],
                             checkpoint.get('training_counters'))

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        if self._pending is None:
            return
        saved_iter, state, counters = self._pending
        self._pending = None
        if runner.iter != saved_iter:
            return  # loaded as weights (load_from), not resumed
        # Runner.resume maps the checkpoint to the training device, and
        # torch's generators take their states as CPU tensors only.
        torch.set_rng_state(state['cpu'].cpu())
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])
        model = unwrap_model(runner.model)
        if counters is not None and hasattr(model, 'load_training_counters'):
            model.load_training_counters(counters)
