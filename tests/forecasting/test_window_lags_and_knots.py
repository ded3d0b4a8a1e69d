"""WindowLags (a season back on the forecast rows, the recent past kept), the knots of
WindowFeatures, and the default candidates built on them."""

import re

import numpy as np
import pytest

from seqpipe.base import StepTags, get_step_tags
from seqpipe.forecasting import WindowFeatures, WindowLags, WindowScaler, make_windows
from seqpipe.forecasting.candidates import default_candidates, recent_past, seasonal_lags


def windows(n=60, past=10, horizon=3):
    t = np.arange(n, dtype=float)
    data = np.column_stack([t, 100 + t])  # target, a future covariate
    X, y = make_windows(data, np.arange(past - 1, n - horizon), window_past=past,
                        horizon=horizon, n_known_ahead=1, with_targets=True)
    return WindowScaler().fit_resample(X, y)


def test_lags_bring_the_target_a_season_back_to_every_row():
    X = np.arange(2 * 8 * 2, dtype=float).reshape(2, 8, 2)  # P=6, H=2
    lags = WindowLags((4,), past=3).fit(X, np.zeros((2, 2)))
    out = lags.transform(X)
    assert out.shape == (2, 5, 3)  # 3 past rows + 2 forecast rows, a lag channel
    np.testing.assert_array_equal(out[:, :, :2], X[:, 3:])
    # row r of the window holds the target of row r - 4
    assert out[0, :, 2].tolist() == [0.0, *X[0, 0:4, 0]]  # row 3 has no row 4 back


def test_lags_before_the_window_start_are_zero_and_the_forecast_rows_read_the_past():
    Xt, yt = windows()
    lags = WindowLags((5,)).fit(Xt, yt)
    out = lags.transform(Xt)
    assert out.shape == (len(Xt), 13, Xt.shape[2] + 1)
    assert (out[:, :5, -1] == 0).all()
    np.testing.assert_array_equal(out[:, 5:, -1], Xt[:, :8, 0])
    # the forecast rows' lag values come from observed past rows only
    assert np.all(np.abs(out[:, 10:, -1]) > 0)


def test_lags_are_checked_against_the_horizon_and_the_window():
    Xt, yt = windows()
    with pytest.raises(ValueError, match=re.escape(
            "The 'lags' parameter of WindowLags must hold ints in the range [3, 10]")):
        WindowLags((2,)).fit(Xt, yt)
    with pytest.raises(ValueError, match="The 'past' parameter of WindowLags"):
        WindowLags((), past=0).fit(Xt, yt)
    assert WindowLags((3, 10), past=50).fit(Xt, yt).transform(Xt).shape[1] == 13


def test_knots_give_bent_features_of_the_leading_known_channels_only():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 7, 4))  # P=4, H=3; channels 2, 3 known ahead
    X[:, :, 3] = rng.integers(0, 2, size=(200, 7))  # a flag
    y = np.zeros((200, 3))
    plain = WindowFeatures(2).fit(X, y)
    bent = WindowFeatures(2, nonlinear=2, knots=3).fit(X, y)
    assert len(bent.knots_) == 2 and len(bent.knots_[0]) == 3 and len(bent.knots_[1]) == 0
    out = bent.transform(X)
    assert out.shape[1] == plain.n_features_out_ + 3 * 3 == bent.n_features_out_
    np.testing.assert_array_equal(out[:, :plain.n_features_out_], plain.transform(X))
    expected = np.maximum(X[:, 4:, 2, None] - bent.knots_[0], 0).reshape(200, -1)
    np.testing.assert_array_equal(out[:, plain.n_features_out_:], expected)
    with pytest.raises(ValueError, match="The 'nonlinear' parameter of WindowFeatures"):
        WindowFeatures(1, nonlinear=2).fit(X, y)
    with pytest.raises(ValueError, match="The 'knots' parameter of WindowFeatures"):
        WindowFeatures(1, nonlinear=1, knots=0).fit(X, y)


def test_a_linear_model_on_knots_learns_a_u_shaped_effect():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(1)
    X = np.zeros((500, 3, 2))  # P=1, H=2; channel 1 known ahead
    X[:, :, 1] = rng.uniform(-3, 3, size=(500, 3))
    y = X[:, 1:, 1] ** 2
    unexplained = {}
    for nonlinear in (0, 1):
        features = WindowFeatures(1, nonlinear=nonlinear, knots=6).fit(X, y)
        fitted = Ridge(alpha=1e-3).fit(features.transform(X), y)
        residual = fitted.predict(features.transform(X)) - y
        unexplained[nonlinear] = np.mean(residual ** 2) / np.var(y)
    assert unexplained[0] > 0.9 and unexplained[1] < 0.05


def test_default_candidates_read_a_season_back_and_the_recent_past():
    assert seasonal_lags(48, 336, 672) == (336,)
    assert seasonal_lags(5, 3, 30) == (6,)  # two seasons cover the horizon
    assert seasonal_lags(48, 336, 300) == () and seasonal_lags(1, None, 30) == ()
    assert recent_past(48, 672) == 48 and recent_past(1, 672) == 30 and recent_past(1, 20) == 20
    pool = default_candidates(horizon=48, n_known_ahead=3, season=336, window_past=672)
    assert {"ridge-alpha-1", "ridge-knots-alpha-100", "gru", "seasonal-naive",
            "last-value"} <= set(pool)
    lags = pool["ridge-alpha-10"].steps[1]
    assert isinstance(lags, WindowLags) and lags.lags == (336,) and lags.past == 48
    assert pool["ridge-knots-alpha-100"].steps[2].nonlinear == 3
    only_calendar = default_candidates(horizon=1, n_known_ahead=2, season=None,
                                       window_past=30, n_future_covariates=0)
    assert not any(name.startswith("ridge-knots") for name in only_calendar)
    assert len(only_calendar["ridge-alpha-1"].steps) == 3  # no WindowLags: nothing to do


def test_each_lag_has_a_channel_of_its_own():
    X = np.arange(2 * 8 * 2, dtype=float).reshape(2, 8, 2)  # P=6, H=2
    out = WindowLags((2, 4)).fit(X, np.zeros((2, 2))).transform(X)
    assert out.shape == (2, 8, 4)
    np.testing.assert_array_equal(out[:, :, :2], X)  # the channels given are untouched
    assert out[0, :, 2].tolist() == [0.0, 0.0, *X[0, 0:6, 0]]  # the target 2 rows back
    assert out[0, :, 3].tolist() == [0.0] * 4 + [*X[0, 0:4, 0]]  # and 4 rows back


def test_lags_keep_one_past_row_and_refuse_windows_unlike_fit():
    X = np.arange(2 * 8 * 2, dtype=float).reshape(2, 8, 2)
    lags = WindowLags((2,), past=1).fit(X, np.zeros((2, 2)))
    assert lags.transform(X).shape == (2, 3, 3)
    with pytest.raises(ValueError, match="^" + re.escape(
            "WindowLags.fit needs y of shape (n_windows, horizon).") + "$"):
        WindowLags((2,)).fit(X, np.zeros(2))
    with pytest.raises(ValueError, match="^" + re.escape(
            "WindowLags: windows of 2 rows cannot hold 2 forecast rows and at least one "
            "past row.")):
        lags.transform(X[:, :2])
    with pytest.raises(ValueError, match="features"):
        lags.transform(np.concatenate([X, X], axis=2))  # 4 channels, fitted on 2


def test_window_features_default_and_check_their_knots():
    assert WindowFeatures().get_params() == {"n_known_ahead": 1, "nonlinear": 0,
                                             "knots": 4, "per_window": ()}
    Xt, yt = windows()
    assert len(WindowFeatures(nonlinear=1, knots=1).fit(Xt, yt).knots_[0]) == 1
    for bad in (0, 2.5):
        with pytest.raises(ValueError, match=re.escape(
                "The 'knots' parameter of WindowFeatures must be an int in the")):
            WindowFeatures(nonlinear=1, knots=bad).fit(Xt, yt)
    features = WindowFeatures().fit(Xt, yt)
    with pytest.raises(ValueError, match="features"):
        features.transform(np.concatenate([Xt, Xt], axis=2))


def test_lags_declare_each_window_read_on_its_own():
    assert get_step_tags(WindowLags((2,))) == StepTags(keeps_samples=True, samplewise=True)


def test_windows_must_be_3_d_and_long_enough_each_step_says_so():
    X, y = np.zeros((4, 5, 2)), np.zeros((4, 2))
    for step in (WindowFeatures(), WindowLags()):
        with pytest.raises(ValueError, match=re.escape("Expected a 3-D (n_samples, n_timesteps")):
            step.fit(X[:, :, 0], y)
        fitted = type(step)().fit(X, y)
        with pytest.raises(ValueError, match=re.escape("Expected a 3-D (n_samples, n_timesteps")):
            fitted.transform(X[:, :, 0])
        name = type(step).__name__
        with pytest.raises(ValueError, match="^" + re.escape(
                f"{name}: windows of 2 rows cannot hold 2 forecast rows and at least one past "
                f"row.")):
            fitted.transform(X[:, :2])
        with pytest.raises(ValueError, match="^" + re.escape(
                f"{name}: windows of 2 rows cannot hold 2 forecast rows")):
            type(step)().fit(X[:, :2], y)
    with pytest.raises(ValueError, match="^" + re.escape(
            "WindowFeatures.fit needs y of shape (n_windows, horizon).") + "$"):
        WindowFeatures().fit(X, np.zeros(4))
    for bad in (True, 2.5):
        with pytest.raises(ValueError, match=re.escape(
                f"The 'past' parameter of WindowLags must be None or an int in the range "
                f"[1, inf). Got {bad!r} instead.")):
            WindowLags((2,), past=bad).fit(X, y)


def test_a_window_features_pickled_before_knots_and_per_window_channels_still_transforms():
    Xt, yt = windows()
    features = WindowFeatures().fit(Xt, yt)
    expected = features.transform(Xt)
    del features.knots_, features.per_window_  # as saved by an older seqpipe
    np.testing.assert_array_equal(features.transform(Xt), expected)


def test_knots_are_learned_per_channel_on_the_forecast_rows_unless_a_channel_is_binary():
    rng = np.random.default_rng(0)
    X = np.zeros((600, 5, 4))  # 3 past rows, 2 forecast rows: target and 3 known ahead
    X[:, :, 1] = rng.integers(0, 2, size=(600, 5))  # binary
    X[:, :, 2] = rng.integers(0, 2, size=(600, 5))
    X[500:, 3:, 2] = 2.0  # binary in its first 1000 forecast values, not after
    X[:, :, 3] = rng.uniform(size=(600, 5))
    X[:, :3, 1:] = 10.0  # the past rows: never read for knots
    features = WindowFeatures(n_known_ahead=3, nonlinear=3, knots=3).fit(X, np.zeros((600, 2)))
    binary, mostly, uniform = features.knots_
    assert len(binary) == 0 and len(mostly) > 0
    assert 0.1 < uniform.min() < uniform.max() < 0.9  # quartiles of U(0, 1), not 10
    # each channel's bent features read that channel: moving the second one's forecast
    # rows moves its 2 plain features and its bent ones
    moved = X.copy()
    moved[:, 3:, 2] += 0.5
    changed = (features.transform(moved) != features.transform(X)).any(axis=0).sum()
    assert changed == 2 + 2 * len(mostly)


def test_per_window_channels_are_known_ahead_and_counted_from_either_end():
    X, y = np.zeros((4, 5, 2)), np.zeros((4, 2))
    assert WindowFeatures(n_known_ahead=2, per_window=(-2,)).fit(X, y).per_window_ == (0,)
    for bad in ((2,), (-3,)):
        with pytest.raises(ValueError, match="^" + re.escape(
                f"The 'per_window' parameter of WindowFeatures must hold distinct channels "
                f"known ahead and not 'nonlinear' (in the range [0, 1], or negative from the "
                f"end). Got {bad!r} instead.") + "$"):
            WindowFeatures(n_known_ahead=2, per_window=bad).fit(X, y)
    with pytest.raises(ValueError, match=re.escape("(in the range [1, 1], or negative")):
        WindowFeatures(n_known_ahead=2, nonlinear=1, per_window=(0,)).fit(X, y)
