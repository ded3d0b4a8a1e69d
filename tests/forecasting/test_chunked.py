"""ChunkedPipeline: the linear candidates fitted a chunk of windows at a time give what
fitting them all at once gives, holding one chunk at a time."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Lasso, Ridge

from seqpipe import Pipeline
from seqpipe.forecasting import (
    ChunkedPipeline,
    Forecaster,
    LastValue,
    SeasonalNaive,
    SeriesRidge,
    TargetWindows,
    WindowFeatures,
    WindowLags,
    WindowScaler,
    make_windows,
)
from seqpipe.forecasting.candidates import linear_candidate
from seqpipe.forecasting.chunked import NormalEquations, windows_for
from seqpipe.forecasting.windows import LazyWindows


def panel_windows(n_series=5, n_steps=300, horizon=3, seed=0):
    """Windows of ``n_series`` random walks of different scales and levels, with a
    covariate known ahead and the series' code last (as a many-series Forecaster
    makes them)."""
    rng = np.random.default_rng(seed)
    data = np.stack([np.column_stack([
        10 * code + (code + 1) * np.cumsum(rng.normal(size=n_steps)),
        np.sin(np.arange(n_steps) / 3) + rng.normal(scale=0.1, size=n_steps),
        np.full(n_steps, code)]) for code in range(n_series)])
    origins = np.tile(np.arange(20, n_steps - horizon), n_series)
    series = np.repeat(np.arange(n_series), n_steps - horizon - 20)
    return make_windows(data, origins, series=series, window_past=21, horizon=horizon,
                        n_known_ahead=2, with_targets=True)


def linear_steps(final, nonlinear=0):
    """A many-series linear candidate: scaled per series with the level, a seasonal
    lag, the level and the series' identity once per window (the identity last, where
    SeriesRidge reads it)."""
    return [WindowScaler(per_series=True, level=True), WindowLags((7,), 10),
            WindowFeatures(4, nonlinear=nonlinear, per_window=(-2, -3)), final]


@pytest.mark.parametrize("final", [Ridge(alpha=3.0), SeriesRidge(series_alpha=10.0)],
                         ids=["ridge", "series-ridge"])
@pytest.mark.parametrize("nonlinear", [0, 1])
def test_chunks_give_what_one_fit_gives(final, nonlinear):
    X, y = panel_windows()
    chunked = ChunkedPipeline(linear_steps(clone(final), nonlinear), chunk_size=97).fit(X, y)
    whole = Pipeline(linear_steps(clone(final), nonlinear)).fit(X, y)
    np.testing.assert_allclose(chunked.predict(X), whole.predict(X), rtol=1e-9, atol=1e-9)
    for fitted, reference in zip(chunked[:-1], whole[:-1]):  # statistics, knots, layout
        learned = _learned(reference)
        assert learned.keys() == _learned(fitted).keys()
        for name, value in _learned(fitted).items():
            np.testing.assert_allclose(value, learned[name], rtol=1e-12, err_msg=name)


def _learned(step):
    """What a fitted step learned, each attribute flattened (the knots end to end)."""
    return {name: np.hstack([np.ravel(np.asarray(part, dtype=np.float64)) for part in
                             (value if name == "knots_" else [value])] + [np.empty(0)])
            for name, value in vars(step).items()
            if name.endswith("_") and not name.startswith("_")}


def test_each_series_correction_reads_all_its_windows_when_a_chunk_holds_less():
    X, y = panel_windows(n_series=3)  # 277 windows per series, chunks of 50
    chunked = ChunkedPipeline(linear_steps(SeriesRidge(series_alpha=1.0)), chunk_size=50)
    whole = Pipeline(linear_steps(SeriesRidge(series_alpha=1.0)))
    chunked.fit(X, y), whole.fit(X, y)
    assert chunked[-1].series_coef_.shape == whole[-1].series_coef_.shape == (3, 38, 3)
    np.testing.assert_allclose(chunked[-1].series_coef_, whole[-1].series_coef_, atol=1e-9)
    np.testing.assert_allclose(chunked[-1].series_intercept_, whole[-1].series_intercept_,
                               atol=1e-9)


def test_the_fitted_ridge_is_a_ridge_fitted_on_every_window():
    X, y = panel_windows()
    chunked = ChunkedPipeline(linear_steps(Ridge(alpha=3.0)), chunk_size=200).fit(X, y)
    features = Pipeline(linear_steps("passthrough")).fit(X, y)
    Xt, yt = features[0].resample(X, y)
    reference = Ridge(alpha=3.0).fit(features[1:].transform(Xt), yt)
    np.testing.assert_allclose(chunked[-1].coef_, reference.coef_, atol=1e-9)
    np.testing.assert_allclose(chunked[-1].intercept_, reference.intercept_, atol=1e-9)
    assert chunked[-1].n_features_in_ == reference.n_features_in_
    assert (chunked[-1].solver_, chunked[-1].n_iter_) == (reference.solver_, reference.n_iter_)


def _peak_memory(pipeline, X, y):
    tracemalloc.start()
    try:
        pipeline.fit(X, y)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_fitting_holds_a_chunk_of_windows_not_all_of_them():
    X, y = panel_windows(n_series=10, n_steps=3000)  # 29,770 windows, 17 MB
    for final in (Ridge(), SeriesRidge()):
        whole = _peak_memory(Pipeline(linear_steps(clone(final))), X, y)
        chunked = _peak_memory(ChunkedPipeline(linear_steps(clone(final)),
                                               chunk_size=len(X) // 20), X, y)
        # all at once, the steps' outputs and temporaries take about 3x the windows
        assert whole > 2 * X.nbytes
        assert chunked < 0.25 * whole, (type(final).__name__, chunked / whole)


def test_other_last_steps_are_fitted_on_what_they_read_of_all_the_windows():
    X, y = panel_windows()
    for final in (Lasso(alpha=0.01), Ridge(fit_intercept=False)):
        chunked = ChunkedPipeline(linear_steps(clone(final)), chunk_size=50).fit(X, y)
        whole = Pipeline(linear_steps(clone(final))).fit(X, y)
        np.testing.assert_array_equal(chunked[-1].coef_, whole[-1].coef_)
        np.testing.assert_allclose(chunked.predict(X), whole.predict(X), rtol=1e-12)
    # a model that reads the scaled windows themselves, as the GRU does
    steps = [WindowScaler(per_series=True), WindowLags((7,), 10), _RecordsWhatItReads()]
    chunked = ChunkedPipeline(steps, chunk_size=50).fit(X, y)
    whole = Pipeline([clone(step) for step in steps]).fit(X, y)
    np.testing.assert_array_equal(chunked[-1].X_, whole[-1].X_)
    np.testing.assert_array_equal(chunked[-1].y_, whole[-1].y_)


class _RecordsWhatItReads(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        self.X_, self.y_ = X, y
        return self

    def predict(self, X):
        return X[:, -1, :3]


def test_other_steps_before_the_last_get_all_the_windows_built():
    data = _panel_data(n_series=3, n_steps=200)
    lazy = LazyWindows(data, np.tile(np.arange(20, 197), 3), series=np.repeat(range(3), 177),
                       window_past=21, horizon=3, n_known_ahead=2)
    steps = [WindowScaler(per_series=True), TargetWindows(), _RecordsWhatItReads()]
    chunked = ChunkedPipeline(steps, chunk_size=50).fit(lazy, lazy.targets())
    whole = Pipeline([clone(step) for step in steps]).fit(np.asarray(lazy), lazy.targets())
    np.testing.assert_array_equal(chunked[-1].X_, whole[-1].X_)


def test_predictions_of_many_chunks_are_those_of_one():
    X, y = panel_windows()
    pipeline = ChunkedPipeline(linear_steps(Ridge()), chunk_size=len(X)).fit(X, y)
    one_chunk = pipeline.predict(X)
    pipeline.set_params(chunk_size=64)
    assert clone(pipeline).chunk_size == 64
    np.testing.assert_allclose(pipeline.predict(X), one_chunk, rtol=1e-12)


@pytest.mark.parametrize("chunk_size", [0, 2.5, True])
def test_chunk_size_must_be_a_positive_int(chunk_size):
    X, y = panel_windows(n_series=2)
    with pytest.raises(ValueError, match="'chunk_size' parameter of ChunkedPipeline"):
        ChunkedPipeline(linear_steps(Ridge()), chunk_size=chunk_size).fit(X, y)


def test_normal_equations_keep_their_precision_far_from_zero():
    rng = np.random.default_rng(1)
    X = 1e6 + rng.normal(size=(500, 4))  # large means: summed relative to the first chunk's
    y = (X - 1e6) @ np.array([[1.0], [-2.0], [0.5], [3.0]]) + rng.normal(size=(500, 1))
    equations = NormalEquations()
    for start in range(0, 500, 128):
        equations.add(X[start:start + 128], y[start:start + 128])
    coef, intercept = equations.solve(alpha=1.0)
    reference = Ridge(alpha=1.0).fit(X, y)
    np.testing.assert_allclose(coef[0], reference.coef_, rtol=1e-7)
    np.testing.assert_allclose(intercept, reference.intercept_, rtol=1e-9)


def test_normal_equations_without_penalty_on_collinear_columns_still_fit():
    rng = np.random.default_rng(2)
    column = rng.normal(size=(200, 1))
    X, y = np.hstack([column, column]), 3 * column + 1
    coef, intercept = NormalEquations().add(X, y).solve(alpha=0.0)
    np.testing.assert_allclose(X @ coef.T + intercept, y, atol=1e-8)


def test_a_forecaster_of_many_series_chooses_among_chunked_linear_candidates():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(np.cumsum(rng.normal(size=(200, 3)), axis=0) + [0, 50, 100],
                         columns=list("abc"))
    forecaster = Forecaster(2, candidates=[Ridge(), SeriesRidge()]).fit(frame)
    assert isinstance(forecaster.pipeline_, ChunkedPipeline)
    assert set(forecaster.candidate_scores_) == {"ridge", "seriesridge"}


def _panel_data(n_series=4, n_steps=120, seed=4):
    rng = np.random.default_rng(seed)
    return np.stack([np.column_stack([np.cumsum(rng.normal(size=n_steps)) + 5 * code,
                                      rng.normal(size=n_steps), np.full(n_steps, code)])
                     for code in range(n_series)])


def test_lazy_windows_are_the_windows_make_windows_builds():
    data = _panel_data()
    rng = np.random.default_rng(0)
    origins, series = rng.integers(9, 115, size=50), rng.integers(0, 4, size=50)
    lazy = LazyWindows(data, origins, series=series, window_past=10, horizon=4,
                       n_known_ahead=2)
    X, y = make_windows(data, origins, series=series, window_past=10, horizon=4,
                        n_known_ahead=2, with_targets=True)
    assert lazy.shape == X.shape and len(lazy) == len(X)
    np.testing.assert_array_equal(np.asarray(lazy), X)
    rows = np.array([3, 0, 49, 7])
    np.testing.assert_array_equal(lazy[rows], X[rows])
    np.testing.assert_array_equal(lazy[5:9], X[5:9])
    np.testing.assert_array_equal(lazy.targets(), y)
    for row in (0, 9, 10, 13, -1):  # past rows, forecast rows (the target unknown there)
        for channel in (0, 1, -1):
            np.testing.assert_array_equal(lazy.column(row, channel), X[:, row, channel])


@pytest.mark.parametrize("final", [Ridge(alpha=3.0), SeriesRidge(series_alpha=10.0)],
                         ids=["ridge", "series-ridge"])
def test_lazy_windows_are_read_a_chunk_at_a_time_as_their_array_is(final):
    data = _panel_data(n_series=5, n_steps=300)
    origins = np.tile(np.arange(20, 297), 5)
    series = np.repeat(np.arange(5), 277)
    lazy = LazyWindows(data, origins, series=series, window_past=21, horizon=3,
                       n_known_ahead=2)
    y = lazy.targets()
    chunked = ChunkedPipeline(linear_steps(clone(final), nonlinear=1), chunk_size=97)
    whole = Pipeline(linear_steps(clone(final), nonlinear=1)).fit(np.asarray(lazy), y)
    chunked.fit(lazy, y)
    np.testing.assert_allclose(chunked.predict(lazy), whole.predict(np.asarray(lazy)),
                               rtol=1e-9, atol=1e-9)


def test_baselines_learn_from_the_first_chunk_what_they_learn_from_all():
    X, y = panel_windows()
    for baseline in (LastValue(), SeasonalNaive(7)):
        chunked = ChunkedPipeline([clone(baseline)], chunk_size=50).fit(X, y)
        assert chunked[0].n_features_in_ == X.shape[2] and chunked[0].horizon_ == 3
        np.testing.assert_array_equal(chunked.predict(X),
                                      Pipeline([clone(baseline)]).fit(X, y).predict(X))


def test_only_a_chunked_pipeline_gets_lazy_windows():
    data = _panel_data()
    lazy = LazyWindows(data, np.arange(9, 100), series=np.zeros(91, dtype=int),
                       window_past=10, horizon=4, n_known_ahead=2)
    assert windows_for(ChunkedPipeline([LastValue()]), lazy) is lazy
    built = windows_for(Pipeline([LastValue()]), lazy)
    assert isinstance(built, np.ndarray) and built.shape == lazy.shape
    array = np.asarray(lazy)
    assert windows_for(Pipeline([LastValue()]), array) is array


def test_a_forecaster_of_many_series_never_builds_all_its_windows():
    rng = np.random.default_rng(5)
    weekly = np.sin(2 * np.pi * np.arange(800) / 7)[:, None] * np.arange(1, 21)
    frame = pd.DataFrame(weekly + rng.normal(size=(800, 20)) + np.arange(20) * 10,
                         index=pd.date_range("2020-01-01", periods=800, freq="D"))
    chunked = linear_candidate(Ridge(), n_known_ahead=1, per_series=True)  # the code
    whole = Pipeline(clone(chunked).steps)  # the same steps, fitted all at once
    peaks = {}
    for name, candidate in (("chunked", chunked.set_params(chunk_size=256)),
                            ("whole", whole)):
        forecaster = Forecaster(7, window_past=30, calendar=None, season=None,
                                candidates={"ridge": candidate})
        tracemalloc.start()
        try:
            forecaster.fit(frame)
            peaks[name] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert isinstance(forecaster.pipeline_, type(candidate))
    windows = 20 * (800 - 30 - 7 + 1) * 37 * 2 * 8  # (past + horizon) rows, 2 channels
    assert peaks["whole"] > windows  # built, then scaled, featured, ...
    assert peaks["chunked"] < 0.25 * peaks["whole"], peaks


class _CountingWindows(LazyWindows):
    """Lazy windows that count how often all of them are built."""

    built = 0

    def __array__(self, dtype=None, copy=None):
        type(self).built += 1
        return super().__array__(dtype, copy)


def _counting_windows(n_series=3, n_steps=200):
    _CountingWindows.built = 0
    return _CountingWindows(_panel_data(n_series, n_steps), np.tile(np.arange(20, n_steps - 3),
                                                                    n_series),
                            series=np.repeat(range(n_series), n_steps - 23), window_past=21,
                            horizon=3, n_known_ahead=2)


def test_lazy_windows_are_built_whole_only_for_steps_that_need_them():
    windows = _counting_windows()
    y = windows.targets()
    # a last step after the scaler alone (the GRU without lags): read a chunk at a time
    steps = [WindowScaler(per_series=True), _RecordsWhatItReads()]
    chunked = ChunkedPipeline(steps, chunk_size=50).fit(windows, y)
    chunked.predict(windows)
    assert _CountingWindows.built == 0
    whole = Pipeline([clone(step) for step in steps]).fit(np.asarray(windows), y)
    np.testing.assert_array_equal(chunked[-1].X_, whole[-1].X_)
    # the baselines learn from the first chunk
    _CountingWindows.built = 0
    ChunkedPipeline([SeasonalNaive(7)], chunk_size=50).fit(windows, y).predict(windows)
    assert _CountingWindows.built == 0
    # other steps get the windows built, once
    steps = [WindowScaler(per_series=True), TargetWindows(), _RecordsWhatItReads()]
    ChunkedPipeline(steps, chunk_size=50).fit(windows, y)
    assert _CountingWindows.built == 1


def test_a_chunk_may_hold_one_window_or_more_than_a_series():
    X, y = panel_windows(n_series=3, n_steps=120)  # 97 windows per series
    for chunk_size in (1, 150):  # one window; more than a series (not two: one at a time)
        chunked = ChunkedPipeline(linear_steps(SeriesRidge(series_alpha=1.0)),
                                  chunk_size=chunk_size).fit(X, y)
        whole = Pipeline(linear_steps(SeriesRidge(series_alpha=1.0))).fit(X, y)
        np.testing.assert_allclose(chunked.predict(X), whole.predict(X), rtol=1e-9,
                                   atol=1e-9)
    assert ChunkedPipeline([LastValue()]).chunk_size == 4096


def test_knots_are_learned_from_every_chunk_without_lags_too():
    X, y = panel_windows()
    steps = [WindowScaler(per_series=True, level=True),
             WindowFeatures(4, nonlinear=1, per_window=(-1, -2)), Ridge()]
    chunked = ChunkedPipeline([clone(step) for step in steps], chunk_size=97).fit(X, y)
    whole = Pipeline([clone(step) for step in steps]).fit(X, y)
    np.testing.assert_allclose(np.concatenate(chunked[1].knots_),
                               np.concatenate(whole[1].knots_))
    np.testing.assert_allclose(chunked.predict(X), whole.predict(X), rtol=1e-9, atol=1e-9)


def test_fit_parameters_are_honoured_by_fitting_all_at_once():
    X, y = panel_windows()
    weights = np.random.default_rng(6).uniform(size=len(X))
    chunked = ChunkedPipeline(linear_steps(Ridge()), chunk_size=50).fit(
        X, y, ridge__sample_weight=weights)
    whole = Pipeline(linear_steps(Ridge())).fit(X, y, ridge__sample_weight=weights)
    np.testing.assert_array_equal(chunked[-1].coef_, whole[-1].coef_)
    unweighted = Pipeline(linear_steps(Ridge())).fit(X, y)
    assert not np.allclose(chunked[-1].coef_, unweighted[-1].coef_)


def test_a_scaler_alone_is_fitted_as_a_pipeline_fits_it():
    X, y = panel_windows()
    chunked = ChunkedPipeline([WindowScaler(per_series=True)], chunk_size=50).fit(X, y)
    whole = Pipeline([WindowScaler(per_series=True)]).fit(X, y)
    np.testing.assert_array_equal(chunked.transform(X), whole.transform(X))
