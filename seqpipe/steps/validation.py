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

from seqpipe._time_split import holdout_split, resolve_gap
from seqpipe._validation import (
    check_fitted,
    own_random_state,
    trusted_input,
    validate_X,
    validate_y,
)
from seqpipe.base import (
    Checkpoint,
    HistoryMixin,
    adapt_step,
    is_recorder,
    iter_steps,
    predict_with_truth_step,
    recording,
    take_rows,
)
from seqpipe.scoring import mse, resolve_metric
from seqpipe.steps._meta import MetaStepMixin


def _neg_mse(y_true: Any, y_pred: Any) -> float:
    return -mse(y_true, y_pred)


class ValidationSplit(HistoryMixin, MetaStepMixin, BaseEstimator):
    """Train the wrapped step on a train part; score it on a held-out part after each pass.

    The split is made once, deterministically: by default the **last**
    ``validation_size`` fraction of the samples is the validation part, and ``gap``
    samples before it are left out, so that no validation target is also a
    training target (time order is kept, nothing from the future leaks into
    training); with ``shuffle=True`` a random subset drawn with ``random_state``.
    Validation rows never reach the wrapped step's training methods.

    **The gap.** Already-windowed samples overlap in time: with stride-1 windows
    whose futures span F steps (y of shape ``(n, F, d)``), the last training
    targets would hold F - 1 of the first validation window's target steps.
    ``gap="auto"`` leaves out F samples when y is 3-D and none otherwise (one
    target step per sample), as scikit-learn's ``TimeSeriesSplit(gap=...)`` does.
    When a Windower sits *inside* the wrapped pipeline, the series is split before
    it is windowed and no gap is needed (``"auto"`` gives 0 for a 2-D series). A
    shuffled split of overlapping windows cannot be leak-free: prefer the default.

    After every ``fit``/``partial_fit`` the validation part is predicted through the
    fitted steps (preprocessing included) and scored in y's units. The outermost
    MetricsWrappers on the evaluation path, wherever they sit inside, record their
    metrics of it under ``"validation"``, in the units they see; a MetricsWrapper
    inside that the validation pass does not reach (behind a step of your own that
    predicts without ``predict_with_truth``) is an error, raised after the first pass.

    Fit parameters with one value per sample (``sample_weight``) are split with the
    samples: the wrapped step trains with those of the training part. The validation
    score is not weighted.

    Parameters
    ----------
    step : step or list of steps
        A list runs as a Pipeline.
    validation_size : float, default=0.15
        Fraction of the samples held out, in (0, 1).
    gap : "auto" or int, default="auto"
        Samples left out between the training and the validation part (time-ordered
        split only); ``"auto"``: the future window's length when y is 3-D, else 0.
    shuffle : bool, default=False
        Hold out a random subset instead of the last samples.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffled split. ``None`` seeds it from the operating system;
        NumPy's global generator is never drawn from.
    scoring : None, str or callable, default=None
        Score used for early stopping and ``best_score_``, greater is better:
        ``None`` is the negated MSE, a string a scikit-learn scorer name, a callable
        ``f(y_true, y_pred)`` a score.
    patience : int or None, default=None
        Ask to stop training (``stop_training_``) after this many passes without a
        better validation score; ``None`` never stops.
    restore_best_weights : bool, default=False
        At the end of training, put back the weights (and optimizer state) of the
        best pass; the wrapped step must hold training state (a KerasModelStep).

    Attributes
    ----------
    train_indices_, validation_indices_ : ndarray of int
    gap_ : int
        Samples left out between the parts.
    validation_scores_ : list of float
        Score of each pass.
    best_score_ : float
    best_epoch_ : int
        Index of the pass with the best score.
    stop_training_ : bool

    Examples
    --------
    The last 25 % of the samples validate after every epoch:

    >>> import numpy as np
    >>> from sklearn.linear_model import SGDRegressor
    >>> from seqpipe.steps import EpochRepeater, MiniBatch, ValidationSplit
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> split = ValidationSplit(MiniBatch(SGDRegressor(random_state=0), batch_size=50),
    ...                         validation_size=0.25)
    >>> model = EpochRepeater(split, epochs=3).fit(X, X.sum(axis=1))
    >>> len(split.validation_scores_), split.validation_indices_[[0, -1]].tolist()
    (3, [150, 199])
    """

    _validates_input = True

    def __init__(
        self,
        step: Any,
        validation_size: float = 0.15,
        *,
        gap: int | str = "auto",
        shuffle: bool = False,
        random_state: Any = None,
        scoring: Any = None,
        patience: int | None = None,
        restore_best_weights: bool = False,
    ) -> None:
        self.step = step
        self.validation_size = validation_size
        self.gap = gap
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

    def _split(self, n_samples: int, y: Any) -> None:
        """Split once: ``train_indices_``, ``validation_indices_`` and ``gap_``."""
        self.gap_ = resolve_gap(self.gap, y, owner="ValidationSplit")
        if not self.shuffle:
            train, validation = holdout_split(n_samples, self.validation_size, gap=self.gap_,
                                              owner="ValidationSplit")
            self._parts_taken = train, validation  # slices: views, no copy per epoch
            self.train_indices_ = np.arange(n_samples)[train]
            self.validation_indices_ = np.arange(n_samples)[validation]
            return
        if self.gap != "auto" and self.gap_:
            raise ValueError(f"ValidationSplit leaves a gap only between time-ordered parts; "
                             f"with shuffle=True set gap=0 (got gap={self.gap!r}).")
        self.gap_ = 0
        n_validation = math.ceil(self.validation_size * n_samples)
        if n_validation >= n_samples:
            needed = max(2, math.floor(1 / (1 - self.validation_size)))
            while math.ceil(self.validation_size * needed) >= needed:
                needed += 1
            raise ValueError(
                f"ValidationSplit with validation_size={self.validation_size} leaves no "
                f"training sample: got {n_samples} sample(s), need at least {needed}."
            )
        order = own_random_state(self.random_state).permutation(n_samples)
        cut = n_samples - n_validation
        self.train_indices_, self.validation_indices_ = np.sort(order[:cut]), np.sort(order[cut:])
        self._parts_taken = self.train_indices_, self.validation_indices_

    def _parts(self, X: Any, y: Any, *, reset: bool,
               params: dict[str, Any]) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Training X, y, validation X, y, and the training part's fit ``params``."""
        X = validate_X(self, X, reset=reset)
        y = None if y is None else validate_y(y, len(X))
        if reset:
            self._split(len(X), y)
            self._n_fitted = len(X)
        elif len(X) != self._n_fitted:
            raise ValueError(f"ValidationSplit was fitted on {self._n_fitted} samples and split "
                             f"them once; got {len(X)}.")
        train, validation = self._parts_taken
        take = (lambda part: None) if y is None else (lambda part: y[part])
        return (X[train], take(train), X[validation], take(validation),
                take_rows(params, train, len(X)))

    def _begin(self, X: Any, y: Any,
               params: dict[str, Any]) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Check the parameters, split once, start a new record; return the parts."""
        self._check_params()
        parts = self._parts(X, y, reset=True, params=params)
        self._scorer = _neg_mse if self.scoring is None else resolve_metric(self.scoring)
        self.validation_scores_, self.best_score_, self.best_epoch_ = [], -math.inf, None
        self.stop_training_, self._best_state = False, None
        step = self._start()
        self._checkpoint = Checkpoint(step)
        if self.restore_best_weights and not self._checkpoint.holders:
            raise ValueError(
                f"restore_best_weights=True needs a step that holds training state "
                f"(get_training_state/set_training_state, e.g. a KerasModelStep) inside "
                f"ValidationSplit; {type(step).__name__} holds none. Set "
                f"restore_best_weights=False."
            )
        self._recorders = [inner for inner in iter_steps(step) if is_recorder(inner)]
        return parts

    def adapt(self, X: Any, y: Any = None, **params: Any) -> ValidationSplit:
        """Split once; let the wrapped step get ready on the train part only."""
        X_train, y_train, _, _, train_params = self._begin(X, y,
                                                           self._step_params("fit", params))
        with trusted_input():
            adapt_step(self.step_, X_train, y_train, **train_params)
        return self

    def fit(self, X: Any, y: Any = None, **params: Any) -> ValidationSplit:
        """Split, fit the wrapped step on the train part, score the validation part.

        Parameters
        ----------
        X, y : array-like
        **params : dict of str -> object
            Fit parameters of the wrapped step, split with the samples (see the class
            doc).

        Returns
        -------
        self : ValidationSplit
        """
        X_train, y_train, X_val, y_val, train_params = self._begin(
            X, y, self._step_params("fit", params))
        with trusted_input():
            self.step_.fit(X_train, y_train, **train_params)
        self._validate_pass(X_val, y_val)
        return self

    def partial_fit(self, X: Any, y: Any = None, **params: Any) -> ValidationSplit:
        """One training pass on the train part (same split), then score the validation part."""
        if not hasattr(self, "train_indices_"):
            self.adapt(X, y, **params)
        X_train, y_train, X_val, y_val, train_params = self._parts(
            X, y, reset=False, params=self._step_params("partial_fit", params))
        with trusted_input():
            self.step_.partial_fit(X_train, y_train, **train_params)
        self._validate_pass(X_val, y_val)
        return self

    def _validate_pass(self, X_val: Any, y_val: Any) -> None:
        with trusted_input(), recording("validation") as session:
            y_true, y_pred = predict_with_truth_step(self.step_, X_val, y_val)
        self._check_recorded(session)
        score = self._scorer(y_true, y_pred)
        self.validation_scores_.append(score)
        if math.isfinite(score) and score > self.best_score_:
            self.best_score_, self.best_epoch_ = score, len(self.validation_scores_) - 1
            if self.restore_best_weights:
                self._best_state = self._checkpoint.save()
        elif self.patience is not None:  # a non-finite score counts as no progress
            best = -1 if self.best_epoch_ is None else self.best_epoch_
            self.stop_training_ = len(self.validation_scores_) - 1 - best >= self.patience

    def _check_recorded(self, session: recording) -> None:
        """Refuse to lose validation metrics silently: some recorder inside must be on
        the evaluation path."""
        if session.recorders or not self._recorders:
            return
        names = sorted({getattr(r, "name", None) or type(r).__name__ for r in self._recorders})
        raise ValueError(
            f"ValidationSplit could not record validation metrics: the evaluation path "
            f"reaches none of the MetricsWrapper(s) inside ({', '.join(names)}). A step "
            f"between them predicts without predict_with_truth (see seqpipe.base). Put "
            f"the MetricsWrapper directly inside ValidationSplit, or give that step a "
            f"predict_with_truth that calls seqpipe.base.predict_with_truth_step."
        )

    def end_training(self) -> None:
        """Put back the best pass's weights when ``restore_best_weights`` is set."""
        check_fitted(self, "train_indices_")
        if self.restore_best_weights and self._best_state is not None:
            self._checkpoint.restore(self._best_state)
