"""Windower: cut a series into (past, future) windows, as zero-copy views.

>>> import numpy as np
>>> from seqpipe.steps import Windower
>>> series = np.arange(12.0).reshape(6, 2)          # 6 time steps, 2 features
>>> X, y = Windower(3, 2).fit_resample(series)
>>> X.shape, y.shape                                 # every window with a full future
((2, 3, 2), (2, 2, 2))
>>> y[-1, -1].tolist() == series[-1].tolist()       # the last window is kept
True
>>> Windower(3, 2).fit(series).transform(series).shape   # predict path: all past windows
(4, 3, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, TransformerMixin

from seqpipe._validation import as_numeric_array, check_fitted, check_int_param, validate_X
from seqpipe.steps._output import check_output


def _windows(series: np.ndarray, size: int, n_starts: int, stride: int) -> np.ndarray:
    """Views ``series[s:s + size]`` for every ``stride``-th start ``s < n_starts``, aligned
    so that the last start is ``n_starts - 1``; time before features."""
    first = (n_starts - 1) % stride
    view = sliding_window_view(series, size, axis=0)[first:n_starts:stride]
    return np.moveaxis(view, -1, 1)  # (n, features..., size) -> (n, size, features...)


class Windower(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Turn a series ``(n_timesteps, n_features)`` into windows ``X`` and futures ``y``.

    On the fit and evaluation paths (``fit_resample``, ``resample``), each window is
    ``X[i] = series[s:s + past]`` with ``y[i] = target[s + past:s + past + future]``,
    for the windows whose future lies inside the series — the last one, ending at
    the series' end, always included. The target is the series itself, or ``y``
    when given (a series with as many time steps).

    On the predict path (``transform``), every past window is returned, also those
    whose future lies beyond the series: the last one ends at the series' end and
    forecasts what comes next.

    With ``stride > 1``, windows start every ``stride`` steps, counted back from the
    last window (so the most recent data is never left out).

    Windows are read-only views of the input (no copy).

    Parameters
    ----------
    window_size_past : int
        Number of time steps in each input window.
    window_size_future : int
        Number of time steps to forecast.
    stride : int, default=1
        Step between the starts of consecutive windows; the last window is kept.

    Attributes
    ----------
    n_features_in_ : int
        Number of features of the series seen during fit.

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.steps import Windower
    >>> series = np.arange(12.0).reshape(6, 2)          # 6 time steps, 2 features
    >>> X, y = Windower(3, 2).fit_resample(series)
    >>> X.shape, y.shape                                 # every window with a full future
    ((2, 3, 2), (2, 2, 2))
    >>> Windower(3, 2).fit(series).transform(series).shape   # predict path: all past windows
    (4, 3, 2)
    """

    def __init__(self, window_size_past: int, window_size_future: int, stride: int = 1) -> None:
        self.window_size_past = window_size_past
        self.window_size_future = window_size_future
        self.stride = stride

    def set_output(self, *, transform: str | None = None) -> Windower:
        """Refuse table output: windows are 3-D, and have no table form.

        ``"default"`` and ``None`` are accepted (arrays, as always), so that a
        scikit-learn Pipeline can set the output of all its steps; ``"pandas"`` or
        ``"polars"`` is a ValueError saying why.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None

        Returns
        -------
        self : Windower
        """
        if transform is not None:
            check_output(self, transform)
        if transform not in (None, "default"):
            raise ValueError(
                f"Windower cannot output {transform} tables: it cuts a series into 3-D "
                f"windows (n_windows, window_size_past, n_features), which a DataFrame "
                f"(2-D) cannot hold. Set the output of the 2-D steps before it instead "
                f"(e.g. MeanStdNormalizer().set_output(transform={transform!r}))."
            )
        return self

    def _check_params(self) -> None:
        check_int_param(self, "window_size_past", self.window_size_past)
        check_int_param(self, "window_size_future", self.window_size_future)
        check_int_param(self, "stride", self.stride)

    def _validate(self, X: Any, *, reset: bool, with_future: bool = True) -> np.ndarray:
        X = validate_X(self, X, reset=reset, ndims=(2,), name="X")
        if with_future:
            needed = self.window_size_past + self.window_size_future
            what = "window_size_past + window_size_future"
        else:
            needed, what = self.window_size_past, "window_size_past"
        if len(X) < needed:
            raise ValueError(
                f"Windower needs a series of at least {what} = {needed} time steps, "
                f"got {len(X)} (X of shape {X.shape})."
            )
        return X

    def _target(self, X: np.ndarray, y: Any) -> np.ndarray:
        if y is None:
            return X
        y = as_numeric_array(y, "y")
        if len(y) != len(X):
            raise ValueError(
                f"Windower takes y as a target series aligned with X: X has {len(X)} time "
                f"steps, y has {len(y)} (shape {y.shape})."
            )
        return y

    def fit(self, X: Any, y: Any = None) -> Windower:
        """Check the parameters and the series; nothing is learned."""
        self._check_params()
        self._validate(X, reset=True)
        return self

    def fit_resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Window the series: return ``(X_windows, y_futures)``.

        Parameters
        ----------
        X : array-like of shape (n_timesteps, n_features)
        y : array-like of shape (n_timesteps, ...), optional
            Target series; defaults to X.

        Returns
        -------
        X_windows : ndarray of shape (n_windows, window_size_past, n_features)
        y_futures : ndarray of shape (n_windows, window_size_future, ...)
        """
        self._check_params()
        X = self._validate(X, reset=True)
        return self._window_pairs(X, y)

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Return the past windows of ``fit_resample`` (those with a full future)."""
        return self.fit_resample(X, y)[0]

    def resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Same windows as ``fit_resample``, for evaluation (nothing is learned)."""
        check_fitted(self, "n_features_in_")
        return self._window_pairs(self._validate(X, reset=False), y)

    def _window_pairs(self, X: np.ndarray, y: Any) -> tuple[np.ndarray, np.ndarray]:
        past, future = self.window_size_past, self.window_size_future
        target = self._target(X, y)
        n_starts = len(X) - past - future + 1
        windows = _windows(X, past, n_starts, self.stride)
        futures = _windows(target[past:], future, n_starts, self.stride)
        return windows, futures

    def transform(self, X: Any) -> np.ndarray:
        """Return every past window of the series, the last one included."""
        check_fitted(self, "n_features_in_")
        X = self._validate(X, reset=False, with_future=False)
        return _windows(X, self.window_size_past, len(X) - self.window_size_past + 1,
                        self.stride)
