"""Measures of how a teacher sees out-of-domain and generated images."""
from .coverage import class_coverage, synthetic_coverage, teacher_coverage

__all__ = ['class_coverage', 'synthetic_coverage', 'teacher_coverage']
