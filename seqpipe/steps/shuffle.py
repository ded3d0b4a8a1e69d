"""DataShuffler: reorder samples (and y with them) while fitting.

>>> import numpy as np
>>> from seqpipe.steps import DataShuffler
>>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
>>> Xs, ys = DataShuffler(random_state=0).fit_resample(X, y)
>>> bool((Xs[:, 0] // 2 == ys).all())
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state

from seqpipe._validation import check_fitted, validate_X, validate_y
from seqpipe.base import SampleMixin


class DataShuffler(SampleMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Shuffle the samples of X and y together on the fit path; identity otherwise.

    The random generator is created from ``random_state`` on the first
    ``fit_resample`` and then carried on, so that repeated epochs see different
    orders while the whole run stays reproducible (a ``clone`` starts afresh).

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling.

    Attributes
    ----------
    n_features_in_ : int
        Number of features (last axis) seen during fit.
    """

    def __init__(self, random_state: Any = None) -> None:
        self.random_state = random_state

    def fit_resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, Any]:
        """Return X and y with their samples in the same random order."""
        X = validate_X(self, X, reset=True)
        if y is not None:
            y = validate_y(y, len(X))
        if getattr(self, "_rng", None) is None:
            self._rng = check_random_state(self.random_state)
        order = self._rng.permutation(len(X))
        return X[order], None if y is None else y[order]

    def partial_fit_resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, Any]:
        """Shuffle again on every training pass (each epoch sees a new order)."""
        return self.fit_resample(X, y)

    def transform(self, X: Any) -> Any:
        """Return X unchanged: shuffling happens on the fit path only."""
        check_fitted(self, "n_features_in_")
        return validate_X(self, X, reset=False)
