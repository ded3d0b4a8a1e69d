"""Season detection: the length of a series' cycle, found on its autocorrelation.

>>> import numpy as np
>>> t = np.arange(600.0)
>>> detect_season(np.sin(2 * np.pi * t / 24) + 0.01 * t)
24
>>> detect_season(np.cumsum(np.random.default_rng(0).normal(size=600))) is None
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["detect_season", "peak_lag"]


def detect_season(y: Any, *, max_lag: int | None = None,
                  threshold: float = 0.3) -> int | None:
    """The length of the series' cycle in time steps, or None when it has none.

    The lag of the highest local peak of the autocorrelation of the series'
    differences (differencing removes trends and random-walk drift), if that
    autocorrelation exceeds ``threshold``.

    Parameters
    ----------
    y : array-like of shape (n_timesteps,) or (n_timesteps, 1)
        The series; give only the part you train on, so that the season is not
        learned from the data it will be judged on.
    max_lag : int, optional
        The longest cycle looked for; default a third of the series, at most 400.
    threshold : float, default=0.3
        The autocorrelation a peak must exceed to count as a cycle.

    Returns
    -------
    int or None
        The season (>= 2), or None.

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.forecasting import detect_season
    >>> t = np.arange(600.0)
    >>> detect_season(np.sin(2 * np.pi * t / 24) + 0.01 * t)
    24
    >>> detect_season(np.cumsum(np.random.default_rng(0).normal(size=600))) is None
    True
    """
    values = np.asarray(y, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"detect_season expects a series of shape (n_timesteps,) or "
                         f"(n_timesteps, 1); got shape {values.shape}.")
    diffs = np.diff(values)
    diffs = diffs[np.isfinite(diffs)]
    max_lag = min(400, len(diffs) // 3) if max_lag is None else min(max_lag, len(diffs) - 1)
    if max_lag < 2:
        return None
    centered = diffs - diffs.mean()
    variance = float(centered @ centered)
    if variance == 0:
        return None
    acf = np.array([variance] + [centered[:-lag] @ centered[lag:]
                                 for lag in range(1, max_lag + 1)]) / variance
    return peak_lag(acf, threshold)


def peak_lag(acf: np.ndarray, threshold: float) -> int | None:
    """The lag >= 2 of the highest local peak of an autocorrelation (``acf[k]`` at lag
    k), if above ``threshold``: a cycle, not the slow decay of a smooth signal.

    >>> peak_lag(np.array([1.0, 0.9, 0.8, 0.7]), 0.3) is None
    True
    >>> peak_lag(np.array([1.0, 0.2, -0.5, 0.6, 0.1]), 0.3)
    3
    """
    lags = np.arange(2, len(acf))
    peaks = [k for k in lags if acf[k] > acf[k - 1] and (k + 1 == len(acf)
                                                          or acf[k] >= acf[k + 1])]
    if not peaks:
        return None
    best = max(peaks, key=lambda k: acf[k])
    return int(best) if acf[best] > threshold else None
