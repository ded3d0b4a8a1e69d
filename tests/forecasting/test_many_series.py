"""Many series in one Forecaster: the wide and long layouts, per-series scaling learned
on training parts only, series of different spans, per-series covariates, predictions
indexed by (series, date), backtests per series, and calibrated intervals."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from seqpipe import Pipeline, load, save
from seqpipe.datasets import make_panel
from seqpipe.forecasting import (
    Forecaster,
    LastValue,
    SeasonalNaive,
    WindowScaler,
    backtest,
    backtest_fitted,
    from_long,
    make_windows,
    summary,
)
from seqpipe.forecasting.candidates import default_candidates
from seqpipe.forecasting.panel import as_panel
from seqpipe.forecasting.selection import (
    auto_window_past,
    resolve_season,
    resolve_window_past,
    series_scales,
    training_lengths,
)

LINEAR = [Ridge(alpha=1.0), SeasonalNaive(7), LastValue()]


@pytest.fixture(scope="module")
def panel():
    return make_panel(6, 700, random_state=0)


@pytest.fixture(scope="module")
def fitted(panel):
    return Forecaster(7, candidates=LINEAR, levels=(80, 95)).fit(panel)


# ---------------------------------------------------------------- layouts
def test_from_long_gives_one_column_per_series_in_order_of_appearance():
    long = pd.DataFrame({"id": ["b", "a", "b", "a", "b"],
                         "when": ["2024-01-02", "2024-01-01", "2024-01-01", "2024-01-02",
                                  "2024-01-03"],
                         "v": [2.0, 10.0, 1.0, 20.0, 3.0]})
    wide = from_long(long, "id", "when", "v")
    assert wide.columns.tolist() == ["b", "a"]
    assert wide.index.tolist() == list(pd.to_datetime(["2024-01-01", "2024-01-02",
                                                       "2024-01-03"]))
    assert wide["b"].tolist() == [1.0, 2.0, 3.0]
    assert wide["a"].tolist()[:2] == [10.0, 20.0] and np.isnan(wide["a"].iloc[2])


def test_from_long_names_the_rows_it_cannot_read():
    long = pd.DataFrame({"id": ["a", "a", "a", "b"],
                         "t": ["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-01"],
                         "v": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ValueError, match=re.escape("repeat a (id, t) pair: rows [0, 2]")):
        from_long(long, "id", "t", "v")
    long = long.assign(t=["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01"],
                       v=["1", "two", "3", None])
    with pytest.raises(ValueError, match=re.escape(
            "the target column 'v' holds non-numeric values: rows [1]")):
        from_long(long, "id", "t", "v")
    with pytest.raises(ValueError, match=re.escape("the time column 't' holds values that "
                                                   "are not dates: rows [3]")):
        from_long(long.assign(v=1.0, t=["2024-01-01", "2024-01-02", "2024-01-03", "soon"]),
                  "id", "t", "v")
    with pytest.raises(ValueError, match=re.escape("no column ['shop']")):
        from_long(long, "shop", "t", "v")


def test_a_gap_inside_a_series_span_is_an_error_naming_series_and_date(panel):
    holed = panel.copy()
    holed.iloc[300, 2] = np.nan
    with pytest.raises(ValueError, match=re.escape(
            f"series 'series-2' has 1 missing or infinite value(s) inside its span, the "
            f"first at {panel.index[300]}")):
        Forecaster(7, candidates=LINEAR).fit(holed)
    with pytest.raises(ValueError, match=re.escape("the series ['empty'] have no value")):
        Forecaster(7, candidates=LINEAR).fit(panel.assign(empty=np.nan))


def test_a_series_starting_late_is_learned_from_the_others(panel):
    late = panel.copy()
    late.iloc[:630, 4] = np.nan  # 70 days, all in the held-out part
    forecaster = Forecaster(7, candidates=LINEAR).fit(late)
    assert forecaster.residuals_.shape[0] % 5 == 0  # the other five series are scored
    forecast = forecaster.predict().loc["series-4", "prediction"]
    recent = late["series-4"].iloc[-14:]
    assert abs(forecast.mean() - recent.mean()) < 3 * recent.std()
    assert forecaster.series_scales_["series-4"] == pytest.approx(
        late["series-4"].diff().abs().mean())
    late.iloc[:665, 4] = np.nan  # 35 days: not one window of 30 + 7
    with pytest.raises(ValueError, match=re.escape("the series ['series-4'] are too short: "
                                                   "a series needs 37 time steps")) as info:
        Forecaster(7, window_past=30, candidates=LINEAR).fit(late)
    assert info.value.series == ["series-4"]  # what a backtest leaves out of that fit


# ---------------------------------------------------------------- fit and predict
def test_predict_is_indexed_by_series_and_date(panel, fitted):
    forecast = fitted.predict()
    assert forecast.index.names == ["series", "date"]
    assert forecast.index.get_level_values("series").unique().tolist() == panel.columns.tolist()
    assert forecast.shape == (6 * 7, 5)
    first = forecast.loc["series-0"].index
    assert first[0] == panel.index[-1] + pd.Timedelta("1D") and len(first) == 7
    assert fitted.series_ == panel.columns.tolist()
    assert fitted.series_scales_.index.tolist() == panel.columns.tolist()


def test_series_of_different_spans_forecast_after_their_own_end(panel):
    spans = panel.copy()
    spans.iloc[-20:, 1] = np.nan  # series-1 ends 20 days early
    forecaster = Forecaster(3, candidates=LINEAR).fit(spans)
    forecast = forecaster.predict()
    assert forecast.loc["series-1"].index[0] == panel.index[-21] + pd.Timedelta("1D")
    assert forecast.loc["series-0"].index[0] == panel.index[-1] + pd.Timedelta("1D")


def test_predict_after_new_histories_of_some_series_equals_the_batched_forecast(panel,
                                                                                fitted):
    histories = panel[["series-3", "series-1"]].iloc[:500]
    forecast = fitted.predict(histories)
    assert forecast.index.get_level_values("series").unique().tolist() == ["series-3",
                                                                           "series-1"]
    batched = fitted.predict_origins(panel, [499])  # (n_series, 1, horizon)
    assert forecast.loc["series-3", "prediction"].tolist() == batched[3, 0].tolist()
    assert forecast.loc["series-1", "prediction"].tolist() == batched[1, 0].tolist()
    with pytest.raises(ValueError, match=re.escape("series the forecaster was not fitted "
                                                   "on: ['other']")):
        fitted.predict(histories.rename(columns={"series-3": "other"}))
    with pytest.raises(ValueError, match="^" + re.escape(
            "y must be given as in fit: many series (a DataFrame).") + "$"):
        fitted.predict(panel["series-0"])


def test_save_and_load_predict_bitwise(fitted, tmp_path):
    save(fitted, tmp_path / "panel.seqpipe")
    pd.testing.assert_frame_equal(load(tmp_path / "panel.seqpipe").predict(), fitted.predict())


def test_per_series_scaling_is_learned_on_the_training_part_only(panel):
    forecaster = Forecaster(7, candidates=[Ridge(alpha=1.0)])
    plain = forecaster.fit(panel).residuals_.copy()
    jumped = panel.copy()
    held_out = forecaster.n_train_
    jumped.iloc[held_out:, 5] *= 100  # the last series' scale jumps in the held-out part
    changed = forecaster.fit(jumped).residuals_
    # residuals are time-major (origin, then series): the other series' are unchanged
    n_series = panel.shape[1]
    mine = np.arange(len(plain)) % n_series == 5
    np.testing.assert_array_equal(plain[~mine], changed[~mine])
    assert not np.allclose(plain[mine], changed[mine])


def test_window_scaler_per_series_learns_each_series_as_alone():
    rng = np.random.default_rng(0)
    data = np.stack([rng.normal(size=(60, 1)).cumsum(0), 1000 * rng.normal(size=(60, 1))])
    codes = np.repeat([0.0, 1.0], 60).reshape(2, 60, 1)
    with_code = np.concatenate([data, codes], axis=2)
    series, origins = np.repeat([0, 1], 50), np.tile(np.arange(4, 54), 2)
    X, y = make_windows(with_code, origins, series=series, window_past=5, horizon=2,
                        n_known_ahead=1, with_targets=True)
    together = WindowScaler(per_series=True).fit(X, y)
    for code in (0, 1):
        alone = WindowScaler().fit(X[series == code, :, :1], y[series == code])
        assert together.scale_[code] == pytest.approx(alone.scale_)
        Xt_alone = alone.transform(X[series == code, :, :1])
        np.testing.assert_allclose(together.transform(X[series == code])[:, :, 0],
                                   Xt_alone[:, :, 0])
    assert not hasattr(together, "level_mean_")
    Xt, yt = together.resample(X, y)
    assert Xt.shape == (100, 7, 2)  # the code channel becomes the identity; no level
    assert np.unique(Xt[series == 0, :, 1]).size == 1
    assert Xt[series == 0, 0, 1][0] != Xt[series == 1, 0, 1][0]
    np.testing.assert_allclose(together.inverse_transform_y(yt, X), y)
    with pytest.raises(ValueError, match="series code 2 had no window in fit"):
        together.transform(np.concatenate([X[:1, :, :1], np.full((1, 7, 1), 2.0)], axis=2))


def test_selection_windows_lie_before_the_held_out_part_for_every_series(panel):
    seen = []

    class Recording(LastValue):
        def fit(self, X, y):
            seen.append((X.copy(), y.copy()))
            return super().fit(X, y)

    forecaster = Forecaster(4, candidates=[Pipeline([Recording()])], calendar=False,
                            window_past=10).fit(panel)
    X, y = seen[0]
    held_out = panel.iloc[forecaster.n_train_:].to_numpy()
    assert not np.isin(y, held_out).any()
    codes = X[:, 0, -1]
    assert set(codes) == set(range(6))
    # time-major: the origins never go back in time
    origins = [np.flatnonzero(panel.iloc[:, int(c)].to_numpy() == row[-1])[0]
               for c, row in zip(codes[:50], X[:50, 9:10, 0])]
    assert origins == sorted(origins)


def test_covariates_per_series_reach_each_series():
    rng = np.random.default_rng(1)
    dates = pd.date_range("2022-01-01", periods=400, freq="D")
    drivers = {name: pd.DataFrame({"driver": rng.normal(size=400)}, index=dates)
               for name in ("a", "b", "c")}
    y = pd.DataFrame({name: 5 * weight * drivers[name]["driver"] + rng.normal(0.0, 0.1, 400)
                      for name, weight in (("a", 1), ("b", 10), ("c", 100))}, index=dates)
    forecaster = Forecaster(2, candidates=[Ridge(alpha=1.0), LastValue()], calendar=False)
    forecaster.fit(y, future_covariates=drivers)
    assert forecaster.best_candidate_ == "ridge"
    assert forecaster.candidate_scores_["ridge"] < 0.05 * forecaster.candidate_scores_[
        "lastvalue"]
    future = {name: pd.DataFrame({"driver": [1.0, -1.0]}, index=pd.date_range(
        dates[-1] + pd.Timedelta("1D"), periods=2)) for name in drivers}
    forecast = forecaster.predict(future_covariates=future)
    assert forecast.loc["c", "prediction"].to_numpy() == pytest.approx([500, -500], rel=0.05)
    with pytest.raises(ValueError, match=re.escape("needs one entry per series of y: "
                                                   "missing ['c']")):
        forecaster.fit(y, future_covariates={k: drivers[k] for k in ("a", "b")})


# ---------------------------------------------------------------- backtests and intervals
def test_backtest_reports_per_series_and_averages_mase_over_series(panel):
    frame = backtest(Forecaster(7, candidates=LINEAR, levels=(80,)), panel, start=0.85)
    assert frame.columns[0] == "series"
    assert set(frame["series"]) == set(panel.columns)
    scales = frame.attrs["mase_scale"]
    per_series = summary(frame, per_series=True)
    assert per_series.index.tolist() == panel.columns.tolist()
    by_hand = np.mean([np.mean(np.abs(part["prediction"] - part["actual"])) / scales[name]
                       for name, part in frame.groupby("series")])
    overall = summary(frame).loc["overall"]
    assert overall["mase"] == pytest.approx(by_hand)
    assert overall["mase"] < overall["seasonal_naive_mase"]
    assert per_series["mase"].mean() == pytest.approx(by_hand)
    with pytest.raises(ValueError, match="^" + re.escape(
            "summary(per_series=True) needs the backtest of many series (a frame with a "
            "'series' column).")):
        summary(frame.drop(columns="series"), per_series=True)


def test_intervals_cover_their_level_on_a_panel_with_known_noise():
    panel = make_panel(40, 700, noise=0.3, late_start=0.2, random_state=2)
    forecaster = Forecaster(7, candidates=[Ridge(alpha=1.0)], calendar=False,
                            levels=(80, 95))
    frame = backtest(forecaster, panel, start=0.7, step=7)
    table = summary(frame)
    assert table.loc["overall", "coverage_80"] == pytest.approx(0.80, abs=0.04)
    assert table.loc["overall", "coverage_95"] == pytest.approx(0.95, abs=0.03)
    # intervals scale with each series: the widest series' is the widest interval
    widths = (frame["upper_80"] - frame["lower_80"]).groupby(frame["series"]).mean()
    spread = panel.diff().abs().mean()
    assert widths.idxmax() == spread.idxmax()


def test_a_panel_of_random_walks_is_not_forecast_better_than_the_last_value():
    rng = np.random.default_rng(5)
    walks = pd.DataFrame(rng.normal(size=(900, 8)).cumsum(0) * np.logspace(0, 3, 8) + 5000,
                         index=pd.date_range("2015-01-01", periods=900, freq="D"))
    frame = backtest(Forecaster(1, candidates=[Ridge(alpha=1.0)], calendar=False), walks,
                     start=0.6, step=1)
    overall = summary(frame).loc["overall"]
    assert 0.97 <= overall["mase"] / overall["last_value_mase"] <= 1.05


def test_backtest_fitted_forecasts_as_backtest_from_the_end_of_the_fit(panel):
    forecaster = Forecaster(7, candidates=LINEAR, levels=(80,))
    first = 600
    fitted = Forecaster(**forecaster.get_params()).fit(panel.iloc[:first + 1])
    ours = backtest_fitted(fitted, panel)
    theirs = backtest(forecaster, panel, start=first)
    pd.testing.assert_frame_equal(ours, theirs)
    assert ours.attrs == theirs.attrs
    assert ours["origin"].min() == panel.index[first]


def test_a_callable_makes_the_candidates_from_what_fit_found(panel):
    found = {}

    def candidates(**facts):
        found.update(facts)
        return {"ridge": default_candidates(**facts)["ridge-alpha-1"],
                "last": Pipeline([LastValue()])}

    forecaster = Forecaster(3, candidates=candidates, calendar=False).fit(panel)
    assert set(forecaster.candidate_scores_) == {"ridge", "last"}
    assert found["n_series"] == 6 and found["season"] == forecaster.season_
    assert found["window_past"] == forecaster.window_past_ and found["horizon"] == 3
    assert forecaster.best_candidate_ == "ridge"


def test_predict_many_equals_predict_one_by_one_in_one_model_call(panel, fitted):
    calls = []
    original = fitted.pipeline_.predict
    histories = [panel[["series-2"]].iloc[:400], panel[["series-2"]].iloc[:450],
                 panel[["series-0", "series-5"]].iloc[:500]]
    one_by_one = [fitted.predict(history) for history in histories]
    fitted.pipeline_.predict = lambda X: calls.append(len(X)) or original(X)
    try:
        together = fitted.predict_many(histories, levels=(80,))
    finally:
        del fitted.pipeline_.predict
    assert calls == [4]  # one model call for the four windows
    for alone, batched in zip(one_by_one, together):
        pd.testing.assert_frame_equal(alone[["prediction"]], batched[["prediction"]],
                                      check_exact=False, rtol=1e-12)
    assert together[0].columns.tolist() == ["prediction", "lower_80", "upper_80"]
    with pytest.raises(ValueError, match=re.escape("future_covariates must give one entry "
                                                   "per history (3); got 1")):
        fitted.predict_many(histories, future_covariates=[None])


def test_predicted_intervals_are_the_calibrated_widths_in_each_series_scale(fitted):
    forecast = fitted.predict()
    widths = (forecast["upper_80"] - forecast["lower_80"]).unstack("series")
    expected = 2 * np.outer(fitted.interval_widths_[80.0], fitted.series_scales_)
    np.testing.assert_allclose(widths[fitted.series_].to_numpy(), expected)
    assert fitted.series_scales_.max() > 10 * fitted.series_scales_.min()


def test_wide_frames_that_are_not_panels_are_refused_naming_the_problem(panel):
    forecaster = Forecaster(7, candidates=LINEAR)
    with pytest.raises(ValueError, match="y has no column: give one column per series"):
        forecaster.fit(panel.iloc[:, :0])
    twice = panel.iloc[:, :2].set_axis(["a", "a"], axis=1)
    with pytest.raises(ValueError, match="y names a series twice: 'a'"):
        forecaster.fit(twice)
    with pytest.raises(ValueError, match=re.escape("y must hold numbers; the series "
                                                   "['text'] do not")):
        forecaster.fit(panel.assign(text="x"))
    with pytest.raises(ValueError, match="y's dates must be increasing and unique"):
        forecaster.fit(panel.iloc[::-1])
    with pytest.raises(ValueError, match=re.escape("past_covariates: every series' "
                                                   "covariates need the same columns")):
        forecaster.fit(panel.iloc[:, :2], past_covariates={
            "series-0": pd.DataFrame({"a": 0.0}, index=panel.index),
            "series-1": pd.DataFrame({"b": 0.0}, index=panel.index)})
    with pytest.raises(ValueError, match=re.escape("unknown ['other']")):
        forecaster.fit(panel.iloc[:, :1], past_covariates={
            "series-0": pd.DataFrame({"a": 0.0}, index=panel.index),
            "other": pd.DataFrame({"a": 0.0}, index=panel.index)})
    with pytest.raises(ValueError, match="is a dict \\(covariates per series\\), but y is "
                                         "one series"):
        forecaster.fit(panel["series-0"].dropna(),
                       past_covariates={"series-0": panel[["series-0"]]})


def test_from_long_counts_the_rows_it_does_not_list():
    long = pd.DataFrame({"id": ["a"] * 8, "t": ["2024-01-01"] * 8, "v": np.arange(8.0)})
    with pytest.raises(ValueError, match=re.escape("rows [0, 1, 2, 3, 4] (and 3 more).")):
        from_long(long, "id", "t", "v")
    with pytest.raises(ValueError, match="from_long reads a DataFrame; got dict"):
        from_long({"id": []}, "id", "t", "v")


def test_changing_every_series_after_an_origin_leaves_its_forecasts_bitwise_unchanged(
        panel, fitted):
    origin = 550
    before = fitted.predict_origins(panel, [origin])
    changed = panel.copy()
    changed.iloc[origin + 1:] = changed.iloc[origin + 1:] * 10 + 5
    np.testing.assert_array_equal(fitted.predict_origins(changed, [origin]), before)
    later = fitted.predict_origins(changed, [origin + 3])
    assert not np.allclose(later, fitted.predict_origins(panel, [origin + 3]))


# ---------------------------------------------------------------- panels, read exactly
def test_one_series_is_a_panel_of_one_row_from_its_first_to_its_last_step():
    panel = as_panel(pd.Series([1.0, 2.0, 3.0], index=pd.date_range("2024-01-01", periods=3)))
    assert panel.names is None and panel.values.tolist() == [[1.0, 2.0, 3.0]]
    assert panel.starts.tolist() == [0] and panel.ends.tolist() == [2]
    with pytest.raises(ValueError, match="^sales must be indexed by dates"):
        as_panel(pd.Series([1.0, 2.0], index=["a", "b"]), name="sales")
    with pytest.raises(ValueError, match="^sales must be indexed by dates"):
        as_panel(pd.DataFrame({"a": [1.0, 2.0]}, index=["a", "b"]), name="sales")


def test_nullable_integer_columns_are_read_as_floats():
    wide = pd.DataFrame({"a": pd.array([None, 1, 2, 3], dtype="Int64"),
                         "b": pd.array([4, 5, 6, 7], dtype="Int64")})
    panel = as_panel(wide)
    assert panel.values.dtype == np.float64
    assert np.isnan(panel.values[0, 0]) and panel.values[1].tolist() == [4.0, 5.0, 6.0, 7.0]
    assert panel.starts.tolist() == [1, 0] and panel.ends.tolist() == [3, 3]


def test_a_gap_just_before_a_series_last_value_is_an_error():
    wide = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0], "b": [1.0, 2.0, 3.0, 4.0]},
                        index=pd.date_range("2024-01-01", periods=4))
    with pytest.raises(ValueError, match=re.escape(
            "y: series 'a' has 1 missing or infinite value(s) inside its span, the first at "
            "2024-01-03 00:00:00")):
        as_panel(wide)


def test_from_long_keeps_integer_time_steps_and_names_empty_keys():
    long = pd.DataFrame({"id": ["a", "a", "b"], "t": [2, 1, 1], "v": [2.0, 1.0, 5.0]})
    wide = from_long(long, "id", "t", "v")
    assert wide.index.tolist() == [1, 2] and pd.api.types.is_integer_dtype(wide.index)
    dated = pd.DataFrame({"id": ["a", "a", "b"], "t": ["2024-01-01", None, "2024-01-01"],
                          "v": 1.0})
    with pytest.raises(ValueError, match=re.escape(
            "from_long: the time column 't' is empty: rows [1].")):
        from_long(dated, "id", "t", "v")
    with pytest.raises(ValueError, match=re.escape(
            "from_long: the id column 'id' is empty: rows [2].")):
        from_long(long.assign(id=["a", "a", None]), "id", "t", "v")


def test_from_long_lists_five_rows_and_counts_the_others():
    for n_bad, rows in ((5, "rows [0, 1, 2, 3, 4]."), (6, "rows [0, 1, 2, 3, 4] (and 1 more).")):
        long = pd.DataFrame({"id": ["a"] * n_bad, "t": ["2024-01-01"] * n_bad, "v": 1.0})
        with pytest.raises(ValueError, match=re.escape(
                f"these rows repeat a (id, t) pair: {rows}") + "$"):
            from_long(long, "id", "t", "v")


def test_covariates_per_series_are_named_exactly_when_they_do_not_match(panel):
    two = panel.iloc[:, :2]
    given = {name: pd.DataFrame({"a": 0.0}, index=panel.index) for name in two.columns}
    forecaster = Forecaster(7, candidates=LINEAR)
    start = "past_covariates is a dict by series, so it needs one entry per series of y: "
    for covariates, problem in (
            ({"series-0": given["series-0"]}, "missing ['series-1']."),
            ({**given, "other": given["series-0"]}, "unknown ['other']."),
            ({"series-0": given["series-0"], "other": given["series-0"]},
             "missing ['series-1']; unknown ['other'].")):
        with pytest.raises(ValueError, match="^" + re.escape(start + problem) + "$"):
            forecaster.fit(two, past_covariates=covariates)


def test_covariates_per_series_may_be_series_and_cover_more_series_at_predict(panel):
    three = panel.iloc[:, :3]
    rng = np.random.default_rng(0)
    drivers = {name: pd.Series(rng.normal(size=len(panel)), index=panel.index, name="d")
               for name in three.columns}
    forecaster = Forecaster(2, candidates=[Ridge(alpha=1.0)], calendar=False).fit(
        three.iloc[:600], future_covariates={k: v.iloc[:600] for k, v in drivers.items()})
    assert forecaster.future_covariates_ == ["d"]
    forecast = forecaster.predict(three[["series-2"]].iloc[:620],
                                  future_covariates=drivers)  # entries of other series too
    assert forecast.index.get_level_values("series").unique().tolist() == ["series-2"]
    assert np.isfinite(forecast["prediction"]).all()


def test_a_new_history_is_read_over_each_series_own_span(panel, fitted):
    history = panel[["series-0", "series-1"]].iloc[:500].copy()
    history.iloc[-10:, 1] = np.nan  # series-1 ends 10 days early
    forecast = fitted.predict(history)
    ended = forecast.loc["series-1"]
    assert ended.index[0] == panel.index[489] + pd.Timedelta("1D")
    pd.testing.assert_frame_equal(ended, fitted.predict(panel[["series-1"]].iloc[:490])
                                  .loc["series-1"], check_freq=False)
    history.iloc[:485, 1] = np.nan  # 5 time steps left, fewer than the 42 it reads
    assert fitted.window_past_ == 42
    with pytest.raises(ValueError, match=re.escape(
            "y's series 'series-1' has 5 time step(s); the forecaster reads the last 42.")):
        fitted.predict(history)


def test_the_forecast_rows_carry_each_series_code(panel):
    class LastRowCode(LastValue):
        """Forecasts the series' code its window's last row holds."""

        def predict(self, X):
            return np.repeat(np.asarray(X)[:, -1:, -1], self.horizon_, axis=1)

    forecaster = Forecaster(3, candidates=[Pipeline([LastRowCode()])], calendar=False,
                            window_past=10).fit(panel)
    forecast = forecaster.predict()
    for code, name in enumerate(panel.columns):
        assert forecast.loc[name, "prediction"].tolist() == [code] * 3


def test_covariates_per_series_need_only_cover_each_series_span(panel):
    spans = panel.iloc[:, :3].copy()
    spans.iloc[:100, 1] = np.nan  # series-1 starts late and ends early
    spans.iloc[-20:, 1] = np.nan
    rng = np.random.default_rng(0)
    past = {name: pd.DataFrame({"p": rng.normal(size=len(column.dropna()))},
                               index=column.dropna().index)
            for name, column in spans.items()}
    forecaster = Forecaster(2, candidates=[Ridge(alpha=1.0)], calendar=False).fit(
        spans, past_covariates=past)
    assert forecaster.past_covariates_ == ["p"]


# ---------------------------------------------------------------- what fit decides first
def spans(n, **columns):
    """A panel of ``n`` time steps: each column's values from its start (NaN around)."""
    data = {}
    for name, (start, values) in columns.items():
        column = np.full(n, np.nan)
        column[start:start + len(values)] = values
        data[name] = column
    return as_panel(pd.DataFrame(data))


def test_training_lengths_count_each_series_steps_before_the_held_out_part():
    panel = spans(10, a=(0, np.arange(10.0)), b=(0, np.arange(6.0)), c=(9, [1.0]))
    assert training_lengths(panel, 8).tolist() == [8, 6, 0]


def test_series_scales_are_read_on_each_series_training_part():
    panel = spans(12, a=(0, [0, 1, 2, 3, 4, 5, 6, 7, 17, 27, 37, 47]),
                  b=(6, [0, 3, 100, 200, 300, 400]),  # two training steps: one change
                  c=(9, [1, 5]),  # only in the held-out part, ending before its end
                  d=(0, np.full(12, 2.0)),  # constant: no scale, so 1
                  e=(0, np.tile([0, 0.5], 6)))
    assert series_scales(panel, 8).tolist() == [1.0, 3.0, 4.0, 1.0, 0.5]
    assert series_scales(as_panel(pd.Series(np.arange(5.0))), 4).tolist() == [1.0]


def test_the_auto_window_reads_two_seasons_at_least_30_at_most_a_third_of_training():
    assert auto_window_past(100, 10, None) == 30
    assert auto_window_past(200, 4, 24) == 48
    assert auto_window_past(65, 4, 24) == 20  # (65 - 4) // 3
    assert auto_window_past(4, 1, None) == 1
    one = as_panel(pd.Series(np.arange(300.0)))
    assert resolve_window_past("auto", one, horizon=4, season=24, n_train=200) == 48


def test_one_series_needs_ten_training_windows():
    one = as_panel(pd.Series(np.arange(20.0)))
    assert resolve_window_past(5, one, horizon=1, season=None, n_train=15) == 5
    with pytest.raises(ValueError, match="^" + re.escape(
            "Forecaster: the series is too short: 14 time steps before the held-out 6 leave "
            "fewer than 10 training windows of 5 past and 1 future steps.") + "$"):
        resolve_window_past(5, one, horizon=1, season=None, n_train=14)


def test_many_series_need_ten_training_windows_together():
    late = (22, np.arange(8.0))  # starts in the held-out part (from 20): no window there
    enough = spans(30, a=(5, np.arange(25.0)), b=late)  # a: 10 windows before 20
    assert resolve_window_past(5, enough, horizon=1, season=None, n_train=20) == 5
    fewer = spans(30, a=(6, np.arange(24.0)), b=late)
    with pytest.raises(ValueError, match="^" + re.escape(
            f"Forecaster: the series are too short: before the held-out part (from "
            f"{fewer.index[20]}) they hold fewer than 10 training windows of 5 past and 1 "
            f"future steps.") + "$"):
        resolve_window_past(5, fewer, horizon=1, season=None, n_train=20)


def test_series_too_short_for_one_window_are_named_five_at_most():
    full = (0, np.arange(40.0))
    assert resolve_window_past(5, spans(40, a=full, s=(0, np.arange(6.0))), horizon=1,
                               season=None, n_train=30) == 5  # 6 steps: one window
    for count, more in ((5, ""), (6, " ...")):
        short = {f"s{i}": (0, np.arange(5.0)) for i in range(count)}
        with pytest.raises(ValueError, match="^" + re.escape(
                f"Forecaster: the series ['s0', 's1', 's2', 's3', 's4']{more} are too short: "
                f"a series needs 6 time steps (window_past 5 + horizon 1) for one window.")):
            resolve_window_past(5, spans(40, a=full, **short), horizon=1, season=None,
                                n_train=30)


def test_the_season_is_found_on_the_whole_training_part():
    rng = np.random.default_rng(0)
    t = np.arange(400)
    values = np.sin(2 * np.pi * t / 12) + 0.05 * rng.normal(size=400)
    values[:60] = 0.05 * rng.normal(size=60)  # no cycle in its first 60 steps
    assert resolve_season("auto", as_panel(pd.Series(values)), 340) == 12
    assert resolve_season(7, as_panel(pd.Series(values)), 340) == 7


def test_predict_origins_forecasts_a_series_only_where_it_has_a_window(panel):
    forecaster = Forecaster(3, window_past=10, candidates=LINEAR, calendar=False).fit(panel)
    spans = panel.copy()
    spans.iloc[:400, 1] = np.nan  # series-1 from 400: a window of 10 ends at 409 first
    spans.iloc[601:, 2] = np.nan  # series-2 to 600: the last origin with 3 after it, 597
    forecasts = forecaster.predict_origins(spans, [408, 409, 597, 598])
    assert np.isnan(forecasts[1, 0]).all() and np.isfinite(forecasts[1, 1:]).all()
    assert np.isfinite(forecasts[2, :3]).all() and np.isnan(forecasts[2, 3]).all()
    assert np.isfinite(np.delete(forecasts, [1, 2], axis=0)).all()


def test_series_missing_or_unknown_at_predict_are_named_five_at_most(panel, fitted):
    others = panel.set_axis([f"x{i}" for i in range(6)], axis=1)
    with pytest.raises(ValueError, match="^" + re.escape(
            "y lacks the fitted series ['series-0', 'series-1', 'series-2', 'series-3', "
            "'series-4'].") + "$"):
        fitted.predict_origins(others, [600])
    with pytest.raises(ValueError, match="^" + re.escape(
            "y holds series the forecaster was not fitted on: ['x0', 'x1', 'x2', 'x3', "
            "'x4'] (it knows 6, e.g. ['series-0', 'series-1', 'series-2']).") + "$"):
        fitted.predict(others)


def test_predict_many_ignores_future_covariates_of_other_series():
    rng = np.random.default_rng(1)
    dates = pd.date_range("2022-01-01", periods=300, freq="D")
    drivers = {name: pd.DataFrame({"d": rng.normal(size=300)}, index=dates)
               for name in ("a", "b")}
    y = pd.DataFrame({name: 3 * drivers[name]["d"] for name in drivers})
    forecaster = Forecaster(2, candidates=[Ridge(alpha=0.01)], calendar=False).fit(
        y.iloc[:250], future_covariates={k: v.iloc[:250] for k, v in drivers.items()})
    [forecast] = forecaster.predict_many([y[["a"]].iloc[:260]], future_covariates=[drivers])
    np.testing.assert_allclose(forecast["prediction"], 3 * drivers["a"]["d"].iloc[260:262],
                               atol=0.1)


def test_a_history_of_some_series_may_bring_past_covariates_of_all():
    rng = np.random.default_rng(2)
    dates = pd.date_range("2022-01-01", periods=300, freq="D")
    drivers = {name: pd.DataFrame({"d": rng.normal(size=300)}, index=dates)
               for name in ("a", "b")}
    y = pd.DataFrame({name: 3 * drivers[name]["d"].shift(1).fillna(0.0) for name in drivers})
    forecaster = Forecaster(1, candidates=[Ridge(alpha=0.01)], calendar=False).fit(
        y.iloc[:250], past_covariates={k: v.iloc[:250] for k, v in drivers.items()})
    forecast = forecaster.predict(y[["a"]].iloc[:260], past_covariates=drivers)
    assert forecast["prediction"].iloc[0] == pytest.approx(3 * drivers["a"]["d"].iloc[259],
                                                           abs=0.1)
