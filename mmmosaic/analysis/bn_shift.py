"""How far images are from what a teacher's BatchNorm layers remember.

Every BatchNorm layer with running statistics keeps, per channel, the mean
and variance of its input over the teacher's training images. Images the
teacher was trained on give inputs with about those statistics; images of
another domain shift them. :class:`BatchNormShift` measures the shift in a
teacher pass, as the divergence of two Gaussians per channel,

.. math::
    D = \\frac{1}{L} \\sum_l \\frac{1}{C_l} \\sum_c
        \\mathrm{KL}\\big(\\mathcal{N}(\\mu_{lc}, \\sigma^2_{lc}) \\,\\|\\,
        \\mathcal{N}(\\mu^{run}_{lc}, \\sigma^{2,run}_{lc})\\big),

where :math:`\\mu_{lc}, \\sigma^2_{lc}` are the mean and variance of channel
``c`` of layer ``l``'s input over all the images (and positions) of the
pass. It is scale-free (0 when the statistics match, whatever the layer's
units), so one bound can serve every teacher: the OOD report recommends
leaving far images out of the student's batch from it on. It compares the
statistics the generator term of DFQ matches (as an L2 distance, for
generated images), read here for the OOD images themselves.
"""
from typing import List, Optional

import torch
from torch import nn

from mmmosaic.models.losses import batchnorm_layers

__all__ = ['BatchNormShift']


class BatchNormShift:
    """Accumulate the input statistics of ``model``'s BatchNorm layers
    while it runs inside ``with``, and compare them with the layers'
    running statistics.

    Each batch's per-channel mean and variance (``torch.var_mean``, no copy
    of the input) are merged in float64 (mean and centred sum of squares,
    Chan et al.'s pairwise update), so memory does not grow with the
    images' number and a large mean does not cancel the variance.

    Args:
        model (nn.Module): The teacher. Its layers' running statistics are
            read, never changed (the teacher runs in eval mode).
    """

    def __init__(self, model: nn.Module):
        self.layers = batchnorm_layers(model)
        # Per layer: [count, mean, centred sum of squares] per channel.
        self._sums: List[Optional[list]] = [None] * len(self.layers)
        self._handles = []

    def __enter__(self) -> 'BatchNormShift':
        self._handles = [
            layer.register_forward_hook(self._hook(i))
            for i, layer in enumerate(self.layers)
        ]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _hook(self, i: int):

        def hook(module, inputs, output):
            x = inputs[0].detach()
            n = x.numel() // x.shape[1] if x.numel() else 0
            if n == 0:
                return
            dims = [0] + list(range(2, x.dim()))
            # Per channel over the batch and every position, without a
            # copy of the input; merged in float64 below.
            var, mean = torch.var_mean(x.float(), dim=dims, correction=0)
            mean, m2 = mean.double(), var.double() * n
            if self._sums[i] is None:
                self._sums[i] = [n, mean, m2]
                return
            count, old_mean, old_m2 = self._sums[i]
            delta = mean - old_mean
            total = count + n
            self._sums[i] = [
                total, old_mean + delta * n / total,
                old_m2 + m2 + delta**2 * count * n / total
            ]

        return hook

    def per_layer(self) -> List[float]:
        """The mean per-channel divergence of each layer that saw inputs,
        in the model's order."""
        out = []
        for layer, sums in zip(self.layers, self._sums):
            if sums is None:
                continue
            count, mean, m2 = sums
            eps = layer.eps
            var = m2 / count + eps
            run_mean = layer.running_mean.detach().double().cpu()
            run_var = layer.running_var.detach().double().cpu() + eps
            mean, var = mean.cpu(), var.cpu()
            ratio = var / run_var
            kl = 0.5 * (
                ratio + (mean - run_mean)**2 / run_var - 1 - torch.log(ratio))
            out.append(float(kl.mean()))
        return out

    def value(self) -> Optional[float]:
        """The shift: the mean over layers of :meth:`per_layer`, or None
        when the model has no BatchNorm layer with running statistics or
        none ran."""
        layers = self.per_layer()
        return sum(layers) / len(layers) if layers else None
