"""Seed 002: next-day closing price from the last 30 closes, deflated and detrended.

The seed divides S&P 500 closes by the consumer price index (CPI, interpolated
linearly between its monthly dates), subtracts a straight line fitted on the
training dates, and trains an LSTM on windows of 30 values to predict the next one;
deployed, it receives one price at a time and answers once 30 have arrived.

Here:

- :func:`deflate_by_cpi` is the CPI step, on pandas Series aligned by date;
- :class:`WindowDetrender` is the trend step, fitted on the training windows only,
  and written so that a prediction needs only the last ``window_size_past`` values
  (no date): each window is expressed relative to its last value, minus the fitted
  line's slope per step. The seed's line also fixes a level (its intercept); a
  window's last value plays that role here, so nothing of the test period's level
  is assumed at training time;
- :func:`stock_pipeline` puts them together: ``Pipeline([Windower(30, 1),
  WindowDetrender(), MeanStdNormalizer(), ToNumpy(), KerasModelStep(lstm_regressor)])``
  fitted on the training series and predicting, for every window of a series, the
  next value in price units (rolling one-step predictions). With a Windower inside,
  :class:`seqpipe.StreamingPredictor` deploys it one value at a time.

>>> import numpy as np
>>> from seqpipe.pipelines.stock import WindowDetrender
>>> X = np.arange(12.0).reshape(2, 6, 1)           # two windows of a line of slope 1
>>> step = WindowDetrender()
>>> Xt, yt = step.fit_resample(X, X[:, -1:] + 1)    # the next value of each line
>>> float(step.slope_[0]), float(abs(Xt).max()), yt.ravel().tolist()
(1.0, 0.0, [0.0, 0.0])
>>> step.inverse_transform_y(np.zeros((2, 1)), X).ravel().tolist()
[6.0, 12.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from seqpipe._validation import check_fitted, validate_X, validate_y
from seqpipe.base import SampleMixin
from seqpipe.models import lstm_regressor
from seqpipe.pipeline import Pipeline
from seqpipe.steps import KerasModelStep, MeanStdNormalizer, ToNumpy, Windower

__all__ = ["WindowDetrender", "deflate_by_cpi", "stock_pipeline"]


def deflate_by_cpi(prices: pd.Series, cpi: pd.Series) -> pd.Series:
    """Divide prices by a price index interpolated linearly to their dates (seed 002).

    Parameters
    ----------
    prices : pandas.Series
        Prices indexed by a ``DatetimeIndex`` (e.g. daily closes).
    cpi : pandas.Series
        The index (e.g. monthly CPI) indexed by a ``DatetimeIndex``; read linearly
        between its dates, never extrapolated.

    Returns
    -------
    pandas.Series
        ``prices / cpi`` on the price dates inside the index's date range (dates
        before its first or after its last date are dropped, as the seed's
        ``dropna`` does).

    Raises
    ------
    ValueError
        If an index is not a DatetimeIndex, if the index has a value that is not a
        positive finite number, or if no price date falls inside its range.

    Examples
    --------
    >>> import pandas as pd
    >>> prices = pd.Series([10.0, 20.0], index=pd.to_datetime(["2020-01-01", "2020-01-16"]))
    >>> cpi = pd.Series([100.0, 200.0], index=pd.to_datetime(["2020-01-01", "2020-01-31"]))
    >>> deflate_by_cpi(prices, cpi).round(4).tolist()
    [0.1, 0.1333]
    """
    for name, series in (("prices", prices), ("cpi", cpi)):
        index = getattr(series, "index", None)
        if not isinstance(series, pd.Series) or not isinstance(index, pd.DatetimeIndex):
            raise ValueError(f"deflate_by_cpi expects {name} as a pandas Series indexed by "
                             f"dates (a DatetimeIndex); got a {type(series).__name__} "
                             f"indexed by {type(index).__name__}.")
    cpi = cpi.sort_index()
    values = cpi.to_numpy(dtype=np.float64)
    if not (np.isfinite(values).all() and (values > 0).all()):
        raise ValueError("deflate_by_cpi: the price index (cpi) must hold positive finite "
                         "numbers only.")
    inside = (prices.index >= cpi.index[0]) & (prices.index <= cpi.index[-1])
    if not inside.any():
        raise ValueError(f"deflate_by_cpi: no price date falls inside the price index's "
                         f"dates ({cpi.index[0].date()} to {cpi.index[-1].date()}).")
    kept = prices[inside]
    at = np.interp(kept.index.asi8.astype(np.float64), cpi.index.asi8.astype(np.float64),
                   values)
    return kept / at


class WindowDetrender(SampleMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Express windows and their futures relative to the window's last value, minus a
    linear trend; flatten y for a regressor; undo both on predictions.

    For a window ``x`` of ``P`` steps and its future ``y`` of ``F`` steps::

        Xt[k] = x[k] - x[P-1] - slope * (k - (P-1))          k = 0 .. P-1
        yt[h] = y[h] - x[P-1] - slope * (h + 1)              h = 0 .. F-1

    ``slope`` (per feature, per time step) is the least-squares slope of a straight
    line fitted on the training windows (each window around its own mean: a pooled
    within-window fit), learned in ``fit`` only; ``detrend=False`` fixes it at 0.
    The window's last value stands for the line's level, so a window is transformed
    on its own and a prediction needs no date: the pipeline can be deployed one value
    at a time (:class:`seqpipe.StreamingPredictor`).

    ``yt`` is flattened to ``(n, F * d)`` (what a window-to-vector regressor such as
    :func:`seqpipe.models.lstm_regressor` or scikit-learn's ``Ridge`` predicts), and
    :meth:`inverse_transform_y` gives predictions back the shape of fit's y, in its
    units.

    Parameters
    ----------
    detrend : bool, default=True
        Fit and remove the slope; ``False`` only subtracts the last value.

    Attributes
    ----------
    slope_ : ndarray of shape (n_features,)
        The trend per time step.
    y_shape_ : tuple of int
        Shape of one sample of fit's y: ``(F, d)``, or ``(d,)`` for one step ahead.
    n_features_in_ : int
        Features per time step.
    """

    def __init__(self, *, detrend: bool = True) -> None:
        self.detrend = detrend

    def fit_resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Learn the slope on the windows X; return X and y transformed.

        Parameters
        ----------
        X : array-like of shape (n_windows, P, d)
        y : array-like of shape (n_windows, F, d) or (n_windows, d)
            The values after each window.
        """
        if not isinstance(self.detrend, (bool, np.bool_)):
            raise ValueError(f"The 'detrend' parameter of WindowDetrender must be a bool. "
                             f"Got {self.detrend!r} instead.")
        X = validate_X(self, X, reset=True, ndims=(3,))
        if y is None:
            raise ValueError("WindowDetrender.fit_resample needs y: the values after each "
                             "window, of shape (n_windows, F, d) or (n_windows, d).")
        y = validate_y(y, len(X))
        if y.shape[-1] != X.shape[-1] or y.ndim not in (2, 3):
            raise ValueError(f"WindowDetrender expects y of shape (n_windows, F, "
                             f"{X.shape[-1]}) or (n_windows, {X.shape[-1]}), the window's "
                             f"features after it; got y of shape {y.shape}.")
        self.slope_ = _pooled_slope(X) if self.detrend else np.zeros(X.shape[-1])
        self.y_shape_ = tuple(y.shape[1:])
        return self.resample(X, y)

    def _steps_ahead(self) -> np.ndarray:
        future = self.y_shape_[0] if len(self.y_shape_) == 2 else 1
        return np.arange(1, future + 1, dtype=np.float64)[:, None] * self.slope_

    def transform(self, X: Any) -> np.ndarray:
        """Windows relative to their last value, minus the slope."""
        check_fitted(self, "slope_")
        X = validate_X(self, X, reset=False, ndims=(3,))
        steps = np.arange(X.shape[1], dtype=np.float64) - (X.shape[1] - 1)
        return X - X[:, -1:, :] - steps[:, None] * self.slope_

    def resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, Any]:
        """``transform(X)``, and y relative to each window's last value, flattened."""
        Xt = self.transform(X)
        if y is None:
            return Xt, None
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if tuple(y.shape[1:]) != self.y_shape_:
            raise ValueError(f"WindowDetrender was fitted on y of shape (n_windows, "
                             f"{', '.join(map(str, self.y_shape_))}); got {y.shape}.")
        future = y.reshape(len(y), -1, X.shape[-1])
        yt = future - X[:, -1:, :] - self._steps_ahead()
        return Xt, yt.reshape(len(y), -1)

    def inverse_transform_y(self, y: Any, X: Any) -> np.ndarray:
        """Predictions ``(n, F * d)`` back to fit's y shape and units; X is this step's
        input (the windows)."""
        check_fitted(self, "slope_")
        X = np.asarray(X, dtype=np.float64)
        future = np.asarray(y, dtype=np.float64).reshape(len(X), -1, X.shape[-1])
        restored = future + X[:, -1:, :] + self._steps_ahead()
        return restored.reshape((len(X), *self.y_shape_))


def _pooled_slope(X: np.ndarray) -> np.ndarray:
    """Least-squares slope per feature of value on time, each window around its mean."""
    steps = np.arange(X.shape[1], dtype=np.float64)
    steps -= steps.mean()
    centered = X - X.mean(axis=1, keepdims=True)
    denominator = len(X) * float(steps @ steps)
    if denominator == 0:  # windows of one step: no slope to see
        return np.zeros(X.shape[-1])
    return np.einsum("t,ntd->d", steps, centered) / denominator


def stock_pipeline(
    *,
    window_size_past: int = 30,
    detrend: bool = True,
    units: int = 32,
    layers_stacked_count: int = 1,
    learning_rate: float | None = 1e-3,
    epochs: int = 10,
    batch_size: int = 64,
    random_state: int | None = 0,
    verbose: int = 0,
) -> Pipeline:
    """Seed 002: predict the next closing price from the last ``window_size_past``.

    ``Pipeline([Windower(window_size_past, 1), WindowDetrender(detrend=detrend),
    MeanStdNormalizer(), ToNumpy(), KerasModelStep(lstm_regressor, ...)])``. Fit it on
    the training part of a series of closes ``(T, 1)`` (deflated by
    :func:`deflate_by_cpi` if you like); ``predict`` on a later series returns, for each
    window of ``window_size_past`` values in it, the next value in price units (rolling
    one-step predictions, the last one forecasting the day after the series), shaped
    ``(n_windows, 1, 1)``; ``score`` and ``predict_with_truth`` compare them with the
    values that followed. The trend and the normalization are learned on the training
    windows only.

    The seed used 3 stacked LSTMs of 100 units for 1500 steps; one of 32 units for 10
    epochs reaches the same place on a random walk (near repeating the last value,
    which is what no model beats on one) in a fraction of the time.

    Parameters
    ----------
    window_size_past : int, default=30
        Values per window (the seed's ``n_steps``).
    detrend : bool, default=True
        Remove the linear trend (see :class:`WindowDetrender`).
    units, layers_stacked_count
        Passed to :func:`seqpipe.models.lstm_regressor`.
    learning_rate, epochs, batch_size, random_state, verbose
        Passed to :class:`seqpipe.steps.KerasModelStep`.

    Returns
    -------
    Pipeline
        Unfitted; deploy the fitted one with
        ``seqpipe.StreamingPredictor(pipeline)`` (one value in, the next out).

    Examples
    --------
    >>> from seqpipe.pipelines import stock_pipeline
    >>> pipe = stock_pipeline(epochs=2)
    >>> pipe.get_params()["windower__window_size_past"], pipe.get_params()["kerasmodelstep__epochs"]
    (30, 2)
    """
    return Pipeline([
        Windower(window_size_past, 1),
        WindowDetrender(detrend=detrend),
        MeanStdNormalizer(),
        ToNumpy(),
        KerasModelStep(
            lstm_regressor, units=units, layers_stacked_count=layers_stacked_count,
            learning_rate=learning_rate, epochs=epochs, batch_size=batch_size,
            random_state=random_state, verbose=verbose,
        ),
    ])
