"""mmmosaic's registries: children of mmengine's root registries.

With ``default_scope='mmmosaic'`` (or ``_scope_='mmmosaic'`` on a config dict)
mmengine imports the ``locations`` below on first use, so configs need no
``custom_imports``. Components of mmpretrain / mmseg are reached by giving
their dicts ``_scope_='mmpretrain'`` / ``_scope_='mmseg'``.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

_MODELS = ['mmmosaic.models']
_DATA = ['mmmosaic.datasets']
_ENGINE = ['mmmosaic.engine']


def _child(name: str, parent: Registry, locations: list) -> Registry:
    """A registry of scope ``mmmosaic`` under one of mmengine's."""
    return Registry(name, parent=parent, scope='mmmosaic', locations=locations)


MODELS = _child('model', MMENGINE_MODELS, _MODELS)
MODEL_WRAPPERS = _child('model wrapper', MMENGINE_MODEL_WRAPPERS, _ENGINE)
DATASETS = _child('dataset', MMENGINE_DATASETS, _DATA)
DATA_SAMPLERS = _child('data sampler', MMENGINE_DATA_SAMPLERS, _DATA)
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS, _DATA)
HOOKS = _child('hook', MMENGINE_HOOKS, _ENGINE)
LOOPS = _child('loop', MMENGINE_LOOPS, _ENGINE)
RUNNERS = _child('runner', MMENGINE_RUNNERS, _ENGINE)
OPTIMIZERS = _child('optimizer', MMENGINE_OPTIMIZERS, _ENGINE)
OPTIM_WRAPPERS = _child('optim wrapper', MMENGINE_OPTIM_WRAPPERS, _ENGINE)
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                    _ENGINE)
PARAM_SCHEDULERS = _child('parameter scheduler', MMENGINE_PARAM_SCHEDULERS,
                          _ENGINE)
METRICS = _child('metric', MMENGINE_METRICS, _ENGINE)
VISBACKENDS = _child('vis_backend', MMENGINE_VISBACKENDS, _ENGINE)
VISUALIZERS = _child('visualizer', MMENGINE_VISUALIZERS, _ENGINE)
WEIGHT_INITIALIZERS = _child('weight initializer',
                             MMENGINE_WEIGHT_INITIALIZERS, _MODELS)
