"""The module inside a distributed wrapper."""
import torch.nn as nn
from mmengine.model import is_model_wrapper


def unwrap_model(module: nn.Module) -> nn.Module:
    """``module.module`` if ``module`` is a DDP-style wrapper mmengine
    knows (``is_model_wrapper``), else ``module`` itself."""
    return module.module if is_model_wrapper(module) else module
