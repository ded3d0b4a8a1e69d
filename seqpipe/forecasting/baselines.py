"""The naive forecasts every model is judged against: the last value, and the value
one season earlier.

Both are estimators on forecasting windows (:mod:`seqpipe.forecasting.windows`), so
they are candidates of a :class:`~seqpipe.forecasting.Forecaster` like any model,
and :func:`~seqpipe.forecasting.summary` reports them beside it.

>>> import numpy as np
>>> from seqpipe.forecasting.windows import make_windows
>>> series = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0])[:, None]
>>> X, y = make_windows(series, np.array([5]), window_past=4, horizon=2, n_known_ahead=0,
...                     with_targets=True)
>>> LastValue().fit(X, y).predict(X).tolist()
[[3.0, 3.0]]
>>> SeasonalNaive(3).fit(X, y).predict(X).tolist()
[[1.0, 2.0]]
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from seqpipe._validation import check_fitted, validate_X, validate_y

__all__ = ["LastValue", "SeasonalNaive"]


class _WindowBaseline(RegressorMixin, BaseEstimator):
    """Fit learns only the horizon (from y); predict reads the windows' past target."""

    def fit(self, X: Any, y: Any) -> _WindowBaseline:
        """Record the horizon, ``y.shape[1]``.

        Parameters
        ----------
        X : array-like of shape (n_windows, P + H, n_channels)
        y : array-like of shape (n_windows, H)
        """
        X = validate_X(self, X, reset=True, ndims=(3,), allow_nan=True)
        y = validate_y(y, len(X))
        if y.ndim != 2:
            raise ValueError(f"{type(self).__name__} expects y of shape (n_windows, "
                             f"horizon); got {y.shape}.")
        self.horizon_ = y.shape[1]
        self._check_past(X.shape[1] - self.horizon_)
        return self

    def _check_past(self, past: int) -> None:
        if past < 1:
            raise ValueError(f"{type(self).__name__}: windows have no past row.")

    def predict(self, X: Any) -> np.ndarray:
        """The forecast of each window, shape ``(n_windows, H)``."""
        check_fitted(self, "horizon_")
        X = validate_X(self, X, reset=False, ndims=(3,), allow_nan=True)
        past = X.shape[1] - self.horizon_
        self._check_past(past)
        return X[:, self._rows(past), 0]


class LastValue(_WindowBaseline):
    """Every step ahead forecast by the last observed value (the random walk's best
    forecast).

    Attributes
    ----------
    horizon_ : int
        Steps forecast per window.

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.forecasting import LastValue, make_windows
    >>> series = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0])[:, None]
    >>> X, y = make_windows(series, np.array([5]), window_past=4, horizon=2, n_known_ahead=0,
    ...                     with_targets=True)
    >>> LastValue().fit(X, y).predict(X).tolist()
    [[3.0, 3.0]]
    """

    def _rows(self, past: int) -> np.ndarray:
        return np.full(self.horizon_, past - 1)


class SeasonalNaive(_WindowBaseline):
    """Each step ahead forecast by the value one season (or a whole number of seasons)
    before it, the latest one observed.

    Parameters
    ----------
    season : int
        The cycle's length in time steps (see :func:`~seqpipe.forecasting.detect_season`);
        the windows must hold at least one season of past rows.

    Attributes
    ----------
    horizon_ : int
        Steps forecast per window.

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.forecasting import SeasonalNaive, make_windows
    >>> series = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0])[:, None]
    >>> X, y = make_windows(series, np.array([5]), window_past=4, horizon=2, n_known_ahead=0,
    ...                     with_targets=True)
    >>> SeasonalNaive(3).fit(X, y).predict(X).tolist()
    [[1.0, 2.0]]
    """

    def __init__(self, season: int) -> None:
        self.season = season

    def _check_past(self, past: int) -> None:
        if isinstance(self.season, bool) or not isinstance(self.season, Integral) \
                or self.season < 1:
            raise ValueError(f"The 'season' parameter of SeasonalNaive must be an int in "
                             f"the range [1, inf). Got {self.season!r} instead.")
        if past < self.season:
            raise ValueError(f"SeasonalNaive(season={self.season}) needs windows of at "
                             f"least {self.season} past rows; got {past}.")

    def _rows(self, past: int) -> np.ndarray:
        steps = np.arange(1, self.horizon_ + 1)
        return past - 1 + steps - self.season * -(-steps // self.season)
