"""ToNumpy, DataShuffler, TrainOnly and ForEach."""

import pickle
import re

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler

from seqpipe.steps import DataShuffler, ForEach, MeanStdNormalizer, ToNumpy, TrainOnly


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ====================================================================== ToNumpy
def test_tonumpy_lists_become_float32():
    X, y = ToNumpy().fit_resample([[1, 2], [3, 4], [5, 6]], [0.5, 1.5, 2.5])
    assert isinstance(X, np.ndarray) and X.dtype == np.float32
    assert_array_equal(X, [[1, 2], [3, 4], [5, 6]])
    assert y.dtype == np.float32
    assert_array_equal(y, [0.5, 1.5, 2.5])


def test_tonumpy_3d_list():
    data = np.arange(24.0).reshape(2, 3, 4)
    step = ToNumpy()
    Xt = step.fit_transform(data.tolist())
    assert Xt.shape == (2, 3, 4) and Xt.dtype == np.float32
    assert step.n_features_in_ == 4


def test_tonumpy_dataframe_with_datetime_index():
    index = pd.date_range("2024-01-01", periods=5, freq="D")
    df = pd.DataFrame({"a": np.arange(5.0), "b": np.arange(5.0) * 2}, index=index)
    y = pd.Series(np.arange(5.0) + 0.25, index=index)
    step = ToNumpy()
    X, yt = step.fit_resample(df, y)
    assert isinstance(X, np.ndarray) and X.dtype == np.float32
    assert_array_equal(X, df.to_numpy())
    assert isinstance(yt, np.ndarray) and yt.dtype == np.float32
    assert_array_equal(yt, y.to_numpy())
    assert list(step.feature_names_in_) == ["a", "b"]
    assert_array_equal(step.transform(df), df.to_numpy())


def test_tonumpy_int_labels_keep_int_dtype():
    X, y = ToNumpy().fit_resample(np.ones((4, 2)), np.array([0, 1, 1, 0]))
    assert X.dtype == np.float32
    assert y.dtype.kind == "i"
    assert_array_equal(y, [0, 1, 1, 0])
    _, y_list = ToNumpy().fit_resample(np.ones((4, 2)), [0, 1, 1, 0])
    assert y_list.dtype.kind == "i"


def test_tonumpy_float_y_becomes_float32():
    _, y = ToNumpy().fit_resample(np.ones((3, 2)), np.array([0.1, 0.2, 0.3]))
    assert y.dtype == np.float32


def test_tonumpy_dtype_none_keeps_float64():
    X = np.random.default_rng(0).normal(size=(5, 2))
    y = np.arange(5.0)
    Xt, yt = ToNumpy(dtype=None).fit_resample(X, y)
    assert Xt.dtype == np.float64 and yt.dtype == np.float64
    assert_array_equal(Xt, X)


def test_tonumpy_explicit_y_dtype():
    _, y = ToNumpy(y_dtype="float64").fit_resample(np.ones((3, 1)), [1, 2, 3])
    assert y.dtype == np.float64
    _, y = ToNumpy(y_dtype=None).fit_resample(np.ones((3, 1)), np.array([1.0, 2.0, 3.0]))
    assert y.dtype == np.float64


def test_tonumpy_transform_and_resample():
    step = ToNumpy().fit([[1.0, 2.0]])
    assert step.transform([[3, 4]]).dtype == np.float32
    Xt, yt = step.resample([[3, 4]])
    assert yt is None
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        step.resample([[3, 4]], [1, 2])


def test_tonumpy_unsorted_datetime_index():
    index = pd.DatetimeIndex(["2024-01-02", "2024-01-01", "2024-01-03"])
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=index)
    msg = ("X has an unsorted DatetimeIndex; expected increasing timestamps. "
           "Sort it with X.sort_index().")
    with pytest.raises(ValueError, match=re.escape(msg)):
        ToNumpy().fit(df)
    step = ToNumpy().fit(df.sort_index())
    with pytest.raises(ValueError, match=re.escape(msg)):
        step.transform(df)
    y = pd.Series([1.0, 2.0, 3.0], index=index)
    with pytest.raises(ValueError, match=re.escape("y has an unsorted DatetimeIndex")):
        step.resample(df.sort_index(), y)


def test_tonumpy_duplicated_datetime_index():
    index = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-02"])
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=index)
    msg = "X has a DatetimeIndex with duplicated timestamps (first: 2024-01-02 00:00:00)"
    with pytest.raises(ValueError, match=re.escape(msg)):
        ToNumpy().fit_resample(df)


# ================================================================= DataShuffler
def test_shuffler_same_permutation_for_X_and_y(rng):
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20) * 10
    Xs, ys = DataShuffler(random_state=0).fit_resample(X, y)
    assert not np.array_equal(Xs, X)
    assert_array_equal(Xs[:, 0] / 2 * 10, ys)
    assert_array_equal(np.sort(ys), y)
    # 3-D X with 3-D y
    X3 = rng.normal(size=(10, 4, 2))
    y3 = X3[:, :2] * 3
    Xs3, ys3 = DataShuffler(random_state=1).fit_resample(X3, y3)
    assert_array_equal(Xs3[:, :2] * 3, ys3)


def test_shuffler_without_y():
    X = np.arange(20.0).reshape(10, 2)
    Xs, ys = DataShuffler(random_state=0).fit_resample(X)
    assert ys is None
    assert_array_equal(np.sort(Xs[:, 0]), X[:, 0])


def test_shuffler_deterministic_after_clone():
    X = np.arange(50.0).reshape(25, 2)
    step = DataShuffler(random_state=42)
    first = step.fit_resample(X)[0]
    copy = clone(step)
    assert not hasattr(copy, "_rng") or copy._rng is None
    assert_array_equal(copy.fit_resample(X)[0], first)
    assert_array_equal(DataShuffler(random_state=42).fit_resample(X)[0], first)


def test_shuffler_successive_passes_differ_and_refits_repeat():
    X = np.arange(60.0).reshape(30, 2)
    step = DataShuffler(random_state=0)
    orders = [step.fit_resample(X)[0][:, 0].copy()]
    orders += [step.partial_fit_resample(X)[0][:, 0].copy() for _ in range(2)]
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])
    # a new fit starts the same sequence again (sklearn's rule for an int random_state)
    assert_array_equal(step.fit_resample(X)[0][:, 0], orders[0])
    assert_array_equal(step.partial_fit_resample(X)[0][:, 0], orders[1])


def test_shuffler_transform_is_identity():
    X = np.arange(20.0).reshape(10, 2)
    step = DataShuffler(random_state=0).fit(X)
    assert_array_equal(step.transform(X), X)
    Xr, yr = step.resample(X, np.arange(10))
    assert_array_equal(Xr, X)
    assert_array_equal(yr, np.arange(10))


def test_shuffler_pickle_preserves_generator_state():
    X = np.arange(60.0).reshape(30, 2)
    step = DataShuffler(random_state=7)
    step.fit_resample(X)
    copy = pickle.loads(pickle.dumps(step))
    assert_array_equal(copy.fit_resample(X)[0], step.fit_resample(X)[0])
    assert_array_equal(copy.fit_resample(X)[0], step.fit_resample(X)[0])


# ==================================================================== TrainOnly
def test_trainonly_fit_path_applies_step(rng):
    X = rng.normal(size=(20, 3))
    y = np.arange(20)
    Xs, ys = TrainOnly(DataShuffler(random_state=0)).fit_resample(X, y)
    Xe, ye = DataShuffler(random_state=0).fit_resample(X, y)
    assert_array_equal(Xs, Xe)
    assert_array_equal(ys, ye)
    assert not np.array_equal(ys, y)


def test_trainonly_fit_path_with_y_rescaling_step(rng):
    X = rng.normal(loc=5.0, size=(20, 2))
    Xt, yt = TrainOnly(MeanStdNormalizer()).fit_resample(X, X.copy())
    assert_allclose(Xt.mean(axis=0), 0.0, atol=1e-12)
    assert_allclose(yt, Xt)


def test_trainonly_transform_and_resample_leave_data(rng):
    X = rng.normal(size=(20, 3))
    y = np.arange(20)
    step = TrainOnly(DataShuffler(random_state=0)).fit(X, y)
    assert step.step_ is step.step
    assert step.transform(X) is X
    Xr, yr = step.resample(X, y)
    assert Xr is X and yr is y
    assert_array_equal(step.transform(X[::-1]), X[::-1])
    norm = TrainOnly(MeanStdNormalizer()).fit(X + 10)
    assert_array_equal(norm.transform(X + 10), X + 10)


def test_trainonly_nested_params():
    step = TrainOnly(DataShuffler(random_state=3))
    params = step.get_params()
    assert params["step__random_state"] == 3
    assert isinstance(params["step"], DataShuffler)
    step.set_params(step__random_state=11)
    assert step.step.random_state == 11
    copy = clone(step)
    assert copy.step is not step.step and copy.get_params()["step__random_state"] == 11


# ====================================================================== ForEach
def test_foreach_normalizer_equals_per_sample_same_length_y(rng):
    X = rng.normal(size=(5, 12, 2)) * rng.uniform(1, 4, size=(5, 1, 2)) + rng.uniform(
        -10, 10, size=(5, 1, 2)
    )
    y = rng.normal(size=(5, 12, 2))
    fe = ForEach(MeanStdNormalizer())
    ps = MeanStdNormalizer(per_sample=True)
    Xf, yf = fe.fit_resample(X, y)
    Xp, yp = ps.fit_resample(X, y)
    assert_allclose(Xf, Xp)
    assert_allclose(yf, yp)
    assert_allclose(fe.transform(X), ps.transform(X))
    assert_allclose(fe.inverse_transform_y(yf, X), ps.inverse_transform_y(yp, X))
    assert_allclose(fe.inverse_transform_y(yf, X), y)


def test_foreach_normalizer_equals_per_sample_windowed_y(rng):
    X = rng.normal(loc=3.0, size=(5, 10, 2))
    y = rng.normal(loc=3.0, size=(5, 4, 2))  # as Windower(10, 4) gives
    fe = ForEach(MeanStdNormalizer())
    ps = MeanStdNormalizer(per_sample=True)
    Xf, yf = fe.fit_resample(X, y)
    Xp, yp = ps.fit_resample(X, y)
    assert_allclose(Xf, Xp)
    assert_allclose(yf, yp)


def test_foreach_inverse_transform_y_windowed_y(rng):
    X = rng.normal(loc=3.0, scale=2.0, size=(5, 10, 2))
    y_norm = rng.normal(size=(5, 4, 2))
    fe = ForEach(MeanStdNormalizer(std_factor=2.5)).fit(X)
    ps = MeanStdNormalizer(per_sample=True, std_factor=2.5).fit(X)
    assert_allclose(fe.inverse_transform_y(y_norm, X), ps.inverse_transform_y(y_norm, X))


def test_foreach_without_y(rng):
    X = rng.normal(loc=7.0, scale=3.0, size=(4, 8, 2))
    fe = ForEach(MeanStdNormalizer())
    Xt, yt = fe.fit_resample(X)
    assert yt is None
    assert_allclose(Xt, MeanStdNormalizer(per_sample=True).fit_transform(X))


def test_foreach_with_transformer_step_without_y(rng):
    X = rng.normal(loc=-2.0, scale=5.0, size=(4, 8, 3))
    y = rng.normal(size=(4, 2))
    fe = ForEach(StandardScaler())
    Xt, yt = fe.fit_resample(X, y)
    expected = np.stack([StandardScaler().fit_transform(x) for x in X])
    assert_allclose(Xt, expected)
    assert_array_equal(yt, y)  # a transformer step leaves y as is
    assert_allclose(fe.transform(X), expected)
    # StandardScaler has no inverse_transform_y: y passes unchanged
    assert_array_equal(fe.inverse_transform_y(y, X), y)
    # the wrapped step itself stays unfitted: each sample gets a fresh clone
    assert not hasattr(fe.step, "mean_")


def test_foreach_nested_params():
    fe = ForEach(MeanStdNormalizer(std_factor=2.5))
    assert fe.get_params()["step__std_factor"] == 2.5
    fe.set_params(step__std_factor=1.5)
    assert fe.step.std_factor == 1.5
