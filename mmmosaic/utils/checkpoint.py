"""Loading model weights without running code from the file."""
import os
import os.path as osp
import pickle
import re
from collections import OrderedDict

import torch
import torch.nn as nn

from mmmosaic.errors import MosaicError

#: The first bytes of a zip archive, the format of ``torch.save`` files.
_ZIP_MAGIC = b'PK\x03\x04'


def _summarise(keys, limit: int = 3) -> str:
    keys = list(keys)
    shown = ', '.join(keys[:limit])
    return f'{len(keys)} ({shown}{", ..." if len(keys) > limit else ""})'


def check_checkpoint_file(path: str,
                          what: str = 'Checkpoint',
                          todo: str = 'give an intact checkpoint') -> None:
    """Stop, without unpickling, if ``path`` is missing, empty or damaged.

    ``what`` names the file in the message (e.g. the flag that gave it),
    ``todo`` says what to do instead. A damaged file is a torch zip archive
    that fails its CRC check, e.g. cut short by a run killed while saving.
    """
    if not osp.exists(path):
        raise MosaicError(f'{what} {path!r} does not exist; {todo}.')
    if osp.isdir(path):
        raise MosaicError(f'{what} {path!r} is a folder, not a checkpoint '
                          f'file; {todo}.')
    if osp.getsize(path) == 0:
        raise MosaicError(f'{what} {path!r} is empty (0 bytes, e.g. left by a '
                          f'run killed while saving); {todo}.')
    with open(path, 'rb') as f:
        head = f.read(len(_ZIP_MAGIC))
    from mmmosaic.engine.atomic_backend import is_complete_checkpoint
    if head == _ZIP_MAGIC and not is_complete_checkpoint(path):
        raise MosaicError(
            f'{what} {path!r} is damaged (its zip archive is cut short or '
            f'corrupt, e.g. by a run killed while saving); {todo}.')
    if head != _ZIP_MAGIC and not head.startswith(b'\x80'):
        raise MosaicError(
            f'{what} {path!r} is not a checkpoint (neither a torch zip '
            f'archive nor a pickle); {todo}.')


def load_checkpoint_safely(path: str, what: str = 'Checkpoint'):
    """``torch.load(path, weights_only=True)`` on CPU, errors in a sentence.

    A file whose pickle would import anything but tensors and plain
    containers (and so could run code) is refused before any of it runs.
    ``what`` names the file in messages.
    """
    check_checkpoint_file(path, what,
                          'give a PyTorch/mmengine checkpoint file')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        found = re.search(r'GLOBAL ([\w.]+)', str(exc))
        detail = re.search(r'WeightsUnpickler error:\s*([^\n]+)', str(exc))
        if isinstance(exc, pickle.UnpicklingError) and found:
            reason = (f'it would call {found.group(1)} while loading, which '
                      'could run code; nothing of it was run')
        elif isinstance(exc, pickle.UnpicklingError) and detail:
            reason = (f'it holds more than tensors and plain containers '
                      f'({detail.group(1).strip()[:100]}); nothing of it was '
                      'run')
        else:
            lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
            reason = type(exc).__name__ + (f': {lines[0][:200]}'
                                           if lines else '')
        raise MosaicError(
            f'{what} {path!r} is not a checkpoint that loads safely with '
            f'weights_only=True ({reason}); give a PyTorch/mmengine '
            'checkpoint file.') from None


def state_dict_of(checkpoint, path: str) -> 'OrderedDict[str, torch.Tensor]':
    """The state dict in a loaded checkpoint: ``checkpoint['state_dict']``,
    ``checkpoint['model']`` or the checkpoint itself; DDP's ``module.``
    prefix removed."""
    state = checkpoint
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model'):
            if isinstance(checkpoint.get(key), dict):
                state = checkpoint[key]
                break
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise MosaicError(
            f'{path!r} holds no state dict of tensors; give a checkpoint '
            'saved by mmengine or torch.save(model.state_dict()).')
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state.items())


def load_state_dict_file(
        path: str,
        what: str = 'Checkpoint') -> 'OrderedDict[str, torch.Tensor]':
    """Read a state dict from ``path`` on CPU with ``weights_only=True``.

    Accepts an mmengine checkpoint (``{'state_dict': ...}``), a
    ``{'model': ...}`` dict or a bare state dict; strips DDP's ``module.``.
    """
    return state_dict_of(load_checkpoint_safely(path, what), path)


def check_state_dict_fits(own: dict, state: dict, path: str,
                          name: str) -> None:
    """Stop if ``state`` (read from ``path``) does not fit a model's own
    state dict ``own`` exactly: missing, unexpected or mis-shaped keys."""
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [
        f'{k} {tuple(v.shape)} vs {tuple(own[k].shape)}'
        for k, v in state.items() if k in own and v.shape != own[k].shape
    ]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f'missing keys {_summarise(missing)}')
        if unexpected:
            parts.append(f'unexpected keys {_summarise(unexpected)}')
        if mismatched:
            parts.append(f'shape mismatches {_summarise(mismatched)}')
        raise MosaicError(f'{path!r} does not fit the {name} architecture: ' +
                          '; '.join(parts) +
                          f'; check that the {name} config matches the '
                          'model the checkpoint was trained with.')


def load_model_weights(model: nn.Module,
                       path: str,
                       name: str = 'model') -> dict:
    """Load ``path`` into ``model`` strictly, with one-sentence errors.

    Returns:
        dict: The checkpoint's ``meta`` (empty if it has none), e.g. the
        ``dataset_meta`` with the class names it was trained on.
    """
    checkpoint = load_checkpoint_safely(path, f'The {name} checkpoint')
    state = state_dict_of(checkpoint, path)
    check_state_dict_fits(model.state_dict(), state, path, name)
    model.load_state_dict(state, strict=True)
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    return meta if isinstance(meta, dict) else {}


def is_url(path) -> bool:
    """Whether a checkpoint location is a URL rather than a file path."""
    return isinstance(path, str) and path.startswith(
        ('http://', 'https://', 'file://'))


def local_checkpoint(path: str) -> str:
    """``path`` itself, or for a URL the file it was downloaded to.

    URLs (``http(s)://``, ``file://``) are fetched once into torch hub's
    checkpoint folder (``$TORCH_HOME/hub/checkpoints``) and read from
    there afterwards; loading stays weights-only.
    """
    if not is_url(path):
        return path
    from urllib.parse import urlparse
    folder = osp.join(torch.hub.get_dir(), 'checkpoints')
    target = osp.join(folder, osp.basename(urlparse(path).path))
    if not osp.isfile(target):
        os.makedirs(folder, exist_ok=True)
        try:
            torch.hub.download_url_to_file(path, target, progress=False)
        except Exception as exc:  # network errors come in many types
            raise MosaicError(
                f'Checkpoint {path!r} could not be downloaded '
                f'({type(exc).__name__}: {str(exc).strip()[:200]}); download '
                'it yourself and give its file path instead.') from None
    return target


def task_meta(dataset_meta, num_classes=None):
    """``classes`` (and ``palette``) of a ``dataset_meta``, or None.

    Names that do not match ``num_classes`` (when known) belong to another
    task and are dropped.
    """
    if not isinstance(dataset_meta, dict):
        return None
    classes = dataset_meta.get('classes')
    if not classes or (num_classes is not None
                       and len(classes) != num_classes):
        return None
    meta = dict(classes=[str(c) for c in classes])
    palette = dataset_meta.get('palette')
    if palette is not None and len(palette) == len(classes):
        meta['palette'] = [list(map(int, color)) for color in palette]
    return meta
