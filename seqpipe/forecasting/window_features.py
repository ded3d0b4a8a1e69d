"""What the models read of scaled forecasting windows (:mod:`seqpipe.forecasting.windows`):
:class:`WindowLags` brings seasons back to the forecast rows and keeps the recent past;
:class:`WindowFeatures` flattens windows into rows of features for a tabular regressor.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from seqpipe._validation import check_fitted, validate_X
from seqpipe.base import StepTags
from seqpipe.forecasting.windows import past_length

__all__ = ["WindowFeatures", "WindowLags"]


class WindowFeatures(TransformerMixin, BaseEstimator):
    """Flatten scaled windows into a row of features for a tabular regressor: the past
    rows of every channel, and the forecast rows of the channels known ahead.

    With ``nonlinear``, the first ``nonlinear`` channels known ahead (the future
    covariates come first) also give piecewise-linear features over the forecast
    rows, ``max(0, x - k)`` at ``knots`` quantiles ``k`` of each (learned in fit): a
    linear model then fits a bent response, such as the U of an electricity load
    against the temperature (heating when cold, cooling when hot). A channel with at
    most two values (a 0/1 flag) gets none.

    Parameters
    ----------
    n_known_ahead : int, default=1
        Trailing channels known over the forecast rows (future covariates, and the
        level channel :class:`~seqpipe.forecasting.WindowScaler` appends).
    nonlinear : int, default=0
        Leading channels of the ``n_known_ahead`` ones given piecewise-linear features.
    knots : int, default=4
        Knots per such channel.
    per_window : sequence of int, default=()
        Channels known ahead that are constant along each window (with many series,
        the identity :class:`~seqpipe.forecasting.WindowScaler` puts in place of the
        code, a level): each given once, as the last features in this order, instead
        of on every row. A regressor such as :class:`~seqpipe.forecasting.SeriesRidge`
        reads there which series a row is of.

    Attributes
    ----------
    horizon_ : int
        Forecast rows per window (from fit's y).
    knots_ : list of ndarray
        The knots of each of the ``nonlinear`` channels (empty for a flag).
    per_window_ : tuple of int
        The ``per_window`` channels, counted from 0.
    n_features_out_ : int
        Features per window.

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.forecasting import WindowFeatures, WindowScaler, make_windows
    >>> data = np.column_stack([10 + np.arange(12.0), np.arange(12.0) % 3])
    >>> X, y = make_windows(data, np.array([5, 6, 7]), window_past=4, horizon=2,
    ...                     n_known_ahead=1, with_targets=True)
    >>> Xs, ys = WindowScaler().fit_resample(X, y)
    >>> WindowFeatures(n_known_ahead=1).fit(Xs, ys).transform(Xs).shape
    (3, 14)
    """

    def __init__(self, n_known_ahead: int = 1, *, nonlinear: int = 0, knots: int = 4,
                 per_window: Any = ()) -> None:
        self.n_known_ahead = n_known_ahead
        self.nonlinear = nonlinear
        self.knots = knots
        self.per_window = per_window

    def fit(self, X: Any, y: Any = None) -> WindowFeatures:
        """Learn the horizon from ``y`` (shape ``(n_windows, horizon)``), and the knots."""
        X = validate_X(self, X, reset=True, ndims=(3,))
        if y is None or np.ndim(y) != 2:
            raise ValueError("WindowFeatures.fit needs y of shape (n_windows, horizon).")
        if not 0 <= self.n_known_ahead <= X.shape[2]:
            raise ValueError(f"The 'n_known_ahead' parameter of WindowFeatures must be an "
                             f"int in the range [0, {X.shape[2]}]. Got {self.n_known_ahead!r}"
                             f" instead.")
        if not 0 <= self.nonlinear <= self.n_known_ahead:
            raise ValueError(f"The 'nonlinear' parameter of WindowFeatures must be an int in "
                             f"the range [0, {self.n_known_ahead}] (n_known_ahead). Got "
                             f"{self.nonlinear!r} instead.")
        if isinstance(self.knots, bool) or not isinstance(self.knots, numbers.Integral) \
                or self.knots < 1:
            raise ValueError(f"The 'knots' parameter of WindowFeatures must be an int in the "
                             f"range [1, inf). Got {self.knots!r} instead.")
        self.per_window_ = self._per_window_channels(X.shape[2])
        self.horizon_ = np.shape(y)[1]
        past_length(X, self.horizon_, "WindowFeatures")
        self._learn_knots(self._knot_values(X), X[:1])
        return self

    def _knot_values(self, X: np.ndarray) -> np.ndarray:
        """What the knots are quantiles of: the ``nonlinear`` channels over the forecast
        rows, shape (n_windows, horizon, nonlinear) (a view)."""
        first = X.shape[2] - self.n_known_ahead
        return X[:, X.shape[1] - self.horizon_:, first:first + self.nonlinear]

    def _learn_knots(self, values: np.ndarray, sample: np.ndarray) -> None:
        """``knots_`` from :meth:`_knot_values` of all training windows, then
        ``n_features_out_`` (``sample``: one of them)."""
        levels = np.linspace(0, 1, self.knots + 2)[1:-1]
        self.knots_ = []
        for channel in range(self.nonlinear):
            each = values[:, :, channel].ravel()
            flag = len(np.unique(each[:1000])) <= 2 and len(np.unique(each)) <= 2
            self.knots_.append(np.empty(0) if flag else np.unique(np.quantile(each, levels)))
        self.n_features_out_ = self.transform(sample).shape[1]

    def transform(self, X: Any) -> np.ndarray:
        """Features of shape ``(n_windows, n_features_out_)``."""
        check_fitted(self, "horizon_")
        X = validate_X(self, X, reset=False, ndims=(3,))
        past = past_length(X, self.horizon_, "WindowFeatures")
        known = X.shape[2] - self.n_known_ahead
        per_window = getattr(self, "per_window_", ())  # older pickles: none
        ahead = X[:, :, known:] if not per_window else X[:, :, [
            c for c in range(known, X.shape[2]) if c not in per_window]]
        parts = [X[:, :past, :known].reshape(len(X), -1), ahead.reshape(len(X), -1)]
        for offset, knots in enumerate(getattr(self, "knots_", ())):  # older pickles: none
            if len(knots):
                rows = X[:, past:, known + offset, None]  # (n, H, 1)
                parts.append(np.maximum(rows - knots, 0.0).reshape(len(X), -1))
        if per_window:
            parts.append(X[:, 0, list(per_window)])
        return np.concatenate(parts, axis=1)

    def _per_window_channels(self, n_channels: int) -> tuple[int, ...]:
        """``per_window`` counted from 0; ValueError unless each is a distinct channel
        known ahead, after the ``nonlinear`` ones."""
        first = n_channels - self.n_known_ahead + self.nonlinear
        channels = tuple(int(c) % n_channels if isinstance(c, numbers.Integral)
                         and not isinstance(c, bool) and -n_channels <= c < n_channels
                         else -1 for c in self.per_window)
        if any(c < first for c in channels) or len(set(channels)) < len(channels):
            raise ValueError(f"The 'per_window' parameter of WindowFeatures must hold distinct "
                             f"channels known ahead and not 'nonlinear' (in the range "
                             f"[{first}, {n_channels - 1}], or negative from the end). Got "
                             f"{self.per_window!r} instead.")
        return channels


class WindowLags(TransformerMixin, BaseEstimator):
    """Bring seasons back to the forecast rows, and keep only the recent past.

    Reads the windows :class:`~seqpipe.forecasting.WindowScaler` makes. For each lag
    ``L``, appends a channel holding, on every row, the target ``L`` rows earlier (0 before the
    window's start): on the forecast rows, the value one season (or one day, one
    week) before the step forecast, a channel known ahead like the future covariates.
    Then keeps only the last ``past`` past rows (and the forecast rows). A model reads
    the seasonal pattern at the step it forecasts instead of finding it far back in a
    long window, and its recurrent layers run over a short one.

    Parameters
    ----------
    lags : sequence of int, default=()
        Each at least the horizon (the value ``L`` steps before every forecast row is
        observed) and at most the windows' past rows.
    past : int, optional
        Past rows kept; default all (at most the windows' past rows).

    Attributes
    ----------
    horizon_ : int
        Forecast rows per window (from fit's y).
    lags_ : tuple of int

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.forecasting import WindowLags, WindowScaler, make_windows
    >>> data = np.column_stack([10 + np.arange(12.0), np.arange(12.0) % 3])
    >>> X, y = make_windows(data, np.array([5, 6, 7]), window_past=4, horizon=2,
    ...                     n_known_ahead=1, with_targets=True)
    >>> Xs, ys = WindowScaler().fit_resample(X, y)
    >>> WindowLags(lags=(3,)).fit(Xs, ys).transform(Xs).shape     # one channel per lag
    (3, 6, 4)
    """

    def __init__(self, lags: Any = (), past: int | None = None) -> None:
        self.lags = lags
        self.past = past

    def __seqpipe_tags__(self) -> StepTags:
        """Samplewise: each window on its own, nothing learned on later passes."""
        return StepTags(keeps_samples=True, samplewise=True)

    def fit(self, X: Any, y: Any = None) -> WindowLags:
        """Learn the horizon from ``y`` (shape ``(n_windows, horizon)``); check the lags."""
        X = validate_X(self, X, reset=True, ndims=(3,))
        if y is None or np.ndim(y) != 2:
            raise ValueError("WindowLags.fit needs y of shape (n_windows, horizon).")
        self.horizon_ = np.shape(y)[1]
        window_past = past_length(X, self.horizon_, "WindowLags")
        self.lags_ = tuple(int(lag) for lag in self.lags)
        bad = [lag for lag in self.lags_ if not self.horizon_ <= lag <= window_past]
        if bad:
            raise ValueError(f"The 'lags' parameter of WindowLags must hold ints in the range "
                             f"[{self.horizon_}, {window_past}] (the horizon to the windows' "
                             f"past rows). Got {list(self.lags)!r} instead.")
        if self.past is not None and (isinstance(self.past, bool) or not isinstance(
                self.past, numbers.Integral) or self.past < 1):
            raise ValueError(f"The 'past' parameter of WindowLags must be None or an int in "
                             f"the range [1, inf). Got {self.past!r} instead.")
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Windows of ``min(past, P) + H`` rows, with ``len(lags)`` channels appended."""
        check_fitted(self, "horizon_")
        X = validate_X(self, X, reset=False, ndims=(3,))
        window_past = past_length(X, self.horizon_, "WindowLags")
        keep = window_past if self.past is None else min(int(self.past), window_past)
        first = window_past - keep
        out = np.zeros((len(X), keep + self.horizon_, X.shape[2] + len(self.lags_)))
        out[:, :, :X.shape[2]] = X[:, first:]
        for i, lag in enumerate(self.lags_):
            start = max(first, lag)  # rows before ``lag`` have no value lag rows back
            out[:, start - first:, X.shape[2] + i] = X[:, start - lag:X.shape[1] - lag, 0]
        return out
