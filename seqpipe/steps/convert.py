"""ToNumpy: turn lists and pandas objects into numpy arrays of one dtype.

>>> from seqpipe.steps import ToNumpy
>>> X, y = ToNumpy().fit_resample([[1, 2], [3, 4]], [0.5, 1.5])
>>> X.dtype, y.dtype
(dtype('float32'), dtype('float32'))
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from seqpipe._validation import (
    check_fits_float32,
    check_fitted,
    validate_X,
    validate_y,
)
from seqpipe.base import SampleMixin, StepTags
from seqpipe.steps._output import TableOutputMixin


class ToNumpy(TableOutputMixin, SampleMixin, TransformerMixin, BaseEstimator,
              auto_wrap_output_keys=None):
    """Convert X (and y on the fit path) to numpy arrays of ``dtype``.

    Accepts numpy arrays, nested lists and pandas DataFrames/Series (every step
    refuses a pandas DatetimeIndex that is unsorted or has duplicates). With
    ``set_output(transform="pandas")`` a 2-D X comes out as a DataFrame of ``dtype``
    with the input's columns and index (see :meth:`get_feature_names_out`).

    Parameters
    ----------
    dtype : str or numpy dtype or None, default="float32"
        Target dtype of X; ``None`` keeps a floating input's dtype (integers become
        float64).
    y_dtype : str or numpy dtype or None, default="same"
        Target dtype of y: ``"same"`` uses ``dtype`` for floating y and keeps integer
        labels as they are; ``None`` keeps y's dtype.

    Attributes
    ----------
    n_features_in_ : int
        Number of features (last axis) seen during fit.
    feature_names_in_ : ndarray of str
        Names of the features seen during fit (pandas input only).

    Examples
    --------
    >>> import pandas as pd
    >>> from seqpipe.steps import ToNumpy
    >>> frame = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    >>> ToNumpy().fit(frame).transform(frame)
    array([[1., 3.],
           [2., 4.]], dtype=float32)
    """

    def __seqpipe_tags__(self) -> StepTags:
        """Samplewise: each sample on its own, nothing learned on later passes."""
        return StepTags(keeps_samples=True, samplewise=True)

    def __init__(self, dtype: Any = "float32", y_dtype: Any = "same") -> None:
        self.dtype = dtype
        self.y_dtype = y_dtype

    def fit_resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, Any]:
        """Record X's number of features; return X and y as numpy arrays."""
        validate_X(self, X, reset=True)
        return self.resample(X, y)

    def transform(self, X: Any) -> np.ndarray:
        """Return X as a numpy array of ``dtype``."""
        check_fitted(self, "n_features_in_")
        X_in, X = X, validate_X(self, X, reset=False)
        if self.dtype is None:
            Xt = X
        elif np.dtype(self.dtype) == np.float32:
            Xt = check_fits_float32(X)
        else:
            Xt = X.astype(self.dtype, copy=False)
        return self._output(Xt, X_in)

    def resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, Any]:
        """Convert X and y (nothing is learned)."""
        Xt = self.transform(X)
        if y is None:
            return Xt, None
        y = validate_y(y, len(Xt))
        dtype = self.y_dtype
        if dtype == "same":
            dtype = self.dtype if y.dtype.kind == "f" else None
        return Xt, y if dtype is None else y.astype(dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = (
            ["float64", "float32"] if self.dtype is None else [np.dtype(self.dtype).name]
        )
        return tags
