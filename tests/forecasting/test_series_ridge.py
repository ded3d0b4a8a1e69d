"""SeriesRidge (a Ridge shared by the series, with per-series corrections) and the
series-ridge candidates of a many-series Forecaster."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from seqpipe.forecasting import Forecaster, SeriesRidge, WindowFeatures, WindowScaler
from seqpipe.forecasting.candidates import default_candidates


def three_series(n=300, seed=0):
    """Rows of three series (the last feature, any value per series), whose targets
    answer the first two features with different weights and have different means."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(3 * n, 2))
    series = np.repeat([3.5, -1.25, 0.0], n)
    weights = np.repeat([[1.0, -2.0], [3.0, 0.5], [0.0, 1.0]], n, axis=0)
    means = np.repeat([1.0, -1.0, 1.0], n)
    y = (features * weights).sum(axis=1) + means + 0.01 * rng.normal(size=3 * n)
    return np.column_stack([features, series]), y


@parametrize_with_checks([SeriesRidge()])
def test_scikit_learn_checks(estimator, check):
    check(estimator)


def test_a_huge_series_penalty_leaves_the_shared_ridge_and_each_series_mean():
    X, y = three_series()
    model = SeriesRidge(alpha=3.0, series_alpha=1e12).fit(X, y)
    shared = Ridge(alpha=3.0).fit(X, y).predict(X)
    offset = pd.Series(y - shared).groupby(X[:, -1]).transform("mean").to_numpy()
    np.testing.assert_allclose(model.predict(X), shared + offset, atol=1e-6)
    assert np.ptp(offset) > 0.1


def test_a_tiny_series_penalty_gives_each_series_its_own_model():
    X, y = three_series()
    model = SeriesRidge(alpha=10.0, series_alpha=1e-9).fit(X, y)
    for key in np.unique(X[:, -1]):
        rows = X[:, -1] == key
        own = Ridge(alpha=1e-9).fit(X[rows], y[rows]).predict(X[rows])
        np.testing.assert_allclose(model.predict(X[rows]), own, atol=1e-6)
    shared_error = np.mean((Ridge(alpha=10.0).fit(X, y).predict(X) - y) ** 2)
    assert np.mean((model.predict(X) - y) ** 2) < 0.01 * shared_error


def test_a_series_unseen_in_fit_gets_the_shared_prediction():
    X, y = three_series()
    model = SeriesRidge(alpha=1.0, series_alpha=1.0).fit(X, y)
    unseen = X.copy()
    unseen[:, -1] = 7.0
    np.testing.assert_allclose(model.predict(unseen), model.shared_.predict(unseen), rtol=1e-12)
    assert not np.allclose(model.predict(X), model.shared_.predict(X))


def test_the_series_are_read_from_series_feature():
    X, y = three_series()
    first = np.column_stack([X[:, -1], X[:, :-1]])
    model = SeriesRidge(series_alpha=1.0, series_feature=0).fit(first, y)
    np.testing.assert_allclose(model.predict(first),
                               SeriesRidge(series_alpha=1.0).fit(X, y).predict(X))
    assert model.series_keys_.tolist() == [-1.25, 0.0, 3.5]


def test_targets_of_one_or_many_columns():
    X, y = three_series()
    assert SeriesRidge().fit(X, y).predict(X).shape == (len(X),)
    two = np.column_stack([y, 2 * y])
    predicted = SeriesRidge().fit(X, two).predict(X)
    assert predicted.shape == (len(X), 2)
    np.testing.assert_allclose(predicted[:, 1], 2 * predicted[:, 0])


@pytest.mark.parametrize("params, message", [
    ({"series_alpha": -1.0}, "'series_alpha' parameter of SeriesRidge"),
    ({"alpha": "big"}, "'alpha' parameter of SeriesRidge"),
    ({"series_feature": 3}, r"'series_feature' parameter of SeriesRidge must be an int in "
                            r"the range \[-3, 2\]"),
    ({"series_feature": "last"}, "'series_feature' parameter of SeriesRidge"),
    ({"local_features": (-4,)}, r"'local_features' parameter of SeriesRidge must hold ints "
                                r"in the range \[-3, 2\] \(columns of X\)"),
])
def test_bad_parameters_are_named(params, message):
    X, y = three_series(20)
    with pytest.raises(ValueError, match=message):
        SeriesRidge(**params).fit(X, y)


def test_the_ends_of_the_parameters_ranges_are_accepted():
    X, y = three_series(20)
    unpenalized = SeriesRidge(alpha=0.0, series_alpha=0.0).fit(X, y)
    assert np.mean((unpenalized.predict(X) - y) ** 2) < 1e-3
    first = SeriesRidge(local_features=(-3,)).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, SeriesRidge(local_features=(0,)).fit(X, y).predict(X))


def test_windows_or_other_arrays_than_tables_are_refused():
    X, y = three_series(20)
    with pytest.raises(ValueError, match="Expected a 2-D"):
        SeriesRidge().fit(X[:, :, None], y)
    fitted = SeriesRidge().fit(X, y)
    with pytest.raises(ValueError, match="Expected a 2-D"):
        fitted.predict(X[:, :, None])


def test_window_features_give_per_window_channels_once_at_the_end():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 5, 4))  # 3 past rows, 2 forecast rows; 3 channels known ahead
    X[:, :, 2] = np.arange(4)[:, None]  # channels constant along each window
    X[:, :, 3] = 10 + np.arange(4)[:, None]
    y = np.zeros((4, 2))
    plain = WindowFeatures(n_known_ahead=1).fit(X[:, :, :2], y)
    tagged = WindowFeatures(n_known_ahead=3, per_window=(-1, 2)).fit(X, y)
    features = tagged.transform(X)
    np.testing.assert_array_equal(features[:, :-2], plain.transform(X[:, :, :2]))
    np.testing.assert_array_equal(features[:, -2:], X[:, 0, [3, 2]])
    assert tagged.per_window_ == (3, 2)


@pytest.mark.parametrize("per_window", [(0,), (3,), (-1, 3), (True,)])
def test_window_features_refuse_per_window_channels_not_known_ahead(per_window):
    X = np.zeros((4, 5, 3))
    with pytest.raises(ValueError, match="'per_window' parameter of WindowFeatures"):
        WindowFeatures(n_known_ahead=2, per_window=per_window).fit(X, np.zeros((4, 2)))


def test_local_features_are_read_by_the_corrections_only():
    X, y = three_series()
    model = SeriesRidge(series_alpha=1.0, local_features=(1,)).fit(X, y)
    assert model.shared_.n_features_in_ == 2
    unseen = X.copy()
    unseen[:, -1] = 7.0  # an unseen series: the shared model alone, without column 1
    moved = unseen.copy()
    moved[:, 1] += 5.0
    np.testing.assert_array_equal(model.predict(unseen), model.predict(moved))
    assert not np.allclose(model.predict(X), model.predict(X + [[0.0, 5.0, 0.0]]))
    with pytest.raises(ValueError, match="'local_features' parameter of SeriesRidge"):
        SeriesRidge(local_features=(3,)).fit(X, y)


def test_the_level_per_series_is_standardized_by_each_series_training_windows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6, 2))
    X[:, :, 1] = np.repeat([0.0, 1.0], 30)[:, None]  # the code channel
    X[30:, :, 0] = 1000 + 50 * X[30:, :, 0]  # series 1 far above series 0, wider
    y = rng.normal(size=(60, 2))
    scaler = WindowScaler(per_series=True, level=True)
    Xs, _ = scaler.fit_resample(X, y)
    assert Xs.shape == (60, 6, 3)  # the level appended after the identity
    for rows in (slice(0, 30), slice(30, 60)):
        level = Xs[rows, 0, -1]
        assert abs(level.mean()) < 1e-9 and abs(level.std() - 1) < 1e-9
    assert WindowScaler(per_series=True).fit_resample(X, y)[0].shape == (60, 6, 2)


def without_gru(**found):
    pool = default_candidates(**found)
    del pool["gru"]
    return pool


def test_series_of_different_drifts_are_forecast_better_with_corrections():
    """Half the series drift up, half down, under noise: the pooled Ridge reads the
    drift off each noisy window, the per-series corrections learn it."""
    rng = np.random.default_rng(0)
    steps = np.arange(400)
    panel = pd.DataFrame({f"s{i}": (i + 1) * (100 + (0.5 if i % 2 else -0.5) * steps
                                               + rng.normal(size=400)) for i in range(8)})
    fitted = Forecaster(2, candidates=without_gru, season=None, calendar=None).fit(panel)
    scores = fitted.candidate_scores_
    pooled = min(v for k, v in scores.items() if k.startswith("ridge-"))
    corrected = min(v for k, v in scores.items() if k.startswith("series-ridge-"))
    assert corrected < 0.98 * pooled
    assert fitted.best_candidate_.startswith("series-ridge-")
