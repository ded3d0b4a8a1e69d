"""The series that ``seqpipe run stock`` and ``seqpipe run csv`` train on, and their split.

A run reads one column of values (a user's CSV, or the shipped BTC USD closes),
holds out its last 15 % of time steps for validation, and trains on the rest. The
series is split *before* it is windowed, so the validation windows' targets all lie
after the training targets: no gap is needed (:mod:`seqpipe._time_split`); the
validation windows' inputs reach back ``window_past`` steps into the training part,
as a forecaster's would.

Season detection (:func:`detect_season`) and the seasonal-naive and linear
autoregression baselines work on the training part only.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from seqpipe._cli_baselines import peak_lag
from seqpipe.datasets import load_btc_usd_eur, load_csv_series

__all__ = ["Series", "SeriesSpec", "detect_season", "load_series", "read_spec",
           "seasonal_naive", "split_series", "write_spec"]

VALIDATION_SIZE = 0.15
SPEC_SUFFIX = ".series.json"


@dataclass(frozen=True)
class Series:
    """A univariate series: values ``(T, 1)``, dates (or None), where it came from."""

    values: np.ndarray
    dates: pd.DatetimeIndex | None
    source: str
    column: str


@dataclass(frozen=True)
class SeriesSpec:
    """What ``seqpipe predict`` needs to forecast from a CSV: written beside the model."""

    column: str
    date_column: str | None
    window_past: int
    window_future: int
    step: str | None  # the regular step between dates, as pandas prints it


def load_series(data: Path | None, column: str, date_column: str | None,
                cpi: Path | None = None, cpi_column: str | None = None) -> Series:
    """The user's CSV column (optionally deflated by a CPI CSV), or the shipped BTC USD
    closes when ``data`` is None. ValueError/OSError name the problem."""
    if data is None:
        prices = load_btc_usd_eur()["close_usd"]
        series = Series(prices.to_numpy()[:, None], prices.index, "the shipped BTC USD "
                        "daily closes (seqpipe.datasets.load_btc_usd_eur)", "close_usd")
    else:
        loaded = load_csv_series(data, column, date_column, gaps="ignore")
        series = Series(loaded.values, loaded.dates, str(data), column)
    if cpi is None:
        return series
    if series.dates is None:
        raise ValueError("--cpi needs dates: pass --date-column to align the prices with "
                         "the price index by date.")
    from seqpipe.pipelines.stock import deflate_by_cpi  # Keras (seqpipe.pipelines)

    index = _read_cpi(cpi, cpi_column)
    real = deflate_by_cpi(pd.Series(series.values[:, 0], index=series.dates), index)
    return Series(real.to_numpy()[:, None], real.index, f"{series.source} / CPI ({cpi})",
                  series.column)


def _read_cpi(path: Path, column: str | None) -> pd.Series:
    """A CPI CSV: a date column first (or named DATE/date), the index in ``column`` (or
    the second column)."""
    header = pd.read_csv(path, nrows=0).columns.tolist()
    if len(header) < 2:
        raise ValueError(f"{path}: a CPI file needs a date column and a value column; "
                         f"the columns are {header}.")
    date_column = next((c for c in header if c.lower() == "date"), header[0])
    value_column = column or next(c for c in header if c != date_column)
    loaded = load_csv_series(path, value_column, date_column, gaps="ignore")
    return pd.Series(loaded.values[:, 0], index=loaded.dates)


def split_series(n_timesteps: int, window_past: int, window_future: int
                 ) -> tuple[slice, slice]:
    """The training part and the validation *input* (the held-out last 15 % of the
    time steps as targets, with the ``window_past`` steps before them as inputs).

    ValueError when either part is too short to hold one window.
    """
    n_validation = math.ceil(VALIDATION_SIZE * n_timesteps)
    n_train = n_timesteps - n_validation
    needed = window_past + window_future
    if n_validation < window_future or n_train < needed + 1:
        raise ValueError(
            f"the series has {n_timesteps} time steps: too few for windows of "
            f"{window_past} past and {window_future} future values with the last "
            f"{VALIDATION_SIZE:.0%} held out (need at least "
            f"{math.ceil((needed + 1) / (1 - VALIDATION_SIZE)) + 1}).")
    return slice(0, n_train), slice(n_train - window_past, n_timesteps)


def detect_season(train: np.ndarray, max_lag: int | None = None,
                  threshold: float = 0.3) -> int | None:
    """The lag of the highest local peak of the autocorrelation of the series'
    differences, if above ``threshold`` (a cycle); None otherwise. Lags from 2 to
    ``max_lag`` (default: a third of the series, at most 400).

    >>> t = np.arange(600.0)
    >>> detect_season(np.sin(2 * np.pi * t / 24) + 0.01 * t)
    24
    >>> detect_season(np.cumsum(np.random.default_rng(0).normal(size=600))) is None
    True
    """
    diffs = np.diff(np.asarray(train, dtype=np.float64).ravel())
    max_lag = min(400, len(diffs) // 3) if max_lag is None else max_lag
    if max_lag < 2:
        return None
    centered = diffs - diffs.mean()
    variance = float(centered @ centered)
    if variance == 0:
        return None
    acf = np.array([variance] + [centered[:-lag] @ centered[lag:]
                                 for lag in range(1, max_lag + 1)]) / variance
    return peak_lag(acf, threshold)


def seasonal_naive(series: np.ndarray, target_starts: np.ndarray, window_future: int,
                   season: int) -> np.ndarray:
    """The value one season before each target: ``(n, window_future, d)``.

    ``target_starts[i]`` is the index in ``series`` of window i's first future step;
    step ``h`` (0-based) is forecast by ``series[s + h - season * (h // season + 1)]``,
    a value already known when window i ends.
    """
    h = np.arange(window_future)
    back = season * (h // season + 1)
    return series[target_starts[:, None] + h[None, :] - back[None, :]]


def write_spec(artifact: Path, spec: SeriesSpec) -> Path:
    """Write ``spec`` beside ``artifact`` (``<artifact>.series.json``)."""
    path = artifact.with_name(artifact.name + SPEC_SUFFIX)
    path.write_text(json.dumps(asdict(spec), indent=2) + "\n")
    return path


def read_spec(artifact: Path) -> SeriesSpec | None:
    """The spec written beside ``artifact``, or None if the model was not trained on a
    CSV series."""
    path = artifact.with_name(artifact.name + SPEC_SUFFIX)
    if not path.is_file():
        return None
    return SeriesSpec(**json.loads(path.read_text()))
