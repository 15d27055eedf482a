"""Process groups for multi-process training: torchrun, Slurm and MPI.

mmengine's ``init_dist`` calls ``torch.cuda.set_device`` for every launcher
and defaults to nccl, so ``--launcher pytorch|slurm|mpi`` fails on a machine
without a GPU. :func:`init_distributed` initialises the process group itself
there, from the launcher's environment variables (:func:`launcher_env`) and
with gloo (:func:`usable_backend`); on GPUs it leaves everything to mmengine
(nccl, one device per process). :func:`finish_distributed` ends a group
cleanly after a successful run.

How a config is fitted to a multi-process launch (the DDP wrappers, noise
per process) is :func:`mmmosaic.runtime.configure_distributed`.
"""
import datetime
import glob
import os
import subprocess
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from mmmosaic.cli import LAUNCHERS  # noqa: F401  (defined there: no torch)
from mmmosaic.errors import MosaicError

__all__ = [
    'LAUNCHERS', 'init_distributed', 'finish_distributed', 'launcher_env',
    'usable_backend', 'cuda_unusable_reason', 'gpus_expected',
    'check_gpus_usable'
]

DEFAULT_PORT = 29500


def usable_backend(backend: Optional[str] = None) -> str:
    """``backend`` (``env_cfg.dist_cfg.backend``), or what this machine can
    run instead: nccl needs CUDA, and without it gloo runs the same
    collectives on CPU. No backend given means nccl with CUDA, else gloo.
    """
    if torch.cuda.is_available():
        return backend or 'nccl'
    return 'gloo' if backend in (None, 'nccl') else backend


def _supports(arch_list, major: int, minor: int) -> bool:
    """Whether a wheel built for ``arch_list`` (``sm_80``, ``compute_90``,
    ...) runs on a GPU of compute capability ``major.minor``: a binary of
    the same major version and a minor no higher, or PTX no newer."""
    for arch in arch_list:
        kind, _, number = arch.partition('_')
        if not number.isdigit() or len(number) < 2:
            continue
        arch_major, arch_minor = int(number[:-1]), int(number[-1])
        if kind == 'sm' and arch_major == major and arch_minor <= minor:
            return True
        if kind == 'compute' and (arch_major, arch_minor) <= (major, minor):
            return True
    return False


def cuda_unusable_reason() -> Optional[str]:
    """Why this torch cannot train on a GPU here, or None when it can."""
    if torch.version.cuda is None:
        return f'this torch ({torch.__version__}) is built without CUDA'
    if not torch.cuda.is_available():
        return (f'torch.cuda.is_available() is False (torch '
                f'{torch.__version__} needs a visible GPU and an NVIDIA '
                f'driver for CUDA {torch.version.cuda} or newer)')
    arch_list = torch.cuda.get_arch_list()
    for index in range(torch.cuda.device_count()):
        major, minor = torch.cuda.get_device_capability(index)
        if arch_list and not _supports(arch_list, major, minor):
            return (f'GPU {index} ({torch.cuda.get_device_name(index)}, '
                    f'sm_{major}{minor}) is not among the architectures '
                    f'torch {torch.__version__} is built for '
                    f'({" ".join(arch_list)})')
    return None


#: Set to 1 to let a run train on the CPU where GPUs are given to the job
#: but torch cannot use them (a CI cluster whose Slurm hands out fake GPUs,
#: say; Slurm sets ``CUDA_VISIBLE_DEVICES`` in its tasks, so an empty one
#: cannot say it there). Where CUDA is usable it changes nothing.
CPU_ENV = 'MMMOSAIC_ALLOW_CPU'


def gpus_expected(launcher: str = 'none', amp: bool = False):
    """What says this run is meant for GPUs, or None: ``--amp``, GPUs that
    Slurm or ``CUDA_VISIBLE_DEVICES`` give the job, or NVIDIA devices on
    the machine. ``CUDA_VISIBLE_DEVICES`` set empty (or -1), or
    ``MMMOSAIC_ALLOW_CPU=1`` (:data:`CPU_ENV`), accepts the CPU."""
    if amp:
        return '--amp'
    if os.environ.get(CPU_ENV, '').strip() not in ('', '0'):
        return None
    visible = os.environ.get('CUDA_VISIBLE_DEVICES')
    if visible is not None and visible.strip() in ('', '-1'):
        return None
    if visible:
        return f'CUDA_VISIBLE_DEVICES={visible}'
    if launcher != 'none':
        for key in ('SLURM_STEP_GPUS', 'SLURM_JOB_GPUS', 'SLURM_GPUS'):
            if os.environ.get(key):
                return f'{key}={os.environ[key]}'
    devices = sorted(glob.glob('/dev/nvidia[0-9]*'))
    if devices:
        return f'this machine has NVIDIA devices ({devices[0]})'
    return None


def check_gpus_usable(launcher: str = 'none', amp: bool = False) -> None:
    """Stop with one sentence when the run is meant for GPUs
    (:func:`gpus_expected`) but torch cannot use one
    (:func:`cuda_unusable_reason`), instead of training on the CPU."""
    expected = gpus_expected(launcher, amp)
    if expected is None:
        return
    reason = cuda_unusable_reason()
    if reason is None:
        return
    cpu = ('drop --amp to train on the CPU'
           if amp else f'set {CPU_ENV}=1 to train on the CPU on purpose')
    raise MosaicError(
        f'{expected} asks for GPUs but {reason}; install a torch build for '
        'this machine\'s driver and GPUs (docs/installation.md#gpus), or '
        f'{cpu}.')


def _first_host(nodelist: str) -> str:
    """First host name of a Slurm node list such as ``gpu[01-04,07]``."""
    try:
        out = subprocess.run(['scontrol', 'show', 'hostnames', nodelist],
                             capture_output=True,
                             text=True,
                             timeout=30)
        hosts = out.stdout.split()
        if out.returncode == 0 and hosts:
            return hosts[0]
    except (OSError, subprocess.TimeoutExpired):
        pass
    # No scontrol: expand the simple forms by hand.
    head = nodelist.split(',')[0]
    if '[' in head:
        prefix, rest = head.split('[', 1)
        return prefix + rest.split('-')[0].split(',')[0].rstrip(']')
    return head


def launcher_env(launcher: str, port: Optional[int] = None) -> dict:
    """``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
    ``MASTER_PORT`` for a process started by ``launcher``.

    Existing ``MASTER_ADDR`` / ``MASTER_PORT`` variables win (set them, or
    ``PORT`` for tools/slurm_train.sh, when two jobs share a node).
    """
    env = os.environ
    # A MASTER_PORT variable wins over the config's port.
    master_port = str(env.get('MASTER_PORT') or port or DEFAULT_PORT)

    def process_env(rank, world_size, local_rank, master_addr):
        return dict(
            RANK=rank,
            WORLD_SIZE=world_size,
            LOCAL_RANK=local_rank,
            MASTER_ADDR=master_addr,
            MASTER_PORT=master_port)

    if launcher == 'pytorch':
        missing = [
            k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
            if k not in env
        ]
        if missing:
            raise MosaicError(
                f'--launcher pytorch needs {", ".join(missing)} from '
                'torchrun; start the job with tools/dist_train.sh CONFIG '
                'GPUS (or torchrun --nproc_per_node N tools/train.py).')
        return process_env(env['RANK'], env['WORLD_SIZE'],
                           env.get('LOCAL_RANK', '0'), env['MASTER_ADDR'])
    if launcher == 'slurm':
        if 'SLURM_PROCID' not in env or 'SLURM_NTASKS' not in env:
            raise MosaicError(
                '--launcher slurm must run in a Slurm job step (srun); '
                'start it with tools/slurm_train.sh PARTITION JOB_NAME '
                'CONFIG WORK_DIR.')
        nodelist = env.get('SLURM_STEP_NODELIST', env.get('SLURM_NODELIST'))
        ntasks = env.get('SLURM_STEP_NUM_TASKS', env['SLURM_NTASKS'])
        return process_env(env['SLURM_PROCID'], ntasks,
                           env.get('SLURM_LOCALID', '0'),
                           env.get('MASTER_ADDR') or _first_host(nodelist))
    if launcher == 'mpi':
        if 'OMPI_COMM_WORLD_RANK' not in env or 'MASTER_ADDR' not in env:
            raise MosaicError(
                '--launcher mpi needs Open MPI (mpirun) and MASTER_ADDR set '
                'to the first host; export MASTER_ADDR before mpirun.')
        return process_env(env['OMPI_COMM_WORLD_RANK'],
                           env['OMPI_COMM_WORLD_SIZE'],
                           env.get('OMPI_COMM_WORLD_LOCAL_RANK',
                                   '0'), env['MASTER_ADDR'])
    raise MosaicError(f'--launcher must be one of {", ".join(LAUNCHERS)}, '
                      f'got {launcher!r}.')


def init_distributed(cfg: Config) -> bool:
    """Initialise the process group for ``cfg.launcher`` on a CPU machine.

    Returns True when it did; False when there is nothing to do (single
    process, already initialised) or when CUDA is available, where the
    Runner's own ``init_dist`` (nccl, ``set_device``) is the right one.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or (torch_dist.is_available()
                              and torch_dist.is_initialized()):
        return False
    if torch.cuda.is_available():
        return False
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    backend = usable_backend(dist_cfg.pop('backend', None))
    port = dist_cfg.pop('port', None)
    dist_cfg.pop('init_backend', None)
    timeout = dist_cfg.pop('timeout', None)
    if timeout is not None:
        dist_cfg['timeout'] = datetime.timedelta(seconds=timeout)
    env = launcher_env(launcher, port)
    os.environ.update(env)
    torch_dist.init_process_group(
        backend=backend,
        init_method='env://',
        rank=int(env['RANK']),
        world_size=int(env['WORLD_SIZE']),
        **dist_cfg)
    return True


def finish_distributed() -> None:
    """Wait for every rank, then destroy the process group; after success.

    A gloo worker thread drops its finished collective (and the Python
    tensors in it) just after the caller's ``wait`` returns. If the process
    reaches interpreter shutdown first, that thread is killed while taking
    the GIL and the process aborts (``terminate called without an active
    exception``, SIGABRT) after all its work is saved, so torchrun and srun
    report the launch as failed. The barrier gives those threads time to
    finish (the wait releases the GIL; on rank 0 it also covers the last
    checkpoint write), and destroying the group leaves no collective
    behind. Only for runs that ended normally: after an error another rank
    may never reach the barrier.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
