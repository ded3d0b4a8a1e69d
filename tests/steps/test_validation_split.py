"""ValidationSplit: no validation target is also a training target (the gap), and
validation metrics are never lost silently (items 2 and 6 of the foundations)."""

import math
import re

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, RegressorMixin

from seqpipe import Pipeline
from seqpipe._time_split import holdout_split, resolve_gap
from seqpipe.base import collect_history
from seqpipe.scoring import mse
from seqpipe.steps import (
    EpochRepeater,
    MeanStdNormalizer,
    MetricsWrapper,
    MiniBatch,
    ValidationSplit,
    Windower,
)


class TargetRecorder(RegressorMixin, BaseEstimator):
    """Keeps every target it is trained on; predicts the mean of the last one seen."""

    def partial_fit(self, X, y):
        self.__dict__.setdefault("trained_targets_", []).append(np.array(y))
        self.mean_ = float(np.mean(y))
        self.n_features_in_ = np.shape(X)[-1]
        return self

    def fit(self, X, y):
        self.__dict__.pop("trained_targets_", None)
        return self.partial_fit(X, y)

    def predict(self, X):
        return np.full((len(X), *self.trained_targets_[-1].shape[1:]), self.mean_)

    def time_steps(self):
        return set(np.concatenate([t.ravel() for t in self.trained_targets_]).tolist())


def clock(T=300):
    """A series whose value is its time step: targets name the time steps they cover."""
    return np.arange(T, dtype=float)[:, None]


@pytest.mark.parametrize("past, future", [(40, 40), (10, 1), (5, 7)])
def test_windowed_samples_get_a_gap_so_targets_never_overlap(past, future):
    X, y = Windower(past, future).fit_resample(clock())
    split = ValidationSplit(TargetRecorder(), validation_size=0.2).fit(X, y)
    validation_steps = set(y[split.validation_indices_].ravel().tolist())
    assert split.step_.time_steps().isdisjoint(validation_steps)
    assert split.gap_ == future
    assert len(split.validation_indices_) == math.ceil(0.2 * len(X))
    assert split.train_indices_[-1] + future + 1 == split.validation_indices_[0]


def test_without_the_gap_the_last_training_targets_are_validation_targets():
    """What the gap prevents (and what the default did before it existed)."""
    X, y = Windower(40, 40).fit_resample(clock())
    split = ValidationSplit(TargetRecorder(), validation_size=0.2, gap=0).fit(X, y)
    validation_steps = set(y[split.validation_indices_].ravel().tolist())
    first_validation_targets = set(y[split.validation_indices_[0]].ravel().tolist())
    shared = split.step_.time_steps() & first_validation_targets
    assert len(shared) == 39
    assert split.step_.time_steps() & validation_steps


def test_a_windower_inside_splits_the_series_first_and_needs_no_gap():
    split = ValidationSplit(Pipeline([Windower(40, 40), TargetRecorder()]),
                            validation_size=0.4).fit(clock())
    assert split.gap_ == 0
    validation_series = clock()[split.validation_indices_]
    _, validation_targets = Windower(40, 40).fit_resample(validation_series)
    trained = split.step_[-1].time_steps()
    assert trained.isdisjoint(validation_targets.ravel().tolist())
    assert max(trained) < min(validation_targets.ravel())


def test_one_step_targets_need_no_gap():
    X = np.random.default_rng(0).normal(size=(100, 3))
    split = ValidationSplit(TargetRecorder(), validation_size=0.2).fit(X, X[:, 0])
    assert split.gap_ == 0 and len(split.train_indices_) == 80


@pytest.mark.parametrize("gap", [-1, 1.5, "big", True])
def test_a_bad_gap_is_refused(gap):
    X = np.zeros((50, 2))
    message = ("The 'gap' parameter of ValidationSplit must be 'auto' or an int in the range "
               f"[0, inf). Got {gap!r} instead.")
    with pytest.raises(ValueError, match=re.escape(message)):
        ValidationSplit(TargetRecorder(), gap=gap).fit(X, X[:, 0])


def test_a_gap_that_leaves_no_training_sample_names_the_sizes():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match=re.escape(
            "ValidationSplit with validation_size=0.2 and gap=8 leaves no training sample: "
            "got 10 sample(s), 2 to validate on and 8 left out between the parts; need at "
            "least 11.")):
        ValidationSplit(TargetRecorder(), validation_size=0.2, gap=8).fit(X, X[:, 0])


def test_one_training_sample_is_enough():
    # 10 samples: 1 to validate on, a gap of 8, and the first one to train on
    assert holdout_split(10, 0.1, gap=8, owner="x") == (slice(0, 1), slice(9, 10))
    X = np.arange(20.0).reshape(10, 2)
    split = ValidationSplit(TargetRecorder(), validation_size=0.1, gap=8).fit(X, X[:, 0])
    assert split.step_.time_steps() == {0.0}


def test_a_gap_with_a_shuffled_split_is_refused():
    X = np.zeros((50, 2))
    with pytest.raises(ValueError, match="with shuffle=True set gap=0"):
        ValidationSplit(TargetRecorder(), shuffle=True, gap=3).fit(X, X[:, 0])


def test_the_gap_rule_in_one_place():
    assert resolve_gap("auto", np.zeros((9, 4, 2)), owner="x") == 4
    assert resolve_gap("auto", np.zeros((9, 4)), owner="x") == 0
    assert resolve_gap("auto", None, owner="x") == 0
    assert resolve_gap(3, np.zeros((9, 4, 2)), owner="x") == 3
    assert holdout_split(100, 0.15, gap=10, owner="x") == (slice(0, 75), slice(85, 100))


# ------------------------------------------------------------------ validation metrics
def regression(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 10.0, 100.0] + 50.0
    return X, X @ [1.0, 0.1, 0.01]


def test_a_metrics_wrapper_deeper_inside_records_validation_in_its_own_units():
    X, y = regression()
    wrapper = MetricsWrapper(MiniBatch(TargetRecorder(), batch_size=16), name="model")
    pipeline = Pipeline([MeanStdNormalizer(normalize_y=False), wrapper])
    split = ValidationSplit(pipeline, validation_size=0.25)
    EpochRepeater(split, epochs=3).fit(X, y)
    validation = wrapper.history_["validation"]["mse"]
    assert len(validation) == 3
    X_val, y_val = X[split.validation_indices_], y[split.validation_indices_]
    assert validation[-1] == pytest.approx(mse(y_val, pipeline.predict(X_val)), rel=1e-12)


def test_only_the_outermost_wrapper_records_validation():
    X, y = regression()
    model = EpochRepeater(ValidationSplit(MetricsWrapper(
        MiniBatch(MetricsWrapper(TargetRecorder(), name="batches"), batch_size=16),
        name="epochs"), validation_size=0.25), epochs=2).fit(X, y)
    assert len(model.history_["epochs"]["validation"]["mse"]) == 2
    assert model.history_["batches"]["validation"]["mse"] == []
    assert len(model.history_["batches"]["train"]["mse"]) == 2 * 6


def test_validation_predicted_in_chunks_is_recorded_once_per_pass():
    X, y = regression(200)
    wrapper = MetricsWrapper(TargetRecorder())
    split = ValidationSplit(MiniBatch(wrapper, batch_size=32, predict_batch_size=7),
                            validation_size=0.25)
    EpochRepeater(split, epochs=2).fit(X, y)
    validation = collect_history(split)["metrics"]["validation"]["mse"]
    assert len(validation) == 2
    X_val, y_val = X[split.validation_indices_], y[split.validation_indices_]
    assert_allclose(validation[-1], mse(y_val, split.predict(X_val)), rtol=1e-12)


class PlainWrapper(BaseEstimator):
    """A user's own meta-step that predicts without ``predict_with_truth``."""

    def __init__(self, step):
        self.step = step

    def fit(self, X, y):
        self.step.fit(X, y)
        return self

    def partial_fit(self, X, y):
        self.step.partial_fit(X, y)
        return self

    def predict(self, X):
        return self.step.predict(X)


def test_a_wrapper_off_the_evaluation_path_is_an_error_not_a_silent_loss():
    X, y = regression()
    hidden = PlainWrapper(MetricsWrapper(TargetRecorder(), name="hidden"))
    with pytest.raises(ValueError, match=re.escape(
            "ValidationSplit could not record validation metrics: the evaluation path "
            "reaches none of the MetricsWrapper(s) inside (hidden).")):
        ValidationSplit(hidden).fit(X, y)
    # directly inside, it records
    split = ValidationSplit(MetricsWrapper(PlainWrapper(TargetRecorder()))).fit(X, y)
    assert len(split.history_["metrics"]["validation"]["mse"]) == 1


def test_restore_best_weights_without_training_state_is_an_error():
    X, y = regression()
    with pytest.raises(ValueError, match=re.escape(
            "restore_best_weights=True needs a step that holds training state")):
        ValidationSplit(TargetRecorder(), restore_best_weights=True).fit(X, y)


class WeightRecorder(RegressorMixin, BaseEstimator):
    """Records the weights each of its training methods gets."""

    def adapt(self, X, y=None, sample_weight=None):
        self.calls_ = [("adapt", sample_weight)]
        return self

    def fit(self, X, y=None, sample_weight=None):
        self.calls_ = [("fit", sample_weight)]
        return self

    def partial_fit(self, X, y=None, sample_weight=None):
        self.calls_ = [*getattr(self, "calls_", []), ("partial_fit", sample_weight)]
        return self

    def predict(self, X):
        return np.zeros(len(X))


@pytest.mark.parametrize("routing", [False, True])
def test_fit_parameters_reach_the_step_for_its_training_rows_only(routing):
    X, y = regression(40)
    weights = np.arange(1.0, 41.0)  # each row's weight names its row
    with sklearn.config_context(enable_metadata_routing=routing):
        recorder = WeightRecorder()
        if routing:
            recorder.set_fit_request(sample_weight=True)
            recorder.set_partial_fit_request(sample_weight=True)
        for method, expected in [("fit", ["fit"]), ("adapt", ["adapt"]),
                                 ("partial_fit", ["adapt", "partial_fit"])]:
            split = ValidationSplit(recorder, validation_size=0.25)
            getattr(split, method)(X, y, sample_weight=weights)
            train = weights[split.train_indices_]
            assert len(train) == 30
            assert [name for name, _ in split.step_.calls_] == expected
            for name, got in split.step_.calls_:
                assert_allclose(got, train, err_msg=name)
