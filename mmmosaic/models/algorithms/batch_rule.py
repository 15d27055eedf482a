"""How many images one iteration of the game takes from its dataloader.

One call of :meth:`MosaicKD.train_step` is a D update, a G update and ``k``
student updates. Its train dataloader gives ``B + k x N`` out-of-domain
images an iteration: the first ``B`` are D's real images (only with a
discriminator), the others ``k`` chunks of ``N``, one per student update,
which trains on them and on ``B`` images G makes for it.

- ``B`` is ``model.synthetic_batch_size``;
- ``k`` is ``model.student_steps``;
- ``N`` is ``model.ood_batch_size`` (0 with a discriminator: the student
  trains on G's images alone, the OOD images are D's real ones); under a
  ``model.synthetic_warmup``
  a student update's chunk is its whole batch, ``B + N`` images, of which
  it uses as many as G's images leave room for, so the loader gives
  ``B + k x (B + N)``.

Every config with OOD data gives ``model.ood_batch_size``; without OOD
data (``NoImagesDataset``, the data-free baselines) it is None and the
student sees G's images only.

:func:`batch_rule` reads these numbers from a config and derives
``train_dataloader.batch_size`` from them or checks it; tools/train.py
calls it before the Runner is built (:func:`mmmosaic.runtime.
prepare_runtime`), and :class:`MosaicKD` applies the same rule
(:func:`split_loader_batch`) to every batch it trains on.
"""
from typing import NamedTuple, Optional, Tuple

from mmmosaic.errors import MosaicError

__all__ = [
    'BatchRule', 'batch_rule', 'split_loader_batch', 'check_count',
    'check_ood_batch_size', 'SYNTHETIC_BATCH_SIZE', 'STUDENT_STEPS'
]

#: ``B`` and ``k`` where a config leaves them out: :class:`MosaicKD`'s
#: defaults, the paper's CIFAR-100 recipe.
SYNTHETIC_BATCH_SIZE = 256
STUDENT_STEPS = 5


class BatchRule(NamedTuple):
    """The numbers of a game config's batch rule, per process.

    Attributes:
        synthetic (int): ``B``, the images G makes per D, G and S step; 0
            without a generator (KD on OOD data).
        real (int): D's real images at the head of the loader's batch:
            ``B`` with a discriminator, else 0.
        steps (int): ``k``, the student updates per iteration.
        ood (int): ``N``, the OOD images of a student update that holds
            its ``B`` images from G; 0 without OOD data.
        chunk (int): The loader's images per student update: ``N``, or
            ``B + N`` under a synthetic warm-up; 0 without OOD data.
        batch_size (int): ``train_dataloader.batch_size``,
            ``real + steps x chunk`` (the loader's own value, 1 unless set,
            without OOD data).
        warmup (bool): Whether ``model.synthetic_warmup`` is set.
    """
    synthetic: int
    real: int
    steps: int
    ood: int
    chunk: int
    batch_size: int
    warmup: bool


def check_count(key: str,
                value,
                optional: bool = False,
                minimum: int = 1) -> Optional[int]:
    """``value`` if it is an integer >= ``minimum`` (or None where
    ``optional``); otherwise stop with one sentence naming
    ``model.<key>``."""
    if optional and value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, int)
            or value < minimum):
        raise MosaicError(f'model.{key} must be an integer >= {minimum}'
                          f'{" or None" if optional else ""}, got {value!r}.')
    return value


def check_ood_batch_size(value, discriminator: bool) -> Optional[int]:
    """``model.ood_batch_size`` checked: an integer >= 1, None (no OOD
    data), or 0 with a discriminator, whose real images are then the only
    OOD images the game reads (the student trains on G's images alone)."""
    value = check_count('ood_batch_size', value, optional=True, minimum=0)
    if value == 0 and not discriminator:
        raise MosaicError(
            'model.ood_batch_size is 0, so the student sees no OOD image, and '
            'without a model.discriminator nothing else reads them; set '
            'model.ood_batch_size >= 1, or train data-free with a '
            'NoImagesDataset.')
    return value


def _suggestion(rest: int, synthetic: int, steps: int, warmup: bool) -> int:
    """An ``N`` close to what a loader batch with ``rest`` images after D's
    gives each student update."""
    chunk = rest // steps
    if warmup:
        return chunk - synthetic if chunk > synthetic else synthetic
    return chunk if chunk >= 1 else max(synthetic, 1)


def split_loader_batch(
        num: int,
        synthetic_batch_size: int,
        student_steps: int,
        discriminator: bool,
        warmup: bool = False,
        ood_batch_size: Optional[int] = None) -> Tuple[int, int]:
    """Split a loader batch of ``num`` OOD images by the batch rule.

    Args:
        num (int): Images in the loader's batch (0 when it gives none).
        synthetic_batch_size (int): ``B``.
        student_steps (int): ``k``.
        discriminator (bool): Whether the game has a discriminator.
        warmup (bool): Whether a ``synthetic_warmup`` is set.
        ood_batch_size (int, optional): ``N``; None only without OOD
            images.

    Returns:
        tuple[int, int]: D's real images and the images of each of the
        ``k`` student chunks (0 and 0 without OOD images).

    Raises:
        MosaicError: One sentence naming the keys and the value to set,
            if ``num`` does not follow the rule.
    """
    if not num:
        if discriminator:
            raise MosaicError(
                'model.discriminator needs OOD images for its real patches '
                'but the train_dataloader gives none; give it an OODDataset '
                'or set model.discriminator=None (data-free).')
        if warmup:
            raise MosaicError(
                'model.synthetic_warmup fills the student\'s batch with OOD '
                'images but the train_dataloader gives none; give it an '
                'OODDataset or drop model.synthetic_warmup.')
        if ood_batch_size is not None:
            raise MosaicError(
                f'model.ood_batch_size is {ood_batch_size} but the '
                'train_dataloader gives no OOD images; give it an OODDataset '
                'or set model.ood_batch_size=None (data-free).')
        return 0, 0
    synthetic, steps = synthetic_batch_size, student_steps
    real = synthetic if discriminator else 0
    keys = (f'model.synthetic_batch_size {synthetic}, model.student_steps '
            f'{steps}')
    if ood_batch_size is None:
        ood = _suggestion(num - real, synthetic, steps, warmup)
        raise MosaicError(
            f'The train_dataloader gives {num} OOD images an iteration but '
            'model.ood_batch_size, the OOD images of each student update '
            f'({keys}), is not set; set model.ood_batch_size={ood} and leave '
            'train_dataloader.batch_size out to derive it.')
    chunk = ood_batch_size + (synthetic if warmup else 0)
    need = real + steps * chunk
    if num != need:
        formula = (f'{real} + ' if real else
                   '') + f'{steps} x ' + (f'({synthetic} + {ood_batch_size})'
                                          if warmup else f'{ood_batch_size}')
        raise MosaicError(
            f'train_dataloader.batch_size is {num} but '
            f'model.ood_batch_size {ood_batch_size} ({keys}'
            f'{", model.synthetic_warmup" if warmup else ""}) needs '
            f'{formula} = {need} OOD images an iteration; set '
            f'train_dataloader.batch_size={need}, or None to derive it.')
    return real, chunk


def _gives_images(dataset) -> bool:
    """Whether a train dataset config gives OOD images: anything but the
    data-free baselines' ``NoImagesDataset``."""
    from mmmosaic.datasets import NoImagesDataset
    kind = dataset.get('type') if isinstance(dataset, dict) else None
    if isinstance(kind, type):
        return not issubclass(kind, NoImagesDataset)
    return not (isinstance(kind, str)
                and kind.split('.')[-1] == NoImagesDataset.__name__)


def batch_rule(cfg, fill: bool = True) -> BatchRule:
    """The batch rule's numbers of a MosaicKD config, checked.

    Reads ``model`` (``synthetic_batch_size``, ``student_steps``,
    ``ood_batch_size``, whether there is a generator, a discriminator and a
    ``synthetic_warmup``) and ``train_dataloader`` (its ``batch_size`` and
    whether its dataset gives images) without building anything. Where
    ``model.ood_batch_size`` is given and ``train_dataloader.batch_size``
    is not (absent or None), the batch size is derived and, with ``fill``,
    written into ``cfg``; where both are given they must agree. A config
    with OOD data must give ``model.ood_batch_size``.

    Args:
        cfg (Config | dict): A config whose ``model`` builds a
            :class:`MosaicKD`, with a ``train_dataloader``.
        fill (bool): Write a derived ``train_dataloader.batch_size`` into
            ``cfg``. Defaults to True.

    Returns:
        BatchRule: B, D's real images, k, N, the chunk per student update
        and the loader's batch size.

    Raises:
        MosaicError: One sentence naming the keys and the value to set.
    """
    model = cfg.get('model') or {}
    loader = cfg.get('train_dataloader')
    if not isinstance(loader, dict):
        raise MosaicError(
            'The config sets no train_dataloader; add one with an '
            'OODDataset (configs/demo/ has complete examples).')

    synthetic = check_count(
        'synthetic_batch_size',
        model.get('synthetic_batch_size', SYNTHETIC_BATCH_SIZE))
    steps = check_count('student_steps',
                        model.get('student_steps', STUDENT_STEPS))
    discriminator = bool(model.get('discriminator'))
    ood_batch_size = check_ood_batch_size(
        model.get('ood_batch_size'), discriminator)
    warmup = model.get('synthetic_warmup') is not None
    size = loader.get('batch_size')
    if not _gives_images(loader.get('dataset')):
        split_loader_batch(0, synthetic, steps, discriminator, warmup,
                           ood_batch_size)
        if size is None:
            size = 1
            if fill:
                loader['batch_size'] = size
        return BatchRule(
            synthetic if model.get('generator') else 0, 0, steps, 0, 0, size,
            warmup)
    if size is None:
        if ood_batch_size is None:
            raise MosaicError(
                'train_dataloader.batch_size is not set and neither is '
                'model.ood_batch_size, the OOD images of each student update '
                'it is derived from; set model.ood_batch_size=N (e.g. '
                f'{synthetic}).')
        chunk = ood_batch_size + (synthetic if warmup else 0)
        size = (synthetic if discriminator else 0) + steps * chunk
        if fill:
            loader['batch_size'] = size
    real, chunk = split_loader_batch(size, synthetic, steps, discriminator,
                                     warmup, ood_batch_size)
    ood = chunk - synthetic if warmup else chunk
    return BatchRule(
        synthetic if model.get('generator') else 0, real, steps, ood, chunk,
        size, warmup)
