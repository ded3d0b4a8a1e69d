"""WindowScaler at its edges: missing values, series without windows, the series'
identity, what it refuses; and windows of integer data, lazy or not."""

import re
import warnings

import numpy as np
import pytest

from seqpipe.base import StepTags, get_step_tags
from seqpipe.forecasting import LazyWindows, WindowScaler, make_windows


def windows_and_targets(n=30, seed=0, horizon=2):
    rng = np.random.default_rng(seed)
    data = np.column_stack([rng.normal(size=n).cumsum() + 10, 5 + 2 * rng.normal(size=n)])
    return make_windows(data, np.arange(3, n - horizon), window_past=4, horizon=horizon,
                        n_known_ahead=1, with_targets=True)


def with_codes(X, codes):
    """The windows ``X`` with a last channel holding each window's series code."""
    code_channel = np.broadcast_to(np.asarray(codes, float)[:, None, None],
                                   (len(X), X.shape[1], 1))
    return np.concatenate([X, code_channel], axis=2)


def test_windows_of_integer_data_are_floats_lazy_or_not():
    data = np.arange(24).reshape(12, 2)  # int: NaN cannot be written into it
    X, y = make_windows(data, np.array([3, 5]), window_past=3, horizon=2, n_known_ahead=1,
                        with_targets=True)
    assert X.dtype == y.dtype == np.float64
    assert X.flags.c_contiguous  # what the steps after read row by row
    assert y.tolist() == [[8.0, 10.0], [12.0, 14.0]]
    lazy = LazyWindows(data, np.array([3, 5]), window_past=3, horizon=2, n_known_ahead=1)
    assert np.isnan(lazy.column(3, 0)).all() and lazy.column(3, 1).tolist() == [9.0, 13.0]
    assert lazy.targets().dtype == np.float64
    np.testing.assert_array_equal(np.asarray(lazy), X)
    assert np.asarray(lazy, dtype=np.float32).dtype == np.float32
    panel = np.stack([data, 100 + data])  # (series, time, channel): many series
    lazy = LazyWindows(panel, np.array([3, 3]), window_past=3, horizon=2, n_known_ahead=1,
                       series=np.array([0, 1]))
    assert np.isnan(lazy.column(-1, 0)).all() and lazy.column(-1, 1).tolist() == [11, 111]
    assert lazy.targets().tolist() == [[8.0, 10.0], [108.0, 110.0]]


def test_windows_whose_last_target_is_missing_are_left_out_of_the_level_statistics():
    X, y = windows_and_targets()
    X[[1, 4], 3, 0] = np.nan  # two windows whose last target is missing
    scaler = WindowScaler().fit(X, y)
    levels = X[:, 3, 0]
    assert scaler.level_mean_ == pytest.approx(np.nanmean(levels))
    assert scaler.level_std_ == pytest.approx(np.nanstd(levels))
    assert scaler.scale_ == pytest.approx(np.nanstd(y - levels[:, None]))


def test_a_series_without_training_windows_is_refused_and_the_others_are_scaled():
    X, y = windows_and_targets()
    codes = np.r_[np.zeros(len(X) - 1), 2]  # series 1 has no window, series 2 one
    X = with_codes(X, codes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 / 0 warning for series 1
        scaler = WindowScaler(per_series=True).fit(X, y)
    assert np.isnan(scaler.scale_[1]) and np.isfinite(scaler.scale_[[0, 2]]).all()
    assert scaler.mean_.shape == (3, 3)
    scaled = scaler.transform(X[-1:])  # series 2, learned from its one window
    assert np.isfinite(scaled).all()
    with pytest.raises(ValueError, match=re.escape(
            "WindowScaler: series code 1 had no window in fit, so it has no statistics.")):
        scaler.transform(with_codes(X[:1, :, :-1], [1]))


def test_the_series_identity_is_its_standardized_log_scale():
    X, y = windows_and_targets(n=40)
    codes = np.arange(len(X)) % 3  # series 1 is not seen: codes 0 and 2 only
    codes[codes == 1] = 0
    X = with_codes(X, codes)
    y[codes == 2] *= 10  # series 2 moves more
    scaler = WindowScaler(per_series=True).fit(X, y)
    identity = scaler.transform(X)[:, 0, -1]
    # two series: their log scales standardized are -1 and +1, on every row
    assert identity[codes == 0] == pytest.approx(-1.0)
    assert identity[codes == 2] == pytest.approx(1.0)
    one = WindowScaler(per_series=True).fit(with_codes(X[:, :, :-1], np.zeros(len(X))), y)
    assert (one.transform(with_codes(X[:, :, :-1], np.zeros(len(X))))[:, :, -1] == 0).all()


@pytest.mark.parametrize("code", [-1.0, 0.5])
def test_series_codes_must_be_whole_non_negative_numbers(code):
    X, y = windows_and_targets()
    codes = np.zeros(len(X))
    codes[3] = code
    with pytest.raises(ValueError, match=re.escape(
            "WindowScaler(per_series=True) reads the series' code (0, 1, ...) in the "
            "windows' last channel; it holds other values.")):
        WindowScaler(per_series=True).fit(with_codes(X, codes), y)


def test_unknown_values_become_zero_and_covariates_are_standardized():
    X, y = windows_and_targets()
    scaler = WindowScaler().fit(X, y)
    scaled = scaler.transform(X)
    assert (scaled[:, 4:, 0] == 0).all()  # the target over the horizon: unknown
    np.testing.assert_allclose(scaled[:, :, 1], (X[:, :, 1] - scaler.mean_[1])
                               / scaler.std_[1])


def test_the_scaler_checks_the_windows_it_is_given():
    X, y = windows_and_targets()
    for method in ("fit", "transform"):
        scaler = WindowScaler().fit(X, y)
        call = getattr(scaler, method)
        with pytest.raises(ValueError, match=re.escape(
                "array for X, got a 2-D array of shape")):
            call(X[:, :, 0], y) if method == "fit" else call(X[:, :, 0])
    scaler = WindowScaler().fit(X, y)
    with pytest.raises(ValueError, match=re.escape(
            "X has 3 features, but WindowScaler is expecting 2 features")):
        scaler.transform(with_codes(X, np.zeros(len(X))))
    with pytest.raises(ValueError, match=re.escape(
            "WindowScaler: windows of 2 rows cannot hold 2 forecast rows")):
        scaler.transform(X[:, 4:])


def test_the_scaler_takes_nested_lists():
    X, y = windows_and_targets()
    from_lists = WindowScaler().fit(X.tolist(), y.tolist())
    from_arrays = WindowScaler().fit(X, y)
    assert from_lists.scale_ == from_arrays.scale_
    np.testing.assert_array_equal(from_lists.mean_, from_arrays.mean_)


def test_a_scaler_saved_before_level_existed_scales_as_before():
    X, y = windows_and_targets()
    scaler = WindowScaler().fit(X, y)
    expected = scaler.transform(X)
    del scaler.level  # what a pickle of an older seqpipe holds
    np.testing.assert_array_equal(scaler.transform(X), expected)


def test_the_scaler_scales_each_window_on_its_own():
    # samplewise: a long series may be predicted in slices, and a MiniBatch
    # preprocesses a pass at once
    assert get_step_tags(WindowScaler()) == StepTags(keeps_samples=True, samplewise=True)
