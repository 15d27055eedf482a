"""Save grids of generated mosaics during training."""
import copy
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.hooks import Hook

from mmmosaic.datasets.metainfo import class_palette
from mmmosaic.registry import HOOKS
from mmmosaic.utils import unwrap_model


def characteristic_class(masks: torch.Tensor,
                         num_classes: int) -> torch.Tensor:
    """For ``[N, h, w]`` class masks, each image's class with the largest
    ratio of its pixel share in the image to its share over all images."""
    share = torch.nn.functional.one_hot(masks.flatten(1),
                                        num_classes).float().mean(1)
    overall = share.mean(0, keepdim=True)
    return (share / overall.clamp(min=1e-12)).argmax(1)


def mosaic_grid(images: torch.Tensor,
                teacher_logits: torch.Tensor,
                per_class: int = 8,
                class_names: Optional[Sequence[str]] = None) -> np.ndarray:
    """An RGB uint8 grid: one row per teacher-predicted class.

    A classified image goes to the row of its predicted class. A segmented
    image goes to the row of the class it shows most *relative to the
    other images*: the class whose share of its pixels is the largest
    multiple of that class's share over all images. (By plain majority,
    a class that fills most of every image, such as the background of
    digit canvases, would take every image into one row.)

    Args:
        images: Generator output in [0, 1], ``[N, C, H, W]``.
        teacher_logits: ``[N, K]`` (classification) or ``[N, K, h, w]``
            (segmentation: each image is followed by the teacher's predicted
            mask, coloured).
        per_class: Images shown in each row at most; a row's cells
            beyond its images stay black (the generator made fewer of that
            class).
        class_names: Names of the teacher's classes, one a row: written
            in a column on the left of the grid.
    """
    images = images.detach().float().cpu().clamp(0, 1)
    if images.shape[1] == 1:
        images = images.repeat(1, 3, 1, 1)
    images = images[:, :3]
    n, _, h, w = images.shape
    logits = teacher_logits.detach().float().cpu()
    tiles = [images]
    if logits.dim() == 4:
        masks = torch.nn.functional.interpolate(
            logits, size=(h, w), mode='nearest').argmax(1)
        colors = torch.from_numpy(class_palette(logits.shape[1])).float() / 255
        tiles.append(colors[masks].permute(0, 3, 1, 2))
        labels = characteristic_class(masks, logits.shape[1])
    else:
        labels = logits.argmax(1)
    cells = torch.cat(tiles, dim=3)  # image | mask side by side
    num_classes = logits.shape[1]
    cell_w = cells.shape[3]
    rows = []
    for c in range(num_classes):
        row = torch.zeros(3, h, per_class * cell_w)
        members = (labels == c).nonzero().flatten()[:per_class]
        for j, idx in enumerate(members.tolist()):
            row[:, :, j * cell_w:(j + 1) * cell_w] = cells[idx]
        rows.append(row)
    grid = torch.cat(rows, dim=1)
    grid = (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    if class_names is not None and len(class_names) == num_classes:
        grid = np.concatenate([_row_labels(class_names, h), grid], axis=1)
    return grid


def _row_labels(names: Sequence[str], row_height: int) -> np.ndarray:
    """A column of ``names``, white on black, one per ``row_height``
    rows of pixels, as wide as the longest name needs."""
    import cv2
    font = cv2.FONT_HERSHEY_SIMPLEX
    # Text about half a row high, within what cv2 draws legibly.
    scale = min(max(row_height / 50, 0.3), 1.0)
    names = [str(n) for n in names]
    width = max(cv2.getTextSize(n, font, scale, 1)[0][0] for n in names) + 6
    column = np.zeros((row_height * len(names), width, 3), np.uint8)
    for i, name in enumerate(names):
        (_, text_h), _ = cv2.getTextSize(name, font, scale, 1)
        y = i * row_height + (row_height + text_h) // 2
        cv2.putText(column, name, (3, y), font, scale, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return column


@HOOKS.register_module()
class MosaicVisualizationHook(Hook):
    """Every ``interval`` iterations, draw the generator's mosaics.

    The same noise is used each time (a private RNG, so training's random
    stream is untouched), images are sorted into rows by the teacher's
    predicted class (for segmentation, :func:`mosaic_grid` says which),
    labelled with the teacher's class names where the run knows them, and
    the grid goes to ``<work_dir>/mosaics/iter_<n>.png`` and to the
    visualiser's backends (TensorBoard, if the config enables it). An
    untrained generator's first grids put most images into a few rows: the
    other rows' cells stay black until it makes those classes.
    Generation runs on a copy of the generator, so its BN statistics are
    not disturbed.

    Args:
        interval (int): Iterations between grids.
        num_samples (int): Noise vectors drawn per grid.
        per_class (int): Images per class row.
        seed (int): Seed of the fixed noise.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 500,
                 num_samples: int = 128,
                 per_class: int = 8,
                 seed: int = 0):
        self.interval = interval
        self.num_samples = num_samples
        self.per_class = per_class
        self.seed = seed
        self.last_path: Optional[str] = None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval) or \
                self.is_last_train_iter(runner):
            self.draw(runner, runner.iter + 1)

    @torch.no_grad()
    def draw(self, runner, step: int) -> Optional[str]:
        model = unwrap_model(runner.model)
        if getattr(model, 'generator', None) is None:
            return None
        generator = unwrap_model(model.generator)
        device = next(generator.parameters()).device
        # Drawn on CPU from its own RNG: the same noise on every device.
        rng = torch.Generator(device='cpu').manual_seed(self.seed)
        z = generator.sample_noise(self.num_samples, generator=rng).to(device)
        images = copy.deepcopy(generator).train()(z)
        logits = model.teacher_logits(model.normalize(images))
        names = (getattr(model, 'dataset_meta', None) or {}).get('classes')
        grid = mosaic_grid(images, logits, self.per_class, names)
        folder = osp.join(runner.work_dir, 'mosaics')
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder, f'iter_{step:06d}.png')
        import cv2
        cv2.imwrite(path, grid[:, :, ::-1])
        runner.visualizer.add_image('mosaics', grid, step=step)
        self.last_path = path
        return path
