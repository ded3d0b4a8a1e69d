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

from seqpipe._validation import check_fitted, own_random_state, validate_X, validate_y
from seqpipe.base import SampleMixin


class DataShuffler(SampleMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Shuffle the samples of X and y together on the fit path; identity otherwise.

    ``fit_resample`` starts the random generator anew from ``random_state`` (so
    refitting gives the same order); ``partial_fit_resample`` carries it on, so that
    repeated epochs see different orders while the whole run stays reproducible.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling. ``None`` seeds each fit from the operating system;
        NumPy's global generator is never drawn from.

    Attributes
    ----------
    n_features_in_ : int
        Number of features (last axis) seen during fit.
    sample_indices_ : ndarray of int
        The order of the last shuffle: output sample ``i`` is input sample
        ``sample_indices_[i]``. A Pipeline reorders fit parameters with one value per
        sample (``sample_weight``) with it, so the weights follow their samples.

    Examples
    --------
    Samples are shuffled on the fit path only, y with X; predictions keep the order:

    >>> import numpy as np
    >>> from seqpipe.steps import DataShuffler
    >>> X, y = np.arange(5.0).reshape(5, 1), np.arange(5.0)
    >>> Xs, ys = DataShuffler(random_state=0).fit_resample(X, y)
    >>> bool((Xs[:, 0] == ys).all()), sorted(ys) == list(y)
    (True, True)
    >>> DataShuffler(random_state=0).fit(X).transform(X) is X
    True
    """

    def __init__(self, random_state: Any = None) -> None:
        self.random_state = random_state

    def fit_resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, Any]:
        """Start the generator anew from ``random_state``; return X and y shuffled alike."""
        self._rng = own_random_state(self.random_state)
        return self._shuffle(X, y, reset=True)

    def fit(self, X: Any, y: Any = None) -> DataShuffler:
        """Start the generator anew from ``random_state``; shuffle nothing yet (getting
        ready for incremental training is not a training pass: the first pass shuffles)."""
        self._rng = own_random_state(self.random_state)
        X = validate_X(self, X, reset=True)
        if y is not None:
            validate_y(y, len(X))
        return self

    def partial_fit_resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, Any]:
        """Shuffle again, carrying the generator on (each epoch sees a new order)."""
        if getattr(self, "_rng", None) is None:
            return self.fit_resample(X, y)
        return self._shuffle(X, y, reset=False)

    def _shuffle(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, Any]:
        X = validate_X(self, X, reset=reset)
        if y is not None:
            y = validate_y(y, len(X))
        order = self.sample_indices_ = self._rng.permutation(len(X))
        return X[order], None if y is None else y[order]

    def transform(self, X: Any) -> Any:
        """Return X unchanged: shuffling happens on the fit path only."""
        check_fitted(self, "n_features_in_")
        return validate_X(self, X, reset=False)
