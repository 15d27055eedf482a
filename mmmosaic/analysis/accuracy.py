"""Per-class accuracy of a classifier on a labelled dataloader."""
from typing import Dict, Iterable, Sequence

import torch


@torch.no_grad()
def per_class_accuracy(classifier, dataloader: Iterable,
                       classes: Sequence[str]) -> Dict[str, float]:
    """Top-1 accuracy (%) of ``classifier`` on each class of ``dataloader``.

    Args:
        classifier: An mmpretrain classifier (anything whose ``test_step``
            takes a dataloader batch and returns data samples with
            ``pred_label`` and ``gt_label``), e.g. a distilled student.
        dataloader: Batches of labelled images, as the config's
            ``val_dataloader`` gives them.
        classes (Sequence[str]): Class names, in label order.

    Returns:
        dict: ``{class name: accuracy in %}``; a class with no image is
        ``nan``.
    """
    num_classes = len(classes)
    correct = torch.zeros(num_classes, dtype=torch.long)
    total = torch.zeros(num_classes, dtype=torch.long)
    was_training = classifier.training
    classifier.eval()
    try:
        for batch in dataloader:
            for sample in classifier.test_step(batch):
                label = int(sample.gt_label.reshape(-1)[0])
                total[label] += 1
                correct[label] += int(
                    int(sample.pred_label.reshape(-1)[0]) == label)
    finally:
        classifier.train(was_training)
    return {
        name: (100.0 * correct[i].item() /
               total[i].item() if total[i] else float('nan'))
        for i, name in enumerate(classes)
    }
