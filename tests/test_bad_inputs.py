"""Bad input gets a clear error naming what is wrong, raised before any work."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from seqpipe import Pipeline
from seqpipe.base import fit_resample_step
from seqpipe.models import seq2seq_gru
from seqpipe.pipelines import seed003_training
from seqpipe.steps import (
    DataShuffler,
    ForEach,
    KerasModelStep,
    MeanStdNormalizer,
    MetricsWrapper,
    MiniBatch,
    PlotPredictions,
    ToNumpy,
    TrainOnly,
    ValidationSplit,
    Windower,
)

RNG = np.random.default_rng(0)
X3 = RNG.normal(size=(20, 6, 2))


def keras_step():
    return KerasModelStep(seq2seq_gru, hidden_dim=2, layers_stacked_count=1, random_state=0)


def signal_prediction():
    return Pipeline([MeanStdNormalizer(), ToNumpy(), keras_step()])


# name -> (factory, valid X, valid y); every factory takes 3-D windows except Windower
STEPS = {
    "MeanStdNormalizer": (MeanStdNormalizer, X3, X3),
    "MeanStdNormalizer(per_sample)": (lambda: MeanStdNormalizer(per_sample=True), X3, X3),
    "ToNumpy": (ToNumpy, X3, X3),
    "DataShuffler": (lambda: DataShuffler(random_state=0), X3, X3),
    "TrainOnly": (lambda: TrainOnly(DataShuffler(random_state=0)), X3, X3),
    "ForEach": (lambda: ForEach(MeanStdNormalizer()), X3, X3),
    "KerasModelStep": (keras_step, X3, X3),
    "Pipeline": (lambda: Pipeline([MeanStdNormalizer(), ToNumpy(), keras_step()]), X3, X3),
    "MiniBatch": (lambda: MiniBatch(signal_prediction(), batch_size=8), X3, X3),
    "EpochRepeater": (lambda: seed003_training(signal_prediction(), epochs=1, batch_size=8),
                      X3, X3),
    "ValidationSplit": (lambda: ValidationSplit(MiniBatch(signal_prediction(), batch_size=8)),
                        X3, X3),
    "MetricsWrapper": (lambda: MetricsWrapper(keras_step()), X3, X3),
    "PlotPredictions": (lambda: PlotPredictions(keras_step()), X3, X3),
}
SERIES = RNG.normal(size=(40, 2))
ALL = {**STEPS, "Windower": (lambda: Windower(5, 3), SERIES, None)}


def fit(step, X, y):
    """Fit through the method a pipeline would use."""
    if hasattr(step, "predict"):
        return step.fit(X, y)
    return fit_resample_step(step, X, y)


def with_value(X, value):
    X = X.astype(float)
    X.flat[7] = value
    return X


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("value, message", [
    (np.nan, "Input X contains NaN"),
    (np.inf, "Input X contains infinity"),
    (-np.inf, "Input X contains infinity"),
])
def test_non_finite_X(name, value, message):
    factory, X, y = ALL[name]
    with pytest.raises(ValueError, match=message):
        fit(factory(), with_value(X, value), y)


@pytest.mark.parametrize("name", ALL)
def test_empty_X(name):
    factory, X, y = ALL[name]
    with pytest.raises(ValueError, match=re.escape("Found array with 0 sample(s)")):
        fit(factory(), X[:0], None if y is None else y[:0])


@pytest.mark.parametrize("name", ALL)
def test_one_dimensional_X(name):
    factory, X, y = ALL[name]
    with pytest.raises(ValueError, match=re.escape("array for X, got a 1-D array of shape")):
        fit(factory(), X.ravel(), None if y is None else y.ravel())


@pytest.mark.parametrize("name", ALL)
def test_string_dtype(name):
    factory, X, y = ALL[name]
    with pytest.raises(ValueError, match=re.escape("expected a numeric array")):
        fit(factory(), X.astype(str), y)


@pytest.mark.parametrize("name", ALL)
def test_object_dtype_with_non_numbers(name):
    factory, X, y = ALL[name]
    bad = X.astype(object)
    bad.flat[3] = {"a": 1}
    with pytest.raises(TypeError, match="X has dtype object with values that are not numbers"):
        fit(factory(), bad, y)


@pytest.mark.parametrize("name", ["MeanStdNormalizer", "ToNumpy", "DataShuffler",
                                  "KerasModelStep", "Pipeline", "ForEach", "MiniBatch",
                                  "EpochRepeater", "ValidationSplit", "MetricsWrapper",
                                  "PlotPredictions"])
def test_X_y_length_mismatch(name):
    factory, X, y = STEPS[name]
    with pytest.raises(ValueError, match=re.escape(
            "X and y have inconsistent numbers of samples: X has 20, y has 19")):
        fit(factory(), X, y[:-1])


def test_ragged_list():
    with pytest.raises(ValueError, match="X is ragged: its samples have different lengths"):
        ToNumpy().fit_resample([[1.0, 2.0], [3.0]])


@pytest.mark.parametrize("name", ALL)
def test_unknown_set_params_key(name):
    factory = ALL[name][0]
    with pytest.raises(ValueError, match=re.escape("Invalid parameter 'nope' for estimator")):
        factory().set_params(nope=1)


@pytest.mark.parametrize("name", ALL)
def test_use_before_fit(name):
    factory, X, _ = ALL[name]
    step = factory()
    method = step.predict if hasattr(step, "predict") else step.transform
    with pytest.raises(NotFittedError, match="is not fitted yet"):
        method(X)


@pytest.mark.parametrize("name", ALL)
def test_different_feature_count_after_fit(name):
    factory, X, y = ALL[name]
    step = factory()
    fit(step, X, y)
    method = step.predict if hasattr(step, "predict") else step.transform
    with pytest.raises(ValueError, match=re.escape("X has 3 features, but")):
        method(np.concatenate([X, X[..., :1]], axis=-1))


def test_window_longer_than_series():
    with pytest.raises(ValueError, match=re.escape(
            "Windower needs a series of at least window_size_past + window_size_future = 43 "
            "time steps, got 40 (X of shape (40, 2)).")):
        Windower(40, 3).fit_resample(SERIES)


def test_normalize_y_with_other_features():
    with pytest.raises(ValueError, match=re.escape(
            "normalize_y=True scales y with X's statistics, so y's last axis must hold X's 2 "
            "features; got y of shape (20, 6, 1). Set normalize_y=False")):
        MeanStdNormalizer(normalize_y=True).fit_resample(X3, X3[..., :1])


@pytest.mark.parametrize("index, message", [
    (pd.to_datetime(["2020-01-02", "2020-01-01", "2020-01-03"]), "unsorted DatetimeIndex"),
    (pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-03"]),
     "DatetimeIndex with duplicated timestamps (first: 2020-01-01 00:00:00)"),
])
@pytest.mark.parametrize("step", [ToNumpy(), Windower(1, 1), MeanStdNormalizer(),
                                  DataShuffler()], ids=lambda step: type(step).__name__)
def test_bad_datetime_index(index, message, step):
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=index)
    with pytest.raises(ValueError, match=re.escape(message)):
        fit_resample_step(step, frame, None)


def test_pipeline_score_needs_y():
    pipe = Pipeline([MeanStdNormalizer(), ToNumpy(), keras_step()]).fit(X3, X3)
    with pytest.raises(ValueError, match="Pipeline.score needs y"):
        pipe.score(X3)


@pytest.mark.parametrize("name, message", [
    ("MeanStdNormalizer", "X has values too large to normalize: its standard deviation "
                          "overflows (max |X| = 1e+300)"),
    ("ToNumpy", "X has values too large for float32 (max |X| = 1e+300 > 3.4e38)"),
    ("KerasModelStep", "X has values too large for float32 (max |X| = 1e+300 > 3.4e38)"),
    ("Pipeline", "X has values too large to normalize"),
])
def test_huge_values(name, message):
    factory, X, y = STEPS[name]
    with pytest.raises(ValueError, match=re.escape(message)):
        fit(factory(), with_value(X, 1e300), y)


@pytest.mark.parametrize("make, message", [
    (lambda: MiniBatch(signal_prediction(), batch_size=0),
     "The 'batch_size' parameter of MiniBatch must be an int in the range [1, inf). Got 0"),
    (lambda: MiniBatch(signal_prediction(), batch_size=-3),
     "The 'batch_size' parameter of MiniBatch must be an int in the range [1, inf). Got -3"),
    (lambda: seed003_training(signal_prediction(), epochs=0),
     "The 'epochs' parameter of EpochRepeater must be an int in the range [1, inf). Got 0"),
    (lambda: seed003_training(signal_prediction(), validation_size=1.5),
     "The 'validation_size' parameter of ValidationSplit must be a float in the range (0, 1). "
     "Got 1.5"),
    (lambda: seed003_training(signal_prediction(), validation_size=0),
     "The 'validation_size' parameter of ValidationSplit must be a float in the range (0, 1). "
     "Got 0"),
    (lambda: KerasModelStep(seq2seq_gru, epochs=0),
     "The 'epochs' parameter of KerasModelStep must be an int in the range [1, inf). Got 0"),
])
def test_bad_training_params_fail_before_training(make, message):
    estimator = make()
    with pytest.raises(ValueError, match=re.escape(message)):
        estimator.fit(X3, X3)
    assert not any(getattr(s, "model_", None) is not None for s in _keras_steps(estimator))


def _keras_steps(estimator):
    from seqpipe.base import iter_steps

    return [s for s in iter_steps(estimator) if isinstance(s, KerasModelStep)]
