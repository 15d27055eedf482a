from .batch_rule import BatchRule, batch_rule
from .mosaickd import PLAYERS, MosaicKD
from .task_logits import logits_of, match_student_to_teacher

__all__ = [
    'MosaicKD', 'PLAYERS', 'BatchRule', 'batch_rule', 'logits_of',
    'match_student_to_teacher'
]
