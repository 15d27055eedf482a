"""Tensors that look, to the code under test, as if they were on a GPU.

This machine has no GPU, and a checkpoint loaded with ``map_location``
``'cuda'`` cannot be made here. :class:`OnGpu` stands in for such tensors:
its ``device`` is ``cuda:0`` and, like a CUDA tensor, it refuses
``.numpy()`` with torch's own TypeError; ``.cpu()`` and ``.to('cpu')``
give an ordinary CPU tensor, as they would for a real one. Everything else
computes on the CPU data underneath.

torch's generators check the real device of a state, which is the CPU
here, so :func:`strict_rng_setters` makes ``torch.set_rng_state`` (and
``torch.cuda.set_rng_state``) refuse a state whose ``device`` is not the
CPU with the TypeError torch raises for a CUDA tensor.
"""
import torch

CUDA_NUMPY_ERROR = ("can't convert cuda:0 device type tensor to numpy. Use "
                    'Tensor.cpu() to copy the tensor to host memory first.')
RNG_STATE_ERROR = 'RNG state must be a torch.ByteTensor'


def _to_cpu(args, kwargs) -> bool:
    """Whether a ``Tensor.to`` call targets the CPU."""
    for value in list(args[1:]) + [kwargs.get('device')]:
        if isinstance(value, (str, torch.device)):
            return torch.device(value).type == 'cpu'
    return False


class OnGpu(torch.Tensor):
    """A CPU tensor that claims to live on ``cuda:0`` (module docstring)."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, '__name__', '')
        owner = getattr(func, '__self__', None)
        if name == '__get__' and owner is torch.Tensor.device:
            return torch.device('cuda', 0)
        if name == '__get__' and owner is torch.Tensor.is_cuda:
            return True
        if name == 'numpy':
            raise TypeError(CUDA_NUMPY_ERROR)
        if name == 'cpu' or (name == 'to' and _to_cpu(args, kwargs)):
            return args[0].as_subclass(torch.Tensor).clone()
        return super().__torch_function__(func, types, args, kwargs)


def on_gpu(obj):
    """``obj`` with every tensor in it replaced by an :class:`OnGpu` one,
    as mmengine's ``Runner.resume`` loads a checkpoint on a GPU machine."""
    if isinstance(obj, torch.Tensor):
        return obj.clone().as_subclass(OnGpu)
    if isinstance(obj, dict):
        return type(obj)((k, on_gpu(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(on_gpu(v) for v in obj)
    return obj


def strict_rng_setters(monkeypatch) -> None:
    """Make torch's RNG setters refuse :class:`OnGpu` states as torch's
    generators refuse CUDA tensors (TypeError)."""

    def strict(setter):

        def set_state(new_state, *args, **kwargs):
            if new_state.device.type != 'cpu':
                raise TypeError(RNG_STATE_ERROR)
            return setter(new_state, *args, **kwargs)

        return set_state

    monkeypatch.setattr(torch, 'set_rng_state', strict(torch.set_rng_state))
