from contextlib import contextmanager
from typing import Iterator, List, Tuple

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmmosaic.registry import MODELS

#: What :meth:`BNStatisticsLoss.record` collects per BatchNorm call: the
#: batch mean and variance of the layer's input, then its running mean and
#: running variance.
BNStats = Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def batchnorm_layers(model: nn.Module) -> List[_BatchNorm]:
    """The BatchNorm layers of ``model`` that keep running statistics."""
    return [
        m for m in model.modules() if isinstance(m, _BatchNorm)
        and m.track_running_stats and m.running_mean is not None
    ]


@MODELS.register_module()
class BNStatisticsLoss(nn.Module):
    r"""BatchNorm-statistics matching of data-free KD (DFQ, Choi et al. 2020).

    Generated images should produce, at every BatchNorm layer ``l`` of the
    frozen teacher, the feature statistics the teacher saw on its training
    data, which the layer's running mean and variance remember:

    .. math::
        L_{bn} = \sum_l \big\| \mu_l - \mu^{run}_l \big\|_2
               + \big\| \sigma^2_l - \sigma^{2,run}_l \big\|_2

    where :math:`\mu_l, \sigma^2_l \in \mathbb{R}^{C_l}` are the mean and
    the biased variance (the one BatchNorm normalises with) of the layer's
    input per channel, over the batch and every spatial position, and
    :math:`\|\cdot\|_2` is the Euclidean norm over the channels (not
    squared). A layer called several times in one forward counts once per
    call. Gradients reach the images through :math:`\mu_l, \sigma^2_l`; the
    running statistics are only read.

    Usage: record the statistics during the teacher's forward, then reduce::

        with bn_loss.record(teacher) as stats:
            logits = teacher(images)
        loss = bn_loss(stats)

    :meth:`record` registers forward pre-hooks on the layers and removes
    them on exit; the hooks only read the layers' inputs and buffers, so
    the network's output and state are unchanged.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    @staticmethod
    @contextmanager
    def record(model: nn.Module) -> Iterator[List[BNStats]]:
        """Collect the batch statistics of every BatchNorm input of
        ``model`` (:func:`batchnorm_layers`) while the block runs."""
        stats: List[BNStats] = []

        def hook(module: _BatchNorm, args) -> None:
            # In float32 whatever autocast made of the input (fp16 under
            # --amp): a half-precision variance keeps 3 digits at best.
            features = args[0].float()
            dims = [d for d in range(features.dim()) if d != 1]
            var, mean = torch.var_mean(features, dim=dims, correction=0)
            stats.append((mean, var, module.running_mean, module.running_var))

        handles = [
            layer.register_forward_pre_hook(hook)
            for layer in batchnorm_layers(model)
        ]
        try:
            yield stats
        finally:
            for handle in handles:
                handle.remove()

    def forward(self, stats: List[BNStats]) -> torch.Tensor:
        if not stats:
            raise ValueError(
                'BNStatisticsLoss got no BatchNorm statistics: the recorded '
                'network ran no BatchNorm layer with running statistics.')
        total = sum(
            torch.linalg.vector_norm(mean - running_mean) +
            torch.linalg.vector_norm(var - running_var)
            for mean, var, running_mean, running_var in stats)
        return self.loss_weight * total
