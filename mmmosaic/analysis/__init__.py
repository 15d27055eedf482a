"""Measures of how a teacher sees out-of-domain and generated images."""
from .coverage import (class_coverage, spread_sample, synthetic_coverage,
                       teacher_coverage)
from .ood_report import (OODTeacherStats, RealViews, check_ood_config,
                         rare_classes, verdict)

__all__ = [
    'class_coverage', 'spread_sample', 'synthetic_coverage',
    'teacher_coverage', 'OODTeacherStats', 'RealViews', 'check_ood_config',
    'rare_classes', 'verdict'
]
