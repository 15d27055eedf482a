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

MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='mmmosaic', locations=_MODELS)
MODEL_WRAPPERS = Registry(
    'model wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    scope='mmmosaic',
    locations=_ENGINE)
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, scope='mmmosaic', locations=_DATA)
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    scope='mmmosaic',
    locations=_DATA)
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, scope='mmmosaic', locations=_DATA)
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, scope='mmmosaic', locations=_ENGINE)
LOOPS = Registry(
    'loop', parent=MMENGINE_LOOPS, scope='mmmosaic', locations=_ENGINE)
RUNNERS = Registry(
    'runner', parent=MMENGINE_RUNNERS, scope='mmmosaic', locations=_ENGINE)
OPTIMIZERS = Registry(
    'optimizer',
    parent=MMENGINE_OPTIMIZERS,
    scope='mmmosaic',
    locations=_ENGINE)
OPTIM_WRAPPERS = Registry(
    'optim wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    scope='mmmosaic',
    locations=_ENGINE)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    scope='mmmosaic',
    locations=_ENGINE)
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    scope='mmmosaic',
    locations=_ENGINE)
METRICS = Registry(
    'metric', parent=MMENGINE_METRICS, scope='mmmosaic', locations=_ENGINE)
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMENGINE_VISBACKENDS,
    scope='mmmosaic',
    locations=_ENGINE)
VISUALIZERS = Registry(
    'visualizer',
    parent=MMENGINE_VISUALIZERS,
    scope='mmmosaic',
    locations=_ENGINE)
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    scope='mmmosaic',
    locations=_MODELS)
