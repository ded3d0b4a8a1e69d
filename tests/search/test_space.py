"""Search spaces are checked against the estimator before any trial runs: unknown
parameter names are refused, naming the parameter, the valid prefixes and the closest
names (item 2 of issue 11)."""

import re

import numpy as np
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge

from seqpipe import Pipeline
from seqpipe.search import Choice, LogUniform, RandInt, Uniform, check_space
from seqpipe.steps import EpochRepeater, MeanStdNormalizer, MiniBatch, ValidationSplit


class FakeKerasModelStep(RegressorMixin, BaseEstimator):
    """Stands in for KerasModelStep (same class-name-derived step name without TensorFlow)."""

    def __init__(self, hidden_dim=12, learning_rate=1e-3, layers_stacked_count=2):
        self.hidden_dim = hidden_dim
        self.learning_rate = learning_rate
        self.layers_stacked_count = layers_stacked_count


FakeKerasModelStep.__name__ = "KerasModelStep"


def seqpipe_pipeline():
    return Pipeline([MeanStdNormalizer(), FakeKerasModelStep()])


def test_a_valid_space_is_returned_as_a_copy():
    space = {"kerasmodelstep__hidden_dim": RandInt(4, 32),
             "kerasmodelstep__learning_rate": LogUniform(1e-4, 1e-2),
             "meanstdnormalizer__per_sample": [True, False],
             "kerasmodelstep__layers_stacked_count": stats.randint(1, 4)}
    checked = check_space(seqpipe_pipeline(), space)
    assert checked == space and checked is not space


def test_a_misspelt_step_parameter_is_refused_with_a_suggestion():
    with pytest.raises(ValueError) as error:
        check_space(seqpipe_pipeline(), {"kerasmodelstep__hidden_dim": RandInt(4, 32),
                                         "kerasmodelstep__hiden_dim": RandInt(4, 32)})
    message = str(error.value)
    assert message.startswith(
        "Unknown parameter 'kerasmodelstep__hiden_dim' in the search space of Pipeline: "
        "'kerasmodelstep' (KerasModelStep) has no parameter 'hiden_dim'. Did you mean "
        "'kerasmodelstep__hidden_dim'?")
    assert ("Valid parameters are: 'kerasmodelstep__hidden_dim', "
            "'kerasmodelstep__layers_stacked_count', 'kerasmodelstep__learning_rate'."
            in message)


def test_an_unknown_step_is_refused_naming_the_valid_prefixes():
    with pytest.raises(ValueError) as error:
        check_space(seqpipe_pipeline(), {"kerasmodel__hidden_dim": [8]})
    assert str(error.value) == (
        "Unknown parameter 'kerasmodel__hidden_dim' in the search space of Pipeline. "
        "Did you mean 'kerasmodelstep__hidden_dim'? Valid parameters start with: "
        "'kerasmodelstep__', 'meanstdnormalizer__', or are one of: 'kerasmodelstep', "
        "'meanstdnormalizer', 'steps'.")


def test_nested_meta_steps_are_reached_and_checked():
    pipeline = EpochRepeater(ValidationSplit(MiniBatch(seqpipe_pipeline(), batch_size=10)),
                             epochs=2)
    prefix = "step__step__step__kerasmodelstep__"
    check_space(pipeline, {prefix + "hidden_dim": [8, 16], "epochs": RandInt(1, 5),
                           "step__validation_size": Uniform(0.1, 0.3)})
    with pytest.raises(ValueError, match=re.escape(
            f"Unknown parameter '{prefix}hiddendim' in the search space of EpochRepeater: "
            f"'step__step__step__kerasmodelstep' (KerasModelStep) has no parameter "
            f"'hiddendim'. Did you mean '{prefix}hidden_dim'?")):
        check_space(pipeline, {prefix + "hiddendim": [8, 16]})


def test_a_plain_scikit_learn_estimator():
    assert check_space(Ridge(), {"alpha": LogUniform(1e-3, 10)})
    with pytest.raises(ValueError, match=re.escape(
            "Unknown parameter 'alpah' in the search space of Ridge. Did you mean 'alpha'? "
            "Valid parameters are: 'alpha', 'copy_X', 'fit_intercept'")):
        check_space(Ridge(), {"alpah": LogUniform(1e-3, 10)})
    with pytest.raises(ValueError, match=re.escape(
            "Unknown parameter 'zzz' in the search space of Ridge. Valid parameters are:")):
        check_space(Ridge(), {"zzz": [1]})


def test_a_list_of_spaces_is_checked_space_by_space():
    spaces = [{"alpha": [1.0]}, {"fit_intercept": Choice([True, False])}]
    assert check_space(Ridge(), spaces) == spaces
    with pytest.raises(ValueError, match="Unknown parameter 'tool'"):
        check_space(Ridge(), [{"alpha": [1.0]}, {"tool": [1.0]}])


@pytest.mark.parametrize("space, error, message", [
    ({"alpha": 1.0}, TypeError,
     "The values of parameter 'alpha' in the search space of Ridge must be a distribution "
     "(with an 'rvs' method) or a list of values. Got 1.0 of type float instead; write "
     "[1.0] to fix the value."),
    ({"solver": "auto"}, TypeError, "The values of parameter 'solver' in the search space"),
    ({"alpha": []}, ValueError,
     "The list of values of parameter 'alpha' in the search space of Ridge is empty"),
    ({"alpha": np.array([])}, ValueError, "The list of values of parameter 'alpha'"),
    ({1: [1.0]}, TypeError,
     "The parameter names in the search space of Ridge must be strings. Got 1 of type int"),
    ("alpha", TypeError, "The search space of Ridge must be a dict"),
    (None, TypeError, "The search space of Ridge must be a dict"),
    ([], ValueError, "The search space of Ridge is an empty list of dicts."),
])
def test_malformed_spaces_are_refused(space, error, message):
    with pytest.raises(error, match=re.escape(message)):
        check_space(Ridge(), space)


def test_nothing_is_fitted_or_changed_while_checking():
    pipeline = seqpipe_pipeline()
    before = pipeline.get_params(deep=True)
    check_space(pipeline, {"kerasmodelstep__hidden_dim": [1, 2]})
    assert pipeline.get_params(deep=True) == before
    assert not hasattr(pipeline[-1], "n_features_in_")
