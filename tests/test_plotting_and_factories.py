import re

import pytest

from seqpipe.pipelines import EXERCISE_SETTINGS, exercise_pipeline, signal_prediction_pipeline


def inner_param(pipeline, name):
    """The one value of a nested param ending in ``name`` (exercise pipelines nest)."""
    (value,) = [v for k, v in pipeline.get_params().items() if k.endswith(name)]
    return value


@pytest.mark.parametrize("number", sorted(EXERCISE_SETTINGS))
def test_exercise_pipelines_carry_their_settings(number):
    pipeline = exercise_pipeline(number)
    settings = EXERCISE_SETTINGS[number]
    assert inner_param(pipeline, "kerasmodelstep__hidden_dim") == settings["hidden_dim"]
    assert inner_param(pipeline, "kerasmodelstep__learning_rate") == settings["learning_rate"]
    assert inner_param(pipeline, "meanstdnormalizer__per_sample") == settings["per_sample"]


def test_overrides_and_unknown_exercise():
    assert exercise_pipeline(1, epochs=3).get_params()["epochs"] == 3
    assert signal_prediction_pipeline().get_params()["kerasmodelstep__lambda_loss_amount"] == 3e-4
    with pytest.raises(ValueError, match=re.escape(
            "The 'number' parameter of exercise_pipeline must be one of [1, 2, 3, 4]. "
            "Got 5 instead.")):
        exercise_pipeline(5)
