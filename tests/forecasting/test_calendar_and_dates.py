"""Calendar features of known dates, and forecast dates that follow the calendar."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from seqpipe.forecasting import CalendarFeatures, Forecaster


def test_cyclic_features_of_known_dates():
    dates = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 06:00", "2024-01-03 18:00"])
    features = CalendarFeatures(["hour", "dayofweek"]).fit(dates).transform(dates)
    assert features.columns.tolist() == ["hour_sin", "hour_cos", "dayofweek_sin",
                                         "dayofweek_cos"]
    np.testing.assert_allclose(features["hour_sin"], [0, 1, -1], atol=1e-12)  # 0h, 6h, 18h
    np.testing.assert_allclose(features["hour_cos"], [1, 0, 0], atol=1e-12)
    # 2024-01-01 is a Monday (0), 2024-01-03 a Wednesday (2)
    np.testing.assert_allclose(features["dayofweek_sin"],
                               np.sin(2 * np.pi * np.array([0, 0, 2]) / 7))


def test_month_and_day_of_year():
    dates = pd.DatetimeIndex(["2023-01-01", "2023-07-02", "2024-12-31"])
    features = CalendarFeatures(["month", "dayofyear"]).fit(dates).transform(dates)
    np.testing.assert_allclose(features["month_cos"], np.cos(2 * np.pi * np.array(
        [0, 6, 11]) / 12))
    np.testing.assert_allclose(features["dayofyear_sin"], np.sin(2 * np.pi * np.array(
        [0 / 365, 182 / 365, 365 / 366])))


@pytest.mark.parametrize(("freq", "expected"), [
    ("30min", ("hour", "dayofweek", "dayofyear")),
    ("D", ("dayofweek", "dayofyear")),
    ("W", ("dayofyear",)),
    ("MS", ("month",)),
    ("QS", ("month",)),
    ("YS", ()),
])
def test_auto_keeps_the_cycles_that_vary_at_the_step(freq, expected):
    dates = pd.date_range("2020-01-01", "2022-01-01", freq=freq)
    assert CalendarFeatures().fit(dates).features_ == expected


def test_auto_leaves_out_a_cycle_the_dates_do_not_cover():
    dates = pd.date_range("2020-01-01", periods=24 * 6, freq="h")  # six days
    assert CalendarFeatures().fit(dates).features_ == ("hour",)
    assert CalendarFeatures().fit(dates[:12]).features_ == ()


def test_holidays_of_a_country():
    dates = pd.date_range("2024-12-24", periods=3, freq="D")
    features = CalendarFeatures(["dayofweek"], country="FR").fit(dates).transform(dates)
    assert features["holiday"].tolist() == [0.0, 1.0, 0.0]  # Christmas
    with pytest.raises(ValueError, match="no country 'XX'"):
        CalendarFeatures(country="XX").fit(dates)


def test_calendar_needs_dates_and_known_cycles():
    with pytest.raises(ValueError, match="CalendarFeatures needs dates"):
        CalendarFeatures().fit(np.arange(5))
    with pytest.raises(ValueError, match="'features' parameter of CalendarFeatures"):
        CalendarFeatures(["weekday"]).fit(pd.date_range("2020", periods=3))


@pytest.mark.parametrize(("freq", "last", "expected"), [
    ("MS", "2023-04-01", ["2023-05-01", "2023-06-01", "2023-07-01"]),
    ("ME", "2023-04-30", ["2023-05-31", "2023-06-30", "2023-07-31"]),
    ("QS", "2023-04-01", ["2023-07-01", "2023-10-01", "2024-01-01"]),
    ("QE", "2023-03-31", ["2023-06-30", "2023-09-30", "2023-12-31"]),
    ("YS", "2023-01-01", ["2024-01-01", "2025-01-01", "2026-01-01"]),
    ("B", "2023-04-07", ["2023-04-10", "2023-04-11", "2023-04-12"]),  # Friday -> Monday
    ("h", "2023-04-01 22:00", ["2023-04-01 23:00", "2023-04-02 00:00",
                               "2023-04-02 01:00"]),
])
def test_forecast_dates_continue_the_calendar_frequency(freq, last, expected):
    dates = pd.date_range(end=last, periods=80, freq=freq)
    dates = pd.DatetimeIndex(list(dates))  # no freq attached: it must be inferred
    y = pd.Series(np.sin(np.arange(80) / 2), index=dates)
    forecast = Forecaster(3, candidates=[Ridge()], season=None).fit(y).predict()
    assert forecast.index.tolist() == pd.DatetimeIndex(expected).tolist()


def test_integer_time_steps_continue_as_integers():
    forecast = Forecaster(2, candidates=[Ridge()]).fit(np.sin(np.arange(100) / 2)).predict()
    assert forecast.index.tolist() == [100, 101]
    assert forecast.index.name == "step"
