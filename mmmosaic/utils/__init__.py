from .checkpoint import (check_checkpoint_file, check_state_dict_fits, is_url,
                         load_checkpoint_safely, load_model_weights,
                         load_state_dict_file, local_checkpoint, state_dict_of,
                         task_meta)
from .wrappers import unwrap_model

__all__ = [
    'load_model_weights', 'load_state_dict_file', 'check_checkpoint_file',
    'load_checkpoint_safely', 'check_state_dict_fits', 'state_dict_of',
    'unwrap_model', 'local_checkpoint', 'task_meta', 'is_url'
]
