"""Load one numeric column of a user's CSV as a time series, reporting every flaw.

:func:`load_csv_series` reads a column (and optionally a date column) with pandas and
returns a :class:`CsvSeries`: the values as a ``(T, 1)`` float array, ready for a
``Windower``, with their dates, the regular step between dates and the gaps found.
Nothing is dropped or filled unless asked: duplicated or unreadable dates,
non-numeric values and missing values are errors that name the file, the column,
how many there are and their line numbers (1-based lines of the file, the header
being line 1).
"""

from __future__ import annotations

import errno
import os
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = ["CsvSeries", "Gap", "load_csv_series"]

_MISSING = ("error", "drop", "interpolate")
_GAPS = ("warn", "error", "ignore")
_SHOWN = 5  # lines listed per problem; the count gives the rest
_DAY = np.timedelta64(1, "D")


class Gap(NamedTuple):
    """Dates missing between two consecutive dates of a regular series.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from seqpipe.datasets import load_csv_series
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "sales.csv"
    ...     _ = path.write_text("date,sales\\n2024-01-01,3\\n2024-01-02,4\\n2024-01-05,5\\n"
    ...                         "2024-01-06,6\\n")
    ...     series = load_csv_series(path, "sales", "date", gaps="ignore")
    >>> (gap,) = series.gaps
    >>> str(gap.after.date()), str(gap.before.date()), gap.n_missing, gap.line
    ('2024-01-02', '2024-01-05', 2, 4)
    """

    after: pd.Timestamp
    """The last date before the gap."""
    before: pd.Timestamp
    """The first date after the gap."""
    n_missing: int
    """How many regular steps are missing."""
    line: int
    """The file line of ``before``."""


class CsvSeries(NamedTuple):
    """One column of a CSV, as returned by :func:`load_csv_series`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from seqpipe.datasets import load_csv_series
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "sales.csv"
    ...     _ = path.write_text("date,sales\\n2024-01-01,3\\n2024-01-02,4\\n2024-01-03,5\\n")
    ...     series = load_csv_series(path, "sales", "date")
    >>> series.values.ravel().tolist(), series.step
    ([3.0, 4.0, 5.0], Timedelta('1 days 00:00:00'))
    >>> series.future_dates(2).strftime("%Y-%m-%d").tolist()
    ['2024-01-04', '2024-01-05']
    """

    values: np.ndarray
    """The values, float64 of shape ``(T, 1)``, in date order."""
    dates: pd.DatetimeIndex | None
    """The dates of the values (named after the date column), or None without one."""
    step: pd.Timedelta | pd.offsets.BusinessDay | None
    """The regular step between dates (a ``BusinessDay`` offset for business-day
    data), or None without dates or with fewer than two."""
    gaps: tuple[Gap, ...]
    """The gaps in the regular sequence of dates."""
    lines: np.ndarray
    """The file line of each value."""
    column: str
    """The name of the value column."""
    source: str
    """The path that was read."""

    def to_series(self) -> pd.Series:
        """The values as a pandas Series indexed by the dates (or 0, 1, ...)."""
        index = self.dates if self.dates is not None else pd.RangeIndex(len(self.values))
        return pd.Series(self.values[:, 0], index=index, name=self.column)

    def future_dates(self, n: int) -> pd.DatetimeIndex:
        """The ``n`` dates after the last one, one regular step apart."""
        if self.dates is None or self.step is None:
            raise ValueError(f"{self.source}: no date column with at least two dates was "
                             f"read, so the dates cannot be continued.")
        return pd.DatetimeIndex([self.dates[-1] + self.step * (k + 1) for k in range(n)],
                                name=self.dates.name)


def load_csv_series(
    path: str | os.PathLike[str],
    column: str,
    date_column: str | None = None,
    *,
    missing: str = "error",
    gaps: str = "warn",
    date_format: str | None = None,
    sep: str = ",",
) -> CsvSeries:
    """Load one numeric column of a CSV file as a time series.

    The file needs a header line naming its columns. With a ``date_column`` the
    rows are sorted by date (the file may list them in any order); without one, the
    file's order is the time order. Blank lines are skipped; empty cells and
    pandas' usual missing markers (``NA``, ``NaN``, ``null``, ``N/A``, ...) are
    missing values.

    **Errors, never silent fixes.** All problems found are reported together in one
    ``ValueError`` naming the file, the column, how many there are and their line
    numbers (the header is line 1; the first data row, line 2): a value that is not
    a finite number, a missing or unreadable date, the same date twice, and, with
    ``missing="error"``, a missing value.

    **Gaps.** With dates, the regular step is the most common difference between
    consecutive dates; when that is one day, the dates span a weekend and none falls
    on a Saturday or a Sunday, the data are business-day data (stock closes) and the
    step is one business day, so weekends are not gaps (holidays are). A gap is a difference of
    more than 1.5 steps; its size is the number of steps missing. Gaps do not stop
    the loading by default (``gaps="warn"``), since markets close on holidays; they
    are listed in :attr:`CsvSeries.gaps`.

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    column : str
        The column of values.
    date_column : str, default=None
        The column of dates (anything :func:`pandas.to_datetime` reads). Local times
        whose UTC offset changes (daylight saving time) are converted to UTC.
    missing : {"error", "drop", "interpolate"}, default="error"
        What to do with missing values: report them as an error, drop their rows
        (with dates, this leaves gaps, reported as such), or interpolate them
        linearly (in time when dates are given) between their neighbours; a missing
        first or last value cannot be interpolated and stays an error.
    gaps : {"warn", "error", "ignore"}, default="warn"
        How gaps in the dates are reported: a ``UserWarning``, a ``ValueError``, or
        not at all (they are in the result's ``gaps`` in every case).
    date_format : str, default=None
        The ``strftime`` format of the dates, e.g. ``"%d/%m/%Y"``; ``None`` infers it
        from the first date.
    sep : str, default=","
        The field separator, e.g. ``";"`` or ``"\\t"``.

    Returns
    -------
    series : CsvSeries
        A named tuple ``(values, dates, step, gaps, lines, column, source)``:
        ``values`` of shape ``(T, 1)`` (float64, in time order), ``dates`` a
        ``DatetimeIndex`` or None, ``step`` the regular step, ``gaps`` a tuple of
        :class:`Gap` and ``lines`` the file line of each value.
        ``series.to_series()`` gives a pandas Series indexed by date, and
        ``series.future_dates(n)`` the ``n`` dates after the last one.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If a column is unknown (the message lists the available ones), if the file
        has no data row, or for the problems above. Line numbers assume one row per
        line (no line break inside a quoted field).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from seqpipe.datasets import load_csv_series
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sales.csv"
    >>> _ = path.write_text("day,sales\\n2024-01-03,12\\n2024-01-01,10\\n2024-01-02,11\\n")
    >>> series = load_csv_series(path, "sales", "day")
    >>> series.values[:, 0].tolist(), series.lines.tolist()
    ([10.0, 11.0, 12.0], [3, 4, 2])
    >>> series.future_dates(2).strftime("%Y-%m-%d").tolist()
    ['2024-01-04', '2024-01-05']
    >>> _ = path.write_text("day,sales\\n2024-01-01,10\\n2024-01-02,\\n2024-01-03,oops\\n")
    >>> load_csv_series(path, "sales", "day")
    Traceback (most recent call last):
    ...
    ValueError: ...sales.csv: column 'sales' has 1 non-numeric or infinite value(s): line 4
    ('oops'); column 'sales' has 1 missing value(s): line 3 (pass missing='drop' or ...
    """
    if missing not in _MISSING:
        raise ValueError(f"The 'missing' parameter of load_csv_series must be a str among "
                         f"{list(_MISSING)}. Got {missing!r} instead.")
    if gaps not in _GAPS:
        raise ValueError(f"The 'gaps' parameter of load_csv_series must be a str among "
                         f"{list(_GAPS)}. Got {gaps!r} instead.")
    source = os.fspath(path)
    if not os.path.isfile(source):
        if os.path.isdir(source):
            raise IsADirectoryError(errno.EISDIR, "Expected a CSV file, got a directory",
                                    source)
        raise FileNotFoundError(errno.ENOENT, "No such CSV file", source)
    frame = _read(source, column, date_column, sep)
    lines = frame.index.to_numpy() + 2
    problems: list[str] = []
    values = _parse_values(frame[column], column, lines, problems)
    dates = None
    if date_column is not None:
        dates = _parse_dates(frame[date_column], date_column, date_format, lines, problems)
    nan = np.isnan(values)
    if missing == "error" and nan.any():
        problems.append(f"column {column!r} has {nan.sum()} missing value(s): "
                        f"{_lines(lines[nan])} (pass missing='drop' or "
                        f"missing='interpolate' to handle them)")
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems) + ".")
    if dates is not None:
        order = np.argsort(dates.to_numpy(), kind="stable")
        dates, values, lines = dates[order], values[order], lines[order]
    values, dates, lines = _handle_missing(values, dates, lines, missing, source, column)
    step, found = (None, ()) if dates is None else _find_gaps(dates, lines)
    if found and gaps != "ignore":
        message = _gap_message(source, date_column, step, found)
        if gaps == "error":
            raise ValueError(message)
        warnings.warn(message, UserWarning, stacklevel=2)
    return CsvSeries(values.reshape(-1, 1), dates, step, found, lines, column, source)


def _read(source: str, column: str, date_column: str | None, sep: str) -> pd.DataFrame:
    """The file's rows as strings, indexed by data row (file line - 2), blank lines out."""
    try:
        header = pd.read_csv(source, nrows=0, sep=sep)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{source}: the file is empty; expected a header line naming "
                         f"the columns, then one row per time step.") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{source}: not a text CSV file (byte {error.start} is not "
                         f"{error.encoding}); expected a header line naming the columns, "
                         f"then one row per time step.") from None
    except pd.errors.ParserError as error:  # e.g. a quote never closed
        raise ValueError(f"{source}: not a well-formed CSV ({_reason(error)}).") from None
    available = [str(name) for name in header.columns]
    wanted = [column] if date_column is None else [date_column, column]
    for name in wanted:
        if name not in available:
            hint = ""
            if len(available) == 1:
                other = next((c for c in (";", "\t", "|", ",") if c in available[0]), None)
                hint = f" Is the separator {other!r}? Pass sep={other!r}." if other else ""
            raise ValueError(f"{source}: no column named {name!r}; the columns are "
                             f"{available}.{hint}")
    if column == date_column:
        raise ValueError(f"{source}: the value column and the date column are both "
                         f"{column!r}; name two different columns.")
    try:
        frame = pd.read_csv(source, usecols=wanted, dtype=str, skip_blank_lines=False,
                            sep=sep)
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(f"{source}: not a well-formed CSV ({_reason(error)}).") from None
    with open(source, encoding="utf-8", errors="replace") as file:
        blank = [number - 2 for number, line in enumerate(file, start=1)
                 if number >= 2 and not line.strip()]
    frame = frame.drop(index=[row for row in blank if row in frame.index])
    if frame.empty:
        raise ValueError(f"{source}: no data row after the header line; expected one row "
                         f"per time step.")
    return frame


def _reason(error: Exception) -> str:
    """The parser's message on one line, without its final period."""
    return " ".join(str(error).split()).rstrip(".")


def _lines(lines: np.ndarray, texts: list[str] | None = None) -> str:
    """``line 3`` or ``lines 3, 5, 9, ...`` (the first few), each with its text if given."""
    shown = [str(line) if texts is None else f"{line} ({texts[i]!r})"
             for i, line in enumerate(lines[:_SHOWN])]
    more = ", ..." if len(lines) > _SHOWN else ""
    return ("line " if len(lines) == 1 else "lines ") + ", ".join(shown) + more


def _parse_values(raw: pd.Series, column: str, lines: np.ndarray,
                  problems: list[str]) -> np.ndarray:
    """Float values, NaN where missing; non-numeric and infinite values are problems."""
    numbers = pd.to_numeric(raw.str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    bad = raw.notna().to_numpy() & ~np.isfinite(numbers)
    if bad.any():
        texts = raw[bad].tolist()
        problems.append(f"column {column!r} has {bad.sum()} non-numeric or infinite value(s): "
                        f"{_lines(lines[bad], texts)}")
    return np.where(bad, 0.0, numbers)  # reported already: not also counted as missing


def _parse_dates(raw: pd.Series, date_column: str, date_format: str | None,
                 lines: np.ndarray, problems: list[str]) -> pd.DatetimeIndex:
    absent = raw.isna().to_numpy()
    if absent.any():
        problems.append(f"column {date_column!r} has {absent.sum()} missing date(s): "
                        f"{_lines(lines[absent])}")
    with warnings.catch_warnings():  # "could not infer format": the NaT below says more
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)  # "mixed time zones": handled below
        try:
            parsed = pd.to_datetime(raw, errors="coerce", format=date_format)
        except ValueError:
            parsed = None
        if parsed is None or not pd.api.types.is_datetime64_any_dtype(parsed):
            # offsets that change (daylight saving): one zone, UTC
            parsed = pd.to_datetime(raw, errors="coerce", format=date_format, utc=True)
        dates = pd.DatetimeIndex(parsed, name=date_column)
    unread = dates.isna() & ~absent
    if unread.any():
        expected = f"the format {date_format!r}" if date_format else "a date"
        problems.append(f"column {date_column!r} has {unread.sum()} value(s) that are not "
                        f"{expected}: {_lines(lines[unread], raw[unread].tolist())}")
    duplicated = dates.duplicated(keep=False) & ~dates.isna()
    if duplicated.any():
        groups = pd.Series(lines[duplicated]).groupby(dates[duplicated].to_numpy())
        shown = [f"{_day(pd.Timestamp(date))} at lines {', '.join(map(str, group))}"
                 for date, group in list(groups)[:_SHOWN]]
        more = ", ..." if groups.ngroups > _SHOWN else ""
        problems.append(f"column {date_column!r} has {groups.ngroups} duplicated date(s): "
                        + "; ".join(shown) + more)
    return dates


def _handle_missing(values: np.ndarray, dates: pd.DatetimeIndex | None, lines: np.ndarray,
                    missing: str, source: str, column: str
                    ) -> tuple[np.ndarray, pd.DatetimeIndex | None, np.ndarray]:
    nan = np.isnan(values)
    if not nan.any():
        return values, dates, lines
    if missing == "drop":
        keep = ~nan
        if not keep.any():
            raise ValueError(f"{source}: column {column!r} has no value left after "
                             f"dropping its {nan.sum()} missing value(s).")
        return values[keep], None if dates is None else dates[keep], lines[keep]
    present = np.flatnonzero(~nan)
    edges = nan & ((np.arange(len(values)) < (present[0] if present.size else len(values)))
                   | (np.arange(len(values)) > (present[-1] if present.size else -1)))
    if edges.any():
        raise ValueError(f"{source}: column {column!r} has {edges.sum()} missing value(s) "
                         f"before its first or after its last value, which cannot be "
                         f"interpolated: {_lines(lines[edges])} (pass missing='drop').")
    if dates is None:
        position = np.arange(len(values), dtype=np.float64)
    else:
        position = (dates.to_numpy() - dates.to_numpy()[0]) / np.timedelta64(1, "s")
    filled = values.copy()
    filled[nan] = np.interp(position[nan], position[~nan], values[~nan])
    return filled, dates, lines


def _find_gaps(dates: pd.DatetimeIndex, lines: np.ndarray
               ) -> tuple[pd.Timedelta | pd.offsets.BusinessDay | None, tuple[Gap, ...]]:
    """The regular step and the gaps (see load_csv_series for the rule)."""
    if len(dates) < 2:
        return None, ()
    stamps = dates.tz_localize(None) if dates.tz is not None else dates
    diffs = np.diff(stamps.to_numpy())
    steps, counts = np.unique(diffs, return_counts=True)
    step = steps[np.argmax(counts)]  # ties: the smallest
    days = stamps.to_numpy().astype("datetime64[D]")
    business = step == _DAY and (stamps.day_of_week < 5).all()
    if business:
        n_steps = np.busday_count(days[:-1], days[1:])
        business = bool((n_steps != np.diff(days) / _DAY).any())  # spans a weekend
    if business:
        regular: pd.Timedelta | pd.offsets.BusinessDay = pd.offsets.BusinessDay()
        is_gap = n_steps > 1
    else:
        n_steps = np.rint(diffs / step).astype(np.int64)
        regular = pd.Timedelta(step)
        is_gap = diffs > 1.5 * step
    found = tuple(Gap(dates[i], dates[i + 1], int(n_steps[i]) - 1, int(lines[i + 1]))
                  for i in np.flatnonzero(is_gap))
    return regular, found


def _day(stamp: pd.Timestamp) -> str:
    """``2024-01-02`` at midnight, the full timestamp otherwise."""
    return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)


def _describe_step(step: pd.Timedelta | pd.offsets.BusinessDay) -> str:
    if isinstance(step, pd.offsets.BusinessDay):
        return "1 business day"
    if step % pd.Timedelta(days=1) == pd.Timedelta(0):
        days = step // pd.Timedelta(days=1)
        return f"{days} day" + ("s" if days > 1 else "")
    return str(step)


def _gap_message(source: str, date_column: str | None, step: pd.Timedelta,
                 found: tuple[Gap, ...]) -> str:
    shown = [f"{gap.n_missing} missing between {_day(gap.after)} and {_day(gap.before)} "
             f"(line {gap.line})" for gap in found[:_SHOWN]]
    more = ", ..." if len(found) > _SHOWN else ""
    total = sum(gap.n_missing for gap in found)
    return (f"{source}: column {date_column!r} has {len(found)} gap(s) in its regular "
            f"step of {_describe_step(step)}, {total} missing date(s) in all: "
            + "; ".join(shown) + more + " (pass gaps='ignore' to accept them).")
