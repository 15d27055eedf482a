from .mosaickd import PLAYERS, MosaicKD
from .task_logits import logits_of, match_student_to_teacher

__all__ = ['MosaicKD', 'PLAYERS', 'logits_of', 'match_student_to_teacher']
