"""Synthetic daily series with known answers, for tests and benchmarks of forecasters.

- :func:`make_random_walk`: a price-like random walk, where no forecaster beats
  repeating the last value by more than chance (doing far better means a leak);
- :func:`make_seasonal_series`: a cycle plus noise plus a slow trend, where the
  seasonal-naive forecast (the value one cycle ago) is the bar to clear.

Both return a pandas Series indexed by daily dates, and take ``random_state``.

>>> from seqpipe.datasets import make_random_walk, make_seasonal_series
>>> make_random_walk(5, random_state=0).index[0].strftime("%Y-%m-%d")
'2020-01-01'
>>> make_seasonal_series(48, period=24, random_state=0).shape
(48,)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from seqpipe._validation import check_generator, check_int_param

__all__ = ["make_random_walk", "make_seasonal_series"]


def _dates(n: int, start: str, freq: str) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq=freq, name="date")


def make_random_walk(n_timesteps: int = 1000, *, start_value: float = 100.0,
                     drift: float = 0.0, volatility: float = 1.0, start: str = "2020-01-01",
                     freq: str = "D", random_state: Any = None) -> pd.Series:
    """A random walk: ``value[t] = value[t-1] + drift + volatility * noise``.

    Parameters
    ----------
    n_timesteps : int, default=1000
    start_value : float, default=100.0
    drift : float, default=0.0
        Mean step (a linear trend).
    volatility : float, default=1.0
        Standard deviation of a step.
    start : str, default="2020-01-01"
        First date.
    freq : str, default="D"
        Step between dates (pandas frequency, e.g. ``"B"`` for business days).
    random_state : int, numpy Generator or None, default=None

    Returns
    -------
    pandas.Series
        Named ``"close"``, indexed by dates named ``"date"``.

    Examples
    --------
    >>> from seqpipe.datasets import make_random_walk
    >>> walk = make_random_walk(365, drift=0.1, random_state=0)
    >>> len(walk), str(walk.index[0].date()), walk.index.freqstr
    (365, '2020-01-01', 'D')
    """
    check_int_param("make_random_walk", "n_timesteps", n_timesteps)
    rng = check_generator(random_state)
    steps = drift + volatility * rng.standard_normal(n_timesteps)
    steps[0] = 0.0
    values = start_value + np.cumsum(steps)
    return pd.Series(values, index=_dates(n_timesteps, start, freq), name="close")


def make_seasonal_series(n_timesteps: int = 2000, *, period: int = 24,
                         amplitude: float = 10.0, noise: float = 1.0, trend: float = 0.01,
                         level: float = 50.0, start: str = "2020-01-01", freq: str = "h",
                         random_state: Any = None) -> pd.Series:
    """A cycle of ``period`` steps, Gaussian noise and a slow linear trend.

    ``value[t] = level + trend * t + amplitude * (sin(2 pi t / period) + 0.5 sin(4 pi t /
    period)) + noise * e[t]``: with the default hourly dates, a daily cycle.

    Parameters
    ----------
    n_timesteps : int, default=2000
    period : int, default=24
        Steps per cycle.
    amplitude, noise, trend, level : float
        As in the formula.
    start : str, default="2020-01-01"
    freq : str, default="h"
    random_state : int, numpy Generator or None, default=None

    Returns
    -------
    pandas.Series
        Named ``"value"``, indexed by dates named ``"date"``.

    Examples
    --------
    >>> from seqpipe.datasets import make_seasonal_series
    >>> from seqpipe.forecasting import detect_season
    >>> series = make_seasonal_series(24 * 30, period=24, random_state=0)   # hourly, 30 days
    >>> len(series), detect_season(series)
    (720, 24)
    """
    owner = "make_seasonal_series"
    check_int_param(owner, "n_timesteps", n_timesteps)
    check_int_param(owner, "period", period, low=2)
    rng = check_generator(random_state)
    t = np.arange(n_timesteps, dtype=np.float64)
    phase = 2 * np.pi * t / period
    values = (level + trend * t + amplitude * (np.sin(phase) + 0.5 * np.sin(2 * phase))
              + noise * rng.standard_normal(n_timesteps))
    return pd.Series(values, index=_dates(n_timesteps, start, freq), name="value")
