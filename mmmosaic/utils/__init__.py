from .checkpoint import load_model_weights, load_state_dict_file

__all__ = ['load_model_weights', 'load_state_dict_file']
