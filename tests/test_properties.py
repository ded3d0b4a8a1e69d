"""Property-based tests (hypothesis) of the data steps and MiniBatch's batching."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import BaseEstimator
from sklearn.linear_model import SGDRegressor

from seqpipe.steps import MeanStdNormalizer, MiniBatch, Windower

SETTINGS = settings(max_examples=50, deadline=None)


# --- Windower --------------------------------------------------------------------------------

@st.composite
def window_cases(draw):
    past = draw(st.integers(1, 10))
    future = draw(st.integers(1, 10))
    T = draw(st.integers(max(2, past + future), 60))
    d = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 5))
    series = np.arange(T * d, dtype=np.float64).reshape(T, d) * 1.5 - 7.0
    return series, past, future, stride


@SETTINGS
@given(window_cases())
def test_windower_fit_resample_matches_naive_loop(case):
    series, past, future, stride = case
    T, d = series.shape
    X, y = Windower(past, future, stride=stride).fit_resample(series)
    n = (T - past - future) // stride + 1
    assert X.shape == (n, past, d)
    assert y.shape == (n, future, d)
    starts = list(range((T - past - future) % stride, T - past - future + 1, stride))
    assert len(starts) == n
    expected_X = np.stack([series[s:s + past] for s in starts])
    expected_y = np.stack([series[s + past:s + past + future] for s in starts])
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(y, expected_y)
    # the last window's future ends at the series' end
    np.testing.assert_array_equal(y[-1, -1], series[-1])
    assert np.shares_memory(X, series) and np.shares_memory(y, series)


@SETTINGS
@given(window_cases())
def test_windower_transform_keeps_every_past_window(case):
    series, past, future, stride = case
    T, d = series.shape
    step = Windower(past, future, stride=stride).fit(series)
    X = step.transform(series)
    n = (T - past) // stride + 1
    assert X.shape == (n, past, d)
    starts = list(range((T - past) % stride, T - past + 1, stride))
    np.testing.assert_array_equal(X, np.stack([series[s:s + past] for s in starts]))
    np.testing.assert_array_equal(X[-1], series[T - past:])  # ends at the series' end
    assert np.shares_memory(X, series)


@SETTINGS
@given(window_cases())
def test_windower_with_target_series(case):
    series, past, future, stride = case
    target = -series[:, :1] * 3.0
    X, y = Windower(past, future, stride=stride).fit_resample(series, target)
    T = len(series)
    starts = range((T - past - future) % stride, T - past - future + 1, stride)
    np.testing.assert_array_equal(
        y, np.stack([target[s + past:s + past + future] for s in starts]))
    assert np.shares_memory(y, target) and np.shares_memory(X, series)


# --- MeanStdNormalizer -----------------------------------------------------------------------

FLOATS = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@st.composite
def xy_3d(draw):
    n = draw(st.integers(1, 6))
    t = draw(st.integers(1, 6))
    future = draw(st.integers(1, 4))
    d = draw(st.integers(1, 3))
    X = draw(hnp.arrays(np.float64, (n, t, d), elements=FLOATS))
    y = draw(hnp.arrays(np.float64, (n, future, d), elements=FLOATS))
    return X, y


@SETTINGS
@given(xy_3d(), st.booleans())
def test_normalizer_y_round_trip(xy, per_sample):
    X, y = xy
    norm = MeanStdNormalizer(per_sample=per_sample)
    Xt, yt = norm.fit_resample(X, y)
    assert Xt.shape == X.shape and yt.shape == y.shape
    scale = max(1.0, float(np.abs(y).max()), float(np.abs(X).max()))
    np.testing.assert_allclose(norm.inverse_transform_y(yt, X), y,
                               rtol=1e-6, atol=1e-6 * scale)


@SETTINGS
@given(xy_3d())
def test_normalizer_inverse_transform_round_trip(xy):
    X, _ = xy
    norm = MeanStdNormalizer().fit(X)
    scale = max(1.0, float(np.abs(X).max()))
    np.testing.assert_allclose(norm.inverse_transform(norm.transform(X)), X,
                               rtol=1e-6, atol=1e-6 * scale)


# --- MiniBatch batching ----------------------------------------------------------------------

class _Recorder(BaseEstimator):
    """Incremental test estimator: records the first feature (a row id) of every batch."""

    def partial_fit(self, X, y=None):
        self.__dict__.setdefault("batches_", []).append(np.asarray(X)[:, 0].astype(int).tolist())
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0]


def _ids(n):
    return np.column_stack([np.arange(n, dtype=np.float64), np.zeros(n)])


@SETTINGS
@given(st.integers(1, 300), st.integers(1, 120))
def test_minibatch_visits_every_sample_once_keep_last(n, batch_size):
    step = MiniBatch(_Recorder(), batch_size=batch_size, keep_last=True).fit(_ids(n))
    batches = step.step_.batches_
    assert [i for batch in batches for i in batch] == list(range(n))
    assert all(len(b) == batch_size for b in batches[:-1])
    assert 1 <= len(batches[-1]) <= batch_size
    assert step.n_batches_ == len(batches) == -(-n // batch_size)
    # a second pass (partial_fit) visits them all once more
    step.partial_fit(_ids(n))
    assert [i for batch in batches for i in batch] == list(range(n)) * 2


@SETTINGS
@given(st.integers(1, 300), st.integers(1, 120))
def test_minibatch_drops_the_partial_batch_without_keep_last(n, batch_size):
    if n < batch_size:  # no full batch: refused rather than training on nothing
        with pytest.raises(ValueError, match="has no full batch"):
            MiniBatch(_Recorder(), batch_size=batch_size, keep_last=False).fit(_ids(n))
        return
    step = MiniBatch(_Recorder(), batch_size=batch_size, keep_last=False).fit(_ids(n))
    batches = step.step_.__dict__.get("batches_", [])
    full = n // batch_size
    assert step.n_batches_ == len(batches) == full
    assert all(len(b) == batch_size for b in batches)
    assert [i for batch in batches for i in batch] == list(range(full * batch_size))


# --- predictions do not depend on the inference batch size -----------------------------------

@pytest.fixture(scope="module")
def sgd_minibatch():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(257, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * rng.normal(size=257)
    step = MiniBatch(SGDRegressor(random_state=0), batch_size=50).fit(X, y)
    return step, X, step.set_params(predict_batch_size=1024).predict(X)


@SETTINGS
@given(st.integers(2, 200))
def test_sgd_predictions_independent_of_predict_batch_size(sgd_minibatch, size):
    step, X, reference = sgd_minibatch
    try:
        np.testing.assert_array_equal(step.set_params(predict_batch_size=size).predict(X),
                                      reference)
    finally:
        step.set_params(predict_batch_size=1024)


def test_sgd_predictions_with_batches_of_one(sgd_minibatch):
    """One-row batches can differ from the reference in the last bit, and not because of
    MiniBatch: NumPy computes ``X[i:i + 1] @ coef`` (a dot product) and row i of
    ``X @ coef`` (a matrix-vector product, BLAS gemv) in different orders. MiniBatch
    itself adds nothing: its result equals the wrapped estimator's, row by row."""
    step, X, reference = sgd_minibatch
    try:
        pred = step.set_params(predict_batch_size=1).predict(X)
    finally:
        step.set_params(predict_batch_size=1024)
    per_row = np.concatenate([step.step_.predict(X[i:i + 1]) for i in range(len(X))])
    np.testing.assert_array_equal(pred, per_row)
    np.testing.assert_allclose(pred, reference, rtol=1e-13, atol=1e-15)


def test_keras_predictions_independent_of_predict_batch_size():
    from seqpipe.datasets import load_exercise
    from seqpipe.models import seq2seq_gru
    from seqpipe.steps import KerasModelStep

    X, y = load_exercise(1, n_samples=64, random_state=0)
    step = MiniBatch(KerasModelStep(seq2seq_gru, hidden_dim=4, layers_stacked_count=1,
                                    epochs=1, random_state=0), batch_size=16).fit(X, y)
    predictions = {}
    for size in [1, 7, 64, 1024]:
        predictions[size] = step.set_params(predict_batch_size=size).predict(X)
    reference = predictions[1024]
    assert reference.shape == y.shape
    for size, pred in predictions.items():
        np.testing.assert_allclose(pred, reference, rtol=1e-5, atol=1e-6, err_msg=f"{size}")
