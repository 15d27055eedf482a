"""Where a MosaicKD iteration's time goes, and the arithmetic it needs.

:class:`PhaseProfiler` is a context manager around a :class:`~mmmosaic.
models.MosaicKD` instance. Inside it, the model's phase methods (the
preprocessing of a batch, the D, G and S steps, every ``G(z)`` and every
teacher forward, every backward-and-step) are wrapped on the instance (the
class and mmengine are left alone) so that each call is timed, under the
path of the phases that enclose it, e.g. ``S steps / teacher forward``.
On exit the instance is as before.

With ``count_macs=True`` it also counts the multiply-adds (MACs) of every
phase, analytically from the layers that run in it: forward hooks on each
``Conv``, ``ConvTranspose``, ``Linear`` and ``BatchNorm`` layer of the
model compute the forward MACs from the actual tensor shapes:

- convolution: ``output elements x in_channels / groups x kernel area``;
- transposed convolution: ``input elements x out_channels / groups x
  kernel area``;
- linear: ``output elements x in_features``;
- BatchNorm: one per element (scale and shift; its statistics are not
  counted).

Other layers (activations, pooling, resizing, losses) are not counted: they
are memory-bound work, which is what the time above the floor shows.

Backward rule: a layer's backward costs its forward MACs once for the
gradient of its input, if the input needs one, plus once for the gradient of
its weight, if the weight needs one (so 2x the forward for a hidden layer
being trained, 1x for the first layer of a trained network or for a frozen
network that passes gradients through, 0x under ``no_grad``). These MACs are
counted in the phases that run the backward: the call of
``MosaicKD._update`` whose loss's autograd graph holds the layer's output
(so the backward of the first ``G(z)``, made before the D step, is counted
in the G step, where it runs).

:func:`time_phases` gives the seconds per iteration of each phase, of
the data loading and of the rest, for any object whose phase methods are
named (the plain-PyTorch game of ``benchmarks/speed.py --vs-plain`` too);
:func:`check_phases` refuses, before anything is timed, an object that
lacks one (a renamed method would otherwise drop out of the table).

:func:`reference_rate` times a plain convolution of a given shape: the rate
the machine achieves on the model's own dominant layer, against which each
phase's MACs become a floor time.

What ``benchmarks/speed.py`` times iterations with: a config set up for
timing (:func:`benchmark_cfg`) whose train loop
(:class:`SpeedBenchmarkLoop`) hands control to a benchmark after the
Runner's whole set-up, and advances training a given number of iterations
at a time.
"""
import inspect
import os
import os.path as osp
import platform
import statistics
import time
from collections import OrderedDict, defaultdict
from typing import Callable, Dict, List, Mapping, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.runner import IterBasedTrainLoop

from mmmosaic.compat import run_train_iterations
from mmmosaic.errors import MosaicError
from mmmosaic.registry import LOOPS
from mmmosaic.runtime import prepare_runtime

__all__ = [
    'PHASES', 'PhaseProfiler', 'check_phases', 'clock', 'layer_macs',
    'reference_rate', 'time_phases', 'SpeedBenchmarkLoop', 'benchmark_cfg',
    'check_file', 'spread', 'run_record'
]

#: The phase methods of MosaicKD and the name each is reported under.
PHASES = OrderedDict([
    ('split_batch', 'split + preprocess'),
    ('synthesize', 'G(z) forward'),
    ('discriminator_step', 'D step'),
    ('generator_step', 'G step'),
    ('generator_warm_start_step', 'G step (warm start)'),
    ('student_step', 'S steps'),
    ('teacher_logits', 'teacher forward'),
    ('_update', 'backward + step'),
])

_COUNTED = (nn.modules.conv._ConvNd, nn.Linear, nn.modules.batchnorm._NormBase)


def layer_macs(module: nn.Module, inputs: torch.Tensor,
               output: torch.Tensor) -> int:
    """Forward multiply-adds of one call of a counted layer (see the module
    docstring for the rule of each kind); 0 for any other layer."""
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        kernel = _prod(module.kernel_size)
        return inputs.numel() * (module.out_channels // module.groups) * kernel
    if isinstance(module, nn.modules.conv._ConvNd):
        kernel = _prod(module.kernel_size)
        return output.numel() * (module.in_channels // module.groups) * kernel
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    if isinstance(module, nn.modules.batchnorm._NormBase):
        return inputs.numel()
    return 0


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= int(v)
    return out


class _Stat:
    __slots__ = ('calls', 'seconds', 'fwd_macs', 'bwd_macs')

    def __init__(self):
        self.calls = 0
        self.seconds = 0.0
        self.fwd_macs = 0
        self.bwd_macs = 0


class PhaseProfiler:
    """Time (and optionally count the MACs of) a MosaicKD's phases.

    Args:
        model (MosaicKD): The model; its methods named in ``phases`` that
            it has are wrapped on the instance while the profiler is
            entered.
        count_macs (bool): Also register forward hooks on the model's
            counted layers and attribute their MACs to phases. The hooks
            add Python work to every layer call: time and count in separate
            runs.
        synchronize (bool): Call ``torch.cuda.synchronize()`` at each phase
            boundary so GPU time lands in the phase that queued it. Defaults
            to whether CUDA is available.
        phases (dict): ``{method name: phase name}``, in the order of the
            rows; defaults to MosaicKD's, :data:`PHASES`.

    After (or during) a run, :meth:`rows` gives one row per phase path.
    """

    def __init__(self,
                 model: nn.Module,
                 count_macs: bool = False,
                 synchronize: Optional[bool] = None,
                 phases: Mapping[str, str] = PHASES):
        self.model = model
        self.phases = phases
        self.count_macs = count_macs
        self.synchronize = (
            torch.cuda.is_available() if synchronize is None else synchronize)
        self.stats: Dict[str, _Stat] = defaultdict(_Stat)
        self.total = _Stat()
        #: MACs of each convolution signature (its arguments and input
        #: shape), to find the layer that dominates the arithmetic.
        self.conv_macs: Dict[tuple, int] = defaultdict(int)
        self._stack: List[str] = []
        self._pending: Dict[object, int] = {}
        self._handles = []
        self._wrapped = []

    # ------------------------------------------------------------ wrapping
    def __enter__(self):
        for attr, name in self.phases.items():
            if callable(getattr(self.model, attr, None)):
                self._wrap(attr, name)
        if self.count_macs:
            for module in self.model.modules():
                if isinstance(module, _COUNTED):
                    self._handles.append(
                        module.register_forward_hook(self._count))
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        for attr, had, original in reversed(self._wrapped):
            if had:
                setattr(self.model, attr, original)
            else:
                delattr(self.model, attr)
        self._wrapped = []
        self._pending.clear()
        return False

    def _wrap(self, attr: str, name: str) -> None:
        had = attr in vars(self.model)
        original = getattr(self.model, attr)
        is_update = attr == '_update'

        def timed(*args, **kwargs):
            self._stack.append(name)
            path = ' / '.join(self._stack)
            if is_update and self.count_macs:
                loss = args[1] if len(args) > 1 else kwargs.get('loss')
                self._add(self._backward_macs(loss), backward=True)
            if self.synchronize:
                torch.cuda.synchronize()
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                if self.synchronize:
                    torch.cuda.synchronize()
                stat = self.stats[path]
                stat.seconds += time.perf_counter() - start
                stat.calls += 1
                self._stack.pop()

        setattr(self.model, attr, timed)
        self._wrapped.append((attr, had, original))

    # ------------------------------------------------------------ counting
    def _paths(self):
        """The path of every phase now open, innermost last."""
        return [
            ' / '.join(self._stack[:i + 1]) for i in range(len(self._stack))
        ] or ['(outside phases)']

    def _add(self, macs: int, backward: bool) -> None:
        if not macs:
            return
        for stat in [self.total] + [self.stats[p] for p in self._paths()]:
            if backward:
                stat.bwd_macs += macs
            else:
                stat.fwd_macs += macs

    def _count(self, module, args, output):
        inputs = args[0] if args else None
        if not torch.is_tensor(inputs) or not torch.is_tensor(output):
            return
        macs = layer_macs(module, inputs, output)
        self._add(macs, backward=False)
        if isinstance(module, nn.modules.conv._ConvNd):
            kind = ('ConvTranspose' if isinstance(
                module, nn.modules.conv._ConvTransposeNd) else 'Conv')
            key = (f'{kind}{len(module.kernel_size)}d', module.in_channels,
                   module.out_channels, tuple(module.kernel_size),
                   tuple(module.stride), tuple(module.padding),
                   tuple(module.dilation), module.groups, tuple(inputs.shape))
            self.conv_macs[key] += macs
        if output.grad_fn is None:
            return
        weight = getattr(module, 'weight', None)
        factor = int(inputs.requires_grad) + int(weight is not None
                                                 and weight.requires_grad)
        if factor:
            node = output.grad_fn
            self._pending[node] = self._pending.get(node, 0) + factor * macs

    def _backward_macs(self, loss) -> int:
        """Pop and sum the pending backward MACs of the layers in
        ``loss``'s autograd graph."""
        if not torch.is_tensor(loss) or loss.grad_fn is None:
            return 0
        total, seen, todo = 0, set(), [loss.grad_fn]
        while todo:
            node = todo.pop()
            if node is None or node in seen:
                continue
            seen.add(node)
            total += self._pending.pop(node, 0)
            todo.extend(fn for fn, _ in node.next_functions)
        return total

    # ------------------------------------------------------------ results
    def total_macs(self) -> int:
        """Forward and backward MACs counted so far, all phases."""
        return self.total.fwd_macs + self.total.bwd_macs

    def dominant_conv(self) -> Optional[tuple]:
        """The convolution signature with the most MACs counted."""
        if not self.conv_macs:
            return None
        return max(self.conv_macs.items(), key=lambda kv: kv[1])[0]

    def rows(self, iterations: int = 1) -> List[dict]:
        """One row per phase path, per iteration: ``phase`` (the path),
        ``depth``, ``calls``, ``seconds``, ``fwd_macs``, ``bwd_macs``;
        children follow their parent, in the order of the phases."""
        order = {name: i for i, name in enumerate(self.phases.values())}

        def key(path):
            return [order.get(part, len(order)) for part in path.split(' / ')]

        out = []
        for path in sorted(self.stats, key=key):
            stat = self.stats[path]
            out.append(
                dict(
                    phase=path,
                    depth=path.count(' / '),
                    calls=stat.calls / iterations,
                    seconds=stat.seconds / iterations,
                    fwd_macs=stat.fwd_macs / iterations,
                    bwd_macs=stat.bwd_macs / iterations))
        return out


def clock() -> float:
    """``time.perf_counter()`` once the GPU (if one is in use) has finished
    the work queued so far: CUDA kernels run asynchronously, so a timer
    that does not wait stops before its work is done."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
    return time.perf_counter()


def check_phases(target, phases: Mapping[str, str] = PHASES) -> None:
    """Refuse ``target`` if it lacks a method of ``phases`` (renamed),
    naming the methods its class has.

    Raises:
        MosaicError: A phase method is missing, in one sentence.
    """
    missing = [
        attr for attr in phases if not callable(getattr(target, attr, None))
    ]
    if missing:
        owner = type(target).__name__
        have = sorted(
            name for name, value in vars(type(target)).items()
            if inspect.isfunction(value) and not name.startswith('__'))
        raise MosaicError(
            f'the phase profiler times {owner}.{missing[0]}, which {owner} '
            f'does not have (it has {", ".join(have)}); update the phases '
            'to the new name.')


def time_phases(target,
                iterate: Callable[[int], float],
                iterations: int,
                phases: Mapping[str, str] = PHASES) -> List[dict]:
    """Seconds per iteration of ``iterations`` iterations that
    ``iterate(n)`` runs (returning the seconds it spent fetching batches),
    phase by phase (:class:`PhaseProfiler` on ``target``).

    Returns:
        list[dict]: Rows as :meth:`PhaseProfiler.rows` gives them, one
        level deeper, under the whole iteration (``depth`` 0): the data
        loading first, the phases, and the rest (the loop, hooks and code
        outside the phases).
    """
    with PhaseProfiler(target, phases=phases) as timer:
        start = clock()
        data = iterate(iterations)
        wall = clock() - start
    rows = [
        dict(
            phase='iteration (wall)',
            depth=0,
            calls=1,
            seconds=wall / iterations),
        dict(
            phase='data: next(dataloader), decoding',
            depth=1,
            calls=1,
            seconds=data / iterations)
    ]
    for row in timer.rows(iterations):
        row['depth'] += 1
        rows.append(row)
    rest = wall / iterations - sum(r['seconds']
                                   for r in rows[1:] if r['depth'] == 1)
    rows.append(
        dict(
            phase='rest (loop, hooks, unwrapped code)',
            depth=1,
            calls=1,
            seconds=rest))
    return rows


def reference_rate(signature: Optional[tuple] = None,
                   reps: int = 10,
                   device: str = 'cpu') -> Tuple[float, str]:
    """Achieved multiply-adds per second of one plain convolution forward.

    Args:
        signature (tuple, optional): A :meth:`PhaseProfiler.dominant_conv`
            key; None times a 64->64 3x3 convolution on ``[32, 64, 32, 32]``.
        reps (int): Calls timed; the fastest counts (the least disturbed
            by other work on the machine).
        device (str): Where to run it.

    Returns:
        tuple[float, str]: MACs per second and a description of the layer.
    """
    if signature is None:
        signature = ('Conv2d', 64, 64, (3, 3), (1, 1), (1, 1), (1, 1), 1,
                     (32, 64, 32, 32))
    (kind, cin, cout, kernel, stride, padding, dilation, groups,
     shape) = signature
    conv = getattr(nn, kind)(
        cin,
        cout,
        kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=False).to(device).eval()
    x = torch.randn(*shape, device=device)
    with torch.no_grad():
        out = conv(x)
        macs = layer_macs(conv, x, out)
        best = float('inf')
        for _ in range(reps):
            if device != 'cpu':
                torch.cuda.synchronize()
            start = time.perf_counter()
            conv(x)
            if device != 'cpu':
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - start)
    what = (f'{kind} {cin}->{cout} k{"x".join(map(str, kernel))} '
            f's{"x".join(map(str, stride))} on {list(shape)}')
    return macs / best, what


#: An interval no benchmark reaches.
NEVER = 10**9


@LOOPS.register_module(force=True)
class SpeedBenchmarkLoop(IterBasedTrainLoop):
    """IterBasedTrainLoop whose ``run`` hands control to a benchmark.

    ``runner.train()`` does all its usual set-up (optimisers, schedulers,
    ``before_run`` hooks, weight init, teacher load) and then calls
    :meth:`run`, which calls the ``before_train*`` hooks and
    ``SpeedBenchmarkLoop.driver(self)``. The driver advances training with
    :meth:`iterate`: the iterations of ``IterBasedTrainLoop.run``
    (:func:`mmmosaic.compat.run_train_iterations`).
    """
    driver = None

    def run(self):
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        type(self).result = type(self).driver(self)
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def iterate(self, n: int) -> float:
        """Run ``n`` iterations; return seconds spent fetching batches."""
        return run_train_iterations(self, n)


def check_file(path: str, flag: str) -> None:
    """Refuse a config path (given as ``flag``) that is no file."""
    if not osp.isfile(path):
        raise MosaicError(f'{flag} {path!r} does not exist; give a config '
                          'file.')


def schedules(cfg) -> dict:
    """``cfg.param_scheduler`` as scheduler lists: by player, or under None
    the one list every player shares."""
    by_player = cfg.param_scheduler
    if isinstance(by_player, dict) and 'type' not in by_player:
        return dict(by_player)
    return {None: by_player if isinstance(by_player, list) else [by_player]}


def keep_schedule_lengths(cfg) -> None:
    """Give each cosine of ``cfg`` the ``T_max`` mmengine derives for the
    config's own run (``end - begin``, ``end`` defaulting to
    ``train_cfg.max_iters``), so that replacing the training loop leaves
    the schedules as they were."""
    max_iters = int(cfg.train_cfg.max_iters)
    for schedule in schedules(cfg).values():
        for step in schedule:
            if step['type'].startswith('CosineAnnealing'):
                step.setdefault(
                    'T_max',
                    step.get('end', max_iters) - step.get('begin', 0))


def benchmark_cfg(cfg,
                  config_path: str,
                  work_dir: str,
                  teacher_ckpt: Optional[str] = None,
                  seed: int = 0,
                  name: Optional[str] = None) -> str:
    """``cfg`` set up for timing: a random teacher unless ``teacher_ckpt``
    is a file, the benchmark loop, no evaluation, and logging, checkpoints
    and hooks at intervals never reached; ``name`` names its Runner (each
    Runner of a process its own message hub). Returns the teacher it
    uses, in words."""
    if teacher_ckpt and osp.isfile(teacher_ckpt):
        cfg.model.teacher_ckpt = teacher_ckpt
        teacher = teacher_ckpt
    else:
        cfg.model.teacher_ckpt = None
        cfg.model.allow_random_teacher = True
        teacher = 'random (no checkpoint)'
    cfg.randomness = dict(seed=seed)
    cfg.log_level = 'WARNING'
    if name is not None:
        # Runners of one group live together: each its own message hub.
        cfg.experiment_name = name
    # The schedules keep the config's own length, which mmengine would
    # otherwise take from the benchmark loop's max_iters.
    keep_schedule_lengths(cfg)
    # Never reached, so no "last iteration" checkpoint / mosaic / val.
    cfg.train_cfg = dict(
        type='SpeedBenchmarkLoop', max_iters=NEVER, val_interval=NEVER)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    # Steady-state cost: logging, checkpoints and mosaics at intervals the
    # benchmark never reaches (their per-iteration checks still run).
    cfg.default_hooks.logger.interval = NEVER
    cfg.default_hooks.checkpoint.interval = NEVER
    cfg.default_hooks.checkpoint.save_last = False
    for hook in cfg.get('custom_hooks') or []:
        if 'interval' in hook:
            hook['interval'] = NEVER
    prepare_runtime(
        cfg,
        config_path=config_path,
        work_dir=work_dir,
        check_data=('train_dataloader', ))
    return teacher


def spread(values) -> dict:
    """Min, median and max of ``values``."""
    return dict(
        min=min(values), median=statistics.median(values), max=max(values))


def run_record(args, **fields) -> dict:
    """What a speed record was measured with: ``args``' iterations,
    repeats, threads, warm-up and profiled iterations, the torch and Python
    versions and the core count, then ``fields``."""
    record = {
        key: getattr(args, key)
        for key in ('iters', 'repeats', 'threads', 'warmup', 'profile_iters')
    }
    record.update(
        torch=torch.__version__,
        python=platform.python_version(),
        cpu_count=os.cpu_count())
    return dict(record, **fields)
