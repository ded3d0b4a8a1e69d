"""PlotPredictions: on request, plot what the wrapped step predicts (PNG).

>>> import numpy as np
>>> from sklearn.linear_model import Ridge
>>> from seqpipe.steps import PlotPredictions
>>> X = np.random.default_rng(0).normal(size=(20, 4))
>>> step = PlotPredictions(Ridge()).fit(X, X)
>>> step.predict(X).shape        # inactive unless enabled: a plain wrapper
(20, 4)
"""

from __future__ import annotations

import os
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if

from seqpipe._validation import check_fitted
from seqpipe.base import partial_fit_batches, predict_with_truth_step
from seqpipe.plotting import plot_predictions
from seqpipe.steps._meta import MetaStepMixin, wrapped_has


class PlotPredictions(MetaStepMixin, BaseEstimator):
    """Plot past windows, true futures and predicted futures of the wrapped step.

    Inactive during training. When ``enabled``, every evaluation through it
    (``predict_with_truth``: ``score``, a ValidationSplit's validation, or a call by
    you) writes one PNG to ``path`` with up to ``max_plotted`` samples, in the units
    this step sees (after the preprocessing before it, as in seed 003). Enable it
    after training with ``set_params(..., enabled=True)``, or call :meth:`plot`.

    Parameters
    ----------
    step : step
        The wrapped estimator.
    max_plotted : int, default=10
    path : str or path-like, default="predictions.png"
    enabled : bool, default=False

    Attributes
    ----------
    step_ : step
    last_plot_ : pathlib.Path or None
        The last PNG written.

    Examples
    --------
    Inactive unless enabled (``enabled=True``): then a plain wrapper.

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.steps import PlotPredictions
    >>> X = np.random.default_rng(0).normal(size=(20, 4))
    >>> step = PlotPredictions(Ridge()).fit(X, X)
    >>> step.predict(X).shape
    (20, 4)
    """

    def __init__(self, step: Any, max_plotted: int = 10,
                 path: str | os.PathLike = "predictions.png", enabled: bool = False) -> None:
        self.step = step
        self.max_plotted = max_plotted
        self.path = path
        self.enabled = enabled

    def _start(self) -> Any:
        """Forget the last plot; start the wrapped step."""
        self.last_plot_ = None
        return super()._start()

    def fit(self, X: Any, y: Any = None, **params: Any) -> PlotPredictions:
        """Fit the wrapped step (with its fit ``params``, e.g. ``sample_weight``)."""
        self._start().fit(X, y, **self._step_params("fit", params))
        self._record_n_features()
        return self

    @available_if(wrapped_has("partial_fit"))
    def partial_fit(self, X: Any, y: Any = None, **params: Any) -> PlotPredictions:
        """One incremental update of the wrapped step."""
        self._started().partial_fit(X, y, **self._step_params("partial_fit", params))
        self._record_n_features()
        return self

    def partial_fit_batches(self, X: Any, y: Any, batch_size: int, *,
                            predict: bool = False, **params: Any) -> list[tuple[Any, Any]] | None:
        """``partial_fit`` of the wrapped step on each batch of ``batch_size`` samples
        (no plot: inactive during training; see :func:`seqpipe.base.partial_fit_batches`)."""
        result = partial_fit_batches(self._started(), X, y, batch_size, predict=predict,
                                     **self._step_params("partial_fit", params))
        self._record_n_features()
        return result

    def predict_with_truth(self, X: Any, y: Any = None) -> tuple[Any, Any]:
        """``(y_true, y_pred)`` of the wrapped step; plots them when ``enabled``."""
        check_fitted(self, "step_")
        y_true, y_pred = predict_with_truth_step(self.step_, X, y)
        if self.enabled:
            self.plot(X, y_true, y_pred)
        return y_true, y_pred

    def plot(self, X: Any, y_true: Any, y_pred: Any = None) -> os.PathLike:
        """Write the PNG of ``X``, ``y_true`` and ``y_pred`` (predicted when None)."""
        check_fitted(self, "step_")
        if y_pred is None:
            y_pred = self.step_.predict(X)
        self.last_plot_ = plot_predictions(X, y_true, y_pred, self.path,
                                           max_plotted=self.max_plotted)
        return self.last_plot_
