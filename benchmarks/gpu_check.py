"""Check a GPU machine: the GPU tests, then the paper's game timed on it.

    python benchmarks/gpu_check.py [--iters 20] [--warmup 3] [--skip-tests]
        [--out work_dirs/gpu_check/report.md]

``make gpu-check`` runs it. First the tests marked ``gpu`` (tests/test_gpu.py:
training in float32 and with ``--amp``, resume, export, and 2 processes over
NCCL where there are 2 GPUs); then the paper's WRN-40-2 -> WRN-16-1 game
(configs/mosaickd/wrn40_2_wrn16_1_cifar100.py, B = 256, k = 5) in float32 and
with ``--amp``: seconds per outer iteration (one D, one G and five S
updates), peak GPU memory, and the paper's schedule of 39,200 iterations
projected in GPU-hours; one table at the end, also written to ``--out``.

The game runs on random networks (speed does not depend on the weights) and
on one batch of random images held in memory, so nothing is downloaded and
the data loader is not timed. On a machine where CUDA cannot be used it stops
with one sentence saying why.
"""
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from mmmosaic.cli import ArgumentParser, tool_main  # noqa: E402
from mmmosaic.errors import MosaicError  # noqa: E402

CONFIG = osp.join(ROOT, 'configs', 'mosaickd', 'wrn40_2_wrn16_1_cifar100.py')
PAPER_ITERS = 39200  # 200 epochs of 196 iterations (the config's max_iters)


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--iters', type=int, default=20, help='timed outer iterations')
    parser.add_argument(
        '--warmup', type=int, default=3, help='untimed iterations first')
    parser.add_argument(
        '--skip-tests', action='store_true', help='time the game only')
    parser.add_argument(
        '--out',
        default=osp.join('work_dirs', 'gpu_check', 'report.md'),
        help='where the table is written (Markdown)')
    return parser.parse_args(argv)


def require_gpu() -> None:
    """One sentence, before anything runs, where CUDA cannot be used."""
    from mmmosaic.dist import cuda_unusable_reason
    reason = cuda_unusable_reason()
    if reason is not None:
        raise MosaicError(
            f'make gpu-check needs a usable CUDA GPU, but {reason}; run it on'
            ' a machine with an NVIDIA GPU (docs/installation.md#gpus).')


def build_game(device: str, amp: bool, batch: int = None, steps: int = None):
    """The paper's game from CONFIG on ``device`` with random weights, its
    optimiser wrappers (``AmpOptimWrapper`` with ``amp``, as ``--amp``
    makes them) and one loader batch of random images. ``batch`` (B) and
    ``steps`` (k) default to the config's (256, 5)."""
    import torch
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope

    from mmmosaic.registry import MODELS
    from mmmosaic.runtime import _set_amp
    cfg = Config.fromfile(CONFIG)
    model_cfg = cfg.model
    model_cfg.allow_random_teacher = True
    if batch is not None:
        # The paper's game: as many OOD images a student step as synthetic.
        model_cfg.synthetic_batch_size = model_cfg.ood_batch_size = batch
    if steps is not None:
        model_cfg.student_steps = steps
    if amp:
        _set_amp(cfg)
    DefaultScope.get_instance(
        f'gpu-check-{time.time()}', scope_name='mmmosaic')
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).to(device).train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    b, k = model.synthetic_batch_size, model.student_steps
    images = torch.randint(0, 256, (b * (k + 1), 3, 32, 32), dtype=torch.uint8)
    view = dict(inputs=list(images))
    return model, optim, dict(real=view, student=view)


def time_game(device: str,
              amp: bool,
              iters: int,
              warmup: int,
              batch: int = None,
              steps: int = None) -> dict:
    """Seconds per outer iteration and peak memory of the game."""
    import torch
    model, optim, data = build_game(device, amp, batch, steps)
    on_gpu = device.startswith('cuda')

    def sync():
        if on_gpu:
            torch.cuda.synchronize()

    for _ in range(warmup):
        model.train_step(data, optim)
    sync()
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(iters):
        model.train_step(data, optim)
    sync()
    seconds = (time.perf_counter() - start) / iters
    peak = torch.cuda.max_memory_allocated() / 2**30 if on_gpu else None
    return dict(
        precision='--amp' if amp else 'fp32',
        seconds=seconds,
        peak_gib=peak,
        gpu_hours=seconds * PAPER_ITERS / 3600)


def table(rows, device_name: str, batch: int, steps: int) -> str:
    lines = [
        f'WRN-40-2 -> WRN-16-1, B={batch}, k={steps}, on {device_name}:', '',
        '| precision | s / outer iteration | peak memory (GiB) | '
        f'{PAPER_ITERS:,} iterations (GPU-hours) |', '|---|---|---|---|'
    ]
    for row in rows:
        peak = '-' if row['peak_gib'] is None else f'{row["peak_gib"]:.2f}'
        lines.append(f'| {row["precision"]} | {row["seconds"]:.3f} | {peak} | '
                     f'{row["gpu_hours"]:.2f} |')
    return '\n'.join(lines)


def run_gpu_tests() -> bool:
    proc = subprocess.run(
        [sys.executable, '-m', 'pytest', '-m', 'gpu', '-rs', '-q', 'tests'],
        cwd=ROOT)
    return proc.returncode == 0


@tool_main
def main(argv=None):
    args = parse_args(argv)
    require_gpu()
    import torch
    tests_ok = True if args.skip_tests else run_gpu_tests()
    torch.backends.cudnn.benchmark = True
    rows = [
        time_game('cuda', amp, args.iters, args.warmup)
        for amp in (False, True)
    ]
    name = torch.cuda.get_device_name(0)
    text = table(rows, name, 256, 5)
    if not tests_ok:
        text += '\n\nThe gpu tests failed (their output is above).'
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write(text + '\n')
    print('\n' + text + f'\n\n(written to {args.out})')
    return 0 if tests_ok else 1


if __name__ == '__main__':
    sys.exit(main())
