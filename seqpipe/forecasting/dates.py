"""The time axis of a forecast: the series' dates (or integer steps), their frequency,
and the dates that continue them.

Forecast dates follow the series' calendar frequency as pandas infers it (month
starts and ends, quarters, years, business days, hours, ...), not the most common
time difference: a monthly series ending on 2023-04-01 continues on 2023-05-01.

>>> import pandas as pd
>>> index = pd.date_range("2023-01-01", periods=4, freq="MS")
>>> future_dates(index, infer_frequency(index), 2).strftime("%Y-%m-%d").tolist()
['2023-05-01', '2023-06-01']
>>> future_dates(pd.RangeIndex(5), None, 2).tolist()
[5, 6]
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["as_target", "describe_frequency", "future_dates", "infer_frequency"]


def as_target(y: Any, name: str = "y") -> pd.Series:
    """``y`` as a float pandas Series indexed by dates (a DatetimeIndex) or by integer
    time steps (a RangeIndex); ValueError naming ``name`` for anything else."""
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(f"{name} must be one series: a pandas Series or a 1-D array; "
                             f"got a DataFrame with {y.shape[1]} columns.")
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series):
        index = y.index
        if not isinstance(index, pd.DatetimeIndex):
            if not pd.api.types.is_integer_dtype(index):
                raise ValueError(f"{name} must be indexed by dates (a DatetimeIndex) or by "
                                 f"integer time steps; got an index of dtype {index.dtype}.")
        values = pd.to_numeric(y, errors="coerce").to_numpy(dtype=np.float64)
    else:
        values = np.asarray(y, dtype=np.float64)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1:
            raise ValueError(f"{name} must be one series: a pandas Series or a 1-D array; "
                             f"got an array of shape {values.shape}.")
        index = pd.RangeIndex(len(values))
    if isinstance(index, pd.DatetimeIndex):
        if index.hasnans:
            raise ValueError(f"{name}'s index has missing dates (NaT).")
        if not index.is_monotonic_increasing or index.has_duplicates:
            raise ValueError(f"{name}'s dates must be increasing and unique; the first out "
                             f"of order is {_first_disorder(index)}.")
    elif not index.is_monotonic_increasing or index.has_duplicates:
        raise ValueError(f"{name}'s integer time steps must be increasing and unique.")
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"{name} has {int(bad.sum())} missing or non-numeric value(s), the "
                         f"first at {index[np.argmax(bad)]}; fill or drop them first.")
    return pd.Series(values, index=index, name=getattr(y, "name", None))


def _first_disorder(index: pd.DatetimeIndex) -> pd.Timestamp:
    steps = np.diff(index.asi8)
    return index[1 + int(np.argmax(steps <= 0))]


def infer_frequency(index: pd.Index) -> pd.DateOffset | None:
    """The calendar frequency of a DatetimeIndex: its own ``freq``, else what
    ``pd.infer_freq`` finds, else the most common time difference (a series with
    gaps); None for integer time steps or fewer than 2 dates."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return None
    if index.freq is not None:
        return index.freq
    if len(index) >= 3:
        with warnings.catch_warnings():  # pandas 3 announces an offset instead of a str
            warnings.simplefilter("ignore", DeprecationWarning)
            found = pd.infer_freq(index)
        if found is not None:
            return pd.tseries.frequencies.to_offset(found)
    steps = pd.Series(index[1:] - index[:-1])
    return pd.tseries.frequencies.to_offset(steps.mode().iloc[0])


def future_dates(index: pd.Index, frequency: pd.DateOffset | None, n: int,
                 after: Any = None) -> pd.Index:
    """The ``n`` time steps after ``after`` (default the last of ``index``): dates one
    ``frequency`` apart, or integer steps."""
    last = index[-1] if after is None else after
    if isinstance(index, pd.DatetimeIndex):
        if frequency is None:
            raise ValueError("a series of fewer than 2 dates has no frequency to continue "
                             "its dates with.")
        return pd.date_range(last, periods=n + 1, freq=frequency, name=index.name)[1:]
    return pd.RangeIndex(int(last) + 1, int(last) + 1 + n, name=index.name)


def describe_frequency(frequency: pd.DateOffset | None) -> str:
    """The frequency as pandas writes it (``'h'``, ``'MS'``, ``'B'``), or 'one step'."""
    return "one step" if frequency is None else frequency.freqstr
