"""Default spaces of the factories' pipelines (item 2 of issue 11): keyed with each
pipeline's real parameter names, valid for it, refused for a pipeline it cannot tune."""

import re

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge

from seqpipe.cli.exercises import EXERCISES, build_pipeline
from seqpipe.pipelines import default_space, stock_pipeline
from seqpipe.search import check_space


def factory_pipeline(name):
    return build_pipeline(EXERCISES[name], epochs=None, batch_size=None, hidden_dim=None,
                          learning_rate=None, random_state=0)


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_every_exercise_has_a_valid_default_space(name):
    pipeline = factory_pipeline(name)
    space = default_space(pipeline)
    params = pipeline.get_params()
    assert set(space) <= set(params)
    assert check_space(pipeline, space) == space
    width = EXERCISES[name].hidden  # the factory's keyword for the model's width
    assert [key for key in space if key.endswith(f"__{width}")], space
    assert [key for key in space if key.endswith("__learning_rate")], space
    [batch] = [key for key in space if key.endswith("batch_size")]
    assert params[batch] is not None  # the batch size that is used
    rng = np.random.default_rng(0)
    drawn = {key: distribution.rvs(random_state=rng) if hasattr(distribution, "rvs")
             else distribution[0] for key, distribution in space.items()}
    tuned = clone(pipeline).set_params(**drawn)
    assert {key: tuned.get_params()[key] for key in drawn} == drawn


def test_seed_003_tunes_the_minibatch_batch_size_not_the_models():
    space = default_space(factory_pipeline("exercise1"))
    assert [key for key in space if key.endswith("batch_size")] == [
        "step__step__step__minibatch__batch_size"]
    assert "step__step__step__minibatch__step__step__kerasmodelstep__hidden_dim" in space


def test_the_stock_pipeline_has_a_default_space():
    pipeline = stock_pipeline()
    space = default_space(pipeline)
    assert check_space(pipeline, space) == space and space


def test_a_pipeline_without_known_parameters_is_refused():
    with pytest.raises(ValueError, match=re.escape(
            "default_space knows none of the parameters of Ridge")):
        default_space(Ridge())
