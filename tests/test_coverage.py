"""Class coverage of OOD images by the teacher (mmmosaic.analysis)."""
import math

import pytest
import torch
from _tiny import mosaickd, ood_dataset

from mmmosaic.analysis import class_coverage, teacher_coverage
from mmmosaic.registry import DATASETS, MODELS


def test_one_class_teacher_covers_one_class():
    counts = torch.tensor([50, 0, 0, 0])
    probs = torch.tensor([49.0, 0.5, 0.25, 0.25])
    cov = class_coverage(counts, probs, 50, max_prob_sum=49.0)
    assert cov['top_class_share'] == [1.0, 0.0, 0.0, 0.0]
    assert cov['effective_top_classes'] == pytest.approx(1.0)
    assert 1.0 < cov['effective_classes'] < 1.2
    assert cov['mean_confidence'] == pytest.approx(0.98)
    assert cov['num_classes'] == 4


def test_uniform_teacher_covers_every_class():
    counts = torch.tensor([10, 10, 10, 10, 10])
    probs = torch.full((5, ), 10.0)
    cov = class_coverage(counts, probs, 50, max_prob_sum=10.0)
    assert cov['effective_classes'] == pytest.approx(5.0)
    assert cov['effective_top_classes'] == pytest.approx(5.0)
    assert sum(cov['top_class_share']) == pytest.approx(1.0)


def test_no_images_is_an_error():
    with pytest.raises(ValueError, match='at least one image'):
        class_coverage(torch.zeros(3), torch.zeros(3), 0, 0.0)


def test_teacher_coverage_matches_the_teachers_outputs():
    torch.manual_seed(0)
    model = MODELS.build(mosaickd())
    dataset = DATASETS.build(ood_dataset(num=40))
    cov = teacher_coverage(model, dataset, batch_size=16)
    assert cov['num_images'] == 40

    # The same measures computed directly from the teacher's probabilities.
    batch = [dataset[i]['real'] for i in range(40)]
    inputs = model.data_preprocessor(
        dict(inputs=[b['inputs'] for b in batch]), False)['inputs']
    with torch.no_grad():
        probs = model.teacher(inputs, mode='tensor').softmax(1)
    share = torch.bincount(probs.argmax(1), minlength=10) / 40
    assert cov['top_class_share'] == pytest.approx(share.tolist())
    pbar = probs.mean(0)
    assert cov['mean_prob'] == pytest.approx(pbar.tolist(), abs=1e-6)
    assert cov['effective_classes'] == pytest.approx(
        math.exp(-(pbar * pbar.log()).sum().item()), rel=1e-5)

    sampled = teacher_coverage(model, dataset, max_images=10)
    assert sampled['num_images'] == 10


def test_per_class_accuracy_counts_each_class_apart():
    from mmpretrain.structures import DataSample

    from mmmosaic.analysis import per_class_accuracy

    class Predicts(torch.nn.Module):
        """Predicts the label of each sample given in the batch's
        ``pred`` list."""

        def test_step(self, batch):
            return [
                DataSample().set_gt_label(gt).set_pred_label(pred)
                for gt, pred in zip(batch['gt'], batch['pred'])
            ]

    batches = [
        dict(gt=[0, 0, 1, 2], pred=[0, 1, 1, 0]),
        dict(gt=[0, 1], pred=[0, 0])
    ]
    model = Predicts().train()
    accuracy = per_class_accuracy(model, batches, ('a', 'b', 'c', 'd'))
    assert accuracy['a'] == pytest.approx(200 / 3)
    assert accuracy['b'] == pytest.approx(50.0)
    assert accuracy['c'] == 0.0
    assert accuracy['d'] != accuracy['d']  # no image: nan
    assert model.training  # the mode is restored
