"""The quality benchmark's settings, as data.

A setting is a teacher task with its OOD data and one config per method
(``benchmarks/quality.py SETTING``). Each entry of :data:`SETTINGS` holds
plain values:

- ``title``: the report's title;
- ``configs``: ``{method: config path relative to the repository}``: the
  teacher's, MosaicKD's and any method's own (KD on in-domain images); a
  baseline (:mod:`mmmosaic.baselines`) is the setting's MosaicKD config
  with ``baseline=METHOD``, or the MosaicKD config ``configs`` names for
  it (that of another setting whose runs it shares);
- ``budget``: options of every run made from a MosaicKD config (its length
  and the intervals that follow it), or ``{method: options}``;
- ``options``: the name of the option template (:data:`OPTION_TEMPLATES`)
  that points the configs at the data folders given on the command line;
- ``data``: folders ``make data`` writes that the setting reads;
  ``needs_data_root`` / ``needs_ood_root``: which of ``--data-root`` and
  ``--ood-root`` it needs, ``data_folders`` and ``data_layout`` what the
  first must hold, ``ood_files`` the files the second must hold;
- ``shared``: ``{method: setting}`` for runs trained once in another
  setting's work dir (the same config, options and seed);
- ``default_methods``, ``metric``, ``per_class_accuracy`` and
  ``coverage_images``.

An entry may name another as ``based_on``: it holds that entry's keys,
replaced by its own. Each resolved entry also holds ``run_options``,
``{method: options}`` that make a method's config that method at the
setting's budget (:func:`method_options` adds them).
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from mmmosaic.baselines import BASELINES
from mmmosaic.errors import MosaicError
from mmmosaic.utils.runs import REPO_ROOT

METHODS = ('kd_indomain', 'kd_ood', 'dfad', 'dfq', 'mosaickd')
#: What runs without --methods. DFQ costs as much as DFAD (a second
#: data-free run per seed), so it runs only when asked for.
DEFAULT_METHODS = ('kd_ood', 'dfad', 'mosaickd')
#: Methods that read no OOD image.
DATA_FREE = ('dfad', 'dfq')
#: Methods without a generator (no mosaics to show or measure).
NO_GENERATOR = ('kd_ood', 'kd_indomain')
#: How the reports name the teacher and each method.
NAMES = dict(
    teacher='Teacher (in-domain, supervised)',
    kd_indomain='KD on in-domain images (bound)',
    kd_ood='KD on OOD images',
    dfad='DFAD (data-free, adversarial)',
    dfq='DFQ (data-free, BN statistics)',
    mosaickd='MosaicKD (OOD images)')
#: The metric of a setting that names none.
ACCURACY = 'accuracy/top1'
#: What --data-root holds when a setting does not say.
CIFAR_LAYOUT = ('a CIFAR-10 image folder with train/<class>/*.jpg and '
                'test/<class>/*.jpg')

_CAMVID = dict(
    needs_data_root=True,
    data_folders=('train', 'trainannot', 'val', 'valannot'),
    data_layout='a CamVid folder in the SegNet layout '
    '({train,val,test}/NAME.png|jpg and {train,val,test}annot/NAME.png)',
    needs_ood_root=True,
    options='folders',
    metric='mIoU')
_CIFAR10_PHOTOS = 'configs/benchmarks/mosaickd_cifar10_photos.py'
# The ten-class CIFAR-10 settings: a teacher of all ten classes (trained
# once, in cifar10_photos) and OOD images from far domains, where plain KD
# ends far below the teacher. DFAD, DFQ and KD on the in-domain images read
# no OOD image, so the two settings share their runs too.
_CIFAR10_FAR = dict(
    teacher='configs/benchmarks/teacher_cifar10.py',
    kd_indomain='configs/benchmarks/kd_indomain_cifar10.py',
    dfad=_CIFAR10_PHOTOS,
    dfq=_CIFAR10_PHOTOS)
#: Budget options: the CIFAR-10 animal setting at 1,000 outer iterations
#: (5,000 student updates) instead of its config's 200.
_ANIMALS_LONG = ('train_cfg.max_iters=1000', 'train_cfg.val_interval=50',
                 'default_hooks.logger.interval=50',
                 'custom_hooks.0.interval=250')
#: CamVid at 180 outer iterations (900 student updates) instead of 60.
_CAMVID_LONG = ('train_cfg.max_iters=180', 'custom_hooks.0.interval=60')

_TABLE = {
    'mnist_fashion':
    dict(
        title='MNIST teacher, Fashion-MNIST images as OOD data; '
        'MNIST test accuracy (%)',
        configs=dict(
            teacher='configs/demo/teacher_mnist.py',
            mosaickd='configs/benchmarks/mosaickd_mnist.py'),
        data=('data/mnist', 'data/fashion_mnist'),
        options='none'),
    'fashion_mnist':
    dict(
        title='Fashion-MNIST teacher, MNIST images as OOD data; '
        'Fashion-MNIST test accuracy (%)',
        configs=dict(
            teacher='configs/benchmarks/teacher_fashion.py',
            mosaickd='configs/benchmarks/mosaickd_fashion_mnist.py'),
        data=('data/mnist', 'data/fashion_mnist'),
        options='none'),
    'cifar10_animals':
    dict(
        title='CIFAR-10 animal teacher (6 classes), vehicle images as OOD '
        'data; animal test accuracy (%)',
        configs=dict(
            teacher='configs/benchmarks/teacher_cifar10_animals.py',
            mosaickd='configs/benchmarks/mosaickd_cifar10_animals.py'),
        needs_data_root=True,
        options='folders'),
    'cifar10_animals_long':
    dict(
        based_on='cifar10_animals',
        title='CIFAR-10 animal teacher (6 classes), vehicle images as OOD '
        'data, 1,000 outer iterations; animal test accuracy (%)',
        budget=_ANIMALS_LONG,
        # The same teacher config and seed as cifar10_animals: train once.
        shared=dict(teacher='cifar10_animals')),
    'cifar10_ships_long':
    dict(
        based_on='cifar10_animals',
        title='CIFAR-10 animal teacher (6 classes), ship images only as OOD '
        'data, 1,000 outer iterations; animal test accuracy (%)',
        configs=dict(
            teacher='configs/benchmarks/teacher_cifar10_animals.py',
            mosaickd='configs/benchmarks/mosaickd_cifar10_ships_long.py',
            dfad='configs/benchmarks/mosaickd_cifar10_animals.py',
            dfq='configs/benchmarks/mosaickd_cifar10_animals.py'),
        # The budget of the ships' own config, given to the vehicles' one
        # that DFAD and DFQ are made from.
        budget=dict(dfad=_ANIMALS_LONG, dfq=_ANIMALS_LONG),
        # DFAD and DFQ see no OOD image, so their runs are those of the
        # vehicle setting (same config, teacher and seeds): reuse them.
        shared=dict(
            teacher='cifar10_animals',
            dfad='cifar10_animals_long',
            dfq='cifar10_animals_long')),
    'camvid':
    dict(
        _CAMVID,
        title='CamVid teacher (11 classes), general photographs as OOD '
        'data; CamVid val mIoU (%)',
        configs=dict(
            teacher='configs/benchmarks/teacher_camvid.py',
            mosaickd='configs/benchmarks/mosaickd_camvid.py')),
    'cifar10_photos':
    dict(
        title='CIFAR-10 teacher (10 classes), random crops of 680 general '
        'photographs as OOD data, 1,000 outer iterations; CIFAR-10 test '
        'accuracy (%)',
        configs=dict(_CIFAR10_FAR, mosaickd=_CIFAR10_PHOTOS),
        needs_data_root=True,
        needs_ood_root=True,
        options='folders',
        default_methods=('kd_indomain', 'kd_ood', 'dfad', 'dfq', 'mosaickd'),
        per_class_accuracy=True),
    'cifar10_digits':
    dict(
        based_on='cifar10_photos',
        title='CIFAR-10 teacher (10 classes), MNIST digits as 3-channel '
        '32x32 OOD data, 1,000 outer iterations; CIFAR-10 test accuracy (%)',
        configs=dict(
            _CIFAR10_FAR,
            mosaickd='configs/benchmarks/mosaickd_cifar10_digits.py'),
        needs_ood_root=False,
        data=('data/mnist', ),
        # mmpretrain's MNIST reads (or, missing one, downloads) all four.
        ood_files=('train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
                   't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
        options='digits',
        shared=dict(
            teacher='cifar10_photos',
            kd_indomain='cifar10_photos',
            dfad='cifar10_photos',
            dfq='cifar10_photos')),
    # CamVid at three times the budget (900 student updates): the teacher
    # is the camvid setting's (same config and seed), trained once.
    'camvid_long':
    dict(
        based_on='camvid',
        title='CamVid teacher (11 classes), general photographs as OOD '
        'data, 180 outer iterations; CamVid val mIoU (%)',
        budget=_CAMVID_LONG,
        shared=dict(teacher='camvid')),
    # The MNIST setting at the demo's budget (400 outer iterations).
    'mnist_fashion_400':
    dict(
        based_on='mnist_fashion',
        title='MNIST teacher, Fashion-MNIST images as OOD data, the demo\'s '
        '400 iterations; MNIST test accuracy (%)',
        configs=dict(
            teacher='configs/demo/teacher_mnist.py',
            mosaickd='configs/demo/mosaickd_mnist_fashion.py')),
}


def _runs(entry: dict) -> dict:
    """``entry`` with a config for every baseline (the MosaicKD config it
    is made from: the setting's own unless ``configs`` names another) and
    ``run_options``, ``{method: options}``: ``baseline=METHOD`` for a
    baseline, then the setting's ``budget``."""
    configs = dict(entry['configs'])
    budget = entry.get('budget', ())
    if not isinstance(budget, dict):
        budget = {method: budget for method in ('mosaickd', *BASELINES)}
    run_options = {}
    for method in BASELINES:
        configs.setdefault(method, configs['mosaickd'])
        run_options[method] = [f'baseline={method}']
    for method, options in budget.items():
        run_options.setdefault(method, []).extend(options)
    return dict(entry, configs=configs, run_options=run_options)


def _resolve(table: dict) -> dict:
    """Every entry of ``table`` with the keys of the entry it is
    ``based_on`` (recursively) under its own, and its runs
    (:func:`_runs`)."""

    def entry(name):
        own = dict(table[name])
        base = own.pop('based_on', None)
        return dict(entry(base), **own) if base else own

    return {name: _runs(entry(name)) for name in table}


#: ``{setting name: setting}``, as described in this module's docstring.
SETTINGS = _resolve(_TABLE)


def _folder_options(method: str, root: str, ood_root: Optional[str]):
    keys = ['val_dataloader.dataset', 'test_dataloader.dataset']
    if method == 'teacher':
        keys.append('train_dataloader.dataset')
    options = [f'{key}.data_root={root}' for key in keys]
    if method == 'kd_indomain':
        options.append(f'train_dataloader.dataset.source.data_root={root}')
    elif method != 'teacher' and method not in DATA_FREE:
        options.append('train_dataloader.dataset.source.data_root='
                       f'{ood_root or root}')
    return options


def _digits_options(method: str, root: str, ood_root: Optional[str]):
    if method not in ('kd_ood', 'mosaickd'):
        return _folder_options(method, root, None)
    options = _folder_options('dfad', root, None)
    if ood_root:
        options.append(f'train_dataloader.dataset.source.data_root={ood_root}')
    return options


def _no_options(method: str, root: str, ood_root: Optional[str]):
    return []


#: The option templates a setting's ``options`` names: each gives a
#: method's ``--cfg-options`` for the in-domain folder ``root`` and the OOD
#: folder ``ood_root``.
#:
#: - ``folders``: ``data_root`` of the in-domain folder for the teacher's
#:   training and every evaluation, and of the OOD source for KD and
#:   MosaicKD: ``ood_root``, or ``root`` itself where one folder holds both
#:   (CIFAR-10); KD on in-domain images reads ``root``; DFAD and DFQ read
#:   no image.
#: - ``digits``: the in-domain folder as ``folders``; the OOD digits of KD
#:   and MosaicKD come from ``data/mnist`` (``make data``; the configs name
#:   it), or from ``ood_root``, a folder of MNIST's IDX files, where one is
#:   given.
#: - ``none``: the configs' own data folders (``make data``).
OPTION_TEMPLATES = dict(
    folders=_folder_options, digits=_digits_options, none=_no_options)


def method_options(setting: dict, method: str, root: Optional[str],
                   ood_root: Optional[str]) -> List[str]:
    """The ``--cfg-options`` that point ``method``'s config of ``setting``
    (or the teacher's, ``method='teacher'``) at the data folders, then
    those that make it that method at the setting's budget."""
    return (OPTION_TEMPLATES[setting['options']](method, root, ood_root) +
            setting['run_options'].get(method, []))


def check_data(name: str, setting: dict, data_root: Optional[str],
               ood_root: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """Check the data folders given for setting ``name``.

    Returns:
        tuple: ``data_root`` and ``ood_root``, absolute where given.

    Raises:
        MosaicError: A folder the setting needs is missing or does not
            hold what it should, in one sentence.
    """
    if setting.get('needs_data_root'):
        layout = setting.get('data_layout', CIFAR_LAYOUT)
        if not data_root:
            raise MosaicError(f'{name} needs --data-root: {layout}.')
        for split in setting.get('data_folders', ('train', 'test')):
            if not osp.isdir(osp.join(data_root, split)):
                raise MosaicError(
                    f'--data-root {data_root!r} has no {split}/ folder; give '
                    f'{layout}.')
        data_root = osp.abspath(data_root)
    if setting.get('needs_ood_root') and not ood_root:
        raise MosaicError(f'{name} needs --ood-root: a folder of unlabeled '
                          'images (the out-of-domain data).')
    if ood_root:
        if not osp.isdir(ood_root):
            raise MosaicError(
                f'--ood-root {ood_root!r} is not a folder; give the folder '
                'of unlabeled OOD images.')
        for file_name in setting.get('ood_files', ()):
            if not osp.isfile(osp.join(ood_root, file_name)):
                raise MosaicError(
                    f'--ood-root {ood_root!r} has no {file_name}; give the '
                    'folder `make data` writes as data/mnist (the four '
                    'uncompressed IDX files of MNIST).')
        ood_root = osp.abspath(ood_root)
    return data_root, ood_root


def check_prepared_data(setting: dict, ood_root: Optional[str] = None) -> None:
    """Check the data folders ``make data`` writes that ``setting`` reads.

    Called after the arguments are checked (so that a bad option is
    reported first, data or not); a setting whose OOD data can come from
    ``ood_root`` instead needs them only without it.
    """
    if ood_root:
        return
    for folder in setting.get('data', ()):
        if not osp.isdir(osp.join(REPO_ROOT, folder)):
            raise MosaicError(
                f'{folder} is missing; run `make data` (or python '
                'tools/dataset_converters/fetch_mnist.py) first.')


def methods_of(setting: dict,
               methods: Optional[Sequence[str]] = None) -> List[str]:
    """``methods`` as given, or the setting's default methods."""
    if methods is not None:
        return list(methods)
    return list(setting.get('default_methods', DEFAULT_METHODS))
