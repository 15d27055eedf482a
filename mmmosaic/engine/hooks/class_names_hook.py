"""The names of the teacher's classes, in the log and in checkpoints."""
from mmengine.hooks import Hook

from mmmosaic.registry import HOOKS
from mmmosaic.utils import unwrap_model

#: Checkpoint ``meta`` key of the teacher task's ``classes`` / ``palette``.
#: Not ``dataset_meta``: mmengine writes the training dataset's there,
#: and a distillation trains on out-of-domain images.
TASK_META_KEY = 'task_meta'


@HOOKS.register_module()
class ClassNamesHook(Hook):
    """Name the teacher's classes once in the log and in every checkpoint.

    The names are the model's ``dataset_meta`` (a MosaicKD model takes them
    from the teacher checkpoint) or, failing that, the in-domain dataset's
    the config evaluates on (:func:`mmmosaic.runtime.task_classes`).
    Checkpoints carry them as ``meta['task_meta']``, which
    ``tools/model_converters/extract_student.py`` makes the exported
    student's ``dataset_meta``, so that mmpretrain's and mmseg's
    inferencers print names. A model that is not a distillation (a teacher
    being trained) is left alone: mmengine records its dataset already.
    """

    priority = 'VERY_LOW'

    def __init__(self):
        self.meta = None

    def before_run(self, runner) -> None:
        from mmmosaic.models.algorithms.task_logits import num_classes_of
        from mmmosaic.runtime import task_classes
        model = unwrap_model(runner.model)
        if not hasattr(model, 'teacher'):
            return
        self.meta = getattr(model, 'dataset_meta', None)
        source = 'the teacher checkpoint'
        if not self.meta:
            self.meta = task_classes(runner.cfg, num_classes_of(model.teacher))
            source = 'the evaluation dataset'
        if not self.meta:
            runner.logger.info(
                'The teacher\'s classes have no names (neither its checkpoint '
                'nor an evaluation dataset gives them); they are numbered.')
            return
        model.dataset_meta = self.meta
        names = self.meta['classes']
        shown = ', '.join(names[:20]) + (f' and {len(names) - 20} more'
                                         if len(names) > 20 else '')
        runner.logger.info(f'Teacher classes (from {source}): {shown}')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.meta:
            checkpoint.setdefault('meta', {})[TASK_META_KEY] = self.meta
