"""Prediction intervals by split conformal prediction, calibrated once at fit.

A :class:`~seqpipe.forecasting.Forecaster` with ``levels`` keeps the errors its chosen
model made on the held-out part while it was chosen: forecasts from every origin of
that part, by the model fitted on the data before it, so every error is out of sample
(and no held-out target was a training target). For each step ahead ``h`` and level
``L``, the interval is ``prediction ± q``, ``q`` the ``ceil((n + 1) L / 100)``-th smallest
of the ``n`` absolute errors at step ``h``.

**The guarantee and its assumptions.** If the future errors are exchangeable with the
calibration errors (the series behaves after the held-out part as during it), the
interval covers the truth with probability at least ``L`` % at each step ahead. Drift
breaks it: a series whose noise grows, a level shift, a season unlike any in the
held-out part make the intervals too narrow; a backtest's ``coverage_L`` (see
:func:`~seqpipe.forecasting.summary`) shows it. The errors of overlapping forecasts
are correlated, which leaves the guarantee on average but makes the coverage of a
short backtest vary more than independent draws would.

>>> import numpy as np
>>> errors = np.arange(1.0, 20.0)[:, None]        # 19 absolute errors at one step ahead
>>> conformal_quantiles(errors, (80.0,))[80.0].tolist()   # the 16th smallest
[16.0]
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["check_levels", "conformal_quantiles", "interval_columns"]


def check_levels(levels: Any, owner: str = "Forecaster") -> tuple[float, ...]:
    """``levels`` as a sorted tuple of floats in (0, 100); ValueError otherwise."""
    given = (levels,) if isinstance(levels, numbers.Real) else levels
    valid = not isinstance(given, str) and hasattr(given, "__iter__")
    values = tuple(given) if valid else ()
    valid = valid and all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                          and 0 < v < 100 for v in values)
    if not valid or len(set(values)) != len(values):
        raise ValueError(f"The 'levels' parameter of {owner} must be a sequence of distinct "
                         f"coverages in percent, each in the range (0, 100), e.g. (80, 95). "
                         f"Got {levels!r} instead.")
    return tuple(sorted(float(v) for v in values))


def conformal_quantiles(errors: np.ndarray, levels: tuple[float, ...]
                        ) -> dict[float, np.ndarray]:
    """The half-width of each level's interval at each step ahead.

    Parameters
    ----------
    errors : ndarray of shape (n_forecasts, horizon)
        Out-of-sample errors (signed or absolute).
    levels : tuple of float
        Coverages in percent.

    Returns
    -------
    dict of float to ndarray of shape (horizon,)

    Raises
    ------
    ValueError
        When there are too few errors for a level (``ceil((n + 1) L / 100) > n``).
    """
    absolute = np.sort(np.abs(np.asarray(errors, dtype=np.float64)), axis=0)
    n = len(absolute)
    widths = {}
    for level in levels:
        rank = math.ceil((n + 1) * level / 100)
        if rank > n:
            raise ValueError(f"a {level:g} % interval needs at least "
                             f"{math.ceil(100 / (100 - level)) - 1} out-of-sample errors; "
                             f"the held-out part gave {n} (give a longer series or a larger "
                             f"validation_size).")
        widths[level] = absolute[rank - 1]
    return widths


def interval_columns(prediction: np.ndarray, widths: dict[float, np.ndarray]
                     ) -> dict[str, np.ndarray]:
    """``lower_L`` and ``upper_L`` for each level, shaped as ``prediction`` (whose last
    axis is the step ahead)."""
    columns = {}
    for level, width in widths.items():
        columns[f"lower_{level:g}"] = prediction - width
        columns[f"upper_{level:g}"] = prediction + width
    return columns
