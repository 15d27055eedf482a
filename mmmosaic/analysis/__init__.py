"""Measures of how a teacher sees out-of-domain images."""
from .coverage import class_coverage, teacher_coverage

__all__ = ['class_coverage', 'teacher_coverage']
