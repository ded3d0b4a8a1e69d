"""Many series: the layouts users give (wide or long) and the panel a
:class:`~seqpipe.forecasting.Forecaster` learns from.

A **wide** DataFrame has a DatetimeIndex (or integer time steps) and one column per
series; a series may start and end at different dates, NaN outside its span. A
**long** table, as CSV files usually hold many series, has one row per (series,
date): :func:`from_long` turns it into the wide layout.

>>> import pandas as pd
>>> long = pd.DataFrame({"shop": ["a", "a", "b", "b", "b"],
...                      "day": ["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-02",
...                              "2024-01-03"],
...                      "sales": [1.0, 2.0, 10.0, 20.0, 30.0]})
>>> from_long(long, "shop", "day", "sales")
shop          a     b
day
2024-01-01  1.0  10.0
2024-01-02  2.0  20.0
2024-01-03  NaN  30.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seqpipe.forecasting.dates import as_target

__all__ = ["Panel", "as_panel", "from_long", "series_covariates"]


@dataclass(frozen=True)
class Panel:
    """Series on a common time axis.

    Attributes
    ----------
    index : pandas Index
        The common time steps (dates or integers), every series' span inside it.
    values : ndarray of shape (n_series, len(index))
        The targets, NaN outside each series' span.
    names : list or None
        The series' names; None for one series given as a Series or an array (no
        series identity in the windows, predictions indexed by date alone).
    starts, ends : ndarray of int, shape (n_series,)
        Each series' first and last observed position in ``index``.
    """

    index: pd.Index
    values: np.ndarray
    names: list | None
    starts: np.ndarray
    ends: np.ndarray

    @property
    def n_series(self) -> int:
        """How many series."""
        return len(self.values)

    def label(self, code: int) -> Any:
        """The name of series ``code`` (for messages)."""
        return "y" if self.names is None else self.names[code]

    def series(self, code: int) -> pd.Series:
        """Series ``code`` over its span."""
        span = slice(self.starts[code], self.ends[code] + 1)
        return pd.Series(self.values[code, span], index=self.index[span])


def as_panel(y: Any, name: str = "y") -> Panel:
    """``y`` as a :class:`Panel`: a Series or 1-D array is one series; a DataFrame (also
    of one column) holds one series per column, each NaN outside its span.

    ValueError naming ``name`` and the series for a gap inside a span, an empty
    series, a non-numeric column or duplicated names.
    """
    if not isinstance(y, pd.DataFrame):
        target = as_target(y, name)
        n = len(target)
        return Panel(target.index, target.to_numpy()[None, :], None, np.array([0]),
                     np.array([n - 1]))
    if y.shape[1] == 0:
        raise ValueError(f"{name} has no column: give one column per series.")
    if y.columns.has_duplicates:
        raise ValueError(f"{name} names a series twice: "
                         f"{y.columns[y.columns.duplicated()][0]!r}.")
    bad = [column for column in y.columns if not pd.api.types.is_numeric_dtype(y[column])]
    if bad:
        raise ValueError(f"{name} must hold numbers; the series {bad} do not.")
    observed = y.notna().to_numpy()
    empty = [column for column, seen in zip(y.columns, observed.any(axis=0)) if not seen]
    if empty:
        raise ValueError(f"{name}: the series {empty} have no value.")
    # the time axis is checked as a single series' would be: a column of index positions
    as_target(pd.Series(np.arange(len(y), dtype=np.float64), index=y.index), name)
    values = y.to_numpy(dtype=np.float64).T
    starts = observed.argmax(axis=0)
    ends = len(y) - 1 - observed[::-1].argmax(axis=0)
    for code, column in enumerate(y.columns):
        span = values[code, starts[code]:ends[code] + 1]
        bad = ~np.isfinite(span)
        if bad.any():
            raise ValueError(f"{name}: series {column!r} has {int(bad.sum())} missing or "
                             f"infinite value(s) inside its span, the first at "
                             f"{y.index[starts[code] + np.argmax(bad)]}; fill them first "
                             f"(NaN may only come before a series starts or after it ends).")
    return Panel(y.index, values, list(y.columns), starts, ends)


def series_covariates(covariates: Any, names: list | None, name: str, *,
                      strict: bool = True) -> list[Any]:
    """The covariates of each series: a dict by series name (an entry per series, the
    same columns in each; without ``strict``, entries for other series are ignored) or
    anything else, shared by all."""
    count = 1 if names is None else len(names)
    if not isinstance(covariates, Mapping):
        return [covariates] * count
    if names is None:
        raise ValueError(f"{name} is a dict (covariates per series), but y is one series: "
                         f"give a DataFrame.")
    missing = [series for series in names if series not in covariates]
    extra = [series for series in covariates if series not in names] if strict else []
    if missing or extra:
        raise ValueError(f"{name} is a dict by series, so it needs one entry per series of "
                         f"y: " + "; ".join(part for part in (
                             f"missing {missing}" if missing else "",
                             f"unknown {extra}" if extra else "") if part) + ".")
    columns = {tuple(map(str, getattr(covariates[s], "columns", ()))) for s in names}
    if len(columns) > 1:
        raise ValueError(f"{name}: every series' covariates need the same columns; got "
                         f"{sorted(columns)}.")
    return [covariates[series] for series in names]


def from_long(data: pd.DataFrame, id_column: str, time_column: str, target: str
              ) -> pd.DataFrame:
    """Many series in the long layout (one row per series and date) as the wide one
    :class:`~seqpipe.forecasting.Forecaster` reads.

    Parameters
    ----------
    data : DataFrame
        One row per (series, date).
    id_column, time_column, target : str
        The columns naming the series, giving the date (parsed by
        ``pandas.to_datetime`` unless integers) and holding the value.

    Returns
    -------
    DataFrame
        Indexed by the sorted dates, one column per series (in order of first
        appearance), NaN where a series has no row.

    Raises
    ------
    ValueError
        A column is missing; a (series, date) pair is given twice, or a target or
        date cannot be read (naming the rows of ``data``).

    Examples
    --------
    >>> import pandas as pd
    >>> from seqpipe.forecasting import from_long
    >>> long = pd.DataFrame({"store": ["a", "a", "b"],
    ...                      "day": ["2024-01-01", "2024-01-02", "2024-01-02"],
    ...                      "sales": [1.0, 2.0, 5.0]})
    >>> from_long(long, "store", "day", "sales")
    store         a    b
    day
    2024-01-01  1.0  NaN
    2024-01-02  2.0  5.0
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"from_long reads a DataFrame; got {type(data).__name__}.")
    missing = [column for column in (id_column, time_column, target)
               if column not in data.columns]
    if missing:
        raise ValueError(f"from_long: no column {missing} in the data (it has "
                         f"{list(data.columns)}).")
    values = pd.to_numeric(data[target], errors="coerce")
    _check_rows(data, values.isna() & data[target].notna(),
                f"the target column {target!r} holds non-numeric values")
    times = data[time_column]
    if not pd.api.types.is_integer_dtype(times):
        times = pd.to_datetime(times, errors="coerce")
        _check_rows(data, times.isna() & data[time_column].notna(),
                    f"the time column {time_column!r} holds values that are not dates")
    _check_rows(data, times.isna(), f"the time column {time_column!r} is empty")
    _check_rows(data, data[id_column].isna(), f"the id column {id_column!r} is empty")
    keys = pd.DataFrame({"id": data[id_column], "time": times})
    _check_rows(data, keys.duplicated(keep=False),
                f"these rows repeat a ({id_column}, {time_column}) pair")
    wide = pd.DataFrame({"id": data[id_column], "time": times, "value": values}).pivot(
        index="time", columns="id", values="value")
    wide = wide[list(pd.unique(data[id_column]))].sort_index()
    return wide.rename_axis(index=time_column, columns=id_column)


def _check_rows(data: pd.DataFrame, bad: pd.Series, problem: str) -> None:
    if bad.any():
        rows = list(data.index[bad.to_numpy()][:5])
        more = f" (and {int(bad.sum()) - 5} more)" if bad.sum() > 5 else ""
        raise ValueError(f"from_long: {problem}: rows {rows}{more}.")
