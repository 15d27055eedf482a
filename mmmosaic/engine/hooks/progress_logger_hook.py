"""Progress lines at least every minute, and after the last iteration;
an estimate of the run's duration on this machine after its first few
iterations."""
import time
from typing import Optional

from mmengine.hooks import LoggerHook

from mmmosaic.registry import HOOKS


@HOOKS.register_module()
class ProgressLoggerHook(LoggerHook):
    """mmengine's ``LoggerHook`` that also logs a training line when
    ``min_interval_s`` seconds have passed since its last one, and after
    the last iteration.

    With iterations of a minute or more (a big game on a CPU), an
    ``interval`` of 50 iterations leaves a run silent for hours, and the
    last iteration's losses are never printed unless ``max_iters`` is a
    multiple of it. ``tools/train.py`` puts this hook in the place of a
    plain ``LoggerHook`` (:func:`mmmosaic.engine.ensure_guarantee_hooks`),
    with the same arguments.

    Once, early in a run, it also logs how long the run will take here
    (:func:`duration_estimate`): the time an iteration takes, measured
    over ``estimate_after`` iterations after the first one of this process
    (which carries the start-up), or over as many as ``min_interval_s``
    allows, times the iterations left.

    Args:
        min_interval_s (float): Seconds after which a line is due, whatever
            the iteration. Defaults to 60.
        estimate_after (int): Iterations timed for the estimate, at most.
            Defaults to 3.
        **kwargs: ``LoggerHook``'s arguments (``interval``, ...).
    """

    def __init__(self,
                 *args,
                 min_interval_s: float = 60.0,
                 estimate_after: int = 3,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.min_interval_s = min_interval_s
        self.estimate_after = estimate_after
        self._last: Optional[float] = None
        self._timed_from: Optional[tuple] = None
        self._estimated = False

    def before_train(self, runner) -> None:
        self._last = time.monotonic()
        self._timed_from = None
        self._estimated = False

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        now = time.monotonic()
        regular = self.every_n_inner_iters(batch_idx, self.interval)
        extra = not regular and (self.is_last_train_iter(runner)
                                 or self._last is None
                                 or now - self._last >= self.min_interval_s)
        if not extra:
            super().after_train_iter(runner, batch_idx, data_batch, outputs)
        else:
            tag, log_str = runner.log_processor.get_log_after_iter(
                runner, batch_idx, 'train')
            runner.logger.info(log_str)
            runner.visualizer.add_scalars(
                tag, step=runner.iter + 1, file_path=self.json_log_path)
        if regular or extra:
            self._last = now
        self._estimate(runner, now)

    def _estimate(self, runner, now: float) -> None:
        if self._estimated:
            return
        done = runner.iter + 1
        if self._timed_from is None:  # the first iteration: start-up
            self._timed_from = (now, done)
            return
        start, first = self._timed_from
        timed, left = done - first, runner.max_iters - done
        if left <= 0:
            self._estimated = True
            return
        if timed < self.estimate_after and now - start < self.min_interval_s:
            return
        self._estimated = True
        runner.logger.info(
            duration_estimate((now - start) / timed, left, runner.max_iters,
                              (first + 1, done)))


def _span(seconds: float) -> str:
    """``seconds`` in the unit a person would say it in."""
    if seconds < 90:
        return f'{seconds:.0f} s'
    if seconds < 90 * 60:
        return f'{seconds / 60:.0f} min'
    if seconds < 48 * 3600:
        return f'{seconds / 3600:.1f} h'
    return f'{seconds / 86400:.1f} days'


def duration_estimate(per_iter: float,
                      left: int,
                      max_iters: int,
                      timed: tuple,
                      now: Optional[float] = None) -> str:
    """The estimate line: ``per_iter`` seconds an iteration (measured over
    the iterations ``timed``, first and last), ``left`` of ``max_iters``
    iterations to go, ending around a wall-clock time."""
    total = per_iter * left
    end = time.localtime((time.time() if now is None else now) + total)
    over = (f'iteration {timed[0]}'
            if timed[0] == timed[1] else f'iterations {timed[0]}-{timed[1]}')
    its = 'iteration' if left == 1 else 'iterations'
    of = (f'{left:,} {its}' if left == max_iters else
          f'the {left:,} {its} left of {max_iters:,}')
    return (f'Duration estimate: about {_span(total)} for {of} at '
            f'{per_iter:.3g} s each on this machine (timed over {over}), '
            f'done around {time.strftime("%a %d %b %H:%M", end)}; '
            'lower train_cfg.max_iters for a shorter run.')
