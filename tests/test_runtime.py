"""mmmosaic.runtime: building a config's model outside the Runner."""
import copy

import torch
from _tiny import PREPROCESSOR, classifier, mosaickd
from mmengine.config import Config

from mmmosaic.runtime import build_model


def test_build_model_takes_the_top_level_preprocessor_as_the_runner():
    """A model that names no data_preprocessor gets the config's top-level
    one (mmengine's Runner does the same), in the config's scope."""
    model = classifier()
    model.pop('data_preprocessor')
    top = dict(PREPROCESSOR, mean=[10.0], std=[2.0])
    cfg = Config(dict(model=model, data_preprocessor=top))
    built = build_model(cfg)
    assert built.data_preprocessor.mean.flatten().tolist() == [10.0]
    # A model's own preprocessor wins, and the config is left as it was.
    cfg = Config(dict(model=classifier(), data_preprocessor=top))
    assert build_model(cfg).data_preprocessor.mean.item() == 127.5
    assert 'data_preprocessor' in cfg.model
    assert cfg.model.data_preprocessor.mean == [127.5]


def test_build_model_loads_a_runs_weights(tmp_path):
    """With a checkpoint every weight is the checkpoint's."""
    cfg = Config(dict(model=mosaickd()))
    torch.manual_seed(0)
    trained = build_model(cfg)
    state = copy.deepcopy(trained.state_dict())
    path = str(tmp_path / 'iter_1.pth')
    torch.save(dict(state_dict=state, meta=dict(iter=1)), path)
    torch.manual_seed(1)
    loaded = build_model(cfg, path)
    assert loaded.state_dict().keys() == state.keys()
    assert all(
        torch.equal(v, state[k]) for k, v in loaded.state_dict().items())
    torch.manual_seed(1)
    fresh = build_model(cfg)
    assert any(not torch.equal(v, state[k])
               for k, v in fresh.state_dict().items())
