"""backtest and summary: shapes, origins, refit policies, training windows, and that
each origin sees only the data up to itself."""

import re
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge

from conftest import seasonal_series
from seqpipe.datasets import make_panel
from seqpipe.forecasting import Forecaster, backtest, backtest_fitted, summary

FITS = []


class CountingRidge(Ridge):
    """Ridge that records the length of every training set it is fitted on."""

    def fit(self, X, y, sample_weight=None):
        FITS.append(len(X))
        return super().fit(X, y, sample_weight)


@pytest.fixture
def y():
    return seasonal_series(n=300, period=7)


def forecaster(horizon=3):
    return Forecaster(horizon, candidates=[CountingRidge()], window_past=14, calendar=False)


def test_one_row_per_origin_and_step(y):
    frame = backtest(forecaster(3), y, start=200)
    origins = np.arange(200, 297, 3)
    assert frame["origin"].unique().tolist() == y.index[origins].tolist()
    assert len(frame) == 3 * len(origins)
    assert frame["step"].tolist()[:6] == [1, 2, 3, 1, 2, 3]
    first = frame.iloc[:3]
    assert first["date"].tolist() == y.index[201:204].tolist()
    assert first["actual"].tolist() == y.iloc[201:204].tolist()
    assert first["last_value"].tolist() == [y.iloc[200]] * 3
    assert first["seasonal_naive"].tolist() == y.iloc[194:197].tolist()  # season 7
    assert frame.attrs["season"] == 7


def test_start_as_fraction_date_or_position_and_step(y):
    by_date = backtest(forecaster(), y, start=y.index[249], step=5)
    by_position = backtest(forecaster(), y, start=249, step=5)
    by_fraction = backtest(forecaster(), y, start=250 / 300, step=5)
    assert by_date["origin"].iloc[0] == y.index[249]
    pd.testing.assert_frame_equal(by_date, by_position)
    pd.testing.assert_frame_equal(by_date, by_fraction)
    assert by_date["origin"].nunique() == len(range(249, 297, 5))


@pytest.mark.parametrize(("refit", "n_fits"), [(False, 1), (True, 16), (4, 4)])
def test_refit_policies(y, refit, n_fits):
    FITS.clear()
    frame = backtest(forecaster(), y, start=250, refit=refit)  # origins 250, ..., 295: 16
    # each Forecaster fit = one selection fit and one refit of the single candidate
    assert len(FITS) == 2 * n_fits
    assert frame.index.equals(pd.RangeIndex(48))  # the parts of every fit numbered on


def test_expanding_and_rolling_training_windows(y):
    FITS.clear()
    backtest(forecaster(), y, start=200, refit=True, window="expanding")
    expanding = FITS[1::2]  # the refits on everything given
    FITS.clear()
    backtest(forecaster(), y, start=200, refit=True, window="rolling")
    rolling = FITS[1::2]
    assert expanding[-1] > expanding[0]
    assert set(rolling) == {rolling[0]}


def test_each_origin_sees_only_the_data_up_to_itself(y):
    for refit in (False, 2):
        frame = backtest(forecaster(), y, start=240, refit=refit)
        for origin in (246, 261):
            changed = y.copy()
            changed.iloc[origin + 1:] = 1e6
            perturbed = backtest(forecaster(), changed, start=240, refit=refit)
            rows = frame["origin"] <= y.index[origin]
            assert perturbed.loc[rows, "prediction"].tolist() == frame.loc[
                rows, "prediction"].tolist()
            later = frame["origin"] > y.index[origin]
            assert not np.allclose(perturbed.loc[later, "prediction"],
                                   frame.loc[later, "prediction"])


def test_summary_per_step_and_overall(y):
    frame = backtest(forecaster(), y, start=200)
    table = summary(frame)
    assert table.index.tolist() == [1, 2, 3, "overall"]
    assert {"mse", "mae", "mase", "last_value_mse", "seasonal_naive_mase", "n"} <= set(
        table.columns)
    errors = frame["prediction"] - frame["actual"]
    assert table.loc["overall", "mse"] == pytest.approx(np.mean(errors ** 2))
    step2 = frame[frame["step"] == 2]
    assert table.loc[2, "mae"] == pytest.approx(np.mean(np.abs(step2["prediction"]
                                                               - step2["actual"])))
    values = y.to_numpy()
    scale = np.mean(np.abs(values[7:201] - values[:194]))  # one-season naive, first fit
    assert table.loc["overall", "mase"] == pytest.approx(table.loc["overall", "mae"] / scale)
    assert table.loc["overall", "mse"] < table.loc["overall", "last_value_mse"]


def test_covariates_pass_through_to_every_origin():
    rng = np.random.default_rng(0)
    dates = pd.date_range("2022-01-01", periods=300, freq="D")
    driver = pd.DataFrame({"d": rng.normal(size=300)}, index=dates)
    y = pd.Series(2 * driver["d"].to_numpy(), index=dates)
    frame = backtest(Forecaster(2, candidates=[Ridge(alpha=0.01)], calendar=False), y,
                     future_covariates=driver, start=250)
    assert summary(frame).loc["overall", "mse"] < 1e-3


def test_bad_arguments_are_named(y):
    with pytest.raises(ValueError, match=re.escape(
            "The 'window' parameter of backtest must be 'expanding' or 'rolling'. Got "
            "'sliding' instead.")):
        backtest(forecaster(), y, window="sliding")
    with pytest.raises(ValueError, match="'start' parameter of backtest, as a fraction"):
        backtest(forecaster(), y, start=1.5)
    with pytest.raises(ValueError, match="'refit' parameter of backtest"):
        backtest(forecaster(), y, refit=0)
    with pytest.raises(ValueError, match="no origin"):
        backtest(forecaster(), y, start=298)
    with pytest.raises(TypeError, match=re.escape(
            "backtest needs a seqpipe.forecasting.Forecaster; got Ridge.")):
        backtest(Ridge(), y)
    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match=re.escape(
            "backtest with backend='dask' runs on the current Dask client: create one first "
            "(distributed.Client(address)).")):
        backtest(forecaster(), y, start=280, refit=True, backend="dask")


def test_refits_run_in_parallel_processes_and_on_a_dask_cluster(y):
    """The same forecasts whether the refits run here, in loky processes or on the
    workers of a real Dask LocalCluster."""
    distributed = pytest.importorskip("distributed")
    model = Forecaster(3, candidates=[Ridge()], window_past=14, calendar=False)
    here = backtest(model, y, start=270, refit=3)
    in_processes = backtest(model, y, start=270, refit=3, n_jobs=2)
    pd.testing.assert_frame_equal(here, in_processes)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        on_dask = backtest(model, y, start=270, refit=3, n_jobs=2, backend="dask")
    pd.testing.assert_frame_equal(here, on_dask)


def test_step_must_be_a_positive_int(y):
    with pytest.raises(ValueError, match=re.escape(
            "The 'step' parameter of backtest must be an int in the range [1, inf). Got 0 "
            "instead.")):
        backtest(forecaster(), y, step=0)
    for bad in (2.5, True):
        with pytest.raises(ValueError, match=re.escape(
                f"The 'step' parameter of backtest must be an int in the range [1, inf). "
                f"Got {bad!r} instead.")):
            backtest(forecaster(), y, step=bad)


def test_a_rolling_window_refits_on_as_many_time_steps_as_the_first_fit(y):
    FITS.clear()
    backtest(forecaster(), y, start=200)  # one fit, on the 201 time steps up to 200
    first = list(FITS)
    FITS.clear()
    backtest(forecaster(), y, start=200, refit=True, window="rolling")
    assert FITS == first * (len(FITS) // 2) and len(FITS) == 2 * len(range(200, 297, 3))


def driven_by_past_and_future_covariates(n=300, seed=0):
    """A target that is 2x yesterday's past covariate plus 3x today's future one."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-01", periods=n, freq="D")
    past = pd.DataFrame({"p": rng.normal(size=n)}, index=dates)
    future = pd.DataFrame({"f": rng.normal(size=n)}, index=dates)
    y = pd.Series(3 * future["f"].to_numpy(), index=dates)
    y.iloc[1:] += 2 * past["p"].to_numpy()[:-1]
    return y, past, future


def test_past_and_future_covariates_reach_every_fit_and_forecast():
    y, past, future = driven_by_past_and_future_covariates()
    model = Forecaster(1, candidates=[Ridge(alpha=0.01)], window_past=5, calendar=False)
    frame = backtest(model, y, past_covariates=past, future_covariates=future, start=250,
                     refit=25)
    assert summary(frame).loc["overall", "mse"] < 1e-3
    fitted = clone(model).fit(y.iloc[:251], past_covariates=past.iloc[:251],
                              future_covariates=future.iloc[:251])
    pd.testing.assert_frame_equal(
        backtest_fitted(fitted, y, past_covariates=past, future_covariates=future),
        backtest(model, y, past_covariates=past, future_covariates=future, start=250))


def test_backtest_fitted_starts_and_steps_where_told(y):
    fitted = forecaster().fit(y.iloc[:251])
    frame = backtest_fitted(fitted, y, start=260, step=5)
    assert frame["origin"].unique().tolist() == y.index[np.arange(260, 297, 5)].tolist()
    pd.testing.assert_frame_equal(backtest_fitted(fitted, y, start=y.index[260], step=5),
                                  frame)
    with pytest.raises(ValueError, match="'step' parameter of backtest must be an int"):
        backtest_fitted(fitted, y, step=0)


def test_backtest_fitted_from_the_last_origin_and_past_it(y):
    fitted = forecaster().fit(y.iloc[:251])
    last = backtest_fitted(fitted, y, start=296)  # the last origin with 3 steps after it
    assert last["origin"].unique().tolist() == [y.index[296]] and len(last) == 3
    with pytest.raises(ValueError, match=re.escape(
            f"backtest_fitted: no origin from {y.index[297]} leaves 3 time step(s) to "
            f"compare with.")):
        backtest_fitted(fitted, y, start=297)


def test_backtest_fitted_refuses_a_forecaster_whose_fit_failed(y):
    model = forecaster()
    with pytest.raises(ValueError, match="too short"):
        model.fit(y.iloc[:25])  # some attributes are set before the series is refused
    with pytest.raises(NotFittedError):
        backtest_fitted(model, y)


def test_summary_names_its_index_and_keeps_the_series_in_their_order():
    panel = make_panel(2, 300, late_start=0, random_state=0).set_axis(["b", "a"], axis=1)
    frame = backtest(Forecaster(3, candidates=[Ridge()], calendar=False), panel, start=0.9)
    assert summary(frame).index.name == "step"
    per_series = summary(frame, per_series=True)
    assert per_series.index.name == "series"
    assert per_series.index.tolist() == ["b", "a"]


def scored_by_hand():
    """Two forecasts of two steps with 80 % intervals: the first two actual values lie
    on an edge of theirs (inside), the last outside."""
    return pd.DataFrame({"origin": [0, 0, 1, 1], "date": [1, 2, 2, 3], "step": [1, 2, 1, 2],
                         "actual": [1.0, 2.0, 3.0, 4.0], "prediction": [1.5, 2.0, 2.0, 4.0],
                         "lower_80": [1.0, 1.0, 2.5, 3.0], "upper_80": [2.0, 2.0, 3.5, 3.5]})


def test_summary_of_intervals_counts_an_actual_on_an_edge_as_inside():
    overall = summary(scored_by_hand()).loc["overall"]
    assert overall["coverage_80"] == 0.75
    assert overall["width_80"] == pytest.approx(0.875)
    assert overall["mse"] == pytest.approx(0.3125) and overall["mae"] == pytest.approx(0.375)
    assert overall["n"] == 4
    assert summary(scored_by_hand()).loc[1, "n"] == 2


def test_summary_divides_by_the_mase_scale_given_and_leaves_out_a_zero_one():
    frame = scored_by_hand()
    assert np.isnan(summary(frame).loc["overall", "mase"])  # no scale in its attrs
    assert summary(frame, mase_scale=0.5).loc["overall", "mase"] == pytest.approx(0.75)
    assert np.isnan(summary(frame, mase_scale=0).loc["overall", "mase"])
    frame.attrs["mase_scale"] = 2.0
    assert summary(frame, mase_scale=0.5).loc["overall", "mase"] == pytest.approx(0.75)
    many = frame.assign(series=["a", "a", "b", "b"])  # mean absolute errors 0.25 and 0.5
    # a series whose scale is 0 (a constant past) has no MASE; the others average
    assert summary(many, mase_scale={"a": 0.0, "b": 0.5}).loc["overall", "mase"] == 1.0
    assert summary(many, mase_scale={"a": 0.5, "b": 0.5}).loc["overall", "mase"] == 0.75


def test_summary_scores_only_the_baselines_the_frame_has():
    frame = scored_by_hand().assign(last_value=np.nan, seasonal_naive=[1.0, 1.0, 3.0, 3.0])
    table = summary(frame)
    assert "last_value_mse" not in table and "last_value_mase" not in table
    assert table.loc["overall", "seasonal_naive_mae"] == pytest.approx(0.5)
    assert "seasonal_naive_mse" not in summary(frame.drop(columns="seasonal_naive"))


def test_start_counts_from_the_end_when_negative_and_must_fall_inside(y):
    pd.testing.assert_frame_equal(backtest(forecaster(), y, start=-50),
                                  backtest(forecaster(), y, start=250))
    for bad, problem in ((True, " must be a fraction, a position or a date. Got True"),
                         (0.0, ", as a fraction, must be in (0, 1). Got 0.0"),
                         (1.0, ", as a fraction, must be in (0, 1). Got 1.0"),
                         (300, " must fall inside the series (300 time steps). Got 300"),
                         (-301, " must fall inside the series (300 time steps). Got -301")):
        with pytest.raises(ValueError, match=re.escape(
                f"The 'start' parameter of backtest{problem} instead.")):
            backtest(forecaster(), y, start=bad)
    # the first time step is inside the series, though too little to fit on
    for first in (0, -300):
        with pytest.raises(ValueError, match=re.escape(
                "Forecaster: validation_size=0.15 holds out 1 time step(s) of 1")):
            backtest(forecaster(), y, start=first)


def test_covariates_are_checked_over_the_whole_period_before_any_fit(y):
    late = y.index[280]
    twice = pd.DataFrame({"c": 0.0}, index=y.index.append(pd.DatetimeIndex([late])))
    for name in ("past_covariates", "future_covariates"):
        FITS.clear()
        with pytest.raises(ValueError, match="^" + re.escape(
                f"{name} has duplicated dates, the first {late}.")):
            backtest(forecaster(), y, start=200, **{name: twice})
        assert FITS == []


def test_covariates_per_series_in_a_backtest_of_many_series():
    dates = pd.date_range("2022-01-01", periods=300, freq="D")
    rng = np.random.default_rng(0)
    drivers = {name: pd.DataFrame({"d": rng.normal(size=300)}, index=dates)
               for name in ("a", "b")}
    y = pd.DataFrame({name: 3 * scale * drivers[name]["d"]
                      for name, scale in (("a", 1), ("b", 100))})
    model = Forecaster(3, candidates=[Ridge(alpha=0.01)], calendar=False)
    frame = backtest(model, y, past_covariates=drivers, future_covariates=drivers,
                     start=0.9)
    errors = (frame["prediction"] - frame["actual"]).abs().groupby(frame["series"]).mean()
    assert (errors / y.abs().mean() < 0.05).all()  # each series read its own driver
    with pytest.raises(ValueError, match="^" + re.escape(
            "past_covariates is a dict by series, so it needs one entry per series of y: "
            "missing ['b'].")):
        backtest(model, y, past_covariates={"a": drivers["a"]}, start=0.9)
    with pytest.raises(ValueError, match=re.escape("per series of y: unknown ['c'].")):
        backtest(model, y, past_covariates={**drivers, "c": drivers["a"]}, start=0.9)

def test_refits_run_in_the_threads_of_the_backend_asked_for(y):
    threads = []

    class ThreadRecordingRidge(Ridge):
        def fit(self, X, y, sample_weight=None):
            threads.append(threading.get_ident())
            return super().fit(X, y, sample_weight)

    model = Forecaster(3, candidates=[ThreadRecordingRidge()], window_past=14,
                       calendar=False)
    here = backtest(model, y, start=270, refit=3)
    assert set(threads) == {threading.get_ident()}
    threads.clear()
    in_threads = backtest(model, y, start=270, refit=3, n_jobs=2, backend="threading")
    assert threads and threading.get_ident() not in threads
    pd.testing.assert_frame_equal(here, in_threads)


def test_a_series_starting_after_the_first_origin_is_forecast_once_refitted_with_it():
    panel = make_panel(3, 300, late_start=0, random_state=0)
    panel.iloc[:270, 1] = np.nan  # series-1 starts after the first origin, 269
    model = Forecaster(3, candidates=[Ridge()], window_past=5, calendar=False)
    once = backtest(model, panel, start=269)
    assert set(once["series"]) == {"series-0", "series-2"}
    refitted = backtest(model, panel, start=269, refit=4)  # fits at 269, 281 and 293
    late = refitted[refitted["series"] == "series-1"]
    assert late["origin"].min() == panel.index[281]
    for frame in (once, refitted):
        np.testing.assert_array_equal(frame["actual"], [
            panel.at[date, name] for date, name in zip(frame["date"], frame["series"])])


def test_without_a_season_the_mase_scale_is_the_naive_one_step_error(y):
    frame = backtest(Forecaster(3, candidates=[Ridge()], window_past=14, season=None,
                                calendar=False), y, start=200)
    assert frame.attrs["season"] is None and frame["seasonal_naive"].isna().all()
    assert frame.attrs["mase_scale"] == pytest.approx(y.iloc[:201].diff().abs().mean())


def test_the_series_keep_their_names_numbers_and_text_alike():
    panel = make_panel(2, 300, late_start=0, random_state=0).set_axis([7, "seven"], axis=1)
    frame = backtest(Forecaster(3, candidates=[Ridge()], calendar=False), panel, start=0.9)
    assert set(frame["series"]) == {7, "seven"}
    mine = frame[frame["series"] == 7]
    assert mine["last_value"].iloc[0] == panel.loc[mine["origin"].iloc[0], 7]


def test_the_intervals_of_one_series_are_the_calibrated_widths(y):
    fitted = Forecaster(3, candidates=[Ridge()], window_past=14, calendar=False,
                        levels=(80,)).fit(y.iloc[:251])
    frame = backtest_fitted(fitted, y)
    widths = (frame["upper_80"] - frame["lower_80"]).to_numpy().reshape(-1, 3)
    np.testing.assert_allclose(widths, 2 * np.tile(fitted.interval_widths_[80.0],
                                                   (len(widths), 1)))


def test_covariates_as_arrays_for_a_series_of_integer_time_steps():
    rng = np.random.default_rng(0)
    driver = rng.normal(size=300)
    y = pd.Series(3 * driver)
    frame = backtest(Forecaster(1, candidates=[Ridge(alpha=0.01)], calendar=False), y,
                     future_covariates=driver, start=250)
    assert frame["origin"].iloc[0] == 250
    assert summary(frame).loc["overall", "mse"] < 1e-3


def test_a_numpy_array_is_backtested_by_its_time_steps(y):
    frame = backtest(forecaster(), y.to_numpy(), start=250)
    assert frame["origin"].iloc[0] == 250
    np.testing.assert_array_equal(frame["prediction"],
                                  backtest(forecaster(), y, start=250)["prediction"])


def test_in_sample_baselines_start_where_the_series_has_their_past(y):
    fitted = Forecaster(1, candidates=[Ridge()], window_past=1, season=7,
                        calendar=False).fit(y.iloc[:251])
    frame = backtest_fitted(fitted, y, start=0, step=1)  # in-sample from the first step
    assert frame["origin"].iloc[0] == y.index[0]
    assert frame["last_value"].iloc[0] == y.iloc[0]
    naive = frame["seasonal_naive"]
    assert naive.dtype == np.float64
    assert naive.iloc[:6].isna().all()  # a season of past from origin 6 on
    np.testing.assert_array_equal(naive.iloc[6:], y.iloc[:-7])


def test_a_series_with_at_most_a_season_before_the_first_origin_has_no_mase_scale():
    panel = make_panel(2, 300, late_start=0, random_state=0)
    panel.iloc[:256, 1] = np.nan  # 14 time steps up to the first origin, 269
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning of a mean of nothing
        frame = backtest(Forecaster(3, candidates=[Ridge()], season=14, window_past=5,
                                    calendar=False), panel, start=269)
    assert np.isnan(frame.attrs["mase_scale"]["series-1"])
    assert frame.attrs["mase_scale"]["series-0"] > 0


def test_a_served_forecaster_is_not_backtested(y):
    from seqpipe.serving.forecasts import ServedForecaster

    served = ServedForecaster("m", forecaster().fit(y.iloc[:250]))
    assert served.horizon == 3
    with pytest.raises(TypeError, match=re.escape(
            "backtest needs a seqpipe.forecasting.Forecaster; got ServedForecaster.")):
        backtest(served, y)


def test_a_series_too_short_for_a_window_at_a_refit_joins_a_later_one():
    panel = make_panel(6, 400, random_state=0)  # series start over the first 40 %
    start = int(panel.notna().to_numpy().argmax(axis=0).max()) + 3
    counts = panel.iloc[:start + 1].count()
    short = list(counts.index[counts < 5 + 7])  # some data, less than a window's
    assert short and counts.min() > 0
    forecaster = Forecaster(7, window_past=5, candidates=[Ridge()])
    frame = backtest(forecaster, panel, start=start, step=7, refit=2)
    first = frame.groupby("series")["origin"].min()
    assert (first.drop(short) == first.min()).all()
    assert (first[short] > first.min()).all()  # left out of the first fit only
    with pytest.raises(ValueError, match="too short"):  # all of them too short: said
        backtest(forecaster, panel[short], start=start, step=7)
