"""BatchNorm running statistics that agree on every process."""
from typing import List

import torch
from mmengine.dist import all_reduce_params, get_world_size
from mmengine.hooks import Hook

from mmmosaic.registry import HOOKS
from mmmosaic.utils import unwrap_model


def trainable_buffers(model: torch.nn.Module) -> List[torch.Tensor]:
    """The floating-point buffers (BatchNorm running mean and variance) of
    each child of ``model`` that has trainable parameters: the generator,
    discriminator and student of the game, not its frozen teacher."""
    buffers = []
    for child in unwrap_model(model).children():
        if any(p.requires_grad for p in child.parameters()):
            buffers += [
                b for b in unwrap_model(child).buffers()
                if b.is_floating_point()
            ]
    return buffers


@HOOKS.register_module()
class SyncPlayerBuffersHook(Hook):
    """Average the trainable players' BatchNorm running statistics over all
    processes after every training iteration.

    DDP averages gradients, not buffers (``broadcast_buffers=False``: each
    player runs several forward passes an iteration, some unwrapped), so
    each process's BatchNorm layers track the statistics of its own batch
    and the processes' players drift apart: validation would mix different
    students and the checkpoint would keep rank 0's. After this hook (which
    runs before the checkpoint hook) every process holds the same buffers.
    Averaging the processes' running means equals the running mean of the
    global batch's means (the update is linear); the running variance
    becomes the mean of the processes' variances, without the spread of
    their means, as with mmengine's ``SyncBuffersHook``, which averages
    every buffer of a model (the frozen teacher's too) once an epoch.
    Integer buffers (``num_batches_tracked``) agree anyway. Nothing happens
    in a single process.
    """

    priority = 'NORMAL'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if get_world_size() > 1:
            all_reduce_params(trainable_buffers(runner.model), op='mean')
