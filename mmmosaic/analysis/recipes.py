"""Recipes: which priors the game gives the generator and what the student
trains on, as config keys on a MosaicKD config.

The game has several switches beyond the paper's: the teacher's BatchNorm
statistics as a generator term (the prior of DFQ, ``model.loss_weights.bn``),
the patch term (``local``), the alignment term (``align``) and the share of
OOD images in each student update (the paper's half, or none: the student
trains on the generator's images alone, the OOD images serve the patch
discriminator only). :data:`RECIPES` names the combinations we recommend;
:func:`recipe_options` turns one into ``--cfg-options`` for a given config,
keeping the images of each student update (``B + N``) as they are;
:func:`recommend` picks one from what can be measured before training.
"""
import copy
from typing import Dict, List, Optional

from mmmosaic.errors import MosaicError

__all__ = [
    'DFQ_TERMS', 'RECIPES', 'loader_batch', 'recipe_options', 'recommend',
    'kd_ood_text'
]

#: The generator terms of the DFQ baseline: adversarial, the teacher's
#: BatchNorm statistics and the class balance (6.02 in our log2 units is
#: the authors' 20 in log10 units), no alignment.
DFQ_TERMS = dict(adv=1.0, align=0.0, balance=6.02, bn=1.0)

#: name -> what it is and the arguments of :func:`recipe_options` that give
#: it to a MosaicKD config (``weights``: the generator loss weights it
#: changes; ``ood_share``: the share of OOD images in each student update,
#: None for the config's; ``discriminator``: whether the patch prior stays),
#: and whether it needs a teacher with BatchNorm layers. ``kd_ood`` has no
#: options: it is the config's KD-on-OOD form (:func:`kd_ood_text`).
RECIPES: Dict[str, dict] = {
    'mosaickd':
    dict(
        summary='the paper\'s MosaicKD, unchanged',
        options=dict(),
        needs_bn=False),
    'dfq_ood':
    dict(
        summary='DFQ\'s generator (the teacher\'s BatchNorm statistics, '
        'the adversarial term and the class balance; no patch '
        'discriminator, no alignment term) with the OOD images as half of '
        'every student update',
        options=dict(weights=DFQ_TERMS, ood_share=0.5, discriminator=False),
        needs_bn=True),
    'kd_ood':
    dict(
        summary='KD on the OOD images alone (no generator)',
        options=None,
        needs_bn=False),
}


def loader_batch(cfg, **model) -> int:
    """``train_dataloader.batch_size`` of ``cfg`` with these model keys,
    derived by the batch rule."""
    from mmmosaic.models import batch_rule
    changed = dict(
        model=dict(copy.deepcopy(cfg['model']), **model),
        train_dataloader=dict(cfg['train_dataloader'], batch_size=None))
    return batch_rule(changed).batch_size


def recipe_options(cfg,
                   weights: Optional[dict] = None,
                   ood_share: Optional[float] = None,
                   discriminator: bool = True) -> List[str]:
    """``--cfg-options`` that give a MosaicKD config ``cfg`` these
    generator loss ``weights`` and, with ``ood_share``, this share of OOD
    images in each student update at the config's images per update
    (``B + N``): 0 trains the student on G's images alone (the OOD images
    are then the discriminator's only), 0.5 is the paper's half. G's batch
    and D's real batch are the update's synthetic part. Without a
    ``discriminator`` the player is removed (no patch prior; the OOD images
    are then the student's only)."""
    from mmmosaic.models import batch_rule
    out = [f'model.loss_weights.{k}={v:g}' for k, v in (weights or {}).items()]
    if ood_share is None and discriminator:
        return out
    if ood_share is not None and not 0 <= ood_share < 1:
        raise MosaicError(
            f'The OOD share of a student update must be in [0, 1), got '
            f'{ood_share!r}.')
    rule = batch_rule(copy.deepcopy(cfg), fill=False)
    if not rule.synthetic or not rule.real:
        raise MosaicError(
            'A recipe that sets the OOD share of the student\'s batch or '
            'removes the discriminator needs a MosaicKD config (a '
            'generator, a discriminator and OOD images).')
    synthetic, ood = rule.synthetic, rule.ood
    if ood_share is not None:
        per_update = synthetic + ood
        ood = int(round(per_update * ood_share))
        synthetic = per_update - ood
    model = dict(synthetic_batch_size=synthetic, ood_batch_size=ood)
    if not discriminator:
        model['discriminator'] = None
        out += ['model.discriminator=None', 'optim_wrapper.discriminator=None']
    batch = loader_batch(cfg, **model)
    return out + [
        f'model.synthetic_batch_size={synthetic}',
        f'model.ood_batch_size={ood}', f'train_dataloader.batch_size={batch}'
    ]


def recommend(coverage_kind: str, teacher_has_bn: bool) -> dict:
    """The recipe to start with, from what the OOD report measures before
    training: the verdict on the teacher's coverage of the OOD images
    (``'narrow'``, ``'partial'`` or ``'broad'``) and whether the teacher
    has BatchNorm layers with running statistics.

    Returns:
        dict: ``name`` (a key of :data:`RECIPES`), ``summary``, ``why``
        (one sentence) and ``also`` (a second recipe worth running, or
        None).
    """
    if coverage_kind not in ('narrow', 'partial', 'broad'):
        raise ValueError(f'unknown coverage kind {coverage_kind!r}')
    if teacher_has_bn:
        name = 'dfq_ood'
        why = ('the teacher keeps BatchNorm statistics, the generator prior '
               'that served the student best in our benchmarks, and the OOD '
               'images make the other half of its batch')
        if coverage_kind == 'narrow':
            why += ('; with coverage this narrow they may cost it a little '
                    'against DFQ\'s student without them, as in our narrowest '
                    'benchmark')
    else:
        name = 'mosaickd'
        why = ('the teacher has no BatchNorm statistics to match, so the '
               'patch prior of the OOD images is the generator\'s only prior')
    also = 'kd_ood' if coverage_kind == 'broad' else None
    if also:
        why += ('; the images show most of the teacher\'s classes, where KD '
                'on them alone is a strong baseline: run it too')
    return dict(
        name=name, summary=RECIPES[name]['summary'], why=why, also=also)


#: How a config's KD-on-OOD form is named: ``<config>_kd_ood.py`` beside it.
KD_OOD_SUFFIX = '_kd_ood'
#: The worked example of that form, for configs without one.
KD_OOD_EXAMPLE = 'configs/zoo/resnet18_mobilenetv2_own_images_kd_ood.py'


def kd_ood_text(config_path: Optional[str]) -> str:
    """One sentence saying how to run KD on the OOD images of the config at
    ``config_path``: its ``*_kd_ood.py`` sibling where it has one (the
    own-images recipe does), else the form to write."""
    import os.path as osp
    stem, ext = osp.splitext(config_path or '')
    kd = stem + KD_OOD_SUFFIX + ext
    if stem and not stem.endswith(KD_OOD_SUFFIX) and osp.isfile(kd):
        return (f'KD on the OOD images alone is {osp.relpath(kd)}, this '
                'config without generator and discriminator: train it with '
                'the same --cfg-options.')
    return ('KD on the OOD images alone is a config that inherits this one '
            'through _base_ and sets model.generator and '
            f'model.discriminator to None ({KD_OOD_EXAMPLE} shows the form).')
