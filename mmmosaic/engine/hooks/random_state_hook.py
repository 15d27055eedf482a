"""Carry what mmengine does not checkpoint through a checkpoint, for exact
resumes: torch's random state and the model's training counters."""
import logging
from typing import Optional

import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmmosaic.registry import HOOKS
from mmmosaic.utils import unwrap_model


def local_rng_state() -> dict:
    """This process's random state: torch's CPU generator and, once CUDA is
    in use, the generator of this process's GPU (one GPU a process)."""
    state = dict(cpu=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state()
    return state


def set_local_rng_state(state: dict) -> None:
    """Restore :func:`local_rng_state` (tensors on any device).

    ``Runner.resume`` maps a checkpoint to the training device, and torch's
    generators take their states as CPU tensors only. Checkpoints of
    earlier versions hold a list of every visible GPU's state under
    ``cuda``; this process's GPU takes its entry, if there is one.
    """
    torch.set_rng_state(state['cpu'].cpu())
    cuda = state.get('cuda')
    if cuda is None or not torch.cuda.is_available():
        return
    if isinstance(cuda, (list, tuple)):
        index = torch.cuda.current_device()
        if index >= len(cuda):
            return
        cuda = cuda[index]
    torch.cuda.set_rng_state(cuda.cpu())


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save every process's RNG states and the model's training counters
    with each checkpoint; restore them on resume.

    The game draws its noise from torch's generators, which mmengine does
    not checkpoint, so a resumed run would otherwise draw different noise
    than an uninterrupted one. Data order and augmentation are already
    reproduced by mmengine's resume (seeded sampler, and it replays the
    skipped batches), so only torch's state is restored, and only at the
    first iteration after a resume (not after ``load_from``), after the
    skipped batches were replayed.

    Only rank 0 writes checkpoints, so in a multi-process run every
    process's state (CPU, and its own GPU's) is gathered after each
    training iteration, before the checkpoint hook runs; each rank then
    resumes from its own. Resumed with another number of processes, every
    rank takes rank 0's state (a warning says so); the game still draws
    different noise per rank, as each rank takes its own slice of one draw
    for the global batch (``MosaicKD.synthesize``).

    A model with ``training_counters()`` and ``load_training_counters()``
    (``MosaicKD``: its skipped updates and non-finite streak) has them
    saved and restored the same way, so that a resumed run counts on from
    where it stopped and a run loaded with ``load_from`` counts from zero.
    """

    # Before CheckpointHook (VERY_LOW): the states it saves are gathered in
    # after_train_iter.
    priority = 'LOW'

    def __init__(self):
        self._pending = None
        self._ranks: Optional[list] = None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if get_world_size() > 1:
            self._ranks = all_gather_object(local_rng_state())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = local_rng_state()
        if self._ranks is not None:
            state = dict(self._ranks[0], ranks=self._ranks)
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
        set_local_rng_state(self._own_state(state))
        model = unwrap_model(runner.model)
        if counters is not None and hasattr(model, 'load_training_counters'):
            model.load_training_counters(counters)

    @staticmethod
    def _own_state(state: dict) -> dict:
        """This rank's entry of a checkpoint's ``rng_state``."""
        ranks = state.get('ranks')
        world_size = get_world_size()
        if ranks is not None and len(ranks) == world_size:
            return ranks[get_rank()]
        if world_size > 1 or ranks is not None:
            print_log(
                f'The checkpoint holds the random states of '
                f'{len(ranks) if ranks else 1} process(es) but this run has '
                f'{world_size}, so every process resumes from rank 0\'s '
                'state; resume with the same number of processes for an '
                'exact continuation.',
                logger='current',
                level=logging.WARNING)
        return state
