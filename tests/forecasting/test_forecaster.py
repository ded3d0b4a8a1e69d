"""Forecaster: its scikit-learn API, persistence, covariates without leaks, and the
errors bad input gets."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge

from conftest import seasonal_series
from seqpipe import Pipeline, load, save
from seqpipe.forecasting import CalendarFeatures, Forecaster, LastValue, SeasonalNaive

RIDGES = [Ridge(alpha=1.0), Ridge(alpha=100.0)]


def driven_by_future_covariate(n=600, seed=0):
    """A target that is 3x a covariate known ahead (plus a little noise), nothing else."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-01", periods=n, freq="h")
    driver = pd.DataFrame({"driver": rng.normal(size=n)}, index=dates)
    y = pd.Series(3 * driver["driver"].to_numpy() + 0.1 * rng.normal(size=n), index=dates)
    return y, driver


def test_fit_sets_the_documented_attributes(series):
    forecaster = Forecaster(4, candidates=RIDGES + [LastValue()]).fit(series)
    assert forecaster.season_ == 12
    assert forecaster.window_past_ == 30
    assert set(forecaster.candidate_scores_) == {"ridge", "ridge-2", "lastvalue"}
    assert forecaster.best_candidate_ == min(forecaster.candidate_scores_,
                                             key=forecaster.candidate_scores_.get)
    assert forecaster.candidate_scores_["ridge"] < forecaster.candidate_scores_["lastvalue"]
    assert isinstance(forecaster.pipeline_, Pipeline)
    assert forecaster.n_validation_ == 60 and forecaster.n_train_ == 340
    forecast = forecaster.predict()
    assert forecast.shape == (4, 1) and forecast.index[0] == series.index[-1] + pd.Timedelta(
        "1D")


def test_get_set_params_and_clone(series):
    forecaster = Forecaster(3, window_past=20, candidates=RIDGES, random_state=1)
    assert forecaster.get_params()["window_past"] == 20
    forecaster.set_params(horizon=2)
    copy = clone(forecaster)
    assert copy.get_params()["horizon"] == 2 and copy is not forecaster
    fitted = forecaster.fit(series)
    assert not hasattr(clone(fitted), "pipeline_")


def test_save_and_load_predict_bitwise(series, tmp_path):
    forecaster = Forecaster(3, candidates="auto", random_state=0).fit(series)
    assert "gru" in forecaster.candidate_scores_
    save(forecaster, tmp_path / "f.seqpipe")
    reloaded = load(tmp_path / "f.seqpipe")
    pd.testing.assert_frame_equal(reloaded.predict(), forecaster.predict())
    history = series.iloc[:300]
    pd.testing.assert_frame_equal(reloaded.predict(history), forecaster.predict(history))


def test_the_chosen_gru_predicts_bitwise_after_reload(series, tmp_path):
    from seqpipe.forecasting.candidates import gru_candidate

    forecaster = Forecaster(2, candidates={"gru": gru_candidate(2, 0, epochs=2,
                                                                random_state=0)},
                            calendar=False).fit(series)
    assert forecaster.best_candidate_ == "gru"
    save(forecaster, tmp_path / "gru.seqpipe")
    pd.testing.assert_frame_equal(load(tmp_path / "gru.seqpipe").predict(),
                                  forecaster.predict())


def test_predict_after_a_new_history_equals_the_batched_forecast_of_its_origin(series):
    forecaster = Forecaster(3, candidates=RIDGES).fit(series.iloc[:300])
    single = forecaster.predict(series.iloc[:350])
    batched = forecaster.predict_origins(series, [349])
    assert single["prediction"].tolist() == batched[0].tolist()
    assert single.index[0] == series.index[350]


def test_changing_the_data_after_the_origin_leaves_the_forecast_bitwise_unchanged():
    y, driver = driven_by_future_covariate()
    past = pd.DataFrame({"lagged": np.roll(y.to_numpy(), 1)}, index=y.index)
    forecaster = Forecaster(6, candidates=RIDGES).fit(
        y.iloc[:400], past_covariates=past, future_covariates=driver)
    origins = np.arange(420, 560, 7)
    before = forecaster.predict_origins(y, origins, past_covariates=past,
                                        future_covariates=driver)
    for origin_index, origin in enumerate(origins):
        y2, past2, driver2 = y.copy(), past.copy(), driver.copy()
        y2.iloc[origin + 1:] += 1000.0
        past2.iloc[origin + 1:] = -1000.0
        driver2.iloc[origin + 7:] = 1000.0  # beyond the horizon of 6
        alone = forecaster.predict_origins(y, [origin], past_covariates=past,
                                           future_covariates=driver)
        after = forecaster.predict_origins(y2, [origin], past_covariates=past2,
                                           future_covariates=driver2)
        assert after.tolist() == alone.tolist()
        # batched with other origins: the same up to the rounding of another batch size
        np.testing.assert_allclose(alone[0], before[origin_index], rtol=1e-12)
    # the guard can fail: a change within the horizon of a future covariate moves it
    driver3 = driver.copy()
    driver3.iloc[origins[0] + 1] = 1000.0
    moved = forecaster.predict_origins(y, origins[:1], past_covariates=past,
                                       future_covariates=driver3)
    assert not np.allclose(moved[0], before[0])


def test_past_covariates_are_read_up_to_the_origin_at_predict():
    y, driver = driven_by_future_covariate()
    lagged = pd.DataFrame({"lagged": driver["driver"].shift(1, fill_value=0.0)},
                          index=y.index)  # yesterday's driver, a past covariate
    forecaster = Forecaster(1, candidates=RIDGES, calendar=False).fit(
        y.iloc[:500], past_covariates=lagged.iloc[:500])
    after_fit = forecaster.predict()  # the history seen in fit holds its covariates
    assert after_fit.index[0] == y.index[500]
    later = forecaster.predict(y.iloc[:520], past_covariates=lagged)
    assert later.index[0] == y.index[520]
    # past covariates may stop at the origin: only values up to it are read
    pd.testing.assert_frame_equal(
        forecaster.predict(y.iloc[:520], past_covariates=lagged.iloc[:520]), later)
    with pytest.raises(ValueError, match="past_covariates is required"):
        forecaster.predict(y.iloc[:520])
    with pytest.raises(ValueError, match="only read with a new history y"):
        forecaster.predict(past_covariates=lagged)


def test_a_target_driven_by_a_future_covariate_is_learned():
    y, driver = driven_by_future_covariate()
    with_driver = Forecaster(4, candidates=RIDGES, calendar=False).fit(
        y, future_covariates=driver)
    without = Forecaster(4, candidates=RIDGES, calendar=False).fit(y)
    best_with = with_driver.candidate_scores_[with_driver.best_candidate_]
    best_without = without.candidate_scores_[without.best_candidate_]
    assert best_with < 0.05 * best_without  # noise 0.01 against the driver's 9


def test_future_covariates_at_predict_cover_the_horizon():
    y, driver = driven_by_future_covariate()
    forecaster = Forecaster(4, candidates=RIDGES, calendar=False).fit(
        y.iloc[:500], future_covariates=driver.iloc[:500])
    forecast = forecaster.predict(future_covariates=driver.iloc[500:504])
    np.testing.assert_allclose(forecast["prediction"], 3 * driver["driver"].iloc[500:504],
                               atol=0.5)
    with pytest.raises(ValueError, match=re.escape(
            "future_covariates has no row for 2021-01-21 23:00:00: it must cover every "
            "date the forecast reads (the series' frequency is h")):
        forecaster.predict(future_covariates=driver.iloc[500:503])
    with pytest.raises(ValueError, match=r"future_covariates is required: the forecaster "
                                         r"was fitted with future_covariates \['driver'\]"):
        forecaster.predict()
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['driver'\]"):
        forecaster.predict(future_covariates=driver.rename(columns={"driver": "other"}))


def test_misaligned_covariates_at_fit_name_the_argument_and_the_first_missing_date(series):
    covariates = pd.DataFrame({"x": 1.0}, index=series.index.drop(series.index[[50, 60]]))
    with pytest.raises(ValueError, match=re.escape(
            "past_covariates has no row for 2020-02-20 (and 1 more): it must cover every "
            "date the forecast reads (the series' frequency is D")):
        Forecaster(2, candidates=RIDGES).fit(series, past_covariates=covariates)
    covariates = pd.DataFrame({"x": 1.0}, index=series.index)
    covariates.iloc[10, 0] = np.nan
    with pytest.raises(ValueError, match=re.escape(
            "future_covariates column 'x' has a missing or infinite value at 2020-01-11")):
        Forecaster(2, candidates=RIDGES).fit(series, future_covariates=covariates)
    with pytest.raises(ValueError, match="future_covariates must be indexed by dates"):
        Forecaster(2, candidates=RIDGES).fit(series, future_covariates=covariates.reset_index(
            drop=True))


def test_covariates_may_span_more_dates_than_needed(series):
    wide = pd.DataFrame({"x": np.arange(500.0)},
                        index=pd.date_range("2019-12-01", periods=500, freq="D"))
    forecaster = Forecaster(2, candidates=RIDGES).fit(series, future_covariates=wide)
    assert len(forecaster.predict(future_covariates=wide)) == 2


def test_bad_input_is_refused_before_any_work(series):
    with pytest.raises(ValueError, match=re.escape(
            "The 'horizon' parameter of Forecaster must be an int in the range [1, inf). "
            "Got 0 instead.")):
        Forecaster(0).fit(series)
    with pytest.raises(ValueError, match="'validation_size' parameter of Forecaster"):
        Forecaster(validation_size=1.5).fit(series)
    with pytest.raises(ValueError, match="'season' parameter of Forecaster"):
        Forecaster(season=1).fit(series)
    gappy = series.copy()
    gappy.iloc[7] = np.nan
    with pytest.raises(ValueError, match=r"y has 1 missing or non-numeric value\(s\), the "
                                         r"first at 2020-01-08"):
        Forecaster().fit(gappy)
    with pytest.raises(ValueError, match="y must be one series"):
        Forecaster().fit(np.zeros((50, 2)))
    with pytest.raises(ValueError, match="the series is too short"):
        Forecaster(1).fit(series.iloc[:15])
    with pytest.raises(TypeError, match="must be estimators with fit and predict"):
        Forecaster(candidates=["ridge"]).fit(series)


def test_a_candidate_that_cannot_fit_is_left_out_and_says_why(series):
    forecaster = Forecaster(2, window_past=10, candidates=[Ridge(), SeasonalNaive(30)])
    forecaster.fit(series)
    assert forecaster.best_candidate_ == "ridge"
    assert np.isnan(forecaster.candidate_scores_["seasonalnaive"])
    assert "at least 30 past rows" in forecaster.candidate_errors_["seasonalnaive"]


def test_candidates_are_chosen_on_windows_before_the_held_out_part(series):
    seen = []

    class Recording(LastValue):
        def fit(self, X, y):
            seen.append(("fit", X.copy(), y.copy()))
            return super().fit(X, y)

    forecaster = Forecaster(3, candidates=[Pipeline([Recording()])], calendar=False,
                            window_past=5).fit(series)
    _, X_select, y_select = seen[0]
    first_held_out = series.iloc[forecaster.n_train_]
    # every selection target lies before the held-out part
    values = series.to_numpy()
    assert y_select[-1].tolist() == values[forecaster.n_train_ - 3:forecaster.n_train_].tolist()
    assert not np.isin(first_held_out, y_select)
    # the refit sees the whole series
    assert seen[-1][2][-1].tolist() == values[-3:].tolist()


def test_a_random_walk_is_forecast_as_well_as_the_last_value_not_better():
    rng = np.random.default_rng(3)
    y = pd.Series(rng.normal(size=1500).cumsum() + 100,
                  index=pd.date_range("2015-01-01", periods=1500, freq="D"))
    forecaster = Forecaster(1, candidates=RIDGES + [LastValue()]).fit(y.iloc[:1200])
    predictions = forecaster.predict_origins(y, np.arange(1200, 1499))[:, 0]
    actual = y.to_numpy()[1201:1500]
    ratio = np.mean((predictions - actual) ** 2) / np.mean((y.to_numpy()[1200:1499]
                                                             - actual) ** 2)
    assert 0.9 <= ratio <= 1.1


def test_seasonal_series_beats_the_seasonal_naive_forecast():
    y = seasonal_series(n=600, period=24, freq="h", noise=0.2)
    forecaster = Forecaster(6, candidates=RIDGES + [SeasonalNaive(24)]).fit(y)
    scores = forecaster.candidate_scores_
    assert scores["ridge"] < 0.7 * scores["seasonalnaive"]


def test_predict_many_gives_each_history_its_own_future_covariates():
    y, driver = driven_by_future_covariate()
    forecaster = Forecaster(2, candidates=RIDGES, calendar=False).fit(
        y.iloc[:500], future_covariates=driver.iloc[:500])
    ends, futures = (450, 480), [driver.iloc[:452], driver.iloc[:482]]
    together = forecaster.predict_many([y.iloc[:end] for end in ends],
                                       future_covariates=futures)
    for end, future, batched in zip(ends, futures, together):
        alone = forecaster.predict(y.iloc[:end], future_covariates=future)
        pd.testing.assert_frame_equal(batched, alone, check_exact=False, rtol=1e-12,
                                      check_freq=False)


def test_future_covariates_at_predict_are_checked_and_named():
    y, driver = driven_by_future_covariate()
    forecaster = Forecaster(2, candidates=RIDGES, calendar=False).fit(
        y.iloc[:500], future_covariates=driver.iloc[:500])
    with pytest.raises(ValueError, match="^" + re.escape(
            "future_covariates must hold numbers; column(s) ['kind'] do not")):
        forecaster.predict(future_covariates=driver.iloc[500:502].assign(kind="x"))
    without = Forecaster(2, candidates=RIDGES, calendar=False).fit(y.iloc[:500])
    with pytest.raises(ValueError, match="^" + re.escape(
            "future_covariates given, but the forecaster was fitted without them.") + "$"):
        without.predict(future_covariates=driver.iloc[500:502])


def test_a_candidate_that_cannot_fit_does_not_stop_the_others_being_scored(series):
    forecaster = Forecaster(2, window_past=10, candidates=[SeasonalNaive(30), Ridge()])
    forecaster.fit(series)
    assert np.isnan(forecaster.candidate_scores_["seasonalnaive"])
    assert np.isfinite(forecaster.candidate_scores_["ridge"])


def test_flat_forecasts_of_one_step_are_scored_as_columns(series):
    class FlatLastValue(LastValue):
        def predict(self, X):
            return super().predict(X)[:, 0]

    forecaster = Forecaster(1, window_past=10, calendar=False, candidates={
        "last": Pipeline([LastValue()]), "flat": Pipeline([FlatLastValue()])}).fit(series)
    assert forecaster.candidate_scores_["flat"] == forecaster.candidate_scores_["last"]


# ---------------------------------------------------------------- predict's edges
def test_a_forecaster_whose_fit_failed_is_not_fitted(series):
    forecaster = Forecaster(3, window_past=14, candidates=RIDGES)
    with pytest.raises(ValueError, match="too short"):
        forecaster.fit(series.iloc[:25])  # some attributes are set before it is refused
    for call in (forecaster.predict, lambda: forecaster.predict_many([series]),
                 lambda: forecaster.predict_origins(series, [100]),
                 lambda: forecaster.widths((80,))):
        with pytest.raises(NotFittedError):
            call()


def test_predict_origins_takes_positions_from_a_full_window_to_the_last_horizon(series):
    forecaster = Forecaster(3, window_past=14, candidates=RIDGES, calendar=False).fit(series)
    edges = forecaster.predict_origins(series, [13, 396])  # 400 steps
    assert edges.shape == (2, 3) and np.isfinite(edges).all()
    message = ("origins must be positions in y (of 400 time steps) from 13 (window_past_ - 1) "
               "to 396 (the last with a horizon of rows after it).")
    for origins in ([12], [397], [13, 397], [13.0], [[13]]):
        with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
            forecaster.predict_origins(series, origins)


def test_the_forecast_index_is_named_after_the_series_index(series):
    forecaster = Forecaster(2, window_past=14, candidates=RIDGES, calendar=False)
    assert forecaster.fit(series.rename_axis(None)).predict().index.name == "date"
    assert forecaster.fit(series.rename_axis("day")).predict().index.name == "day"
    assert forecaster.fit(series.reset_index(drop=True)).predict().index.name == "step"


def test_levels_at_predict_are_checked_and_named(series):
    forecaster = Forecaster(2, window_past=14, candidates=RIDGES, levels=(80,)).fit(series)
    with pytest.raises(ValueError, match="^" + re.escape(
            "The 'levels' parameter of predict must be a sequence of distinct coverages")):
        forecaster.widths((150,))


def test_covariates_given_to_predict_are_named_in_their_errors():
    y, driver = driven_by_future_covariate()
    forecaster = Forecaster(2, candidates=RIDGES, calendar=False).fit(
        y.iloc[:500], future_covariates=driver.iloc[:500])
    with pytest.raises(ValueError, match="^" + re.escape(
            "future_covariates is a dict (covariates per series), but y is one series")):
        forecaster.predict(future_covariates={"y": driver.iloc[500:502]})
    for name in ("past_covariates", "future_covariates"):
        with pytest.raises(ValueError, match="^" + re.escape(
                f"{name} must hold numbers; column(s) ['kind'] do not")):
            forecaster.predict_origins(y, [300], **{name: driver.assign(kind="x")})


def test_predict_many_reads_each_history_with_its_past_covariates():
    y, driver = driven_by_future_covariate()
    past = driver.rename(columns={"driver": "lagged"}).shift(1).fillna(0.0)
    forecaster = Forecaster(2, candidates=RIDGES, calendar=False).fit(
        y.iloc[:500], past_covariates=past.iloc[:500], future_covariates=driver.iloc[:500])
    ends = (450, 480)
    together = forecaster.predict_many(
        [y.iloc[:end] for end in ends], past_covariates=[past.iloc[:end] for end in ends],
        future_covariates=[driver.iloc[:end + 2] for end in ends])
    for end, batched in zip(ends, together):
        alone = forecaster.predict(y.iloc[:end], past_covariates=past.iloc[:end],
                                   future_covariates=driver.iloc[:end + 2])
        pd.testing.assert_frame_equal(batched, alone, check_exact=False, rtol=1e-12,
                                      check_freq=False)
    with pytest.raises(ValueError, match="^" + re.escape(
            "past_covariates must give one entry per history (2); got 1.")):
        forecaster.predict_many([y.iloc[:450], y.iloc[:480]], past_covariates=[past])


def test_a_new_history_is_checked_before_it_is_read(series):
    forecaster = Forecaster(2, window_past=14, candidates=RIDGES, calendar=False).fit(series)
    assert len(forecaster.predict(series.iloc[:14])) == 2  # exactly the past it reads
    with pytest.raises(ValueError, match="^" + re.escape(
            "y has 5 time step(s); the forecaster reads the last 14.") + "$"):
        forecaster.predict(series.iloc[:5])
    with pytest.raises(ValueError, match="^" + re.escape(
            "y must be indexed as the series seen in fit was (dates or integer time "
            "steps).") + "$"):
        forecaster.predict(series.reset_index(drop=True))
    with pytest.raises(ValueError, match="^" + re.escape(
            "y must be given as in fit: one series.") + "$"):
        forecaster.predict(pd.DataFrame({"a": series, "b": series}))


def test_past_covariates_at_predict_come_with_a_history_and_are_named():
    y, driver = driven_by_future_covariate()
    forecaster = Forecaster(2, candidates=RIDGES, calendar=False).fit(
        y.iloc[:500], past_covariates=driver.iloc[:500])
    with pytest.raises(ValueError, match="^" + re.escape(
            "past_covariates are only read with a new history y: the history seen in fit "
            "holds its own.") + "$"):
        forecaster.predict(past_covariates=driver)
    for name in ("past_covariates", "future_covariates"):
        with pytest.raises(ValueError, match="^" + re.escape(
                f"{name} must hold numbers; column(s) ['kind'] do not")):
            forecaster.predict(y.iloc[:450], **{"past_covariates": driver.iloc[:450],
                                                 name: driver.assign(kind="x")})


# ---------------------------------------------------------------- what fit decides
def test_candidates_are_scored_on_every_forecast_of_the_held_out_part_only(series):
    forecaster = Forecaster(2, window_past=5, candidates=[Pipeline([LastValue()])],
                            calendar=False).fit(series)
    n_train, values = forecaster.n_train_, series.to_numpy()
    # origins n_train - 1 (its targets the first two held-out steps) to the last but two
    assert forecaster.residuals_.shape == (forecaster.n_validation_ - 1, 2)
    np.testing.assert_allclose(forecaster.residuals_[0],
                               values[n_train - 1] - values[n_train:n_train + 2])


def test_the_windows_of_a_one_step_past_start_at_the_first_step(series):
    seen = []

    class Recording(LastValue):
        def fit(self, X, y):
            seen.append(len(y))
            return super().fit(X, y)

    forecaster = Forecaster(1, window_past=1, candidates=[Pipeline([Recording()])],
                            calendar=False).fit(series)
    assert seen[0] == forecaster.n_train_ - 1  # origins 0 .. n_train - 2
    seen.clear()
    Forecaster(1, window_past=3, candidates=[Pipeline([Recording()])],
               calendar=False).fit(series)
    assert seen[0] == forecaster.n_train_ - 3  # origins 2 .. n_train - 2


def test_when_no_candidate_can_be_fitted_each_reason_is_given(series):
    with pytest.raises(ValueError, match=r"^Forecaster: no candidate could be fitted: "
                                         r"seasonalnaive: .+; seasonalnaive-2: .+$"):
        Forecaster(2, window_past=10, candidates=[SeasonalNaive(30),
                                                  SeasonalNaive(40)]).fit(series)
    with pytest.raises(ValueError, match="^" + re.escape(
            "The 'candidates' parameter of Forecaster must be 'auto' or a list (or dict) of "
            "estimators. Got 'best' instead.") + "$"):
        Forecaster(2, candidates="best").fit(series)
    for candidates in (5, None):  # neither a list nor a dict: named, not a TypeError
        with pytest.raises(ValueError, match="^" + re.escape(
                f"The 'candidates' parameter of Forecaster must be 'auto' or a list (or dict) "
                f"of estimators. Got {candidates!r} instead.") + "$"):
            Forecaster(2, candidates=candidates).fit(series)


def test_a_callable_is_given_the_random_state_and_the_covariates_count():
    y, driver = driven_by_future_covariate()
    found = {}

    def candidates(**facts):
        found.update(facts)
        return {"ridge": Pipeline([LastValue()])}

    Forecaster(2, candidates=candidates, calendar=False, random_state=7).fit(
        y, future_covariates=driver)
    assert found["random_state"] == 7 and found["n_future_covariates"] == 1


def test_calendar_features_are_added_for_dates_unless_turned_off(series):
    assert Forecaster(2, candidates=RIDGES).fit(series).calendar_ is not None
    assert Forecaster(2, candidates=RIDGES, calendar=False).fit(series).calendar_ is None
    steps = series.reset_index(drop=True)
    assert Forecaster(2, candidates=RIDGES).fit(steps).calendar_ is None
    with pytest.raises(ValueError, match="calendar features need dates"):
        Forecaster(2, candidates=RIDGES, calendar="dayofweek").fit(steps)


def test_the_parameters_default_to_the_documented_values():
    assert Forecaster().get_params() == {
        "horizon": 1, "window_past": "auto", "season": "auto", "candidates": "auto",
        "calendar": "auto", "levels": (), "validation_size": 0.15, "random_state": None}
    params = Forecaster(3, calendar=False, random_state=4).get_params()
    assert params["calendar"] is False and params["random_state"] == 4


def test_the_calendar_is_given_as_true_names_or_features_and_kept_only_when_it_varies(
        series):
    def names(calendar, y=series):
        fitted = Forecaster(2, window_past=14, candidates=RIDGES, calendar=calendar).fit(y)
        return None if fitted.calendar_ is None else fitted.calendar_.feature_names_out_

    assert names(True) == names("auto") == ["dayofweek_sin", "dayofweek_cos",
                                            "dayofyear_sin", "dayofyear_cos"]
    assert names(["dayofweek"]) == names("dayofweek") == ["dayofweek_sin", "dayofweek_cos"]
    assert names(CalendarFeatures(["month"])) == ["month_sin", "month_cos"]
    yearly = pd.Series(series.to_numpy()[:60],
                       index=pd.date_range("1950-01-01", periods=60, freq="YS"))
    assert names("auto", yearly) is None  # no cycle varies from year to year
    with pytest.raises(ValueError, match="^" + re.escape(
            "Forecaster: calendar features need dates; y is indexed by integer time steps "
            "(give calendar=None).") + "$"):
        names(True, series.reset_index(drop=True))


def test_the_held_out_part_must_hold_a_horizon(series):
    short = series.iloc[:40]  # 15 % of 40: 6 time steps held out
    assert Forecaster(6, window_past=5, candidates=RIDGES).fit(short).n_validation_ == 6
    with pytest.raises(ValueError, match="^" + re.escape(
            "Forecaster: validation_size=0.15 holds out 6 time step(s) of 40, fewer than the "
            "horizon (7): give a longer series or a larger validation_size.") + "$"):
        Forecaster(7, window_past=5, candidates=RIDGES).fit(short)


def test_the_auto_window_reads_two_of_a_long_season(series):
    forecaster = Forecaster(2, season=24, candidates=RIDGES).fit(series)
    assert forecaster.window_past_ == 48


def test_each_parameter_is_checked_with_its_range_in_the_message(series):
    for params, problem in (
            ({"window_past": "long"}, "'window_past' parameter of Forecaster must be 'auto' "
                                      "or an int in the range [1, inf). Got 'long'"),
            ({"window_past": 0}, "'window_past' parameter of Forecaster must be 'auto' or "
                                 "an int in the range [1, inf). Got 0"),
            ({"season": 1}, "'season' parameter of Forecaster must be 'auto', None or an int "
                            "in the range [2, inf). Got 1"),
            ({"season": "weekly"}, "'season' parameter of Forecaster must be 'auto', None or "
                                   "an int in the range [2, inf). Got 'weekly'"),
            ({"validation_size": 1.0}, "'validation_size' parameter of Forecaster must be a "
                                       "float in the range (0, 1). Got 1.0"),
            ({"validation_size": True}, "'validation_size' parameter of Forecaster must be a "
                                        "float in the range (0, 1). Got True"),
            ({"validation_size": 0.0}, "'validation_size' parameter of Forecaster must be a "
                                       "float in the range (0, 1). Got 0.0"),
            ({"validation_size": "0.2"}, "'validation_size' parameter of Forecaster must be "
                                         "a float in the range (0, 1). Got '0.2'"),
            ({"window_past": 2.5}, "'window_past' parameter of Forecaster must be 'auto' or "
                                   "an int in the range [1, inf). Got 2.5"),
            ({"horizon": True}, "'horizon' parameter of Forecaster must be an int in the "
                                "range [1, inf). Got True")):
        with pytest.raises(ValueError, match="^" + re.escape(f"The {problem} instead.") + "$"):
            Forecaster(**{"horizon": 2, "candidates": RIDGES, **params}).fit(series)
    assert Forecaster(2, season=2, window_past=14, candidates=RIDGES).fit(series).season_ == 2


def test_the_series_scales_are_named_scale(panel_of_two):
    forecaster = Forecaster(2, window_past=14, candidates=RIDGES).fit(panel_of_two)
    assert forecaster.series_scales_.name == "scale"
    assert forecaster.series_scales_.index.tolist() == ["a", "b"]


@pytest.fixture
def panel_of_two(series):
    return pd.DataFrame({"a": series, "b": 10 * series})


def test_the_calendar_features_are_channels_of_the_windows(series):
    shapes = []

    class Recording(LastValue):
        def fit(self, X, y):
            shapes.append(np.asarray(X).shape)
            return super().fit(X, y)

    Forecaster(2, window_past=14, candidates=[Pipeline([Recording()])]).fit(series)
    assert shapes[0][1:] == (16, 5)  # the target, and two cycles' sine and cosine
