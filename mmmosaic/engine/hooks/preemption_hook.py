"""Checkpoint and stop cleanly when the job is told to end (SIGTERM) or
the user presses Ctrl-C (SIGINT).

Slurm sends SIGTERM to every task when a job reaches its time limit, is
preempted or is cancelled, and kills it ``KillWait`` seconds later (30 by
default); torchrun forwards SIGTERM to its workers the same way. This hook
turns the signal into a checkpoint written at the next safe point (after
the current iteration, so the four players are never saved half-updated)
and a normal end of training, so that resubmitting with ``--resume``
continues where the job stopped. Ctrl-C does the same (a second Ctrl-C
stops at once, without saving), so an interruption before the first
checkpoint loses nothing.

Every rank must stop at the same iteration, or the ones still training
wait forever in their next collective. The signal reaches the ranks at
slightly different moments, so after each iteration the ranks agree through
one tiny all-reduce (max of the local flags): as soon as one rank has been
signalled, all of them save and stop after that same iteration.
"""
import os
import signal
from typing import Optional, Sequence

import torch
from mmengine.dist import all_reduce, is_distributed, is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.runner import IterBasedTrainLoop

from mmmosaic.compat import save_checkpoint_now
from mmmosaic.engine.atomic_backend import atomic_write
from mmmosaic.registry import HOOKS


def _signal_number(name) -> int:
    if isinstance(name, int):
        return name
    name = str(name).upper()
    return int(
        getattr(signal, name if name.startswith('SIG') else 'SIG' + name))


@HOOKS.register_module()
class PreemptionHook(Hook):
    """Save a checkpoint and end training when SIGTERM or SIGINT arrives.

    The checkpoint is written through the run's ``CheckpointHook`` when it
    is iteration-based (same folder, file names, ``last_checkpoint``,
    ``max_keep_ckpts`` and storage backend), otherwise as
    ``iter_<n>.pth`` in the work dir, with ``last_checkpoint`` replaced
    atomically. With an ``IterBasedTrainLoop`` the loop then ends normally
    (``after_train`` and ``after_run`` hooks run and the process exits with
    status 0). An epoch-based loop cannot be left mid-epoch, so there the
    hook raises ``SystemExit(0)`` after the save; a resumed epoch-based run
    starts that epoch again.

    The handler only records the signal. Outside training (while the
    Runner is being built, during validation-only or test runs) the signal
    keeps its previous meaning. Data-loader workers forked by the trainer
    ignore it: their parent stops them when training ends (keep
    ``env_cfg.mp_cfg.mp_start_method='fork'``, the mmmosaic default; spawned
    workers would die at once and the data loader would raise).

    Args:
        signals (Sequence[str | int]): Signals that mean "checkpoint and
            stop". Defaults to ``('SIGTERM', 'SIGINT')``; a second SIGINT
            raises ``KeyboardInterrupt`` at once, as Ctrl-C usually does.
        check_interval (int): Iterations between the agreement all-reduces
            (1: stop after the iteration during which the signal came).
    """

    priority = 'LOWEST'  # after CheckpointHook: never save twice

    def __init__(self,
                 signals: Sequence = ('SIGTERM', 'SIGINT'),
                 check_interval: int = 1):
        if not isinstance(check_interval, int) or check_interval < 1:
            raise ValueError(f'check_interval must be an integer >= 1, got '
                             f'{check_interval!r}')
        self.signals = [_signal_number(s) for s in signals]
        self.check_interval = check_interval
        self.received: Optional[int] = None
        self.stopped_at: Optional[int] = None
        #: The checkpoint saved on the way out, once saved.
        self.saved: Optional[str] = None
        self._training = False
        self._owner = os.getpid()
        self._previous = {}
        # Installed now, not in before_run: the Runner forks the data-loader
        # workers when it builds the train loop, before before_run, and the
        # workers must inherit the handler (not die from the signal).
        self._install()

    # ----------------------------------------------------------- signals
    def _install(self) -> None:
        for signum in self.signals:
            if signum in self._previous:
                continue
            try:
                self._previous[signum] = signal.signal(signum, self._handle)
            except ValueError:  # not the main thread: nothing to install
                pass

    def _restore(self) -> None:
        for signum, previous in self._previous.items():
            try:
                if signal.getsignal(signum) == self._handle:
                    signal.signal(signum, previous)
            except (ValueError, TypeError):
                pass
        self._previous = {}

    def _handle(self, signum, frame) -> None:
        if os.getpid() != self._owner:
            return  # a forked data-loader worker: the trainer stops it
        if self._training:
            if signum == signal.SIGINT and self.received == signum:
                raise KeyboardInterrupt  # Ctrl-C twice: stop now
            if self.received is None:
                self.received = signum
                if signum == signal.SIGINT:
                    # os.write: print may be inside a write of its own.
                    os.write(
                        2, b'\nCtrl-C: saving a checkpoint after the '
                        b'current iteration, then stopping (Ctrl-C again '
                        b'stops at once, without saving).\n')
            return
        # Not training (yet or any more): behave as before this hook.
        previous = self._previous.get(signum, signal.SIG_DFL)
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    # ------------------------------------------------------------- hooks
    def before_train(self, runner) -> None:
        self._owner = os.getpid()
        self._install()
        self.received = None
        self.stopped_at = None
        self.saved = None
        self._training = True

    def after_train(self, runner) -> None:
        self._training = False

    def after_run(self, runner) -> None:
        self._training = False
        self._restore()

    def _agreed(self, runner) -> bool:
        if not is_distributed():
            return self.received is not None
        # Every rank takes part in the same all-reduces (same iterations),
        # whether or not it was signalled itself.
        if (runner.iter + 1) % self.check_interval:
            return False
        flag = torch.tensor([0 if self.received is None else 1])
        all_reduce(flag, op='max')
        return bool(flag.item())

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if not self._agreed(runner):
            return
        if self.received is None:
            self.received = signal.SIGTERM  # another rank was signalled
        step = runner.iter + 1
        path = self._save(runner, step)
        self.stopped_at, self.saved = step, path
        runner.logger.info(
            f'Received {signal.Signals(self.received).name}: saved '
            f'{path} after iteration {step} and stopping; resubmit with '
            '--resume to continue.')
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop):
            loop.stop_training = True
            # Do not start a validation on the way out.
            if getattr(loop, 'val_interval', None):
                loop.val_begin = max(getattr(loop, 'val_begin', 1), step + 1)
            return
        self._training = False
        self._restore()  # after_run will not be called
        raise SystemExit(0)

    def _save(self, runner, step: int) -> str:
        """Checkpoint after iteration ``step`` (1-based) unless it exists."""
        hook = next((h for h in runner.hooks
                     if isinstance(h, CheckpointHook) and not h.by_epoch),
                    None)
        if hook is not None:
            return save_checkpoint_now(hook, runner, step)
        filename = f'iter_{step}.pth'
        runner.save_checkpoint(
            runner.work_dir,
            filename,
            by_epoch=False,
            meta=dict(epoch=runner.epoch, iter=step))
        path = os.path.join(runner.work_dir, filename)
        if is_main_process():
            atomic_write(
                os.path.join(runner.work_dir, 'last_checkpoint'),
                path.encode())
        return path
