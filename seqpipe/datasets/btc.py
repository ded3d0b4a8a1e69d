"""Daily Bitcoin closing prices in USD and EUR, read from a CSV shipped with seqpipe."""

from __future__ import annotations

import os
from importlib import resources

import numpy as np
import pandas as pd

BTC_CSV_NAME = "btc_usd_eur_daily.csv"
BTC_COLUMNS = ("close_usd", "close_eur")
_EXPECTED = ("date", *BTC_COLUMNS)


def load_btc_usd_eur(
    path: str | os.PathLike[str] | None = None,
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Load daily Bitcoin closing prices in USD and EUR.

    Reads the CSV shipped with seqpipe (daily closes from 2010-07-18 to 2026-08-22,
    without gaps) or a CSV of yours with the same columns. Nothing is downloaded.

    Parameters
    ----------
    path : str or path-like, default=None
        A CSV with the columns ``date``, ``close_usd`` and ``close_eur`` (extra columns
        are dropped). ``None`` reads the shipped ``data/btc_usd_eur_daily.csv``.
    start, end : str or pandas.Timestamp, default=None
        Keep only the days from ``start`` to ``end``, both included.

    Returns
    -------
    prices : pandas.DataFrame
        Columns ``close_usd`` and ``close_eur`` (float64), indexed by a
        ``DatetimeIndex`` named ``"date"``.

    Raises
    ------
    ValueError
        If a column is missing, if the dates are not strictly increasing (duplicate or
        unsorted dates), or if a date or price is missing.

    Examples
    --------
    >>> from seqpipe.datasets import load_btc_usd_eur
    >>> prices = load_btc_usd_eur(start="2017-11-30", end="2017-12-01")
    >>> prices["close_usd"].tolist()
    [9946.8, 10861.5]
    """
    if path is None:
        shipped = resources.files("seqpipe.datasets") / "data" / BTC_CSV_NAME
        with resources.as_file(shipped) as csv_path:
            frame = pd.read_csv(csv_path)
        source = BTC_CSV_NAME
    else:
        frame = pd.read_csv(path)
        source = os.fspath(path)
    missing = [column for column in _EXPECTED if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{source}: missing column(s) {missing}; expected the columns {list(_EXPECTED)}."
        )
    frame["date"] = pd.to_datetime(frame["date"])
    prices = frame.set_index("date")[list(BTC_COLUMNS)].astype(np.float64)
    _check_prices(prices, source)
    return prices.loc[start:end]


def _check_prices(prices: pd.DataFrame, source: str) -> None:
    """Raise a ValueError on missing dates or prices and on non-increasing dates."""
    dates = prices.index
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna())[0])
        raise ValueError(f"{source}: missing date in data row {row + 1}.")
    bad = np.flatnonzero(np.diff(dates.asi8) <= 0)
    if bad.size:
        before, after = dates[bad[0]], dates[bad[0] + 1]
        problem = (
            f"found duplicate {after.date()}"
            if after == before
            else f"unsorted at {after.date()} (after {before.date()})"
        )
        raise ValueError(f"{source}: dates must be strictly increasing; {problem}.")
    nan = prices.isna().to_numpy()
    if nan.any():
        row = int(nan.any(axis=1).argmax())
        columns = [column for column, bad in zip(BTC_COLUMNS, nan[row], strict=True) if bad]
        raise ValueError(
            f"{source}: missing price (NaN) in column(s) {columns}, first on "
            f"{dates[row].date()}."
        )
