"""The teacher's pass over out-of-domain images, and the optional OOD
subset of MosaicKD built on it: the images the teacher is least sure about
(highest prediction entropy), which ``tools/select_ood_subset.py`` writes
and ``OODDataset(subset_file=...)`` reads."""
from typing import Callable, List, Optional

import torch
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

from mmmosaic.models.losses import softmax_entropy


@torch.no_grad()
def teacher_logit_batches(model,
                          dataset,
                          batch_size: int = 256,
                          num_workers: int = 0):
    """Yield ``model.teacher``'s logits on the ``real`` view of the items of
    an :class:`OODDataset`, batch by batch, in dataset order."""
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        num_workers=num_workers,
        collate_fn=pseudo_collate,
        shuffle=False)
    model.eval()
    for batch in loader:
        inputs = model.data_preprocessor(batch['real'], False)['inputs']
        yield model.teacher_logits(inputs)


def image_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of each image's prediction: ``[B]`` for logits
    ``[B, C]``, the pixels' average for ``[B, C, H, W]``."""
    entropy = softmax_entropy(logits, dim=1)
    return entropy.flatten(1).mean(1) if entropy.dim() > 1 else entropy


def teacher_entropies(
        model,
        dataset,
        batch_size: int = 256,
        num_workers: int = 0,
        progress: Optional[Callable[[int, int], None]] = None) -> torch.Tensor:
    """Entropy (nats) of ``model.teacher`` on the ``real`` view of every
    item of an :class:`OODDataset`, in dataset order (pixel-averaged for
    segmentation)."""
    out = []
    for logits in teacher_logit_batches(model, dataset, batch_size,
                                        num_workers):
        out.append(image_entropy(logits))
        if progress is not None:
            progress(sum(len(e) for e in out), len(dataset))
    return torch.cat(out)


def select_high_entropy(entropies: torch.Tensor, num: int,
                        indices: List[int]) -> List[int]:
    """The ``num`` source indices with the highest entropy, in source order.

    ``indices[i]`` is the source index of the dataset's item ``i``.
    """
    num = min(num, len(entropies))
    top = torch.topk(entropies, num).indices.tolist()
    return sorted(indices[i] for i in top)
