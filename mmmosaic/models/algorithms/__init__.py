from .mosaickd import MosaicKD
from .task_logits import logits_of, match_student_to_teacher

__all__ = ['MosaicKD', 'logits_of', 'match_student_to_teacher']
