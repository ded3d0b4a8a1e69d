"""A synthetic panel of related daily series, for tests and benchmarks of forecasters
that learn from many series at once.

>>> from seqpipe.datasets import make_panel
>>> panel = make_panel(3, 800, random_state=0)
>>> panel.shape
(800, 3)
>>> panel.columns.tolist()
['series-0', 'series-1', 'series-2']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from seqpipe._validation import check_generator, check_int_param

__all__ = ["make_panel"]


def make_panel(n_series: int = 200, n_timesteps: int = 1200, *, noise: float = 0.3,
               late_start: float = 0.4, start: str = "2018-01-01",
               random_state: Any = None) -> pd.DataFrame:
    """Daily series sharing a yearly and a weekly cycle, each with its own level,
    trend, scale and start date.

    Series ``i`` is ``scale_i * (level_i + trend_i * t / 365 + yearly_i(t) +
    weekly_i(t) + noise * e_i[t])``: the cycles' shapes are shared, their amplitudes
    vary by series (0.5 to 1.5 times 2 for the year, 1 for the week), ``scale_i`` spans
    three orders of magnitude (``10 ** U(0, 3)``), ``e`` is standard Gaussian noise (so
    ``noise * scale_i`` is the best forecast's error), and a series starts at a date
    drawn from the first ``late_start`` of the period (NaN before).

    Parameters
    ----------
    n_series : int, default=200
    n_timesteps : int, default=1200
        Days from ``start``.
    noise : float, default=0.3
        Standard deviation of the noise, in units of the series' scale.
    late_start : float, default=0.4
        Latest start, as a fraction of ``n_timesteps`` (0: all start together).
    start : str, default="2018-01-01"
    random_state : int, numpy Generator or None, default=None

    Returns
    -------
    pandas.DataFrame
        Indexed by dates named ``"date"``, one column per series (``series-0``, ...).

    Examples
    --------
    >>> from seqpipe.datasets import make_panel
    >>> panel = make_panel(3, 400, random_state=0)
    >>> panel.shape, list(panel.columns)
    ((400, 3), ['series-0', 'series-1', 'series-2'])
    >>> panel.index.name
    'date'
    """
    owner = "make_panel"
    check_int_param(owner, "n_series", n_series)
    check_int_param(owner, "n_timesteps", n_timesteps)
    if not 0 <= late_start < 1:
        raise ValueError(f"The 'late_start' parameter of make_panel must be in [0, 1). Got "
                         f"{late_start!r} instead.")
    rng = check_generator(random_state)
    t = np.arange(n_timesteps, dtype=np.float64)
    dates = pd.date_range(start, periods=n_timesteps, freq="D", name="date")
    year = 2 * np.pi * dates.dayofyear.to_numpy() / 365.25
    yearly = np.sin(year) + 0.4 * np.cos(2 * year)
    weekly = np.array([0.3, 0.5, 0.4, 0.2, 0.0, -0.6, -0.8])[dates.dayofweek.to_numpy()]
    level = rng.uniform(5, 15, (n_series, 1))
    trend = rng.normal(0, 0.5, (n_series, 1))
    amplitude = rng.uniform(0.5, 1.5, (n_series, 2))
    scale = 10 ** rng.uniform(0, 3, (n_series, 1))
    values = scale * (level + trend * t / 365 + 2 * amplitude[:, :1] * yearly
                      + amplitude[:, 1:] * weekly
                      + noise * rng.standard_normal((n_series, n_timesteps)))
    starts = rng.integers(0, int(late_start * n_timesteps) + 1, n_series)
    values[t[None, :] < starts[:, None]] = np.nan
    return pd.DataFrame(values.T, index=dates,
                        columns=[f"series-{i}" for i in range(n_series)])
