"""ValidationSplit: train on one part of the data, validate on the rest every epoch.

>>> import numpy as np
>>> from sklearn.linear_model import SGDRegressor
>>> from seqpipe.steps import EpochRepeater, MiniBatch, ValidationSplit
>>> X = np.random.default_rng(0).normal(size=(200, 3))
>>> split = ValidationSplit(MiniBatch(SGDRegressor(random_state=0), batch_size=50),
...                         validation_size=0.25)
>>> model = EpochRepeater(split, epochs=3).fit(X, X.sum(axis=1))
>>> len(split.validation_scores_), len(split.validation_indices_)
(3, 50)
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from seqpipe._validation import check_fitted, trusted_input, validate_X, validate_y
from seqpipe.base import (
    adapt_step,
    predict_with_truth_step,
    restore_weights,
    snapshot_weights,
    weight_holders,
)
from seqpipe.scoring import mse, resolve_metric
from seqpipe.steps._meta import HistoryMixin, MetaStepMixin


def _neg_mse(y_true: Any, y_pred: Any) -> float:
    return -mse(y_true, y_pred)


class ValidationSplit(HistoryMixin, MetaStepMixin, BaseEstimator):
    """Train the wrapped step on a train part; score it on a held-out part after each pass.

    The split is made once, deterministically: by default the **last**
    ``validation_size`` fraction of the samples is the validation part (time
    order is kept, nothing from the future leaks into training); with
    ``shuffle=True`` a random subset drawn with ``random_state``. Validation rows
    never reach the wrapped step's training methods.

    After every ``fit``/``partial_fit`` the validation part is predicted through the
    fitted steps (preprocessing included) and scored in y's units; when the wrapped
    step is a MetricsWrapper, its metrics are recorded under ``"validation"``.

    Parameters
    ----------
    step : step or list of steps
        A list runs as a Pipeline.
    validation_size : float, default=0.15
        Fraction of the samples held out, in (0, 1).
    shuffle : bool, default=False
        Hold out a random subset instead of the last samples.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffled split.
    scoring : None, str or callable, default=None
        Score used for early stopping and ``best_score_``, greater is better:
        ``None`` is the negated MSE, a string a scikit-learn scorer name, a callable
        ``f(y_true, y_pred)`` a score.
    patience : int or None, default=None
        Ask to stop training (``stop_training_``) after this many passes without a
        better validation score; ``None`` never stops.
    restore_best_weights : bool, default=False
        At the end of training, put back the weights of the best pass.

    Attributes
    ----------
    train_indices_, validation_indices_ : ndarray of int
    validation_scores_ : list of float
        Score of each pass.
    best_score_ : float
    best_epoch_ : int
        Index of the pass with the best score.
    stop_training_ : bool
    """

    _validates_input = True

    def __init__(
        self,
        step: Any,
        validation_size: float = 0.15,
        *,
        shuffle: bool = False,
        random_state: Any = None,
        scoring: Any = None,
        patience: int | None = None,
        restore_best_weights: bool = False,
    ) -> None:
        self.step = step
        self.validation_size = validation_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.scoring = scoring
        self.patience = patience
        self.restore_best_weights = restore_best_weights

    def _check_params(self) -> None:
        size = self.validation_size
        if isinstance(size, bool) or not isinstance(size, Real) or not 0 < size < 1:
            raise ValueError(
                f"The 'validation_size' parameter of ValidationSplit must be a float in the "
                f"range (0, 1). Got {size!r} instead."
            )
        patience = self.patience
        if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int)
                                     or patience < 1):
            raise ValueError(
                f"The 'patience' parameter of ValidationSplit must be None or an int in the "
                f"range [1, inf). Got {patience!r} instead."
            )

    def _split(self, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
        n_validation = math.ceil(self.validation_size * n_samples)
        if n_validation >= n_samples:
            raise ValueError(
                f"ValidationSplit with validation_size={self.validation_size} leaves no "
                f"training sample: got {n_samples} sample(s), need at least 2."
            )
        order = (check_random_state(self.random_state).permutation(n_samples)
                 if self.shuffle else np.arange(n_samples))
        cut = n_samples - n_validation
        return np.sort(order[:cut]), np.sort(order[cut:])

    def _parts(self, X: Any, y: Any, *, reset: bool) -> tuple[Any, Any, Any, Any]:
        X = validate_X(self, X, reset=reset)
        y = None if y is None else validate_y(y, len(X))
        if reset:
            self.train_indices_, self.validation_indices_ = self._split(len(X))
        else:
            n_fitted = len(self.train_indices_) + len(self.validation_indices_)
            if len(X) != n_fitted:
                raise ValueError(f"ValidationSplit was fitted on {n_fitted} samples and split "
                                 f"them once; got {len(X)}.")
        train, validation = self.train_indices_, self.validation_indices_
        if not self.shuffle:  # the last samples: slices are views, no copy per epoch
            train, validation = slice(0, len(train)), slice(len(train), None)
        take = (lambda idx: None) if y is None else (lambda idx: y[idx])
        return X[train], take(train), X[validation], take(validation)

    def _begin(self, X: Any, y: Any) -> tuple[Any, Any, Any, Any]:
        """Check the parameters, split once, start a new record; return the parts."""
        self._check_params()
        parts = self._parts(X, y, reset=True)
        self._scorer = _neg_mse if self.scoring is None else resolve_metric(self.scoring)
        self.validation_scores_, self.best_score_, self.best_epoch_ = [], -math.inf, None
        self.stop_training_, self._best_weights = False, None
        self._start()
        return parts

    def adapt(self, X: Any, y: Any = None) -> ValidationSplit:
        """Split once; let the wrapped step get ready on the train part only."""
        X_train, y_train, _, _ = self._begin(X, y)
        with trusted_input():
            adapt_step(self.step_, X_train, y_train)
        return self

    def fit(self, X: Any, y: Any = None) -> ValidationSplit:
        """Split, fit the wrapped step on the train part, score the validation part."""
        X_train, y_train, X_val, y_val = self._begin(X, y)
        with trusted_input():
            self.step_.fit(X_train, y_train)
        self._validate_pass(X_val, y_val)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> ValidationSplit:
        """One training pass on the train part (same split), then score the validation part."""
        if not hasattr(self, "train_indices_"):
            self.adapt(X, y)
        X_train, y_train, X_val, y_val = self._parts(X, y, reset=False)
        with trusted_input():
            self.step_.partial_fit(X_train, y_train)
        self._validate_pass(X_val, y_val)
        return self

    def _validate_pass(self, X_val: Any, y_val: Any) -> None:
        with trusted_input():
            y_true, y_pred = predict_with_truth_step(self.step_, X_val, y_val)
        record = getattr(self.step_, "record", None)
        if record is not None:
            record("validation", y_true, y_pred)
        score = self._scorer(y_true, y_pred)
        self.validation_scores_.append(score)
        if math.isfinite(score) and score > self.best_score_:
            self.best_score_, self.best_epoch_ = score, len(self.validation_scores_) - 1
            if self.restore_best_weights:
                self._best_weights = snapshot_weights(weight_holders(self.step_))
        elif self.patience is not None:  # a non-finite score counts as no progress
            best = -1 if self.best_epoch_ is None else self.best_epoch_
            self.stop_training_ = len(self.validation_scores_) - 1 - best >= self.patience

    def end_training(self) -> None:
        """Put back the best pass's weights when ``restore_best_weights`` is set."""
        check_fitted(self, "train_indices_")
        if self.restore_best_weights and self._best_weights is not None:
            restore_weights(self._best_weights)
