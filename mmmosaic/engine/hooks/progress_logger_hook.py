"""Progress lines at least every minute, and after the last iteration."""
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

    Args:
        min_interval_s (float): Seconds after which a line is due, whatever
            the iteration. Defaults to 60.
        **kwargs: ``LoggerHook``'s arguments (``interval``, ...).
    """

    def __init__(self, *args, min_interval_s: float = 60.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_interval_s = min_interval_s
        self._last: Optional[float] = None

    def before_train(self, runner) -> None:
        self._last = time.monotonic()

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
