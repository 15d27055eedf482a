"""What a GPU run needs, reproduced on the CPU (issue 37).

- resuming from a checkpoint whose tensors mmengine mapped to a GPU
  (tensors that behave as CUDA ones, ``tests/_on_gpu.py``);
"""
import io
from types import SimpleNamespace

import numpy as np
import torch
from _on_gpu import OnGpu, on_gpu, strict_rng_setters
from _tiny import build_game
from mmengine.logging import HistoryBuffer, MessageHub

from mmmosaic.engine import RandomStateHook, SafeCheckpointHook


def _saved_and_loaded_on_gpu(checkpoint: dict) -> dict:
    """``checkpoint`` written as rank 0 writes it, then loaded as
    ``Runner.resume`` loads it on a GPU machine (every tensor on cuda:0)."""
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    buffer.seek(0)
    return on_gpu(torch.load(buffer, weights_only=True, map_location='cpu'))


def test_resume_from_a_checkpoint_mapped_to_a_gpu(monkeypatch):
    strict_rng_setters(monkeypatch)
    model, _ = build_game()
    hub = MessageHub.get_instance('gpu_readiness_resume')
    for value in (1.0, 2.0, 4.0):
        hub.update_scalar('train/loss', value)
    checkpoint = dict(
        meta=dict(seed=np.int64(3), shape=np.arange(4)),
        message_hub=hub.state_dict())
    runner = SimpleNamespace(model=model, iter=3)
    torch.manual_seed(7)
    hooks = (SafeCheckpointHook(), RandomStateHook())
    for hook in hooks:
        hook.before_save_checkpoint(runner, checkpoint)
    expected = torch.randn(5)  # what the run draws after the checkpoint

    loaded = _saved_and_loaded_on_gpu(checkpoint)
    assert isinstance(loaded['rng_state']['cpu'], OnGpu)
    assert loaded['rng_state']['cpu'].device.type == 'cuda'
    for hook in hooks:
        hook.after_load_checkpoint(runner, loaded)
    history = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(history, HistoryBuffer)
    assert history.data[0].tolist() == [1.0, 2.0, 4.0]
    assert loaded['meta']['shape'].tolist() == [0, 1, 2, 3]
    torch.manual_seed(0)  # anything else
    hooks[1].before_train_iter(SimpleNamespace(model=model, iter=4), 0)
    assert torch.equal(torch.randn(5), expected)
