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


class FakeCuda:
    """torch.cuda's random-state API for ``device_count`` GPUs that do not
    exist: each GPU's generator state is a ByteTensor of 16 bytes that
    ``get_rng_state`` / ``set_rng_state`` (with ``get_rng_state_all`` /
    ``set_rng_state_all``) read and write; this process uses GPU 0.
    ``install(setattr)`` puts it in place (``monkeypatch.setattr``, or
    ``setattr`` in a spawned process)."""

    def __init__(self, device_count=1, seed=0):
        self.states = [
            torch.full((16, ), seed + i, dtype=torch.uint8)
            for i in range(device_count)
        ]

    def _index(self, device):
        if isinstance(device, int):
            return device
        index = torch.device(device).index
        return 0 if index is None else index

    def get_rng_state(self, device='cuda'):
        return self.states[self._index(device)].clone()

    def set_rng_state(self, new_state, device='cuda'):
        if new_state.device.type != 'cpu':
            raise TypeError(RNG_STATE_ERROR)
        self.states[self._index(device)] = new_state.clone()

    def get_rng_state_all(self):
        return [state.clone() for state in self.states]

    def set_rng_state_all(self, new_states):
        for i, state in enumerate(new_states):
            self.set_rng_state(state, i)

    def install(self, set_attr) -> 'FakeCuda':
        for name in ('get_rng_state', 'set_rng_state', 'get_rng_state_all',
                     'set_rng_state_all'):
            set_attr(torch.cuda, name, getattr(self, name))
        set_attr(torch.cuda, 'is_available', lambda: True)
        set_attr(torch.cuda, 'is_initialized', lambda: True)
        set_attr(torch.cuda, 'current_device', lambda: 0)
        set_attr(torch.cuda, 'device_count', lambda: len(self.states))
        return self
