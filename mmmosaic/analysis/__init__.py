"""Measures of how a teacher sees out-of-domain and generated images, the
high-entropy OOD subset chosen from them, and per-class scores of a trained
model."""
from .accuracy import per_class_accuracy, per_class_iou
from .bn_shift import BatchNormShift
from .coverage import (class_coverage, spread_sample, synthetic_coverage,
                       teacher_coverage)
from .ood_report import (OODTeacherStats, RealViews, check_ood_config,
                         rare_classes, verdict)
from .ood_subset import (image_entropy, select_high_entropy, teacher_entropies,
                         teacher_logit_batches)

__all__ = [
    'BatchNormShift', 'per_class_accuracy', 'per_class_iou', 'class_coverage',
    'spread_sample', 'synthetic_coverage', 'teacher_coverage',
    'OODTeacherStats', 'RealViews', 'check_ood_config', 'rare_classes',
    'verdict', 'select_high_entropy', 'teacher_entropies',
    'teacher_logit_batches', 'image_entropy'
]
