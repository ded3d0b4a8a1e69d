"""MiniBatch: train the wrapped step one batch at a time.

>>> import numpy as np
>>> from sklearn.linear_model import SGDRegressor
>>> from seqpipe.steps import MiniBatch
>>> X = np.random.default_rng(0).normal(size=(250, 3))
>>> step = MiniBatch(SGDRegressor(random_state=0), batch_size=100).fit(X, X.sum(axis=1))
>>> step.n_batches_                     # 100 + 100 + the last 50, kept
3
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if

from seqpipe._validation import check_fitted, check_int_param, trusted_input, validate_X, validate_y
from seqpipe.base import (
    Checkpoint,
    DivergedError,
    HistoryMixin,
    adapt_step,
    each_batch,
    partial_fit_batches,
    predict_with_truth_step,
    take_rows,
)
from seqpipe.steps._meta import MetaStepMixin, wrapped_has


class MiniBatch(HistoryMixin, MetaStepMixin, BaseEstimator):
    """Call the wrapped step's ``partial_fit`` once per batch of ``batch_size`` samples.

    ``fit`` lets the wrapped step ``adapt`` to all the data first (a Pipeline fits its
    preprocessing, e.g. normalization statistics, on all of it; a Keras step builds
    its model), then makes one pass over the batches; ``partial_fit`` makes another
    pass (EpochRepeater calls it once per epoch). The data is validated once per
    call, not per batch, and a Pipeline whose steps before the model are samplewise
    (normalizer, ToNumpy) preprocesses the pass at once: only the model is called per
    batch (see :mod:`seqpipe.base`). On the predict, transform and evaluation paths, X is cut
    into batches of ``predict_batch_size`` and the results concatenated.

    A non-finite loss raises :class:`~seqpipe.base.DivergedError` naming the batch,
    with the weights restored to the start of the pass.

    Fit parameters with one value per sample (``sample_weight``) are sliced with the
    batches: each ``partial_fit`` gets the weights of its own rows.

    Parameters
    ----------
    step : step or list of steps
        Needs ``partial_fit``; a list runs as a Pipeline.
    batch_size : int, default=32
    keep_last : bool, default=True
        Train on the last, smaller batch too (Neuraxle silently dropped it).
    predict_batch_size : int, default=1024
        Samples per batch when predicting (no gradients: larger batches are faster).

    Attributes
    ----------
    step_ : step
        The fitted wrapped step.
    n_batches_ : int
        Number of batches of the last pass.
    n_features_in_ : int

    Examples
    --------
    The last, partial batch is kept (``keep_last=True``):

    >>> import numpy as np
    >>> from sklearn.linear_model import SGDRegressor
    >>> from seqpipe.steps import MiniBatch
    >>> X = np.random.default_rng(0).normal(size=(250, 3))
    >>> step = MiniBatch(SGDRegressor(random_state=0), batch_size=100).fit(X, X.sum(axis=1))
    >>> step.n_batches_
    3
    """

    _validates_input = True

    def __init__(self, step: Any, batch_size: int = 32, keep_last: bool = True,
                 predict_batch_size: int = 1024) -> None:
        self.step = step
        self.batch_size = batch_size
        self.keep_last = keep_last
        self.predict_batch_size = predict_batch_size

    def _validate(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, Any]:
        check_int_param(self, "batch_size", self.batch_size)
        check_int_param(self, "predict_batch_size", self.predict_batch_size)
        X = validate_X(self, X, reset=reset)
        if not self.keep_last and len(X) < self.batch_size:
            raise ValueError(
                f"MiniBatch with keep_last=False and batch_size={self.batch_size} has no full "
                f"batch in {len(X)} samples: nothing would be trained. Lower batch_size or "
                f"set keep_last=True."
            )
        return X, (None if y is None else validate_y(y, len(X)))

    def _n_trained(self, n_samples: int) -> int:
        """How many of ``n_samples`` are trained on (all, or the full batches only)."""
        return n_samples if self.keep_last else n_samples - n_samples % self.batch_size

    def adapt(self, X: Any, y: Any = None, **params: Any) -> MiniBatch:
        """Let the wrapped step get ready on all of ``(X, y)`` (see the class doc)."""
        return self._adapt(X, y, self._step_params("fit", params))

    def _adapt(self, X: Any, y: Any, params: dict[str, Any]) -> MiniBatch:
        X, y = self._validate(X, y, reset=True)
        step = self._start()
        if not hasattr(step, "partial_fit"):
            raise TypeError(f"MiniBatch trains its step with partial_fit, which "
                            f"{type(step).__name__} does not have.")
        with trusted_input():
            adapt_step(step, X, y, **params)
        self._checkpoint = Checkpoint(step)
        return self

    def fit(self, X: Any, y: Any = None, **params: Any) -> MiniBatch:
        """Adapt the wrapped step to ``(X, y)``, then train it on one pass of batches.

        Parameters
        ----------
        X, y : array-like
        **params : dict of str -> object
            Fit parameters of the wrapped step (see the class doc).

        Returns
        -------
        self : MiniBatch
        """
        params = self._step_params("fit", params)
        self._adapt(X, y, params)._pass(X, y, predict=False, params=params)
        return self

    def partial_fit(self, X: Any, y: Any = None, **params: Any) -> MiniBatch:
        """One pass over ``(X, y)``, one ``partial_fit`` of the wrapped step per batch."""
        self._pass(X, y, predict=False, params=self._step_params("partial_fit", params))
        return self

    def partial_fit_batches(self, X: Any, y: Any, batch_size: int, *,
                            predict: bool = False, **params: Any) -> list[tuple[Any, Any]] | None:
        """One pass (:meth:`partial_fit`) per consecutive batch of ``batch_size`` samples;
        with ``predict``, each one's ``(y_true, y_pred)``: every batch of this
        MiniBatch predicted right after its update, end to end, in y's units.

        What an enclosing MetricsWrapper records per epoch, without a second pass over
        the data (Neuraxle's and Keras' epoch training metrics). With
        ``keep_last=False`` and rows left out, all rows are predicted after the pass.
        """
        params = self._step_params("partial_fit", params)
        if batch_size >= len(X):
            result = self._pass(X, y, predict=predict, params=params)
            return [result] if predict else None
        results = each_batch(lambda X_part, y_part, **part: self._pass(X_part, y_part,
                                                                       predict=predict,
                                                                       params=part),
                             X, y, batch_size, params)
        return results if predict else None

    def _pass(self, X: Any, y: Any, *, predict: bool,
              params: dict[str, Any]) -> tuple[Any, Any] | None:
        """One pass over the rows trained on; with ``predict``, ``(y_true, y_pred)``.
        ``params``: the wrapped step's fit parameters, for all of X's rows."""
        if getattr(self, "step_", None) is None:
            self._adapt(X, y, params)
        X, y = self._validate(X, y, reset=False)
        n_samples = self._n_trained(len(X))
        if predict and n_samples < len(X):
            self._pass(X, y, predict=False, params=params)
            return self.predict_with_truth(X, y)
        X_trained, y_trained = X[:n_samples], None if y is None else y[:n_samples]
        params = take_rows(params, slice(0, n_samples), len(X))
        snapshot = self._checkpoint.save()
        try:
            with trusted_input():
                pairs = partial_fit_batches(self.step_, X_trained, y_trained, self.batch_size,
                                            predict=predict, **params)
        except DivergedError as error:
            self._checkpoint.restore(snapshot)
            error.restored = "the start of this pass"
            raise
        self.n_batches_ = -(-n_samples // self.batch_size)
        return _concatenate_pairs(pairs) if predict else None

    def _batched(self, method_name: str, X: Any) -> list[Any]:
        check_fitted(self, "step_")
        X = validate_X(self, X, reset=False)
        method, size = getattr(self.step_, method_name), self.predict_batch_size
        with trusted_input():
            return [method(X[i:i + size]) for i in range(0, len(X), size)]

    @available_if(wrapped_has("predict"))
    def predict(self, X: Any) -> np.ndarray:
        """Predict batch by batch and concatenate."""
        return np.concatenate(self._batched("predict", X))

    @available_if(wrapped_has("transform"))
    def transform(self, X: Any) -> np.ndarray:
        """Transform batch by batch and concatenate."""
        return np.concatenate(self._batched("transform", X))

    def predict_with_truth(self, X: Any, y: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """``(y_true, y_pred)`` batch by batch, concatenated."""
        check_fitted(self, "step_")
        X, y = self._validate(X, y, reset=False)
        size = self.predict_batch_size
        with trusted_input():
            pairs = [predict_with_truth_step(self.step_, X[i:i + size],
                                             None if y is None else y[i:i + size])
                     for i in range(0, len(X), size)]
        return _concatenate_pairs(pairs)


def _concatenate_pairs(pairs: list[tuple[Any, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true, y_pred)`` pairs of batches end to end (one pair as it is: no copy)."""
    if len(pairs) == 1:
        return pairs[0]
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])

