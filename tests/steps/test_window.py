"""Windower: shapes, values against a naive loop, views, targets, errors."""

import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError

from seqpipe.steps import Windower


def naive_windows(series, past, future, stride, target=None):
    """The reference: a plain Python loop over window starts, counted back from the last."""
    target = series if target is None else target
    last_start = len(series) - past - future
    X, y = [], []
    for i in range(last_start % stride, last_start + 1, stride):
        X.append(series[i:i + past])
        y.append(target[i + past:i + past + future])
    return np.array(X), np.array(y)


def naive_past_windows(series, past, stride):
    last_start = len(series) - past
    return np.array([series[i:i + past]
                     for i in range(last_start % stride, last_start + 1, stride)])


def make_series(T, d):
    return np.arange(T * d, dtype=float).reshape(T, d) + 0.5


CASES = [  # (T, d, past, future, stride)
    (20, 1, 10, 5, 1),
    (20, 2, 10, 5, 1),
    (20, 2, 10, 5, 2),
    (21, 3, 10, 5, 3),
    (50, 2, 7, 3, 4),
    (15, 1, 10, 5, 1),  # exactly past + future: one window
    (30, 2, 1, 1, 1),
    (30, 2, 5, 2, 100),  # stride larger than the series: one window
]


@pytest.mark.parametrize(("T", "d", "past", "future", "stride"), CASES)
def test_fit_resample_shapes_and_values(T, d, past, future, stride):
    series = make_series(T, d)
    X, y = Windower(past, future, stride).fit_resample(series)
    n = (T - past - future) // stride + 1
    assert X.shape == (n, past, d)
    assert y.shape == (n, future, d)
    X_ref, y_ref = naive_windows(series, past, future, stride)
    assert_array_equal(X, X_ref)
    assert_array_equal(y, y_ref)


@pytest.mark.parametrize(("T", "d", "past", "future", "stride"), CASES)
def test_transform_gives_every_past_window(T, d, past, future, stride):
    series = make_series(T, d)
    w = Windower(past, future, stride).fit(series)
    Xp = w.transform(series)
    assert Xp.shape == ((T - past) // stride + 1, past, d)
    assert_array_equal(Xp, naive_past_windows(series, past, stride))
    # fit_transform is the fit path (windows with a full future)
    assert_array_equal(Windower(past, future, stride).fit_transform(series),
                       naive_windows(series, past, future, stride)[0])


@pytest.mark.parametrize(("past", "future", "stride", "extra"),
                         [(10, 5, 1, 0), (4, 3, 3, 0), (4, 3, 3, 2), (6, 2, 2, 1)])
def test_last_window_is_present(past, future, stride, extra):
    T = past + future + 3 * stride + extra  # whatever the stride, the last window is kept
    series = make_series(T, 2)
    w = Windower(past, future, stride)
    X, y = w.fit_resample(series)
    assert_array_equal(y[-1, -1], series[-1])
    assert_array_equal(X[-1, -1], series[-future - 1])
    Xp = w.transform(series)
    assert_array_equal(Xp[-1, -1], series[-1])


def test_outputs_are_read_only_views():
    series = make_series(40, 2)
    w = Windower(10, 5)
    X, y = w.fit_resample(series)
    assert np.shares_memory(X, series) and np.shares_memory(y, series)
    assert not X.flags.writeable and not y.flags.writeable
    with pytest.raises(ValueError):
        X[0, 0, 0] = 1.0
    Xp = w.transform(series)
    assert np.shares_memory(Xp, series) and not Xp.flags.writeable
    Xr, yr = w.resample(series)
    assert np.shares_memory(Xr, series) and np.shares_memory(yr, series)


def test_float32_series_keeps_dtype():
    series = make_series(30, 2).astype(np.float32)
    X, y = Windower(5, 2).fit_resample(series)
    assert X.dtype == np.float32 and y.dtype == np.float32
    assert np.shares_memory(X, series)


def test_custom_target_series_2d():
    series = make_series(30, 3)
    target = np.random.default_rng(0).normal(size=(30, 2))
    X, y = Windower(8, 4, 2).fit_resample(series, target)
    X_ref, y_ref = naive_windows(series, 8, 4, 2, target)
    assert y.shape == (len(X), 4, 2)
    assert_array_equal(X, X_ref)
    assert_array_equal(y, y_ref)
    assert np.shares_memory(y, target)


def test_custom_target_series_1d():
    series = make_series(30, 2)
    target = np.arange(30.0) * 10
    X, y = Windower(8, 4, 3).fit_resample(series, target)
    X_ref, y_ref = naive_windows(series, 8, 4, 3, target)
    assert y.shape == (len(X), 4)
    assert_array_equal(y, y_ref)
    assert y[0, 0] == target[8]


def test_custom_target_from_list():
    series = make_series(20, 1)
    target = list(range(20))
    _, y = Windower(10, 5).fit_resample(series, target)
    assert_array_equal(y, naive_windows(series, 10, 5, 1, np.array(target))[1])


def test_target_with_other_length():
    series = make_series(30, 2)
    with pytest.raises(ValueError, match=re.escape("X has 30 time steps, y has 29")):
        Windower(5, 2).fit_resample(series, np.zeros((29, 2)))
    w = Windower(5, 2).fit(series)
    with pytest.raises(ValueError, match=re.escape("X has 30 time steps, y has 31")):
        w.resample(series, np.zeros(31))


def test_series_too_short():
    msg = ("Windower needs a series of at least window_size_past + window_size_future = 20 "
           "time steps, got 15")
    with pytest.raises(ValueError, match=re.escape(msg)):
        Windower(15, 5).fit_resample(make_series(15, 2))
    with pytest.raises(ValueError, match=re.escape(msg)):
        Windower(15, 5).fit(make_series(15, 2))
    w = Windower(15, 5).fit(make_series(40, 2))
    with pytest.raises(ValueError, match=re.escape(msg)):
        w.resample(make_series(15, 2))


def test_transform_on_exactly_past_steps():
    w = Windower(10, 5).fit(make_series(30, 2))
    short = make_series(10, 2)
    Xp = w.transform(short)
    assert Xp.shape == (1, 10, 2)
    assert_array_equal(Xp[0], short)
    with pytest.raises(ValueError, match=re.escape(
            "at least window_size_past = 10 time steps, got 9")):
        w.transform(make_series(9, 2))


@pytest.mark.parametrize("param", ["window_size_past", "window_size_future", "stride"])
@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_bad_params(param, value):
    params = {"window_size_past": 5, "window_size_future": 2, "stride": 1, param: value}
    msg = (f"The {param!r} parameter of Windower must be an int in the range [1, inf). "
           f"Got {value!r} instead.")
    series = make_series(30, 2)
    with pytest.raises(ValueError, match=re.escape(msg)):
        Windower(**params).fit_resample(series)
    with pytest.raises(ValueError, match=re.escape(msg)):
        Windower(**params).fit(series)


def test_stride_message_pinned():
    msg = "The 'stride' parameter of Windower must be an int in the range [1, inf). Got 0 instead."
    with pytest.raises(ValueError, match=re.escape(msg)):
        Windower(10, 5, stride=0).fit(make_series(30, 1))


def test_numpy_int_params_accepted():
    X, y = Windower(np.int64(5), np.int32(2), np.int8(2)).fit_resample(make_series(20, 1))
    assert X.shape == ((20 - 7) // 2 + 1, 5, 1)


@pytest.mark.parametrize(("past", "future", "stride"), [(10, 5, 1), (6, 3, 4)])
def test_resample_equals_fit_resample(past, future, stride):
    series = make_series(60, 2)
    target = np.sin(np.arange(60.0))
    w = Windower(past, future, stride)
    X_fit, y_fit = w.fit_resample(series)
    X_res, y_res = w.resample(series)
    assert_array_equal(X_res, X_fit)
    assert_array_equal(y_res, y_fit)
    X_fit, y_fit = w.fit_resample(series, target)
    X_res, y_res = w.resample(series, target)
    assert_array_equal(X_res, X_fit)
    assert_array_equal(y_res, y_fit)
    # resample on another series uses the same windowing
    other = make_series(40, 2) * -1
    assert_array_equal(w.resample(other)[1], naive_windows(other, past, future, stride)[1])


def test_not_fitted_and_feature_count():
    series = make_series(30, 2)
    with pytest.raises(NotFittedError):
        Windower(5, 2).transform(series)
    with pytest.raises(NotFittedError):
        Windower(5, 2).resample(series)
    w = Windower(5, 2).fit(series)
    assert w.n_features_in_ == 2
    with pytest.raises(ValueError, match=re.escape("X has 3 features")):
        w.transform(make_series(30, 3))


def test_series_must_be_2d():
    with pytest.raises(ValueError, match=re.escape("Expected a 2-D")):
        Windower(5, 2).fit_resample(np.arange(30.0))
    with pytest.raises(ValueError, match=re.escape("Expected a 2-D")):
        Windower(5, 2).fit_resample(np.zeros((3, 30, 2)))


def test_list_series():
    series = make_series(12, 1)
    X, y = Windower(3, 2).fit_resample(series.tolist())
    assert_array_equal(X, naive_windows(series, 3, 2, 1)[0])
    assert_array_equal(y, naive_windows(series, 3, 2, 1)[1])


def test_errors_name_the_series_and_the_target_they_are_about():
    series = make_series(30, 2)
    with pytest.raises(ValueError, match=r"^X has dtype <U1"):
        Windower(5, 2).fit(np.full((30, 2), "a"))
    with pytest.raises(ValueError, match=r"^y has dtype <U1"):
        Windower(5, 2).fit_resample(series, ["a"] * 30)


def test_fit_transform_checks_the_target_as_fit_resample_does():
    with pytest.raises(ValueError, match=re.escape("X has 30 time steps, y has 29")):
        Windower(5, 2).fit_transform(make_series(30, 2), np.zeros(29))


def test_resample_checks_the_feature_count_seen_in_fit():
    w = Windower(5, 2).fit(make_series(30, 2))
    with pytest.raises(ValueError, match=re.escape("X has 3 features")):
        w.resample(make_series(30, 3))
    assert w.n_features_in_ == 2
