"""Meta-steps on their own and composed: MiniBatch, EpochRepeater, ValidationSplit,
MetricsWrapper, PlotPredictions (fast: no Keras).

The test-only estimators below record the row ids they are trained on: the first
feature of every X built by :func:`make_data` is a unique row id (``X[:, 0]`` for 2-D
data, ``X[:, 0, 0]`` for 3-D data).
"""

import math
import pickle
import re
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import GridSearchCV, cross_val_score

from seqpipe import Pipeline
from seqpipe.base import DivergedError, collect_history
from seqpipe.plotting import plot_history
from seqpipe.steps import (
    DataShuffler,
    EpochRepeater,
    MeanStdNormalizer,
    MetricsWrapper,
    MiniBatch,
    PlotPredictions,
    TrainOnly,
    ValidationSplit,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------ test-only estimators
def row_ids(X):
    """The row ids carried by the first feature of ``X`` (2-D or 3-D)."""
    X = np.asarray(X)
    return X.reshape(len(X), -1)[:, 0].astype(int).tolist()


class Recorder(RegressorMixin, BaseEstimator):
    """Records every training call; predicts zeros shaped like y.

    ``seen_`` holds the row ids of each ``partial_fit`` call since the last ``adapt``;
    ``adapt_log_`` the number of rows of every ``adapt`` call (it survives adapt).
    """

    def adapt(self, X, y):
        self.adapt_log_ = [*getattr(self, "adapt_log_", []), len(X)]
        self.adapt_ids_ = row_ids(X)
        self.y_shape_ = np.shape(y)[1:]
        self.n_features_in_ = np.shape(X)[-1]
        self.seen_, self.n_partial_fit_ = [], 0
        return self

    def partial_fit(self, X, y):
        if not hasattr(self, "seen_"):
            self.adapt(X, y)
        self.seen_.append(row_ids(X))
        self.n_partial_fit_ += 1
        return self

    def fit(self, X, y):
        return self.adapt(X, y).partial_fit(X, y)

    def predict(self, X):
        self.predict_sizes_ = [*getattr(self, "predict_sizes_", []), len(X)]
        return np.zeros((len(X), *self.y_shape_))

    # helpers for the tests
    def batch_sizes(self):
        return [len(ids) for ids in self.seen_]

    def all_seen(self):
        return [i for ids in self.seen_ for i in ids]


class Weighted(Recorder):
    """A Recorder with one weight, exposed as its training state.

    The i-th ``partial_fit`` call (0-based) sets the weight to ``schedule[i]``
    (default: ``i + 1``, the number of calls made); predictions are the weight,
    everywhere. ``fail_at`` makes that call corrupt the weight, then raise a
    DivergedError (``failure="nan"``) or a KeyboardInterrupt (``"interrupt"``).
    """

    def __init__(self, schedule=None, fail_at=None, failure="nan"):
        self.schedule = schedule
        self.fail_at = fail_at
        self.failure = failure

    def adapt(self, X, y):
        super().adapt(X, y)
        self.model_, self.weight_, self.n_calls_ = "built", 0.0, 0
        return self

    def partial_fit(self, X, y):
        if not hasattr(self, "model_"):
            self.adapt(X, y)
        call, self.n_calls_ = self.n_calls_, self.n_calls_ + 1
        if call == self.fail_at:
            self.weight_ = float("nan")  # a half-done update the meta-steps must undo
            if self.failure == "interrupt":
                raise KeyboardInterrupt
            raise DivergedError(float("nan"))
        super().partial_fit(X, y)
        self.weight_ = float(self.schedule[call] if self.schedule is not None else call + 1)
        return self

    def predict(self, X):
        return np.full((len(X), *self.y_shape_), self.weight_)

    def get_training_state(self):
        return getattr(self, "weight_", None)

    def set_training_state(self, state):
        self.weight_ = state


def make_data(n=250, n_features=3, seed=0):
    """X with row ids in its first feature; y of shape (n, 2) linear in X's other features."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.arange(n, dtype=float), rng.normal(size=(n, n_features - 1))])
    y = X[:, 1:] @ rng.normal(size=(n_features - 1, 2))
    return X, y


def make_regression(n=150, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.01 * rng.normal(size=n)


def make_3d(n=12, past=5, future=4, n_features=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, past, n_features))
    X[:, 0, 0] = np.arange(n)
    return X, rng.normal(size=(n, future, n_features))


def composition(batch_size=20, epochs=3):
    return EpochRepeater(MiniBatch(SGDRegressor(random_state=0), batch_size=batch_size),
                         epochs=epochs)


# ------------------------------------------------------------------------------- MiniBatch
@pytest.mark.parametrize("keep_last, sizes", [(True, [100, 100, 50]), (False, [100, 100])])
def test_minibatch_calls_partial_fit_once_per_batch(keep_last, sizes):
    X, y = make_data(250)
    step = MiniBatch(Recorder(), batch_size=100, keep_last=keep_last).fit(X, y)
    recorder = step.step_
    assert recorder.n_partial_fit_ == len(sizes) == step.n_batches_
    assert recorder.batch_sizes() == sizes
    assert recorder.all_seen() == list(range(sum(sizes)))  # in order, each row once


def test_minibatch_each_pass_visits_every_row_once():
    X, y = make_data(250)
    step = MiniBatch(Recorder(), batch_size=64).fit(X, y)
    step.partial_fit(X, y)
    seen = step.step_.seen_
    assert step.step_.batch_sizes() == [64, 64, 64, 58] * 2
    for one_pass in (seen[:4], seen[4:]):
        assert sorted(i for ids in one_pass for i in ids) == list(range(250))
    assert step.n_batches_ == 4


def test_minibatch_adapts_once_on_all_the_data():
    X, y = make_data(250)
    step = MiniBatch(Recorder(), batch_size=100).fit(X, y)
    assert step.step_.adapt_log_ == [250]
    assert step.step_.adapt_ids_ == list(range(250))


def test_minibatch_fits_a_pipeline_normalizer_on_all_the_data():
    X, y = make_data(250)
    X[:, 1] += np.linspace(0.0, 100.0, 250)  # a trend: the first batch's mean differs
    step = MiniBatch(Pipeline([MeanStdNormalizer(normalize_y=False), Recorder()]),
                     batch_size=100).fit(X, y)
    normalizer = step.step_[0]
    np.testing.assert_allclose(normalizer.mean_, X.mean(axis=0))
    assert not np.allclose(normalizer.mean_, X[:100].mean(axis=0))
    np.testing.assert_allclose(normalizer.std_, X.std(axis=0))
    assert step.step_[-1].adapt_log_ == [250]
    assert step.step_[-1].batch_sizes() == [100, 100, 50]


def test_minibatch_predicts_batch_by_batch_like_unbatched():
    X, y = make_regression(250)
    step = MiniBatch(SGDRegressor(random_state=0), batch_size=30, predict_batch_size=7)
    step.fit(X, y)
    np.testing.assert_allclose(step.predict(X), step.step_.predict(X), rtol=1e-12)
    y_true, y_pred = step.predict_with_truth(X, y)
    np.testing.assert_array_equal(y_true, y)
    np.testing.assert_allclose(y_pred, step.step_.predict(X), rtol=1e-12)



class IncrementalScaler(BaseEstimator):
    """A transformer with partial_fit (running mean), to test MiniBatch.transform."""

    def adapt(self, X, y=None):
        self.n_, self.sum_ = 0, np.zeros(np.shape(X)[-1])
        self.n_features_in_ = np.shape(X)[-1]
        return self

    def partial_fit(self, X, y=None):
        self.n_ += len(X)
        self.sum_ = self.sum_ + np.asarray(X).sum(axis=0)
        return self

    def fit(self, X, y=None):
        return self.adapt(X).partial_fit(X)

    def transform(self, X):
        return np.asarray(X) - self.sum_ / self.n_


def test_minibatch_transform_matches_the_unbatched_transform():
    X, _ = make_regression(250)
    step = MiniBatch(IncrementalScaler(), batch_size=40, predict_batch_size=9).fit(X)
    assert step.step_.n_ == 250
    np.testing.assert_allclose(step.transform(X), step.step_.transform(X), rtol=1e-12)
    np.testing.assert_allclose(step.step_.sum_ / 250, X.mean(axis=0))


def test_minibatch_does_not_silently_train_on_nothing():
    X, y = make_regression(50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises((ValueError, UserWarning)):
            MiniBatch(SGDRegressor(), batch_size=100, keep_last=False).fit(X, y)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True, "8"])
def test_minibatch_rejects_a_bad_batch_size(batch_size):
    X, y = make_data(20)
    message = (f"The 'batch_size' parameter of MiniBatch must be an int in the range [1, inf). "
               f"Got {batch_size!r} instead.")
    with pytest.raises(ValueError, match=re.escape(message)):
        MiniBatch(Recorder(), batch_size=batch_size).fit(X, y)


def test_minibatch_rejects_a_bad_predict_batch_size():
    X, y = make_data(20)
    with pytest.raises(ValueError, match=re.escape(
            "The 'predict_batch_size' parameter of MiniBatch must be an int in the range "
            "[1, inf). Got 0 instead.")):
        MiniBatch(Recorder(), predict_batch_size=0).fit(X, y)


def test_minibatch_needs_partial_fit():
    X, y = make_regression(20)
    with pytest.raises(TypeError, match=re.escape(
            "MiniBatch trains its step with partial_fit, which Ridge does not have.")):
        MiniBatch(Ridge()).fit(X, y)


def test_minibatch_runs_a_list_of_steps_as_a_pipeline():
    X, y = make_data(50)
    steps = [MeanStdNormalizer(normalize_y=False), Recorder()]
    step = MiniBatch(steps, batch_size=20).fit(X, y)
    assert isinstance(step.step_, Pipeline)
    assert step.step.__class__ is list and step.step == steps  # the parameter is untouched
    assert step.step_[-1] is steps[-1]
    assert step.step_[-1].batch_sizes() == [20, 20, 10]
    assert step.predict(X).shape == y.shape


# ----------------------------------------------------------------------------- EpochRepeater
def test_epoch_repeater_one_pass_per_epoch_and_one_adapt():
    X, y = make_data(250)
    model = EpochRepeater(MiniBatch(Recorder(), batch_size=100), epochs=3).fit(X, y)
    recorder = model.step_.step_
    assert model.n_epochs_ == 3 and len(model.epoch_seconds_) == 3
    assert recorder.adapt_log_ == [250]
    assert recorder.batch_sizes() == [100, 100, 50] * 3
    assert sorted(recorder.all_seen()) == sorted(list(range(250)) * 3)


def test_epoch_repeater_calls_partial_fit_once_per_epoch():
    X, y = make_data(40)
    model = EpochRepeater(Recorder(), epochs=4).fit(X, y)
    assert model.step_.n_partial_fit_ == 4
    assert model.step_.batch_sizes() == [40] * 4
    assert model.step_.adapt_log_ == [40]


@pytest.mark.parametrize("epochs", [0, -2, 1.5])
def test_epoch_repeater_rejects_bad_epochs(epochs):
    X, y = make_data(20)
    with pytest.raises(ValueError, match=re.escape(
            f"The 'epochs' parameter of EpochRepeater must be an int in the range [1, inf). "
            f"Got {epochs!r} instead.")):
        EpochRepeater(Recorder(), epochs=epochs).fit(X, y)


def test_epoch_repeater_needs_partial_fit():
    X, y = make_regression(20)
    with pytest.raises(TypeError, match=re.escape(
            "EpochRepeater trains its step with partial_fit, which Ridge does not have.")):
        EpochRepeater(Ridge()).fit(X, y)


def test_early_stopping_after_patience_epochs_without_progress():
    X, y = make_data(100)
    y = np.zeros_like(y)  # predictions are the weight: the validation MSE is weight ** 2
    split = ValidationSplit(MiniBatch(Weighted(schedule=[1, 2, 3, 4, 5, 6]), batch_size=1000),
                            patience=2)
    model = EpochRepeater(split, epochs=6).fit(X, y)
    assert model.n_epochs_ == 3  # best at epoch 0, then 2 worse epochs
    assert split.best_epoch_ == 0 and split.stop_training_
    assert split.validation_scores_ == [-1.0, -4.0, -9.0]
    assert split.best_score_ == -1.0
    assert split.step_.step_.weight_ == 3.0  # restore_best_weights is off


def test_restore_best_weights_puts_back_the_best_epoch():
    X, y = make_data(100)
    y = np.zeros_like(y)
    # 85 training rows: batches of 30, 30, 25, so 3 calls per epoch; the weight after an
    # epoch is that of its last batch: 2, 1, 3, 4 (best: epoch 1), mid-epoch ones are 9
    schedule = [w for end in (2, 1, 3, 4, 5, 6) for w in (9, 9, end)]
    weighted = Weighted(schedule=schedule)
    split = ValidationSplit(MiniBatch(weighted, batch_size=30), patience=2,
                            restore_best_weights=True)
    model = EpochRepeater(split, epochs=6).fit(X, y)
    assert split.validation_scores_ == [-4.0, -1.0, -9.0, -16.0]
    assert split.best_epoch_ == 1 and model.n_epochs_ == 4
    assert weighted.weight_ == 1.0
    np.testing.assert_array_equal(model.predict(X[:2]), np.ones((2, 2)))


def test_restore_best_weights_one_call_per_epoch():
    X, y = make_data(100)
    y = np.zeros_like(y)
    weighted = Weighted(schedule=[3, 1, 2, 4, 5, 6])
    split = ValidationSplit(weighted, patience=2, restore_best_weights=True)
    model = EpochRepeater(split, epochs=6).fit(X, y)
    assert split.validation_scores_ == [-9.0, -1.0, -4.0, -16.0]
    assert split.best_epoch_ == 1 and model.n_epochs_ == 4
    assert weighted.weight_ == 1.0
    np.testing.assert_array_equal(model.predict(X[:3]), np.ones((3, 2)))


def test_without_restore_the_last_weights_stay():
    X, y = make_data(100)
    y = np.zeros_like(y)
    weighted = Weighted(schedule=[3, 1, 2, 4, 5, 6])
    EpochRepeater(ValidationSplit(weighted, patience=2), epochs=6).fit(X, y)
    assert weighted.weight_ == 4.0


def shuffled_orders(epochs=3, random_state=0, n=60):
    X, y = make_data(n)
    model = EpochRepeater(Pipeline([TrainOnly(DataShuffler(random_state=random_state)),
                                    MiniBatch(Recorder(), batch_size=n)]), epochs=epochs)
    model.fit(X, y)
    return model.step_[-1].step_.seen_


def test_train_only_shuffler_reshuffles_every_epoch():
    orders = shuffled_orders()
    assert len(orders) == 3
    assert all(sorted(order) == list(range(60)) for order in orders)
    assert orders[0] != orders[1] and orders[1] != orders[2] and orders[0] != orders[2]
    assert orders[0] != list(range(60))
    assert shuffled_orders() == orders  # same random_state, fresh objects: same orders
    assert shuffled_orders(random_state=1) != orders


def test_train_only_shuffler_never_shuffles_predictions():
    X, y = make_data(60)
    model = EpochRepeater(Pipeline([TrainOnly(DataShuffler(random_state=0)),
                                    MiniBatch(Weighted(), batch_size=60)]), epochs=2).fit(X, y)
    np.testing.assert_array_equal(model.step_[0].transform(X), X)
    assert model.predict(X).shape == y.shape


def test_refitting_the_same_estimator_reshuffles_identically():
    X, y = make_data(60)
    model = EpochRepeater(Pipeline([TrainOnly(DataShuffler(random_state=0)),
                                    MiniBatch(Recorder(), batch_size=60)]), epochs=2)
    first = [list(order) for order in model.fit(X, y).step_[-1].step_.seen_]
    second = [list(order) for order in model.fit(X, y).step_[-1].step_.seen_]
    assert first == second


# ---------------------------------------------------------------------------- ValidationSplit
def test_validation_rows_are_the_last_ones_and_never_trained_on():
    X, y = make_data(200)
    recorder = Recorder()
    split = ValidationSplit(MiniBatch(recorder, batch_size=50))
    model = EpochRepeater(split, epochs=3).fit(X, y)
    n_validation = math.ceil(0.15 * 200)
    np.testing.assert_array_equal(split.validation_indices_, np.arange(200 - n_validation, 200))
    np.testing.assert_array_equal(split.train_indices_, np.arange(200 - n_validation))
    assert recorder.adapt_log_ == [200 - n_validation]
    assert max(recorder.adapt_ids_) < 200 - n_validation
    assert sorted(recorder.all_seen()) == sorted(list(range(200 - n_validation)) * 3)
    assert model.n_epochs_ == 3


@pytest.mark.parametrize("n", [7, 101, 333])
def test_validation_size_rounds_up(n):
    X, y = make_data(n)
    recorder = Recorder()
    split = ValidationSplit(recorder, validation_size=0.15).fit(X, y)
    n_validation = math.ceil(0.15 * n)
    assert len(split.validation_indices_) == n_validation
    assert set(recorder.all_seen()) == set(range(n - n_validation))
    assert set(recorder.adapt_ids_) == set(range(n - n_validation))


def test_validation_split_fit_never_trains_on_validation_rows():
    X, y = make_data(100)
    recorder = Recorder()
    split = ValidationSplit(recorder, validation_size=0.2).fit(X, y)
    assert recorder.all_seen() == list(range(80)) and recorder.adapt_ids_ == list(range(80))
    assert len(split.validation_scores_) == 1


def test_shuffled_split_is_deterministic_disjoint_and_covering():
    X, y = make_data(100)
    runs = []
    for _ in range(2):
        recorder = Recorder()
        split = ValidationSplit(MiniBatch(recorder, batch_size=16), shuffle=True,
                                random_state=3, validation_size=0.3)
        EpochRepeater(split, epochs=2).fit(X, y)
        runs.append((split, recorder))
    (first, recorder), (second, _) = runs
    np.testing.assert_array_equal(first.validation_indices_, second.validation_indices_)
    np.testing.assert_array_equal(first.train_indices_, second.train_indices_)
    train, validation = set(first.train_indices_), set(first.validation_indices_)
    assert train.isdisjoint(validation) and train | validation == set(range(100))
    assert len(validation) == 30
    assert validation != set(range(70, 100))  # not the time-ordered split
    assert set(recorder.all_seen()) == train and set(recorder.adapt_ids_) == train
    other = ValidationSplit(Recorder(), shuffle=True, random_state=4,
                            validation_size=0.3).fit(X, y)
    assert set(other.validation_indices_) != validation


@pytest.mark.parametrize("size", [0, 1, -0.1, 1.5, True, "0.2", None])
def test_validation_split_rejects_a_bad_validation_size(size):
    X, y = make_data(20)
    message = (f"The 'validation_size' parameter of ValidationSplit must be a float in the "
               f"range (0, 1). Got {size!r} instead.")
    with pytest.raises(ValueError, match=re.escape(message)):
        ValidationSplit(Recorder(), validation_size=size).fit(X, y)
    with pytest.raises(ValueError, match=re.escape(message)):
        EpochRepeater(ValidationSplit(Recorder(), validation_size=size)).fit(X, y)


def test_validation_size_message_is_pinned():
    X, y = make_data(20)
    with pytest.raises(ValueError, match=re.escape(
            "The 'validation_size' parameter of ValidationSplit must be a float in the range "
            "(0, 1). Got 0 instead.")):
        ValidationSplit(Recorder(), validation_size=0).fit(X, y)


@pytest.mark.parametrize("patience", [0, -1, 1.5, True])
def test_validation_split_rejects_a_bad_patience(patience):
    X, y = make_data(20)
    with pytest.raises(ValueError, match=re.escape(
            f"The 'patience' parameter of ValidationSplit must be None or an int in the range "
            f"[1, inf). Got {patience!r} instead.")):
        ValidationSplit(Recorder(), patience=patience).fit(X, y)


def test_validation_scores_one_per_epoch_and_metrics_recorded():
    X, y = make_regression(120)
    wrapper = MetricsWrapper(MiniBatch(SGDRegressor(random_state=0), batch_size=25),
                             metrics=["mse", "r2"])
    split = ValidationSplit(wrapper, validation_size=0.25)
    model = EpochRepeater(split, epochs=4).fit(X, y)
    assert len(split.validation_scores_) == 4
    for metric in ("mse", "r2"):
        assert len(wrapper.history_["validation"][metric]) == 4
        assert len(wrapper.history_["train"][metric]) == 4
    # the recorded validation MSE is the negated validation score (default scoring)
    np.testing.assert_allclose(wrapper.history_["validation"]["mse"],
                               [-s for s in split.validation_scores_])
    # and it is the MSE of the final model on the validation rows, in y's units
    validation = split.validation_indices_
    np.testing.assert_allclose(
        wrapper.history_["validation"]["mse"][-1],
        mean_squared_error(y[validation], model.predict(X[validation])))
    assert split.best_score_ == max(split.validation_scores_)
    assert split.best_epoch_ == int(np.argmax(split.validation_scores_))


def test_validation_split_with_a_scorer_name():
    X, y = make_regression(120)
    split = ValidationSplit(MiniBatch(SGDRegressor(random_state=0), batch_size=25),
                            scoring="r2", validation_size=0.25)
    model = EpochRepeater(split, epochs=2).fit(X, y)
    validation = split.validation_indices_
    np.testing.assert_allclose(split.validation_scores_[-1],
                               r2_score(y[validation], model.predict(X[validation])))


@pytest.mark.parametrize("first", [np.nan, 1e200])
def test_early_stopping_survives_a_non_finite_first_score(first):
    X, y = make_data(100)
    y = np.zeros_like(y)  # the first prediction is nan or overflows the MSE to inf
    split = ValidationSplit(Weighted(schedule=[first, 1, 2, 3, 4, 5]), patience=2)
    model = EpochRepeater(split, epochs=6).fit(X, y)
    assert split.best_epoch_ == 1 and model.n_epochs_ == 4


def test_validation_split_partial_fit_needs_the_same_number_of_samples():
    X, y = make_data(100)
    split = ValidationSplit(Recorder()).fit(X, y)
    split.partial_fit(X, y)  # the same data: fine
    with pytest.raises(ValueError, match=re.escape(
            "ValidationSplit was fitted on 100 samples and split them once; got 90.")):
        split.partial_fit(X[:90], y[:90])


def test_validation_split_needs_two_samples():
    X, y = make_data(1)
    with pytest.raises(ValueError, match="leaves no training sample"):
        ValidationSplit(Recorder()).fit(X, y)


# ----------------------------------------------------------------------------- MetricsWrapper
def test_metrics_per_batch_inside_minibatch():
    X, y = make_data(250)
    wrapper = MetricsWrapper(Recorder(), name="batch")
    model = EpochRepeater(MiniBatch(wrapper, batch_size=100), epochs=2).fit(X, y)
    values = wrapper.history_["train"]["mse"]
    assert len(values) == 3 * 2  # 3 batches per epoch
    assert wrapper.history_["validation"]["mse"] == []
    # the predictions are zeros: each batch's MSE is the mean of y ** 2 over the batch
    starts = [0, 100, 200] * 2
    np.testing.assert_allclose(values, [np.mean(y[s:s + 100] ** 2) for s in starts])
    assert model.history_ == {"batch": wrapper.history_}


def test_metrics_per_epoch_around_minibatch():
    X, y = make_data(250)
    wrapper = MetricsWrapper(MiniBatch(Recorder(), batch_size=100), name="epoch")
    model = EpochRepeater(wrapper, epochs=3).fit(X, y)
    assert wrapper.history_["train"]["mse"] == pytest.approx([np.mean(y ** 2)] * 3)
    assert set(model.history_) == {"epoch"}


def test_verbose_metrics_are_printed_once_per_record(capsys):
    X, y = make_data(250)
    wrapper = MetricsWrapper(MiniBatch(Recorder(), batch_size=100), name="epoch", verbose=1)
    EpochRepeater(ValidationSplit(wrapper, validation_size=0.2), epochs=2, verbose=1).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]
    values = wrapper.history_
    assert lines == [f"epoch {subset}: mse={values[subset]['mse'][epoch]:.6g}"
                     for epoch in range(2) for subset in ("train", "validation")]


def flat_max_error(y_true, y_pred):
    assert np.ndim(y_true) <= 2 and np.ndim(y_pred) <= 2  # 3-D targets arrive flattened
    return float(np.max(np.abs(y_true - y_pred)))


def test_metrics_accepts_names_scorers_callables_and_dicts():
    X, y = make_regression(60)
    wrapper = MetricsWrapper(Ridge(), metrics=["mse", "neg_mean_absolute_error", "r2",
                                                flat_max_error]).fit(X, y)
    y_pred = wrapper.predict(X)
    assert list(wrapper.history_["train"]) == ["mse", "neg_mean_absolute_error", "r2",
                                               "flat_max_error"]
    train = {k: v[0] for k, v in wrapper.history_["train"].items()}
    assert train["mse"] == pytest.approx(mean_squared_error(y, y_pred))
    assert train["neg_mean_absolute_error"] == pytest.approx(-mean_absolute_error(y, y_pred))
    assert train["r2"] == pytest.approx(r2_score(y, y_pred))
    assert train["flat_max_error"] == pytest.approx(np.max(np.abs(y - y_pred)))

    named = MetricsWrapper(Ridge(), metrics={"loss": "mse", "mae": "neg_mean_absolute_error",
                                             "worst": flat_max_error}).fit(X, y)
    assert list(named.history_["train"]) == ["loss", "mae", "worst"]
    assert named.history_["train"]["loss"] == pytest.approx([train["mse"]])
    assert MetricsWrapper(Ridge(), metrics="r2").fit(X, y).history_["train"].keys() == {"r2"}
    assert list(MetricsWrapper(Ridge()).fit(X, y).history_["train"]) == ["mse"]


def test_metrics_with_the_same_name_are_not_silently_dropped():
    X, y = make_regression(20)
    try:
        wrapper = MetricsWrapper(Ridge(), metrics=[lambda t, p: 1.0, lambda t, p: 2.0])
        wrapper.fit(X, y)
    except ValueError:  # refusing the clash is fine too
        return
    assert sorted(v[0] for v in wrapper.history_["train"].values()) == [1.0, 2.0]


def test_unknown_metric_is_refused():
    X, y = make_regression(20)
    with pytest.raises(ValueError, match=re.escape("Unknown metric 'nope'")):
        MetricsWrapper(Ridge(), metrics="nope").fit(X, y)
    with pytest.raises(ValueError, match=re.escape("Unknown metric 'nope'")):
        MetricsWrapper(Ridge(), metrics={"a": "mse", "b": "nope"}).fit(X, y)


def test_metrics_flatten_3d_targets():
    X, y = make_3d(n=8)
    wrapper = MetricsWrapper(Weighted(), metrics=["mse", "r2", "neg_mean_absolute_error",
                                                  flat_max_error])
    wrapper.fit(X, y)
    y_pred = np.full_like(y, 1.0)
    flat_true, flat_pred = y.reshape(8, -1), y_pred.reshape(8, -1)
    train = {k: v[0] for k, v in wrapper.history_["train"].items()}
    assert train["mse"] == pytest.approx(mean_squared_error(flat_true, flat_pred))
    assert train["r2"] == pytest.approx(r2_score(flat_true, flat_pred))
    assert train["neg_mean_absolute_error"] == pytest.approx(
        -mean_absolute_error(flat_true, flat_pred))
    assert train["flat_max_error"] == pytest.approx(np.max(np.abs(y - y_pred)))
    values = wrapper.record("validation", y, y + 0.5)
    assert values["mse"] == pytest.approx(0.25) and values["r2"] == pytest.approx(
        r2_score(flat_true, flat_true + 0.5))


def test_metrics_fit_starts_a_new_history():
    X, y = make_data(50)
    wrapper = MetricsWrapper(Recorder())
    wrapper.fit(X, y)
    wrapper.partial_fit(X, y)
    wrapper.record("validation", y, y)
    assert len(wrapper.history_["train"]["mse"]) == 2
    wrapper.fit(X, y)
    assert len(wrapper.history_["train"]["mse"]) == 1
    assert wrapper.history_["validation"]["mse"] == []
    with pytest.raises(ValueError, match="subset must be one of"):
        wrapper.record("test", y, y)


def test_history_keyed_by_name_with_clashes_suffixed():
    X, y = make_data(250)
    inner = MetricsWrapper(Recorder())
    middle = MetricsWrapper(MiniBatch(inner, batch_size=100))
    outer = MetricsWrapper(middle, name="named")
    model = EpochRepeater(outer, epochs=2).fit(X, y)
    history = model.history_
    assert list(history) == ["named", "metrics", "metrics-1"]
    assert history["named"] is outer.history_
    assert history["metrics"] is middle.history_
    assert history["metrics-1"] is inner.history_
    assert len(history["metrics-1"]["train"]["mse"]) == 6
    assert len(history["metrics"]["train"]["mse"]) == 2
    assert collect_history(model) == history
    assert collect_history(Recorder()) == {}
    assert EpochRepeater(Recorder(), epochs=2).fit(X, y).history_ == {}


def test_history_of_a_pipeline_and_of_unfitted_wrappers():
    X, y = make_data(60)
    pipe = Pipeline([MeanStdNormalizer(normalize_y=False),
                     MetricsWrapper(Recorder(), name="a")])
    assert pipe.history_ == {}  # not fitted yet: nothing recorded
    pipe.fit(X, y)
    assert list(pipe.history_) == ["a"] and len(pipe.history_["a"]["train"]["mse"]) == 1


# ------------------------------------------------------------- full estimators (sklearn API)
META_STEPS = [
    lambda: MiniBatch(SGDRegressor(random_state=0), batch_size=20),
    lambda: EpochRepeater(MiniBatch(SGDRegressor(random_state=0), batch_size=20), epochs=2),
    lambda: ValidationSplit(MiniBatch(SGDRegressor(random_state=0), batch_size=20)),
    lambda: MetricsWrapper(SGDRegressor(random_state=0)),
    lambda: PlotPredictions(SGDRegressor(random_state=0)),
]


@pytest.mark.parametrize("make", META_STEPS,
                         ids=["MiniBatch", "EpochRepeater", "ValidationSplit",
                              "MetricsWrapper", "PlotPredictions"])
def test_meta_steps_are_full_estimators(make):
    X, y = make_regression(120)
    meta = make()
    assert meta.fit(X, y) is meta
    inner = meta.step_
    while hasattr(inner, "step_"):
        inner = inner.step_
    assert isinstance(inner, SGDRegressor)
    np.testing.assert_allclose(meta.predict(X), inner.predict(X), rtol=1e-12)
    assert meta.score(X, y) == pytest.approx(inner.score(X, y), rel=1e-12)
    assert meta.score(X, y) > 0.5
    assert meta.n_features_in_ == 3
    copy = clone(meta)
    assert not hasattr(copy, "step_")
    with pytest.raises(Exception, match="not fitted"):
        copy.predict(X)


def test_cross_val_score_without_scoring():
    X, y = make_regression(150)
    scores = cross_val_score(composition(), X, y, cv=3)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    assert (scores > 0.5).all()  # R², the default score of a regressor


def test_grid_search_over_nested_params():
    X, y = make_regression(150)
    grid = {"step__batch_size": [10, 50], "epochs": [1, 3]}
    search = GridSearchCV(composition(), grid, cv=3).fit(X, y)
    assert search.best_params_["step__batch_size"] in (10, 50)
    assert search.best_params_["epochs"] in (1, 3)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best.step.batch_size == search.best_params_["step__batch_size"]
    assert best.n_epochs_ == search.best_params_["epochs"]
    assert best.predict(X).shape == (150,)


def test_clone_gives_unfitted_copies_with_the_same_nested_params():
    X, y = make_regression(60)
    model = EpochRepeater(ValidationSplit(MiniBatch(SGDRegressor(random_state=0, alpha=0.1),
                                                    batch_size=13), validation_size=0.2),
                          epochs=2).fit(X, y)
    copy = clone(model)
    assert not hasattr(copy, "step_") and not hasattr(copy, "n_epochs_")
    assert not hasattr(copy.step, "train_indices_")
    assert not hasattr(copy.step.step.step, "coef_")
    assert copy.step is not model.step and copy.step.step.step is not model.step.step.step

    def plain(params):
        return {k: v for k, v in params.items() if not hasattr(v, "get_params")}

    assert plain(copy.get_params()) == plain(model.get_params())
    assert copy.fit(X, y).predict(X) == pytest.approx(model.predict(X))


def test_deep_params():
    model = EpochRepeater(ValidationSplit(MiniBatch(SGDRegressor(), batch_size=13),
                                          validation_size=0.2), epochs=2)
    params = model.get_params()
    assert params["step__step__batch_size"] == 13
    assert params["step__validation_size"] == 0.2
    assert params["step__step__step__alpha"] == SGDRegressor().alpha
    assert params["epochs"] == 2
    assert set(model.get_params(deep=False)) == {"step", "epochs", "verbose", "epoch_callback"}


def test_set_params_reaches_the_inner_minibatch():
    X, y = make_data(70)
    model = EpochRepeater(MiniBatch(Recorder(), batch_size=20), epochs=1)
    inner = model.step
    assert model.set_params(step__batch_size=7) is model
    assert inner.batch_size == 7 and model.get_params()["step__batch_size"] == 7
    model.fit(X, y)
    assert model.step_.step_.batch_sizes() == [7] * 10


def test_set_params_rejects_unknown_nested_keys():
    model = EpochRepeater(MiniBatch(SGDRegressor()))
    with pytest.raises(ValueError, match="Invalid parameter"):
        model.set_params(step__nope=1)


# -------------------------------------------------------------------- divergence, interrupts
@pytest.mark.parametrize("n, epoch, batch", [(30, 0, 2), (20, 1, 0), (10, 2, 0)])
def test_divergence_names_epoch_and_batch_and_restores_the_epoch_start(n, epoch, batch):
    X, y = make_data(n)
    weighted = Weighted(fail_at=2)  # the third partial_fit call
    model = EpochRepeater(MiniBatch(weighted, batch_size=10), epochs=3)
    with pytest.raises(DivergedError, match=re.escape(f"at epoch {epoch}, batch {batch}.")) as info:
        model.fit(X, y)
    error = info.value
    assert (error.epoch, error.batch) == (epoch, batch) and math.isnan(error.loss)
    assert isinstance(error, FloatingPointError)
    # the weights at the start of the epoch that diverged: the calls made before it
    batches_per_epoch = n // 10
    assert weighted.weight_ == epoch * batches_per_epoch
    restored = f"the end of epoch {epoch - 1}" if epoch else "their values before the first epoch"
    assert f"Weights were restored to {restored}." in str(error)
    assert model.n_epochs_ == epoch


def test_divergence_in_minibatch_alone_restores_the_start_of_the_pass():
    X, y = make_data(40)
    weighted = Weighted(fail_at=5)  # second pass, second batch
    step = MiniBatch(weighted, batch_size=10).fit(X, y)
    with pytest.raises(DivergedError, match=re.escape(
            "at batch 1. Weights were restored to the start of this pass.")):
        step.partial_fit(X, y)
    assert weighted.weight_ == 4.0


def test_keyboard_interrupt_keeps_the_completed_epochs():
    X, y = make_data(30)
    weighted = Weighted(fail_at=4, failure="interrupt")  # epoch 2 (1-based), second batch
    model = EpochRepeater(MiniBatch(weighted, batch_size=10), epochs=3)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert model.n_epochs_ == 1 and len(model.epoch_seconds_) == 1
    assert weighted.weight_ == 3.0  # end of epoch 1: three batches done
    np.testing.assert_array_equal(model.predict(X), np.full_like(y, 3.0))
    assert np.isfinite(model.score(X, y))


# ----------------------------------------------------------------------------- PlotPredictions
def test_plot_predictions_is_inactive_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = make_3d()
    step = PlotPredictions(Weighted()).fit(X, y)
    y_true, y_pred = step.predict_with_truth(X, y)
    np.testing.assert_array_equal(y_true, y)
    np.testing.assert_array_equal(y_pred, step.predict(X))
    assert step.last_plot_ is None
    assert list(tmp_path.iterdir()) == []


def test_plot_predictions_writes_a_png_when_enabled(tmp_path):
    X, y = make_3d()
    path = tmp_path / "p.png"
    step = PlotPredictions(Weighted(), path=path, enabled=True, max_plotted=3).fit(X, y)
    assert not path.exists()  # not while training
    y_true, y_pred = step.predict_with_truth(X, y)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert step.last_plot_ == path
    np.testing.assert_array_equal(y_pred, np.full_like(y, 1.0))


def test_plot_predictions_enabled_later_and_inside_validation(tmp_path):
    X, y = make_3d(n=20)
    path = tmp_path / "v.png"
    plot = PlotPredictions(Weighted(), path=path)
    model = EpochRepeater(ValidationSplit(plot, validation_size=0.25), epochs=2).fit(X, y)
    assert not path.exists()
    model.set_params(step__step__enabled=True)
    model.step_.predict_with_truth(X, y)
    assert path.read_bytes()[:8] == PNG_SIGNATURE and plot.last_plot_ == path


def test_plot_predicts_when_y_pred_is_none(tmp_path):
    X, y = make_3d()
    step = PlotPredictions(Weighted(), path=tmp_path / "q.png").fit(X, y)
    written = step.plot(X, y)
    assert written == tmp_path / "q.png" == step.last_plot_
    assert written.read_bytes()[:8] == PNG_SIGNATURE
    other = step.plot(X, y, np.zeros_like(y))
    assert other.read_bytes()[:8] == PNG_SIGNATURE


def test_plot_predictions_refuses_2d_data_clearly(tmp_path):
    X, y = make_regression(20)
    step = PlotPredictions(Ridge(), path=tmp_path / "p.png", enabled=True).fit(X, y)
    with pytest.raises(ValueError, match="3-D"):
        step.predict_with_truth(X, y)


def test_plot_history_of_a_fitted_epoch_repeater(tmp_path):
    X, y = make_regression(100)
    model = EpochRepeater(ValidationSplit(MetricsWrapper(
        MiniBatch(MetricsWrapper(SGDRegressor(random_state=0), name="batch"), batch_size=25),
        metrics=["mse", "r2"], name="epoch")), epochs=3).fit(X, y)
    path = plot_history(model, tmp_path / "h.png")
    assert path == tmp_path / "h.png" and path.read_bytes()[:8] == PNG_SIGNATURE
    one = plot_history(model.history_["epoch"], tmp_path / "one.png")
    assert one.read_bytes()[:8] == PNG_SIGNATURE


def test_plot_history_needs_a_metric(tmp_path):
    with pytest.raises(ValueError, match="needs at least one recorded metric"):
        plot_history({}, tmp_path / "e.png")
    X, y = make_data(30)
    with pytest.raises(ValueError, match="needs at least one recorded metric"):
        plot_history(EpochRepeater(Recorder()).fit(X, y), tmp_path / "e.png")
    assert not (tmp_path / "e.png").exists()


# --------------------------------------------------------------------------------- pickling
def test_fitted_composition_pickles():
    X, y = make_regression(100)
    model = EpochRepeater(ValidationSplit(MetricsWrapper(
        MiniBatch(SGDRegressor(random_state=0), batch_size=25), metrics=["mse", "r2"])),
        epochs=2).fit(X, y)
    for copy in (pickle.loads(pickle.dumps(model)), joblib.load(_dump(model))):
        np.testing.assert_array_equal(copy.predict(X), model.predict(X))
        assert copy.history_ == model.history_


def _dump(model):
    import io

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    return buffer


# -------------------------------------------------- ValidationSplit: found by mutation testing
def test_a_shuffled_split_of_windows_needs_no_gap():
    X, y = make_3d(40)  # windowed samples: "auto" would leave a gap of 4 in time order
    split = ValidationSplit(Recorder(), shuffle=True, random_state=0).fit(X, y)
    assert split.gap_ == 0
    assert len(split.train_indices_) + len(split.validation_indices_) == 40


@pytest.mark.parametrize("size, n, needed", [(0.5, 1, 2), (0.6, 2, 3), (0.9, 9, 10), (0.75, 3, 4)])
def test_a_shuffled_split_leaving_no_training_sample_says_how_many_are_needed(size, n, needed):
    X, y = make_data(n)
    with pytest.raises(ValueError, match=re.escape(
            f"ValidationSplit with validation_size={size} leaves no training sample: got {n} "
            f"sample(s), need at least {needed}.")):
        ValidationSplit(Recorder(), validation_size=size, shuffle=True).fit(X, y)
    split = ValidationSplit(Recorder(), validation_size=size, shuffle=True).fit(
        *make_data(needed))
    assert len(split.train_indices_) == 1


def test_patience_of_one_epoch_and_ties_are_no_progress():
    X, y = make_data(100)
    y = np.zeros_like(y)
    split = ValidationSplit(Weighted(schedule=[2, 2, 2, 2]), patience=1)
    model = EpochRepeater(split, epochs=4).fit(X, y)
    assert split.validation_scores_ == [-4.0, -4.0]  # the same score is not better
    assert split.best_epoch_ == 0 and model.n_epochs_ == 2


def test_with_no_finite_score_patience_counts_from_the_first_epoch():
    X, y = make_data(100)
    y = np.zeros_like(y)
    split = ValidationSplit(Weighted(schedule=[math.nan] * 6), patience=2,
                            restore_best_weights=True)
    model = EpochRepeater(split, epochs=6).fit(X, y)
    assert model.n_epochs_ == 2 and split.best_epoch_ is None
    assert math.isnan(split.step_.weight_)  # no best pass: nothing is put back


def test_validation_split_adapts_its_step_on_the_train_part():
    X, y = make_data(100)
    split = ValidationSplit(Recorder(), validation_size=0.2).adapt(X, y)
    assert split.step_.adapt_ids_ == list(range(80))


def test_validation_split_partial_fit_first_splits_as_fit_does():
    X, y = make_3d(40)
    split = ValidationSplit(Recorder(), validation_size=0.25).partial_fit(X, y)
    assert split.gap_ == 4  # y's future window: the windowed y was split on
    assert split.step_.all_seen() == list(range(26))
    assert split.validation_indices_.tolist() == list(range(30, 40))


def test_restore_best_weights_without_training_state_names_the_step():
    X, y = make_data(20)
    with pytest.raises(ValueError, match=re.escape(
            "inside ValidationSplit; Recorder holds none. Set restore_best_weights=False.")):
        ValidationSplit(Recorder(), restore_best_weights=True).fit(X, y)


class Hidden(BaseEstimator):
    """Wraps a step and predicts without predict_with_truth: metrics inside are lost."""

    def __init__(self, step):
        self.step = step

    def fit(self, X, y):
        self.step.fit(X, y)
        return self

    def predict(self, X):
        return self.step.predict(X)


def test_recorders_off_the_evaluation_path_are_named_each():
    X, y = make_data(40)
    inner = Hidden(MetricsWrapper(Hidden(MetricsWrapper(Recorder(), name="b")), name=None))
    with pytest.raises(ValueError, match=re.escape(
            "reaches none of the MetricsWrapper(s) inside (MetricsWrapper, b).")):
        ValidationSplit(inner).fit(X, y)
