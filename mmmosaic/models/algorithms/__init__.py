from .batch_rule import BatchRule, batch_rule
from .mosaickd import PLAYERS, MosaicKD, is_game_config
from .task_logits import logits_of, match_student_to_teacher

__all__ = [
    'MosaicKD', 'PLAYERS', 'BatchRule', 'batch_rule', 'is_game_config',
    'logits_of', 'match_student_to_teacher'
]
