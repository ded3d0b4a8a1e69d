"""MetricsWrapper: record metrics of the wrapped step while it trains.

>>> import numpy as np
>>> from sklearn.linear_model import Ridge
>>> from seqpipe.steps import MetricsWrapper
>>> X = np.arange(20.0).reshape(10, 2)
>>> wrapper = MetricsWrapper(Ridge(), metrics=["mse", "r2"], name="ridge").fit(X, X[:, 0])
>>> sorted(wrapper.history_["train"])
['mse', 'r2']
>>> wrapper.record("validation", X[:, 0], X[:, 0] + 1.0)
{'mse': 1.0, 'r2': 0.9696...}
"""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if
from tqdm.auto import tqdm

from seqpipe._validation import check_fitted
from seqpipe.base import (
    partial_fit_batches,
    partial_fit_predict_step,
    predict_with_truth_step,
    recording,
)
from seqpipe.scoring import resolve_metrics
from seqpipe.steps._meta import MetaStepMixin, wrapped_has

SUBSETS = ("train", "validation")


class MetricsWrapper(MetaStepMixin, BaseEstimator):
    """Record metrics of the wrapped step after every ``fit``/``partial_fit`` call.

    Each training call appends one value per metric to ``history_["train"]``,
    computed on the data of that call in y's units, with the predictions made right
    after the update: wrapped inside a MiniBatch it records per batch; around a
    MiniBatch (under EpochRepeater) per epoch, on the predictions of every batch
    right after its update (no second pass over the data, as in Neuraxle and
    Keras). A ValidationSplit wrapping this step records the validation metrics of
    each epoch in ``history_["validation"]``. ``fit`` starts a new history.

    Parameters
    ----------
    step : step or list of steps
        The wrapped step (a list runs as a Pipeline).
    metrics : None, str, callable, list or dict, default=None
        ``None`` is the mean squared error (``"mse"``). Names may be ``"mse"`` or any
        scikit-learn scorer name (``"r2"``, ``"neg_mean_absolute_error"``...; scorers
        keep their sign); callables are ``f(y_true, y_pred) -> float``. 3-D targets
        are flattened to ``(n_samples, n_timesteps * n_features)`` first.
    name : str, default=None
        Key of this history in the ``history_`` of enclosing steps (default
        ``"metrics"``).
    verbose : int, default=0
        Print the metrics when they are recorded.

    Attributes
    ----------
    step_ : step
        The fitted wrapped step.
    history_ : dict
        ``{"train": {metric: [values]}, "validation": {metric: [values]}}``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.steps import MetricsWrapper
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> wrapper = MetricsWrapper(Ridge(), metrics=["mse", "r2"], name="ridge").fit(X, X[:, 0])
    >>> sorted(wrapper.history_["train"])
    ['mse', 'r2']
    >>> wrapper.predict(X[:2]).shape
    (2,)
    """

    def __init__(self, step: Any, metrics: Any = None, name: str | None = None,
                 verbose: int = 0) -> None:
        self.step = step
        self.metrics = metrics
        self.name = name
        self.verbose = verbose

    def _start(self) -> Any:
        """Start a new history, and the wrapped step."""
        self._metrics = resolve_metrics(self.metrics)
        self.history_ = {subset: {name: [] for name in self._metrics} for subset in SUBSETS}
        return super()._start()

    def fit(self, X: Any, y: Any = None, **params: Any) -> MetricsWrapper:
        """Fit the wrapped step on ``(X, y)`` (with its fit ``params``, e.g.
        ``sample_weight``) and record its training metrics (not weighted)."""
        self._start().fit(X, y, **self._step_params("fit", params))
        self._record_training(X, y)
        self._record_n_features()
        return self

    @available_if(wrapped_has("partial_fit"))
    def partial_fit(self, X: Any, y: Any = None, **params: Any) -> MetricsWrapper:
        """One incremental update of the wrapped step; record its training metrics."""
        params = self._step_params("partial_fit", params)
        self.record("train", *partial_fit_predict_step(self._started(), X, y, **params))
        self._record_n_features()
        return self

    def partial_fit_batches(self, X: Any, y: Any, batch_size: int, *,
                            predict: bool = False, **params: Any) -> list[tuple[Any, Any]] | None:
        """``partial_fit`` on each consecutive batch of ``batch_size`` samples, in turn;
        record the training metrics of every batch (see
        :func:`seqpipe.base.partial_fit_batches`)."""
        pairs = partial_fit_batches(self._started(), X, y, batch_size, predict=True,
                                    **self._step_params("partial_fit", params))
        for pair in pairs:
            self.record("train", *pair)
        self._record_n_features()
        return pairs if predict else None

    def _record_training(self, X: Any, y: Any) -> None:
        self.record("train", *predict_with_truth_step(self.step_, X, y))

    def predict_with_truth(self, X: Any, y: Any = None) -> tuple[Any, Any]:
        """``(y_true, y_pred)`` of the wrapped step on the evaluation path.

        On a validation pass (:class:`seqpipe.base.recording`, e.g. by a
        ValidationSplit anywhere around this step), they are recorded under
        ``"validation"``, in the units this step sees; recorders nested inside this
        one do not record that pass.
        """
        check_fitted(self, "step_")
        session = recording.current()
        if session is None:
            return predict_with_truth_step(self.step_, X, y)
        token = recording.paused()
        try:
            pair = predict_with_truth_step(self.step_, X, y)
        finally:
            recording.resume(token)
        session.add(self, *pair)
        return pair

    def record(self, subset: str, y_true: Any, y_pred: Any) -> dict[str, float]:
        """Compute the metrics on ``(y_true, y_pred)`` and append them to ``subset``.

        Parameters
        ----------
        subset : {"train", "validation"}
        y_true, y_pred : array-like, in y's units.

        Returns
        -------
        dict
            The values just recorded, by metric name.
        """
        check_fitted(self, "history_")
        if subset not in SUBSETS:
            raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}.")
        values = {name: metric(y_true, y_pred) for name, metric in self._metrics.items()}
        for name, value in values.items():
            self.history_[subset][name].append(value)
        if self.verbose:
            tqdm.write(f"{self.name or 'metrics'} {subset}: "  # not through a progress bar
                       + ", ".join(f"{name}={value:.6g}" for name, value in values.items()))
        return values

