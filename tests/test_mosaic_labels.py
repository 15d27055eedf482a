"""Mosaic grids name the teacher's class of each row."""
from types import SimpleNamespace

import cv2
import numpy as np
import torch
from _tiny import build_game

from mmmosaic.engine.hooks import MosaicVisualizationHook, mosaic_grid

NAMES = [f'class_{i}' for i in range(10)]


def test_rows_are_labelled_with_the_class_names():
    images = torch.rand(6, 3, 32, 32)
    logits = torch.nn.functional.one_hot(torch.arange(6) % 10, 10).float()
    plain = mosaic_grid(images, logits, per_class=2)
    labelled = mosaic_grid(images, logits, per_class=2, class_names=NAMES)
    width = labelled.shape[1] - plain.shape[1]
    assert labelled.shape[0] == plain.shape[0] == 10 * 32 and width > 0
    # The images as before, right of a column with one name a row.
    assert (labelled[:, width:] == plain).all()
    for row in range(10):
        assert labelled[32 * row:32 * (row + 1), :width].max() > 128, row
    # Names of another count than the rows are not the teacher's: none.
    assert mosaic_grid(images, logits, 2, NAMES[:3]).shape == plain.shape


def test_the_hook_labels_its_grids_with_the_teacher_classes(tmp_path):
    model, _ = build_game()
    model.dataset_meta = dict(classes=NAMES)
    runner = SimpleNamespace(
        model=model,
        work_dir=str(tmp_path),
        visualizer=SimpleNamespace(add_image=lambda *args, **kwargs: None))
    path = MosaicVisualizationHook(num_samples=8, per_class=2).draw(runner, 1)
    assert path == str(tmp_path / 'mosaics' / 'iter_000001.png')
    grid = cv2.imread(path)
    # 10 rows of 16-pixel images, 2 a row, and the names' column.
    assert grid.shape[0] == 10 * 16 and grid.shape[1] > 2 * 16
    assert np.asarray(grid[:, :grid.shape[1] - 2 * 16]).max() > 128
