"""Input checks that need no Runner, run before it prints its start-up
listing: a folder of OOD images without an image file, config keys that
the distillation or its players do not take, and a teacher checkpoint that
does not fit the teacher (another class count, another architecture).

Both would otherwise stop the run only once mmengine's Runner has logged
its environment, config and hooks (a few hundred lines), with the one
sentence that says what to fix at their end. :func:`check_before_runner`
runs them; :func:`mmmosaic.runtime.prepare_runtime` calls it.
"""
import copy
import difflib
import inspect
import os
import os.path as osp
import re
from typing import Iterator

import torch
from mmengine.registry import DefaultScope

from mmmosaic.errors import MosaicError

__all__ = [
    'check_before_runner', 'check_ood_images', 'check_teacher_given',
    'check_model_keys'
]

_UNEXPECTED_KW = re.compile(
    r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'")


def check_before_runner(cfg) -> None:
    """Every check of this module, in the order a run needs them."""
    check_ood_images(cfg)
    check_teacher_given(cfg)
    check_model_keys(cfg)


def check_teacher_given(cfg) -> None:
    """Stop if a distillation names no teacher checkpoint (and does not
    allow a random teacher), with where one comes from when the config's
    ``data_preparation.teacher_ckpt`` says."""
    from mmmosaic.models import is_game_config
    model = cfg.get('model')
    if (not isinstance(model, dict) or not is_game_config(model)
            or model.get('teacher_ckpt') is not None
            or model.get('allow_random_teacher')):
        return
    hint = (cfg.get('data_preparation') or {}).get('teacher_ckpt')
    where = f' (train one with `{hint}`)' if hint else ''
    raise MosaicError(
        'model.teacher_ckpt is not set; pass --cfg-options '
        f'model.teacher_ckpt=PATH with the trained teacher{where}.')


# ----------------------------------------------------------- OOD images
def _image_folders(node, where: str) -> Iterator[tuple]:
    """(config key, folder, extensions) of every ``UnlabeledImageFolder``
    a dataset config names, wrappers and ``source`` included."""
    if isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            yield from _image_folders(item, f'{where}[{i}]')
        return
    if not isinstance(node, dict):
        return
    kind = str(node.get('type', '')).rsplit('.', 1)[-1]
    if kind == 'UnlabeledImageFolder' and isinstance(
            node.get('data_root'), str):
        yield f'{where}.data_root', node['data_root'], node.get('extensions')
    for key in ('dataset', 'datasets', 'source'):
        if key in node:
            yield from _image_folders(node[key], f'{where}.{key}')


def check_ood_images(cfg) -> None:
    """Stop, naming the key, if a folder of OOD images holds no image
    file (the first one found ends the search: big folders cost nothing)."""
    from mmmosaic.datasets.ood_dataset import IMG_EXTENSIONS
    loader = cfg.get('train_dataloader')
    if not isinstance(loader, dict):
        return
    for key, root, extensions in _image_folders(
            loader.get('dataset'), 'train_dataloader.dataset'):
        if not osp.isdir(root):
            continue  # a missing folder is check_data_paths' sentence
        suffixes = tuple(e.lower() for e in (extensions or IMG_EXTENSIONS))
        if not any(f.lower().endswith(suffixes)
                   for _, _, files in os.walk(root, followlinks=True)
                   for f in files):
            raise MosaicError(
                f'OOD image folder {root!r} ({key}) holds no image files '
                f'({", ".join(suffixes)}); add images or fix {key}.')


# ---------------------------------------------------------- config keys
def _nearest(name: str, names) -> str:
    near = difflib.get_close_matches(name, list(names), n=1, cutoff=0.75)
    return f' (did you mean {near[0]!r}?)' if near else ''


def check_model_keys(cfg) -> None:
    """Stop, naming the key, if ``model`` of a distillation config has a
    key its class does not take, or its teacher or student (or a part of
    them: a head, a backbone) one that theirs do not; and, naming the
    file, if the teacher checkpoint does not fit the teacher.

    The players are built once more for this, without their pretrained
    weights (a second or two for large segmentors; the meta device would
    cost nothing but some backbones cannot be built there); anything else
    that fails is left to the real build, which reports it.
    """
    from mmmosaic.models import is_game_config
    from mmmosaic.registry import MODELS
    model = cfg.get('model')
    if not isinstance(model, dict) or not is_game_config(model):
        return
    cls = model['type']
    if not isinstance(cls, type):
        cls = MODELS.get(cls)
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        for key in model:
            if key not in params and key not in ('type', '_scope_'):
                raise MosaicError(
                    f'model.{key} is not a key of {cls.__name__}'
                    f'{_nearest(key, params)}; check its spelling in the '
                    'config or --cfg-options.')
    scope = cfg.get('default_scope') or 'mmmosaic'
    for player in ('teacher', 'student'):
        built, said = _build(model.get(player), scope)
        if said:
            part, key = said
            raise MosaicError(
                f'model.{player}: {part} takes no argument {key!r}; check '
                'the spelling of that key in the config or --cfg-options.')
        if player == 'teacher' and built is not None:
            _check_teacher_fits(built, model.get('teacher_ckpt'))


def _check_teacher_fits(teacher, path) -> None:
    """Stop if a local teacher checkpoint does not fit the teacher (its
    class count, its architecture). Read memory-mapped, so a big file
    costs little; a file that does not load so is left to the real load,
    which says what is wrong with it."""
    from mmmosaic.utils import check_state_dict_fits, is_url, state_dict_of
    if not isinstance(path, str) or is_url(path) or not osp.isfile(path):
        return
    try:
        loaded = torch.load(
            path, map_location='cpu', weights_only=True, mmap=True)
        state = state_dict_of(loaded, path)
    except Exception:  # noqa: BLE001 - the real load reports it
        return
    check_state_dict_fits(teacher.state_dict(), state, path, 'teacher')


def _build(player, scope: str) -> tuple:
    """``player`` built (or None where that fails), and (class, key) if it
    fails on a key a class of it does not take."""
    from mmmosaic.registry import MODELS
    if not isinstance(player, dict) or 'type' not in player:
        return None, None
    player = copy.deepcopy(player)
    kind = player.get('type')
    if '_scope_' not in player and isinstance(kind, str) and '.' in kind:
        player['_scope_'], player['type'] = kind.split('.', 1)
    # No download, no weights: only the keys and shapes are checked.
    player.pop('init_cfg', None)
    player.pop('pretrained', None)
    try:
        with DefaultScope.overwrite_default_scope(scope):
            return MODELS.build(player), None
    except TypeError as exc:
        match = _UNEXPECTED_KW.search(str(exc))
        return None, (match.groups() if match else None)
    except Exception:  # noqa: BLE001 - the real build reports the rest
        return None, None
