"""A linear model shared by many series, which each series may adjust: partial pooling.

One Ridge fitted on the windows of every series learns what they share and forecasts
a short series from what the long ones taught; a Ridge per series learns each one's
own dynamics (the weight of its weekly cycle against its noise) but nothing from the
others. :class:`SeriesRidge` does both: the shared Ridge first, then per series a
correction fitted on that series' residuals and shrunk toward zero by
``series_alpha``, so a series with few windows keeps close to the shared model and
one with many learns its own (a large ``series_alpha`` gives the shared model and a
mean per series, a small one a model per series).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> series = np.repeat([0.0, 1.0], 200)                   # the last feature: the series
>>> x = rng.normal(size=400)
>>> y = np.where(series == 0, 1.0, 3.0) * x               # each series its own slope
>>> X = np.column_stack([x, series])
>>> shared = SeriesRidge(series_alpha=1e9).fit(X, y)       # the shared model only
>>> pooled = SeriesRidge(series_alpha=1.0).fit(X, y)
>>> bool(np.mean((pooled.predict(X) - y) ** 2) < np.mean((shared.predict(X) - y) ** 2))
True
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.linear_model import Ridge

from seqpipe._validation import check_fitted, validate_X, validate_y

__all__ = ["SeriesRidge"]


class SeriesRidge(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """A Ridge shared by all series, plus per series a correction shrunk toward it.

    Fit learns the shared Ridge (penalty ``alpha``) on every row, then for each series
    a Ridge (penalty ``series_alpha``) on that series' rows of the shared model's
    residuals; its intercept, not penalized, is the series' mean residual (a drift of
    its own, say). Predict adds each row's series correction to the shared
    prediction; a series fit did not see gets the shared prediction alone.

    The series of a row is told by one feature (``series_feature``): any value that
    differs between series and is equal within one. In a many-series
    :class:`~seqpipe.forecasting.Forecaster`, the linear candidates' features end
    with the series' identity (:class:`~seqpipe.forecasting.WindowFeatures`'s
    ``per_window``), so the default, the last feature, is right. Features whose
    meaning differs from series to series, such as a level relative to each series'
    own history, are best read by the corrections only (``local_features``).

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty of the shared Ridge.
    series_alpha : float, default=1000.0
        Penalty of each series' correction: the larger, the closer every series keeps
        to the shared model (in the units of the features' sum of squares: with about
        ``n`` rows per series, ``series_alpha`` much below ``n`` lets a series fit its
        own model, much above keeps it shared).
    series_feature : int, default=-1
        Column of ``X`` that tells the series apart.
    local_features : sequence of int, default=()
        Columns of ``X`` the shared Ridge leaves out: only the corrections read them.

    Attributes
    ----------
    shared_ : sklearn.linear_model.Ridge
        The Ridge fitted on every row.
    shared_features_ : ndarray of int
        The columns it reads (all but ``local_features``).
    series_keys_ : ndarray of shape (n_series,)
        The values of ``series_feature`` seen in fit, sorted.
    series_coef_ : ndarray of shape (n_series, n_features, n_targets)
        Each series' correction.
    series_intercept_ : ndarray of shape (n_series, n_targets)
    n_features_in_ : int

    See Also
    --------
    seqpipe.forecasting.Forecaster : chooses among candidates, among them
        ``series-ridge`` ones with many series.

    Examples
    --------
    Two series whose target answers the same feature with different slopes:

    >>> import numpy as np
    >>> from seqpipe.forecasting import SeriesRidge
    >>> X = np.array([[1.0, 0], [2.0, 0], [3.0, 0], [1.0, 1], [2.0, 1], [3.0, 1]])
    >>> y = np.array([1.0, 2.0, 3.0, 3.0, 6.0, 9.0])
    >>> model = SeriesRidge(alpha=1e-6, series_alpha=1e-6).fit(X, y)
    >>> model.predict(X).round(2).tolist()
    [1.0, 2.0, 3.0, 3.0, 6.0, 9.0]
    """

    def __init__(self, alpha: float = 1.0, series_alpha: float = 1000.0,
                 series_feature: int = -1, local_features: Any = ()) -> None:
        self.alpha = alpha
        self.series_alpha = series_alpha
        self.series_feature = series_feature
        self.local_features = local_features

    def fit(self, X: Any, y: Any) -> SeriesRidge:
        """Fit the shared Ridge on every row, then each series' correction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self : SeriesRidge
        """
        X = validate_X(self, X, reset=True, ndims=(2,))
        y = validate_y(y, len(X))
        self._begin(X.shape[1], y.ndim)
        targets = y.reshape(len(y), -1)
        self.shared_ = Ridge(alpha=self.alpha).fit(self._shared_columns(X), targets)
        self.series_keys_, codes = np.unique(X[:, self.series_feature], return_inverse=True)
        self._set_corrections(self._corrections(
            X, targets, _rows_by_code(codes, len(self.series_keys_))))
        return self

    def _begin(self, n_features: int, y_ndim: int) -> None:
        """Check the parameters against ``n_features``; remember what fit's y was."""
        self._check_params(n_features)
        self.shared_features_ = np.delete(np.arange(n_features), list(self.local_features))
        self._y_ndim = y_ndim

    def _corrections(self, X: np.ndarray, targets: np.ndarray,
                     rows_by_code: list[np.ndarray]) -> list[Ridge]:
        """Each series' correction (its rows of ``X`` in ``rows_by_code``), fitted on the
        residuals of ``shared_``."""
        residuals = targets - self._shared_prediction(X)
        return [Ridge(alpha=self.series_alpha).fit(X[rows], residuals[rows])
                for rows in rows_by_code]

    def _set_corrections(self, corrections: list[Ridge]) -> None:
        n_targets = len(np.atleast_1d(self.shared_.intercept_))
        self.series_coef_ = np.stack([np.reshape(model.coef_, (n_targets, -1)).T
                                      for model in corrections])
        self.series_intercept_ = np.stack([np.reshape(model.intercept_, n_targets)
                                           for model in corrections])

    def predict(self, X: Any) -> np.ndarray:
        """The shared prediction plus each row's series correction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets), as fit's y
        """
        check_fitted(self, "shared_")
        X = validate_X(self, X, reset=False, ndims=(2,))
        prediction = self._shared_prediction(X)
        keys = X[:, self.series_feature]
        codes = np.minimum(np.searchsorted(self.series_keys_, keys), len(self.series_keys_) - 1)
        codes[self.series_keys_[codes] != keys] = len(self.series_keys_)  # unseen: none
        for code, rows in enumerate(_rows_by_code(codes, len(self.series_keys_))):
            if len(rows):
                prediction[rows] += X[rows] @ self.series_coef_[code] \
                    + self.series_intercept_[code]
        return prediction if self._y_ndim == 2 else prediction[:, 0]

    def _shared_prediction(self, X: np.ndarray) -> np.ndarray:
        return self.shared_.predict(self._shared_columns(X)).reshape(len(X), -1)

    def _shared_columns(self, X: np.ndarray) -> np.ndarray:
        """The columns the shared Ridge reads: ``X`` itself (no copy) without
        ``local_features``."""
        if len(self.shared_features_) == X.shape[1]:
            return X
        return X[:, self.shared_features_]

    def _check_params(self, n_features: int) -> None:
        for name in ("alpha", "series_alpha"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
                raise ValueError(f"The '{name}' parameter of SeriesRidge must be a float in "
                                 f"the range [0, inf). Got {value!r} instead.")
        feature = self.series_feature
        if isinstance(feature, bool) or not isinstance(feature, numbers.Integral) \
                or not -n_features <= feature < n_features:
            raise ValueError(f"The 'series_feature' parameter of SeriesRidge must be an int "
                             f"in the range [{-n_features}, {n_features - 1}] (a column of X, "
                             f"which has {n_features}). Got {feature!r} instead.")
        local = list(self.local_features)
        if not all(isinstance(c, numbers.Integral) and not isinstance(c, bool)
                   and -n_features <= c < n_features for c in local):
            raise ValueError(f"The 'local_features' parameter of SeriesRidge must hold ints in "
                             f"the range [{-n_features}, {n_features - 1}] (columns of X). Got "
                             f"{self.local_features!r} instead.")


def _rows_by_code(codes: np.ndarray, n_codes: int) -> list[np.ndarray]:
    """The rows of each code ``0 .. n_codes - 1`` (one sort, not a scan per code)."""
    order = np.argsort(codes)
    bounds = np.searchsorted(codes[order], np.arange(n_codes + 1))
    return [order[start:stop] for start, stop in zip(bounds[:-1], bounds[1:])]
