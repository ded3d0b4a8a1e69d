"""What a :class:`~seqpipe.forecasting.Forecaster` decides at fit before any model is
trained (the season, the past it reads, the scale of each series' errors), and how it
scores its candidates on the held-out part.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from seqpipe.forecasting.chunked import windows_for
from seqpipe.forecasting.panel import Panel
from seqpipe.forecasting.season import detect_season

__all__ = ["auto_window_past", "resolve_season", "resolve_window_past", "score_candidates",
           "series_scales", "training_lengths"]

MIN_WINDOW_PAST = 30
MIN_TRAIN_WINDOWS = 10


def training_lengths(panel: Panel, n_train: int) -> np.ndarray:
    """Time steps of each series before the held-out part (from ``n_train``)."""
    return np.clip(np.minimum(panel.ends + 1, n_train) - panel.starts, 0, None)


def resolve_season(season: Any, panel: Panel, n_train: int) -> int | None:
    """``season``, or for ``"auto"`` the one found most often in the series' training
    parts."""
    if not isinstance(season, str):
        return season
    found = [detect_season(panel.values[code, start:start + length])
             for code, (start, length) in enumerate(zip(panel.starts,
                                                        training_lengths(panel, n_train)))]
    counts = pd.Series([each for each in found if each is not None]).value_counts()
    return None if counts.empty else int(counts.index[0])


def auto_window_past(n_train: int, horizon: int, season: int | None) -> int:
    """The past time steps ``window_past="auto"`` reads: two seasons, at least 30, at
    most a third of the training part (``n_train`` time steps) less the horizon."""
    wanted = max(MIN_WINDOW_PAST, 2 * (season or 0))
    return max(1, min(wanted, (n_train - horizon) // 3))


def resolve_window_past(window_past: Any, panel: Panel, *, horizon: int,
                        season: int | None, n_train: int) -> int:
    """``window_past`` (for ``"auto"``, :func:`auto_window_past` of the median training
    length); ValueError when the series are too short for it."""
    lengths = training_lengths(panel, n_train)
    past = auto_window_past(int(np.median(lengths)), horizon, season) \
        if isinstance(window_past, str) else window_past
    windows = lengths - horizon - past + 1
    if panel.names is None and windows[0] < MIN_TRAIN_WINDOWS:
        raise ValueError(
            f"Forecaster: the series is too short: {n_train} time steps before the "
            f"held-out {len(panel.index) - n_train} leave fewer than {MIN_TRAIN_WINDOWS} "
            f"training windows of {past} past and {horizon} future steps.")
    if panel.names is None:
        return past
    if np.clip(windows, 0, None).sum() < MIN_TRAIN_WINDOWS:
        raise ValueError(
            f"Forecaster: the series are too short: before the held-out part (from "
            f"{panel.index[n_train]}) they hold fewer than {MIN_TRAIN_WINDOWS} "
            f"training windows of {past} past and {horizon} future steps.")
    short = np.flatnonzero(panel.ends - panel.starts + 1 < past + horizon)
    if len(short):
        names = [panel.label(code) for code in short]
        raise SeriesTooShortError(
            f"Forecaster: the series {names[:5]}{' ...' if len(names) > 5 else ''} "
            f"are too short: a series needs {past + horizon} time steps "
            f"(window_past {past} + horizon {horizon}) for one window.", names)
    return past


class SeriesTooShortError(ValueError):
    """Some series hold fewer time steps than one window: ``series``, their names."""

    def __init__(self, message: str, series: list) -> None:
        super().__init__(message)
        self.series = series


def series_scales(panel: Panel, n_train: int) -> np.ndarray:
    """What each series' errors are divided by when scored and calibrated: with many
    series, the mean absolute change between time steps of its training part (of all
    of it for a series starting in the held-out part, which is not scored); 1 for one
    series."""
    if panel.names is None:
        return np.ones(1)
    lengths = training_lengths(panel, n_train)
    lengths = np.where(lengths >= 2, lengths, panel.ends - panel.starts + 1)
    scales = np.array([np.mean(np.abs(np.diff(panel.values[code, start:start + n])))
                       for code, (start, n) in enumerate(zip(panel.starts, lengths))])
    return np.where(np.isfinite(scales) & (scales > 0), scales, 1.0)


def score_candidates(pool: dict[str, Any], train: tuple[np.ndarray, np.ndarray],
                     validation: tuple[np.ndarray, np.ndarray], scales: np.ndarray
                     ) -> tuple[dict, dict, dict]:
    """Each candidate's validation MSE once fitted on ``train`` (NaN, with the reason in
    the second dict, when it cannot be fitted on it), and its validation errors, each
    divided by the scale of its window's series (``scales``, one per window)."""
    scores, reasons, residuals = {}, {}, {}
    X_val, y_val = validation
    for name, candidate in pool.items():
        try:
            fitted = clone(candidate).fit(windows_for(candidate, train[0]), train[1])
            y_pred = np.asarray(fitted.predict(windows_for(candidate, X_val)), np.float64)
        except ValueError as error:
            scores[name] = float("nan")
            reasons[name] = " ".join(str(error).split())
            continue
        residuals[name] = (y_pred.reshape(y_val.shape) - y_val) / scales[:, None]
        scores[name] = float(np.mean(residuals[name] ** 2))
    return scores, reasons, residuals
