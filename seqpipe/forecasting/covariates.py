"""Covariates: the inputs of a forecast besides the target, aligned with it by date.

- **Past covariates** are known only up to the forecast origin (a measured
  temperature, yesterday's sales of another shop): a model reads their values up to
  the origin, never after.
- **Future covariates** are known ahead (a weather forecast, holidays, planned
  promotions, the calendar): a model also reads their values at the forecast dates.

Covariates are DataFrames (or Series) indexed like the target; they may span more
dates than needed. A date the forecast needs and the covariates lack is an error
naming the argument, the first missing date and the series' frequency.

>>> import pandas as pd
>>> dates = pd.date_range("2024-01-01", periods=3, freq="D")
>>> temperature = pd.DataFrame({"temp": [1.0, 2.0, 3.0, 4.0]},
...                            index=pd.date_range("2023-12-31", periods=4, freq="D"))
>>> align(temperature, dates, "past_covariates", None).ravel().tolist()
[2.0, 3.0, 4.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from seqpipe.forecasting.dates import describe_frequency

__all__ = ["align", "as_covariates"]


def as_covariates(covariates: Any, index: pd.Index, name: str) -> pd.DataFrame | None:
    """``covariates`` as a float DataFrame (None stays None). A 1-D or 2-D array, only
    for a target indexed by integer steps, is indexed 0, 1, ...; ValueError naming
    ``name`` for anything else."""
    if covariates is None:
        return None
    if isinstance(covariates, pd.Series):
        covariates = covariates.to_frame(name=covariates.name if covariates.name is not None
                                         else name)
    elif not isinstance(covariates, pd.DataFrame):
        array = np.asarray(covariates)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise ValueError(f"{name} must be a DataFrame (a column per covariate) or a "
                             f"2-D array; got an array of shape {array.shape}.")
        if isinstance(index, pd.DatetimeIndex):
            raise ValueError(f"{name} must be a DataFrame indexed by dates, as the target "
                             f"is; got a {type(covariates).__name__}.")
        covariates = pd.DataFrame(array, columns=[f"{name}_{i}" for i in
                                                  range(array.shape[1])])
    if covariates.shape[1] == 0:
        raise ValueError(f"{name} has no column.")
    if isinstance(index, pd.DatetimeIndex) != isinstance(covariates.index, pd.DatetimeIndex):
        kind = "dates" if isinstance(index, pd.DatetimeIndex) else "integer time steps"
        raise ValueError(f"{name} must be indexed by {kind}, as the target is; got an index "
                         f"of dtype {covariates.index.dtype}.")
    if covariates.index.has_duplicates:
        raise ValueError(f"{name} has duplicated dates, the first "
                         f"{covariates.index[covariates.index.duplicated()][0]}.")
    bad = [column for column in covariates.columns
           if not pd.api.types.is_numeric_dtype(covariates[column])]
    if bad:
        raise ValueError(f"{name} must hold numbers; column(s) {bad} do not (encode "
                         f"categories as numbers first).")
    return covariates.astype(np.float64)


def align(covariates: pd.DataFrame, dates: pd.Index, name: str,
          frequency: pd.DateOffset | None) -> np.ndarray:
    """The rows of ``covariates`` at ``dates``, as a float array ``(len(dates), k)``.

    ValueError naming ``name``, the first date missing (or holding a missing value)
    and the series' frequency.
    """
    missing = ~dates.isin(covariates.index)
    if missing.any():
        raise ValueError(
            f"{name} has no row for {_when(dates[np.argmax(missing)])}"
            f"{_more(int(missing.sum()))}: it must cover every date the forecast reads "
            f"(the series' frequency is {describe_frequency(frequency)}; dates "
            f"{_when(dates[0])} to {_when(dates[-1])} needed here).")
    values = covariates.loc[dates].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise ValueError(f"{name} column {covariates.columns[column]!r} has a missing or "
                         f"infinite value at {_when(dates[row])}{_more(int(bad.sum()))}.")
    return values


def _when(date: Any) -> str:
    return str(date.isoformat(sep=" ").removesuffix(" 00:00:00")) if hasattr(
        date, "isoformat") else f"time step {date}"


def _more(count: int) -> str:
    return f" (and {count - 1} more)" if count > 1 else ""
