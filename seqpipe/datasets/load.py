"""A synthetic electricity load, the textbook case of a forecast that needs covariates.

The load of a region follows the clock (a daily cycle), the calendar (weekends and
holidays are lower) and the weather: heating below about 15 °C and air conditioning
above about 22 °C raise it, so its response to the temperature is a U, not a line. A
forecaster that reads the temperature (a weather forecast, known ahead) and the
working-day flag beats one that reads only the past load; one that models the U
beats a linear one.

>>> from seqpipe.datasets import make_load_series
>>> y, covariates = make_load_series(7 * 48, random_state=0)
>>> y.shape, covariates.columns.tolist()
((336,), ['temperature', 'working_day'])
>>> y.index.freqstr, str(y.index[0])
('30min', '2023-04-03 00:00:00')
>>> covariates["working_day"].iloc[::48].tolist()    # Monday to Sunday
[1, 1, 1, 1, 1, 0, 0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from seqpipe._validation import check_generator, check_int_param

__all__ = ["HOLIDAYS", "make_load_series"]

#: Fixed public holidays (month, day): no work, as on a Sunday.
HOLIDAYS = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))

HEATING_BELOW = 15.0  # °C
COOLING_ABOVE = 22.0  # °C
_DAY = pd.Timedelta("1D")


def make_load_series(n_samples: int = 12 * 7 * 48, *, freq: str = "30min",
                     start: str = "2023-04-03", random_state: Any = None
                     ) -> tuple[pd.Series, pd.DataFrame]:
    """A synthetic electricity load (MW) with its temperature and working-day flag.

    ``load = base + daily profile (working day or not) + heating + cooling + noise``:

    - the daily profile: a night trough, a morning ramp and an evening peak on working
      days; lower and flatter on weekends and the fixed :data:`HOLIDAYS`;
    - ``temperature`` (°C): a slow seasonal drift (about 4 °C in January to 22 °C in
      July), a daily cycle peaking mid-afternoon, and weather that persists for days
      (an AR(1) process);
    - heating ``1.2 * max(0, 15 - T) + 0.08 * max(0, 15 - T) ** 2`` and cooling
      ``1.5 * max(0, T - 22) + 0.15 * max(0, T - 22) ** 2`` MW: a U-shaped, not linear,
      response to the temperature, felt more by day than at night;
    - noise: a persistent part (AR(1)) and a white part.

    Parameters
    ----------
    n_samples : int, default=4032
        Time steps (the default: twelve weeks of half-hours).
    freq : str, default="30min"
        Step between dates (pandas frequency); the cycles follow the clock and the
        calendar, so any step below a day works.
    start : str, default="2023-04-03"
        First date (a Monday in spring: the weather crosses both thresholds).
    random_state : int, numpy Generator or None, default=None
        Seeds the weather and the noise; the same value gives the same series.

    Returns
    -------
    y : pandas.Series
        The load, named ``"load"``, indexed by dates named ``"date"`` (with ``freq``).
    covariates : pandas.DataFrame
        Indexed like ``y``: ``temperature`` (float, °C) and ``working_day`` (int, 1
        on working days, 0 on weekends and holidays). Both are future covariates: a
        weather forecast and the calendar are known ahead.

    Examples
    --------
    >>> y, covariates = make_load_series(4 * 7 * 48, random_state=0)
    >>> bool(y[covariates["working_day"] == 1].mean() > y[covariates["working_day"] == 0].mean())
    True
    """
    check_int_param("make_load_series", "n_samples", n_samples)
    rng = check_generator(random_state)
    try:
        steps_per_day = _DAY / pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except ValueError:
        steps_per_day = 0.0
    if steps_per_day < 2:
        raise ValueError(f"The 'freq' parameter of make_load_series must be a fixed step "
                         f"of at most half a day (the load has a daily cycle). Got "
                         f"{freq!r} instead.")
    dates = pd.date_range(start, periods=n_samples, freq=freq, name="date")
    hour = np.asarray(dates.hour + dates.minute / 60 + dates.second / 3600, dtype=np.float64)
    day_of_year = np.asarray(dates.day_of_year, dtype=np.float64)

    working = np.asarray(dates.day_of_week < 5) & ~_is_holiday(dates)
    temperature = (_seasonal_temperature(day_of_year)
                   + 3.5 * np.cos(2 * np.pi * (hour - 15) / 24)
                   + _ar1(rng, n_samples, std=3.5, memory=2.5 * steps_per_day))

    daytime = 0.6 + 0.4 * np.exp(-0.5 * ((hour - 14) / 5) ** 2)  # the weather's weight
    heating = np.clip(HEATING_BELOW - temperature, 0, None)
    cooling = np.clip(temperature - COOLING_ABOVE, 0, None)
    weather = daytime * (1.2 * heating + 0.08 * heating ** 2
                         + 1.5 * cooling + 0.15 * cooling ** 2)
    profile = np.where(working, _working_profile(hour), _rest_profile(hour))
    noise = (_ar1(rng, n_samples, std=1.5, memory=steps_per_day / 8)
             + 0.8 * rng.standard_normal(n_samples))
    load = 60.0 + profile + weather + noise

    y = pd.Series(load, index=dates, name="load")
    covariates = pd.DataFrame({"temperature": temperature,
                               "working_day": working.astype(np.int64)}, index=dates)
    return y, covariates


def _is_holiday(dates: pd.DatetimeIndex) -> np.ndarray:
    month, day = np.asarray(dates.month), np.asarray(dates.day)
    return np.logical_or.reduce([(month == m) & (day == d) for m, d in HOLIDAYS])


def _seasonal_temperature(day_of_year: np.ndarray) -> np.ndarray:
    """About 4 °C in mid-January, 22 °C in mid-July."""
    return 13.0 - 9.0 * np.cos(2 * np.pi * (day_of_year - 15) / 365.25)


def _working_profile(hour: np.ndarray) -> np.ndarray:
    """Night trough, morning ramp to a working-hours plateau, evening peak at 19:00."""
    plateau = 1 / (1 + np.exp(-(hour - 7) * 1.5)) - 1 / (1 + np.exp(-(hour - 18.5) * 1.2))
    evening = np.exp(-0.5 * ((hour - 19) / 1.5) ** 2)
    return 22.0 * plateau + 10.0 * evening


def _rest_profile(hour: np.ndarray) -> np.ndarray:
    """A later, lower day and the same evening peak."""
    day = np.exp(-0.5 * ((hour - 13) / 4) ** 2)
    evening = np.exp(-0.5 * ((hour - 19.5) / 1.5) ** 2)
    return 9.0 * day + 8.0 * evening


def _ar1(rng: Any, n: int, *, std: float, memory: float) -> np.ndarray:
    """A stationary AR(1) process of standard deviation ``std`` whose correlation
    decays by e every ``memory`` steps."""
    phi = float(np.exp(-1.0 / memory))
    first = rng.standard_normal() * std
    shocks = rng.standard_normal(n) * std * np.sqrt(1 - phi ** 2)
    return lfilter([1.0], [1.0, -phi], shocks, zi=[phi * first])[0]
