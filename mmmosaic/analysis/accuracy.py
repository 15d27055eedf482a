"""Per-class scores of a trained model on a labelled dataloader: the
accuracy of a classifier, the IoU of a segmentor."""
from typing import Dict, Iterable, Sequence

import numpy as np
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


@torch.no_grad()
def per_class_iou(segmentor, dataloader: Iterable, evaluator: dict,
                  classes: Sequence[str]) -> Dict[str, float]:
    """IoU (%) of ``segmentor`` on each class of ``dataloader``, from the
    results of the config's evaluator (mmseg's ``IoUMetric``).

    The evaluator accumulates each image's intersection and union areas as
    in validation; the IoU of a class is their ratio over the whole
    dataloader, rounded to two decimals as mmseg's per-class table prints
    it.

    Args:
        segmentor: An mmseg segmentor (anything whose ``test_step`` takes a
            dataloader batch and returns data samples with
            ``pred_sem_seg`` and ``gt_sem_seg``), e.g. a distilled student.
        dataloader: Batches of labelled images, as the config's
            ``val_dataloader`` gives them.
        evaluator (dict): The config's ``val_evaluator``: one
            ``IoUMetric`` (its ``ignore_index`` and ``nan_to_num`` apply).
        classes (Sequence[str]): Class names, in label order.

    Returns:
        dict: ``{class name: IoU in %}``; a class that is neither in the
        labels nor in the predictions is ``nan``.
    """
    from mmengine.evaluator import Evaluator
    from mmseg.evaluation import IoUMetric
    evaluator = Evaluator(evaluator)
    metrics = [m for m in evaluator.metrics if isinstance(m, IoUMetric)]
    if len(metrics) != 1:
        raise ValueError('per_class_iou needs an evaluator with one '
                         f'IoUMetric, got {evaluator.metrics}.')
    metric = metrics[0]
    evaluator.dataset_meta = dict(classes=tuple(classes))
    was_training = segmentor.training
    segmentor.eval()
    try:
        for batch in dataloader:
            evaluator.process(segmentor.test_step(batch), batch)
    finally:
        segmentor.train(was_training)
    areas = [sum(column) for column in zip(*metric.results)]
    scores = IoUMetric.total_area_to_metrics(
        *areas, ['mIoU'], nan_to_num=metric.nan_to_num, beta=metric.beta)
    metric.results.clear()
    # mmseg's table rounds in the metric's own precision (float32) and
    # prints the shortest text of each value; read that text back, so that
    # the figures are exactly those a validation logs.
    ious = np.round(np.asarray(scores['IoU']) * 100, 2)
    return {name: float(str(value)) for name, value in zip(classes, ious)}
