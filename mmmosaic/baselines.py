"""The baselines as a MosaicKD config with players removed.

One key turns a MosaicKD config (a generator, a patch discriminator and OOD
images) into one of the methods it is compared with, in the file
(``baseline = 'dfq'``) or on the command line
(``--cfg-options baseline=dfq``). :func:`apply_baseline` rewrites the
config when it is read (:func:`mmmosaic.runtime.load_config`), so the run
and the config it saves are the baseline's own, with the same teacher,
student, schedules, iterations and images per student update (``B + N``):

- ``kd_ood``: plain KD on the OOD images: no generator and no
  discriminator; the student's loss at temperature 5, ``B + N`` OOD images
  per update (a mosaic hook has no generator to draw and does nothing);
- ``dfad``: data-free adversarial KD (Fang et al. 2019): G only maximises
  the teacher/student disagreement; no discriminator and no OOD image
  (the loader yields empty batches), ``B + N`` images of G per update;
- ``dfq``: DFAD with DFQ's generator terms (Choi et al. 2020): the
  teacher's BatchNorm statistics and class balance.
"""
import copy

from mmmosaic.errors import MosaicError
from mmmosaic.models.algorithms.batch_rule import SYNTHETIC_BATCH_SIZE

__all__ = ['BASELINES', 'DFQ_TERMS', 'apply_baseline']

#: ``{name: what it is}``, the values ``baseline`` takes.
BASELINES = dict(
    kd_ood='KD on the OOD images',
    dfad='data-free adversarial KD',
    dfq='DFAD with the teacher\'s BatchNorm statistics')
#: The temperature of KD on the OOD images.
KD_TEMPERATURE = 5.0
#: The generator terms of the DFQ baseline: adversarial, the teacher's
#: BatchNorm statistics and the class balance (6.02 in our log2 units is
#: the authors' 20 in log10 units), no alignment.
DFQ_TERMS = dict(adv=1.0, align=0.0, balance=6.02, bn=1.0)
#: Generator loss weights of the data-free baselines (no patch term).
_WEIGHTS = dict(
    dfad=dict(adv=1.0, align=0.0, local=0.0, balance=0.0),
    dfq=dict(DFQ_TERMS, local=0.0))
#: The train dataloader of a run that reads no image.
NO_IMAGES_LOADER = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=False),
    dataset=dict(type='NoImagesDataset'))
#: MosaicKD's own departures that need both G's and the OOD images.
_MIXING_KEYS = ('synthetic_warmup', 'generator_warm_start')


def apply_baseline(cfg, where: str):
    """Turn the MosaicKD config ``cfg`` into the baseline its ``baseline``
    key names, in place, and drop the key; a config without one is left
    as it is. ``where`` names the config in an error.

    Raises:
        MosaicError: ``baseline`` names no baseline, or ``cfg`` is not a
            MosaicKD config.
    """
    name = cfg.pop('baseline', None)
    if name is None:
        return cfg
    if name not in BASELINES:
        raise MosaicError(
            f'{where}: baseline={name!r} is not one of '
            f'{", ".join(BASELINES)}; give one of them, or None for the '
            'MosaicKD config itself.')
    model = cfg.get('model')
    if not (isinstance(model, dict) and model.get('generator')
            and model.get('discriminator') and model.get('ood_batch_size')):
        raise MosaicError(
            f'{where}: baseline={name} turns a MosaicKD config (model.'
            'generator, model.discriminator and model.ood_batch_size) into '
            'a baseline, and this config lacks one of them; start from a '
            'MosaicKD config.')
    per_update = (
        model.get('synthetic_batch_size', SYNTHETIC_BATCH_SIZE) +
        model.ood_batch_size)
    # Our departures that mix G's images with the OOD images in the
    # student's batch have nothing to mix in a baseline.
    for key in _MIXING_KEYS:
        model.pop(key, None)
    removed = ['discriminator']
    if name == 'kd_ood':
        removed.append('generator')
        model.update(
            generator=None,
            discriminator=None,
            student_loss=dict(
                model.get('student_loss') or {},
                type='KLDivergenceLoss',
                temperature=KD_TEMPERATURE),
            ood_batch_size=per_update)
    else:
        model.update(
            discriminator=None,
            ood_batch_size=None,
            synthetic_batch_size=per_update,
            loss_weights=dict(
                model.get('loss_weights') or {}, **_WEIGHTS[name]))
        cfg.train_dataloader = copy.deepcopy(NO_IMAGES_LOADER)
    optim_wrapper = cfg.get('optim_wrapper')
    if isinstance(optim_wrapper, dict):
        for player in removed:
            optim_wrapper.pop(player, None)
    if model.get('sync_bn_players'):
        model.sync_bn_players = [
            p for p in model.sync_bn_players if p not in removed
        ]
    return cfg
