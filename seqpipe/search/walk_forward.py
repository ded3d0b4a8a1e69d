"""WalkForwardSplit: time-ordered, expanding cross-validation that cannot leak.

Fold k trains on the samples before its test part and tests on the next block, like
scikit-learn's ``TimeSeriesSplit``; between the parts, ``gap`` samples are left out by
seqpipe's gap rule (``seqpipe._time_split.resolve_gap``): with ``gap="auto"`` and
already-windowed samples (y of shape ``(n, F, d)``, consecutive stride-1 windows), F
samples, so that no test target is also a training target; with 2-D y, none. Every fold
is checked (:func:`check_time_order`) before it is handed out: no test index precedes a
training index or falls within the gap.

>>> import numpy as np
>>> from seqpipe.search import WalkForwardSplit
>>> X, y = np.zeros((20, 4, 1)), np.zeros((20, 2, 1))      # futures of 2 steps
>>> for train, test in WalkForwardSplit(3).split(X, y):
...     print(train.min(), train.max(), "|", test.min(), test.max())
0 5 | 8 11
0 9 | 12 15
0 13 | 16 19
"""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import indexable

from seqpipe._time_split import resolve_gap

__all__ = ["WalkForwardSplit", "check_time_order"]


def _check_int(value: Any, name: str, minimum: int, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        kind = "None or an int" if optional else "an int"
        raise ValueError(f"The '{name}' parameter of WalkForwardSplit must be {kind} in the "
                         f"range [{minimum}, inf). Got {value!r} instead.")


def check_time_order(train: Any, test: Any, *, gap: int = 0,
                     owner: str = "WalkForwardSplit") -> None:
    """Raise unless every test index comes more than ``gap`` indices after every training one.

    With already-windowed samples and the gap rule's ``gap``, this guarantees that no
    test target precedes or overlaps a training target.

    Parameters
    ----------
    train, test : array-like of int
        The indices of one fold.
    gap : int, default=0
        The number of samples that must lie between the last training index and the
        first test index.
    owner : str
        Named in the error message.

    Examples
    --------
    >>> check_time_order([0, 1, 2], [5, 6], gap=2)
    >>> check_time_order([0, 1, 2], [4, 5], gap=2)
    Traceback (most recent call last):
    ...
    ValueError: WalkForwardSplit would leak: test index 4 is not more than gap=2 samples after
    training index 2.
    """
    train, test = np.asarray(train), np.asarray(test)
    if train.size == 0 or test.size == 0:
        raise ValueError(f"{owner} made a fold with {train.size} training and {test.size} "
                         f"test sample(s); both parts must be non-empty.")
    last_train, first_test = int(train.max()), int(test.min())
    if first_test - last_train <= gap:
        raise ValueError(f"{owner} would leak: test index {first_test} is not more than "
                         f"gap={gap} samples after training index {last_train}.")


class WalkForwardSplit(BaseCrossValidator):
    """Walk-forward cross-validation: train on the past, test on the block that follows.

    The samples are cut, in their order, into ``n_splits`` consecutive test blocks at
    the end; fold k trains on every sample before its block (an expanding window, or
    the last ``max_train_size`` of them), minus the ``gap`` samples just before it.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, >= 1.
    gap : "auto" or int, default="auto"
        Samples left out between each training part and its test block. ``"auto"``:
        the future window's length (``y.shape[1]``) when y is 3-D (already-windowed
        samples), else 0 (and 0 when ``split`` is given no y) -- seqpipe's gap rule,
        as in ``ValidationSplit``. For a series that a Windower inside the pipeline
        windows after the split, 0 is already leak-free.
    test_size : int or None, default=None
        Samples per test block; None: ``(n_samples - gap) // (n_splits + 1)``, so that
        the first fold trains on at least as many samples as it tests on (scikit-learn's
        ``TimeSeriesSplit`` when the gap is 0).
    max_train_size : int or None, default=None
        Keep only the last ``max_train_size`` training samples (a sliding window).

    Raises
    ------
    ValueError
        At construction, for a parameter out of range; in ``split``, when there are
        too few samples for ``n_splits``, ``test_size`` and the gap (the message names
        the numbers).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import cross_val_score
    >>> X = np.arange(60.0)[:, None]
    >>> cross_val_score(Ridge(), X, 2 * X[:, 0], cv=WalkForwardSplit(3)).round(3)
    array([1., 1., 1.])
    >>> [len(test) for _, test in WalkForwardSplit(3, test_size=10).split(X)]
    [10, 10, 10]
    """

    def __init__(self, n_splits: int = 5, *, gap: str | int = "auto",
                 test_size: int | None = None, max_train_size: int | None = None) -> None:
        _check_int(n_splits, "n_splits", 1)
        resolve_gap(gap, None, owner="WalkForwardSplit")  # refuses anything but "auto"/int
        _check_int(test_size, "test_size", 1, optional=True)
        _check_int(max_train_size, "max_train_size", 1, optional=True)
        self.n_splits = n_splits
        self.gap = gap
        self.test_size = test_size
        self.max_train_size = max_train_size

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds, ``n_splits``."""
        return self.n_splits

    def split(self, X: Any, y: Any = None,
              groups: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, test)`` index arrays, fold by fold, in time order.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The samples, in time order.
        y : array-like of shape (n_samples, ...), optional
            Their targets; with ``gap="auto"``, a 3-D y sets the gap to ``y.shape[1]``.
        groups : ignored
        """
        X, y, groups = indexable(X, y, groups)
        try:
            n_samples = len(X)
        except TypeError:  # a sparse matrix
            n_samples = X.shape[0]
        gap = resolve_gap(self.gap, y, owner="WalkForwardSplit")
        test_size = (self.test_size if self.test_size is not None
                     else (n_samples - gap) // (self.n_splits + 1))
        n_train = n_samples - gap - self.n_splits * test_size
        if test_size < 1 or n_train < 1:
            blocks = (f"{self.n_splits} test block(s) of test_size={self.test_size}"
                      if self.test_size is not None else
                      f"{self.n_splits} test block(s) of at least 1")
            needed = self.n_splits * (self.test_size or 1) + gap + 1
            raise ValueError(
                f"WalkForwardSplit(n_splits={self.n_splits}) needs at least {needed} "
                f"samples ({blocks}, a gap of {gap} and 1 training sample); "
                f"got {n_samples}."
            )
        indices = np.arange(n_samples)
        for start in range(n_samples - self.n_splits * test_size, n_samples, test_size):
            train_end = start - gap
            train_start = (0 if self.max_train_size is None
                           else max(0, train_end - self.max_train_size))
            train, test = indices[train_start:train_end], indices[start:start + test_size]
            check_time_order(train, test, gap=gap)
            yield train, test

    def _iter_test_indices(self, X: Any = None, y: Any = None,
                           groups: Any = None) -> Iterator[np.ndarray]:
        for _, test in self.split(X, y, groups):
            yield test
