"""Teacher and student by reference to an mmpretrain / mmseg config.

``teacher=dict(cfg_path='mmpretrain::resnet/resnet18_8xb16_cifar10.py')``
builds the model of that config and nothing else of it: its ``model``, with
the config's top-level ``data_preprocessor`` folded in (as the Runner of
that config would) and its ``default_scope`` as the model's ``_scope_``.
The zoo's datasets, schedule and runtime never enter the distillation.
Other keys of the reference override the model's, as a config that
inherits it would (``head=dict(num_classes=10)``; ``_delete_`` works).
``pretrained=True`` takes the checkpoint the package's metafile lists for
the config: the teacher's weights, or the student's starting point.

The zoo configs ship inside the installed packages (``.mim/configs``), so
building from them needs no download.
"""
import copy
import importlib.util
import os.path as osp
from typing import Optional, Tuple

from mmengine.config import Config, ConfigDict

from mmmosaic.errors import MosaicError

__all__ = [
    'is_model_ref', 'read_model_ref', 'resolve_players', 'zoo_config_file'
]

#: Packages whose configs ``pkg::path`` can name.
ZOO_PACKAGES = ('mmpretrain', 'mmseg')


def is_model_ref(cfg) -> bool:
    """Whether a model config is a reference (it has ``cfg_path``)."""
    return isinstance(cfg, dict) and 'cfg_path' in cfg


def zoo_config_file(cfg_path: str, where: str) -> str:
    """The file ``cfg_path`` names: ``pkg::rel/path.py`` inside an installed
    package's ``.mim/configs``, or a file path."""
    if '::' not in cfg_path:
        if not osp.isfile(cfg_path):
            raise MosaicError(
                f'{where}.cfg_path {cfg_path!r} does not exist; give a config '
                "file or a zoo config such as 'mmpretrain::resnet/"
                "resnet18_8xb16_cifar10.py'.")
        return cfg_path
    package, rel = cfg_path.split('::', 1)
    spec = importlib.util.find_spec(package) if package else None
    if package not in ZOO_PACKAGES or spec is None:
        raise MosaicError(
            f'{where}.cfg_path {cfg_path!r} names the package {package!r}, '
            f'which is not an installed model zoo; use '
            f'{" or ".join(p + "::" for p in ZOO_PACKAGES)} or a file path.')
    root = osp.join(spec.submodule_search_locations[0], '.mim', 'configs')
    path = osp.join(root, rel)
    if not osp.isfile(path):
        near = _nearest_config(root, rel)
        fix = (f"did you mean '{package}::{near}'?"
               if near else 'check the name against its configs folder.')
        raise MosaicError(
            f'{where}.cfg_path {cfg_path!r} is not a config of the installed '
            f'{package} (looked in {root}); {fix}')
    return path


def _nearest_config(root: str, rel: str) -> Optional[str]:
    """The config under ``root`` whose relative path is nearest to
    ``rel``, if one is near enough to be a misspelling of it."""
    import difflib
    import glob
    names = [
        osp.relpath(p, root).replace(osp.sep, '/')
        for p in glob.glob(osp.join(root, '**', '*.py'), recursive=True)
    ]
    near = difflib.get_close_matches(rel, names, n=1, cutoff=0.8)
    return near[0] if near else None


def _zoo_weights(path: str, where: str) -> str:
    """The checkpoint URL the metafile beside config ``path`` lists."""
    from mmengine.fileio import load
    folder, name = osp.split(path)
    for meta in ('metafile.yml', 'metafile.yaml'):
        meta_path = osp.join(folder, meta)
        if not osp.isfile(meta_path):
            continue
        for entry in (load(meta_path) or {}).get('Models') or []:
            config = str(entry.get('Config', ''))
            if osp.basename(config) == name and entry.get('Weights'):
                return entry['Weights']
    raise MosaicError(
        f'{where}.pretrained=True but no checkpoint is listed for '
        f'{path!r} in a metafile beside it; give the weights as a path or '
        'URL instead (model.teacher_ckpt for the teacher).')


def read_model_ref(
        ref: dict,
        where: str,
        base_dir: Optional[str] = None) -> Tuple[ConfigDict, Optional[str]]:
    """The model config a reference stands for.

    Args:
        ref (dict): ``cfg_path`` (``pkg::...`` or a file), optionally
            ``pretrained`` (True / False) and overrides of the model's keys.
        where (str): The reference's config key, for messages
            (``model.teacher``).
        base_dir (str, optional): Folder of the config holding the
            reference; a relative file path is also looked for there.

    Returns:
        tuple: The model config (a plain model dict with ``_scope_``) and
        the zoo checkpoint URL if ``pretrained=True``, else None.
    """
    ref = copy.deepcopy(dict(ref))
    cfg_path = ref.pop('cfg_path')
    if not isinstance(cfg_path, str):
        raise MosaicError(f'{where}.cfg_path must be a config path, got '
                          f'{cfg_path!r}.')
    # A bool is ours (the zoo checkpoint); anything else is the model's own
    # ``pretrained`` argument (mmseg's EncoderDecoder has one).
    pretrained = (
        ref.pop('pretrained')
        if isinstance(ref.get('pretrained'), bool) else False)
    if (base_dir and '::' not in cfg_path and not osp.isabs(cfg_path)
            and not osp.isfile(cfg_path)
            and osp.isfile(osp.join(base_dir, cfg_path))):
        cfg_path = osp.join(base_dir, cfg_path)
    path = zoo_config_file(cfg_path, where)
    try:
        cfg = Config.fromfile(path)
    except Exception as exc:  # the file's own code can raise anything
        raise MosaicError(
            f'{where}.cfg_path {cfg_path!r} could not be read '
            f'({type(exc).__name__}: {str(exc).strip()[:200]}); fix that '
            'config or name another.') from None
    model = cfg.get('model')
    if not isinstance(model, dict) or not model.get('type'):
        raise MosaicError(
            f'{where}.cfg_path {cfg_path!r} defines no model with a type; '
            'name a config that sets model = dict(type=..., ...).')
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    # As that config's Runner would: its top-level data_preprocessor is the
    # model's unless the model names its own.
    if cfg.get('data_preprocessor') is not None:
        model.setdefault('data_preprocessor', cfg.data_preprocessor)
    scope = cfg.get('default_scope') or (cfg_path.split('::')[0]
                                         if '::' in cfg_path else None)
    if scope and '_scope_' not in model and '.' not in str(model.type):
        model['_scope_'] = scope
    if ref:
        merged = Config(dict(model=model))
        merged.merge_from_dict(dict(model=ref))
        model = merged.model
    url = _zoo_weights(path, where) if pretrained else None
    return ConfigDict(model), url


def resolve_players(model: dict, base_dir: Optional[str] = None) -> dict:
    """A copy of a MosaicKD model config with ``teacher`` and ``student``
    references replaced by the models they stand for.

    ``pretrained=True`` makes the zoo checkpoint ``teacher_ckpt`` (unless
    one is given) or the student's ``init_cfg``. Configs without
    references come back unchanged.
    """
    model = copy.copy(model)
    for key in ('teacher', 'student'):
        if not is_model_ref(model.get(key)):
            continue
        model[key], url = read_model_ref(model[key], f'model.{key}', base_dir)
        if url is None:
            continue
        if key == 'student':
            model[key]['init_cfg'] = dict(type='Pretrained', checkpoint=url)
        elif model.get('teacher_ckpt') is None:
            model['teacher_ckpt'] = url
    return model
