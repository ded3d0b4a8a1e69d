"""The window tensor (NaN where the future is unknown), its scaler and features, the
baselines, season detection."""

import re

import numpy as np
import pytest

from seqpipe.forecasting import (
    LastValue,
    SeasonalNaive,
    WindowFeatures,
    WindowScaler,
    detect_season,
    make_windows,
)


def channels(n=20):
    t = np.arange(n, dtype=float)
    return np.column_stack([t, 100 + t, 1000 + t])  # target, past cov, future cov


def test_windows_hide_the_target_and_past_covariates_over_the_horizon():
    X, y = make_windows(channels(), np.array([5, 9]), window_past=3, horizon=2,
                        n_known_ahead=1, with_targets=True)
    assert X.shape == (2, 5, 3)
    assert X[0, :3, 0].tolist() == [3, 4, 5]
    assert np.isnan(X[:, 3:, :2]).all()
    assert X[0, 3:, 2].tolist() == [1006, 1007]  # future covariate known ahead
    assert y.tolist() == [[6, 7], [10, 11]]


def test_scaler_reads_the_target_relative_to_its_last_value_and_undoes_it():
    rng = np.random.default_rng(0)
    data = np.column_stack([rng.normal(size=200).cumsum() + 50, rng.normal(size=200)])
    X, y = make_windows(data, np.arange(9, 190), window_past=10, horizon=3,
                        n_known_ahead=1, with_targets=True)
    scaler = WindowScaler()
    Xt, yt = scaler.fit_resample(X, y)
    assert Xt.shape == (len(X), 13, 3)  # the level channel appended
    assert np.isfinite(Xt).all()
    assert np.all(Xt[:, 9, 0] == 0)  # the last value is the reference
    assert np.allclose(Xt[:, :, -1], Xt[:, :1, -1])  # the level, on every row
    np.testing.assert_allclose(scaler.inverse_transform_y(yt, X), y)
    # a model predicting 0 repeats the last value
    np.testing.assert_allclose(scaler.inverse_transform_y(np.zeros_like(yt), X),
                               np.repeat(X[:, 9:10, 0], 3, axis=1))


def test_scaler_refuses_infinite_values_but_takes_nan():
    X = np.zeros((4, 5, 1))
    X[:, 3:] = np.nan
    WindowScaler().fit(X, np.zeros((4, 2)))
    X[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="inf"):
        WindowScaler().fit(X, np.zeros((4, 2)))


def test_features_take_the_past_of_every_channel_and_the_horizon_of_known_ones():
    X = np.arange(2 * 5 * 3, dtype=float).reshape(2, 5, 3)
    features = WindowFeatures(n_known_ahead=1).fit(X, np.zeros((2, 2)))
    out = features.transform(X)
    assert out.shape == (2, 3 * 2 + 5 * 1)
    assert out[0].tolist() == [0, 1, 3, 4, 6, 7, 2, 5, 8, 11, 14]


def test_baselines_read_the_last_value_and_the_value_a_season_before():
    series = np.arange(30, dtype=float)[:, None]
    X, y = make_windows(series, np.array([20]), window_past=8, horizon=5, n_known_ahead=0,
                        with_targets=True)
    assert LastValue().fit(X, y).predict(X).tolist() == [[20] * 5]
    # season 3: steps 1..5 ahead read 18, 19, 20, 18, 19 (the latest ones a season back)
    assert SeasonalNaive(3).fit(X, y).predict(X).tolist() == [[18, 19, 20, 18, 19]]
    with pytest.raises(ValueError, match=r"at least 9 past rows; got 8"):
        SeasonalNaive(9).fit(X, y)
    with pytest.raises(ValueError, match="'season' parameter of SeasonalNaive"):
        SeasonalNaive(0).fit(X, y)


def test_detect_season_finds_the_cycle_and_not_a_random_walk():
    t = np.arange(800.0)
    assert detect_season(np.sin(2 * np.pi * t / 24) + 0.01 * t) == 24
    assert detect_season(np.sin(2 * np.pi * t / 7)[:, None]) == 7
    walk = np.random.default_rng(1).normal(size=800).cumsum()
    assert detect_season(walk) is None
    with pytest.raises(ValueError, match=r"shape \(n_timesteps,\)"):
        detect_season(np.zeros((10, 2)))


def test_scaler_statistics_on_known_windows():
    """Two windows of 3 past rows, horizon 1: levels 2 and 5, targets 3 and 9."""
    X = np.array([[[0.0, 1.0], [1.0, 3.0], [2.0, 5.0], [np.nan, 7.0]],
                  [[3.0, 1.0], [4.0, 3.0], [5.0, 5.0], [np.nan, 7.0]]])
    y = np.array([[3.0], [9.0]])
    scaler = WindowScaler().fit(X, y)
    assert scaler.horizon_ == 1
    assert scaler.scale_ == pytest.approx(np.std([3.0 - 2.0, 9.0 - 5.0]))
    assert scaler.level_mean_ == 3.5 and scaler.level_std_ == 1.5
    assert scaler.mean_[1] == 4.0 and scaler.std_[1] == pytest.approx(np.sqrt(5.0))
    Xt, yt = scaler.resample(X, y)
    assert Xt[:, :, -1].tolist() == [[-1.0] * 4, [1.0] * 4]
    assert yt.ravel().tolist() == pytest.approx([1 / 1.5, 4 / 1.5])  # (y - level) / scale_


def test_scaler_of_constant_windows_keeps_unit_scales():
    X = np.ones((4, 3, 2))
    X[:, 2:, 0] = np.nan
    scaler = WindowScaler().fit(X, np.ones((4, 1)))
    assert scaler.scale_ == 1.0 and scaler.level_std_ == 1.0 and scaler.std_.tolist() == [
        1.0, 1.0]
    assert np.isfinite(scaler.transform(X)).all()


def test_window_steps_name_what_is_wrong():
    X = np.zeros((3, 4, 2))
    with pytest.raises(ValueError, match=re.escape(
            "WindowScaler needs y, the targets of shape (n_windows, horizon).")):
        WindowScaler().fit_resample(X)
    with pytest.raises(ValueError, match=re.escape(
            "WindowScaler expects y of shape (n_windows, horizon); got (3, 2, 1).")):
        WindowScaler().fit(X, np.zeros((3, 2, 1)))
    with pytest.raises(ValueError, match=re.escape(
            "WindowScaler: windows of 4 rows cannot hold 4 forecast rows and at least one "
            "past row.")):
        WindowScaler().fit(X, np.zeros((3, 4)))
    with pytest.raises(ValueError, match=re.escape(
            "WindowFeatures.fit needs y of shape (n_windows, horizon).")):
        WindowFeatures().fit(X, np.zeros(3))
    with pytest.raises(ValueError, match=re.escape(
            "The 'n_known_ahead' parameter of WindowFeatures must be an int in the range "
            "[0, 2]. Got 3 instead.")):
        WindowFeatures(n_known_ahead=3).fit(X, np.zeros((3, 1)))
    with pytest.raises(ValueError, match=re.escape(
            "WindowFeatures: windows of 4 rows cannot hold 4 forecast rows")):
        WindowFeatures().fit(X, np.zeros((3, 4)))
    assert WindowFeatures(n_known_ahead=0).fit(X, np.zeros((3, 1))).n_features_out_ == 6
    assert WindowFeatures(n_known_ahead=2).fit(X, np.zeros((3, 1))).n_features_out_ == 8


def test_the_scaler_standardizes_each_channel_over_every_window_and_row_it_has():
    rng = np.random.default_rng(0)
    data = np.column_stack([rng.normal(size=60).cumsum(), 5 + 3 * rng.normal(size=60)])
    X, y = make_windows(data, np.arange(4, 58), window_past=5, horizon=2, n_known_ahead=1,
                        with_targets=True)
    X[0] += 100.0  # the first window stands out: it must be counted
    scaler = WindowScaler().fit(X, y)
    # the target's forecast rows are NaN (not known at the origin): left out
    np.testing.assert_allclose(scaler.mean_, np.nanmean(X, axis=(0, 1)))
    np.testing.assert_allclose(scaler.std_, np.nanstd(X, axis=(0, 1)))
    per_series = WindowScaler(per_series=True).fit(
        np.concatenate([X, np.zeros((len(X), 7, 1))], axis=2), y)
    assert per_series.mean_.shape == (1, 3)  # one series (code 0): a row of its channels
