"""TargetWindows: the past target of forecasting windows, as a Windower gives it, so that
a window model built for a Windower becomes a :class:`~seqpipe.forecasting.Forecaster`
candidate.

>>> import numpy as np
>>> from seqpipe.forecasting import make_windows
>>> data = np.column_stack([np.arange(8.0), 10 + np.arange(8.0)])
>>> X, y = make_windows(data, np.array([4]), window_past=3, horizon=2, n_known_ahead=1,
...                     with_targets=True)
>>> TargetWindows().fit(X, y).transform(X)[0, :, 0].tolist()
[2.0, 3.0, 4.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from seqpipe._validation import check_fitted, validate_X
from seqpipe.base import StepTags

__all__ = ["TargetWindows"]


class TargetWindows(TransformerMixin, BaseEstimator):
    """Keep the past rows of the target channel: windows ``(n, P + H, C)`` become
    ``(n, P, 1)``, what ``Windower(P, H)`` would give on the target alone.

    Attributes
    ----------
    horizon_ : int
        Forecast rows per window (from fit's y, of shape ``(n_windows, horizon)``).

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.forecasting import TargetWindows, make_windows
    >>> data = np.column_stack([np.arange(8.0), 10 + np.arange(8.0)])
    >>> X, y = make_windows(data, np.array([4]), window_past=3, horizon=2, n_known_ahead=1,
    ...                     with_targets=True)
    >>> TargetWindows().fit(X, y).transform(X)[0, :, 0].tolist()
    [2.0, 3.0, 4.0]
    """

    def __seqpipe_tags__(self) -> StepTags:
        """Samplewise: each window on its own."""
        return StepTags(keeps_samples=True, samplewise=True)

    def fit(self, X: Any, y: Any = None) -> TargetWindows:
        """Learn the horizon from ``y``."""
        X = validate_X(self, X, reset=True, ndims=(3,), allow_nan=True)
        if y is None or np.ndim(y) != 2 or np.shape(y)[1] >= X.shape[1]:
            raise ValueError(f"TargetWindows.fit needs y of shape (n_windows, horizon) with "
                             f"a horizon shorter than the windows ({X.shape[1]} rows).")
        self.horizon_ = np.shape(y)[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The past target rows, shape ``(n_windows, P, 1)``."""
        check_fitted(self, "horizon_")
        X = validate_X(self, X, reset=False, ndims=(3,), allow_nan=True)
        return X[:, :X.shape[1] - self.horizon_, :1]
