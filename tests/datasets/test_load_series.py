"""make_load_series: its shape and dates, determinism, and that the effects it
documents (daily cycle, working days, a U-shaped temperature response) are there."""

import re

import numpy as np
import pandas as pd
import pytest

from seqpipe.datasets import make_load_series
from seqpipe.datasets.load import COOLING_ABOVE, HEATING_BELOW


@pytest.fixture(scope="module")
def load():
    return make_load_series(12 * 7 * 48, random_state=0)


def test_shape_dates_and_columns(load):
    y, covariates = load
    assert y.shape == (4032,) and y.name == "load" and y.dtype == np.float64
    assert isinstance(y.index, pd.DatetimeIndex) and y.index.freqstr == "30min"
    assert y.index[0] == pd.Timestamp("2023-04-03") and y.index.name == "date"
    assert covariates.index.equals(y.index)
    assert covariates.columns.tolist() == ["temperature", "working_day"]
    assert covariates["temperature"].dtype == np.float64
    assert set(covariates["working_day"].unique()) == {0, 1}
    assert np.isfinite(y).all() and np.isfinite(covariates.to_numpy()).all()


def test_other_length_frequency_and_start():
    y, covariates = make_load_series(30, freq="h", start="2024-01-01", random_state=1)
    assert len(y) == len(covariates) == 30 and y.index.freqstr == "h"
    assert covariates["working_day"].iloc[0] == 0  # New Year's Day


def test_random_state_makes_it_deterministic():
    first = make_load_series(500, random_state=3)
    again = make_load_series(500, random_state=3)
    other = make_load_series(500, random_state=4)
    pd.testing.assert_series_equal(first[0], again[0])
    pd.testing.assert_frame_equal(first[1], again[1])
    assert not np.allclose(first[0], other[0])
    assert not np.allclose(first[1]["temperature"], other[1]["temperature"])
    # the calendar does not depend on the draw
    assert first[1]["working_day"].equals(other[1]["working_day"])


def test_weekends_and_holidays_are_not_working_days(load):
    _, covariates = load
    working = covariates["working_day"]
    weekend = covariates.index.day_of_week >= 5
    assert (working[weekend] == 0).all()
    holidays = covariates.index.normalize().isin(pd.to_datetime(["2023-05-01", "2023-05-08"]))
    assert (working[holidays] == 0).all()  # two Mondays
    assert (working[~weekend & ~holidays] == 1).all()


def test_the_daily_cycle_and_working_days_show_in_the_load(load):
    y, covariates = load
    hour = y.index.hour
    assert y[(hour >= 10) & (hour < 17)].mean() > y[(hour >= 1) & (hour < 5)].mean() + 10
    by_hour = y.groupby([covariates["working_day"].to_numpy(), hour]).mean()
    assert (by_hour.loc[1, 11] - by_hour.loc[0, 11]) > 5  # working-hours plateau


def test_the_temperature_covers_both_thresholds_and_its_effect_is_u_shaped(load):
    y, covariates = load
    temperature = covariates["temperature"]
    assert temperature.min() < HEATING_BELOW - 5 and temperature.max() > COOLING_ABOVE + 5
    # what the calendar does not explain: the load minus its mean by (working day, time)
    keys = [covariates["working_day"].to_numpy(), y.index.hour, y.index.minute]
    residual = y - y.groupby(keys).transform("mean")
    cold = residual[temperature < HEATING_BELOW - 5].mean()
    mild = residual[(temperature > HEATING_BELOW) & (temperature < COOLING_ABOVE)].mean()
    hot = residual[temperature > COOLING_ABOVE + 4].mean()
    assert cold > mild + 2 and hot > mild + 4
    # a straight line in the temperature leaves most of that U unexplained
    slope, intercept = np.polyfit(temperature, residual, 1)
    line = residual - (slope * temperature + intercept)
    assert line[temperature > COOLING_ABOVE + 4].mean() > 2


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=re.escape(
            "The 'n_samples' parameter of make_load_series must be an int in the range "
            "[1, inf). Got 0 instead.")):
        make_load_series(0)
    with pytest.raises(ValueError, match="The 'freq' parameter of make_load_series"):
        make_load_series(10, freq="D")
    with pytest.raises(ValueError, match="The 'freq' parameter of make_load_series"):
        make_load_series(10, freq="MS")
