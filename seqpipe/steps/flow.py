"""Flow meta-steps: TrainOnly (a step that acts while fitting only) and ForEach.

>>> import numpy as np
>>> from seqpipe.steps import ForEach, MeanStdNormalizer, TrainOnly, DataShuffler
>>> X = np.random.default_rng(0).normal(size=(4, 10, 2))
>>> Xt = ForEach(MeanStdNormalizer()).fit(X).transform(X)     # each sample on its own
>>> np.allclose(Xt.mean(axis=1), 0)
True
>>> TrainOnly(DataShuffler(random_state=0)).fit(X).transform(X) is X
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone

from seqpipe._validation import check_fitted, validate_X, validate_y
from seqpipe.base import (
    SampleMixin,
    StepTags,
    fit_resample_step,
    get_step_tags,
    inverse_transform_y_step,
    partial_fit_resample_step,
    resample_step,
)


class TrainOnly(SampleMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Apply ``step`` on the fit path only; X and y pass unchanged otherwise.

    Typical use: ``TrainOnly(DataShuffler())`` shuffles the training data but
    never the data being predicted or scored.

    Parameters
    ----------
    step : step
        A transformer or sample step; its parameters are ``step__<param>``.

    Attributes
    ----------
    step_ : step
        The fitted step (the same object as ``step``).
    n_features_in_ : int
        Number of features (last axis) seen during fit.
    sample_indices_ : ndarray of int
        The step's own ``sample_indices_`` (e.g. a DataShuffler's last order), when it
        has them: which input sample each output sample of the last training pass is.

    Examples
    --------
    The wrapped step acts while fitting; on the predict path X passes through untouched:

    >>> import numpy as np
    >>> from seqpipe.steps import DataShuffler, TrainOnly
    >>> X, y = np.arange(6.0).reshape(3, 2), np.arange(3.0)
    >>> Xs, ys = TrainOnly(DataShuffler(random_state=0)).fit_resample(X, y)
    >>> sorted(ys.tolist())
    [0.0, 1.0, 2.0]
    >>> TrainOnly(DataShuffler(random_state=0)).fit(X).transform(X) is X
    True
    """

    def __init__(self, step: Any) -> None:
        self.step = step

    @property
    def sample_indices_(self) -> Any:
        return self.step.sample_indices_

    def fit_resample(self, X: Any, y: Any = None, **params: Any) -> tuple[Any, Any]:
        """Fit ``step`` (with its fit ``params``) and return what it makes of ``(X, y)``."""
        X = validate_X(self, X, reset=True)
        Xt, yt = fit_resample_step(self.step, X, y, **params)
        self.step_ = self.step
        return Xt, yt

    def fit(self, X: Any, y: Any = None, **params: Any) -> TrainOnly:
        """Fit ``step`` (its ``fit``: getting ready, e.g. a DataShuffler does not shuffle)."""
        X = validate_X(self, X, reset=True)
        self.step.fit(X, y, **params)
        self.step_ = self.step
        return self

    def partial_fit_resample(self, X: Any, y: Any = None, **params: Any) -> tuple[Any, Any]:
        """Apply ``step`` again on a later training pass (e.g. reshuffle)."""
        check_fitted(self, "step_")
        return partial_fit_resample_step(self.step, X, y, **params)

    def transform(self, X: Any) -> np.ndarray:
        """Return X unchanged (as a validated array)."""
        check_fitted(self, "step_")
        return validate_X(self, X, reset=False)

    def resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, Any]:
        """Return X and y unchanged."""
        return self.transform(X), y

    def __seqpipe_tags__(self) -> StepTags:
        """The tags of ``step``: what it does on the training path."""
        return get_step_tags(self.step)


class ForEach(SampleMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Apply a fresh copy of ``step`` to each sample on its own (Neuraxle's ForEachDataInput).

    For every sample ``X[i]``, a clone of ``step`` is fitted on it and transforms it
    (and ``y[i]``, through the step's evaluation path ``resample``); nothing is
    learned across samples, so fit, predict and evaluation paths all act the same way.
    ``inverse_transform_y`` undoes, sample by sample, what the step did to y. Results
    are stacked back into one array.

    For per-sample normalization prefer ``MeanStdNormalizer(per_sample=True)``,
    which is vectorized; ForEach works for any step.

    Parameters
    ----------
    step : step
        Applied to each ``X[i]`` of shape ``(n_timesteps, n_features)``; X must be 3-D.

    Attributes
    ----------
    n_features_in_ : int
        Number of features (last axis) seen during fit.

    Examples
    --------
    Each sample is normalized on its own statistics:

    >>> import numpy as np
    >>> from seqpipe.steps import ForEach, MeanStdNormalizer
    >>> X = np.random.default_rng(0).normal(loc=5.0, size=(4, 10, 2))
    >>> Xt = ForEach(MeanStdNormalizer()).fit(X).transform(X)
    >>> bool(np.allclose(Xt.mean(axis=1), 0.0))
    True
    """

    def __init__(self, step: Any) -> None:
        self.step = step

    def __seqpipe_tags__(self) -> StepTags:
        """Samplewise: a fresh copy of the step for each sample, nothing learned."""
        return StepTags(keeps_samples=True, samplewise=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags

    def fit_resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, Any]:
        """Check the data, then apply the step to each sample (and its y)."""
        validate_X(self, X, reset=True, ndims=(3,))
        return self.resample(X, y)

    def resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, Any]:
        """Fit a fresh copy of the step on each ``X[i]``, apply it to ``(X[i], y[i])``."""
        check_fitted(self, "n_features_in_")
        X = validate_X(self, X, reset=False, ndims=(3,))
        if y is None:
            return _stack(fit_resample_step(clone(self.step), x, None)[0] for x in X), None
        y = validate_y(y, len(X))
        pairs = [resample_step(self._fitted_copy(x), x, y_i) for x, y_i in zip(X, y)]
        return _stack(p[0] for p in pairs), _stack(p[1] for p in pairs)

    def _fitted_copy(self, x: np.ndarray) -> Any:
        step = clone(self.step)
        fit_resample_step(step, x, None)
        return step

    def transform(self, X: Any) -> np.ndarray:
        """Apply a fresh copy of the step to each sample of X."""
        return self.resample(X)[0]

    def inverse_transform_y(self, y: Any, X: Any) -> np.ndarray:
        """Undo, sample by sample, the step's change of y's units."""
        check_fitted(self, "n_features_in_")
        X = validate_X(self, X, reset=False, ndims=(3,))
        return _stack(inverse_transform_y_step(self._fitted_copy(x), y_i, x)
                      for x, y_i in zip(X, np.asarray(y)))


def _stack(arrays) -> np.ndarray:
    return np.stack(list(arrays))
