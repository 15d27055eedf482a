"""Loading model weights without running code from the file."""
from collections import OrderedDict

import torch
import torch.nn as nn

from mmmosaic.errors import MosaicError


def _summarise(keys, limit: int = 3) -> str:
    keys = list(keys)
    shown = ', '.join(keys[:limit])
    return f'{len(keys)} ({shown}{", ..." if len(keys) > limit else ""})'


def load_state_dict_file(path: str) -> 'OrderedDict[str, torch.Tensor]':
    """Read a state dict from ``path`` on CPU with ``weights_only=True``.

    Accepts an mmengine checkpoint (``{'state_dict': ...}``), a
    ``{'model': ...}`` dict or a bare state dict; strips DDP's ``module.``.
    """
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except FileNotFoundError:
        raise MosaicError(f'Checkpoint {path!r} does not exist.') from None
    except Exception as exc:  # torch raises many types for a bad file
        reason = str(exc).strip().splitlines()[0] if str(exc) else type(
            exc).__name__
        raise MosaicError(
            f'{path!r} is not a checkpoint that loads safely with '
            f'weights_only=True ({reason[:200]}); give a PyTorch/mmengine '
            'checkpoint file.') from None
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


def load_model_weights(model: nn.Module, path: str, name: str = 'model'):
    """Load ``path`` into ``model`` strictly, with one-sentence errors."""
    state = load_state_dict_file(path)
    own = model.state_dict()
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
    model.load_state_dict(state, strict=True)
