"""EpochRepeater: train the wrapped step for several epochs.

>>> import numpy as np
>>> from sklearn.linear_model import SGDRegressor
>>> from seqpipe.steps import EpochRepeater, MiniBatch
>>> X = np.random.default_rng(0).normal(size=(200, 3))
>>> model = EpochRepeater(MiniBatch(SGDRegressor(random_state=0), batch_size=50), epochs=4)
>>> model.fit(X, X.sum(axis=1)).n_epochs_
4
"""

from __future__ import annotations

import time
from typing import Any

from sklearn.base import BaseEstimator
from tqdm.auto import tqdm

from seqpipe._validation import check_int_param, trusted_input, validate_X, validate_y
from seqpipe.base import Checkpoint, DivergedError, HistoryMixin, adapt_step, iter_steps
from seqpipe.steps._meta import MetaStepMixin


class EpochRepeater(HistoryMixin, MetaStepMixin, BaseEstimator):
    """Repeat training passes (``partial_fit``) of the wrapped step for ``epochs`` epochs.

    ``fit`` validates the data once, lets the wrapped step ``adapt`` (fit its
    preprocessing, build its model), then calls its ``partial_fit`` once per epoch.
    Training stops early when a step inside sets ``stop_training_`` (a
    ValidationSplit with ``patience``); then every step's ``end_training()`` runs
    (e.g. to restore the best weights).

    If the loss diverges (:class:`~seqpipe.base.DivergedError`, naming the epoch and
    batch) or the fit is interrupted (``KeyboardInterrupt``), the weights are
    restored to the end of the last completed epoch (weights and optimizer state, see
    :class:`~seqpipe.base.Checkpoint`) before the error propagates, so the estimator
    stays usable; ``n_epochs_`` counts the completed epochs.

    Parameters
    ----------
    step : step or list of steps
        Needs ``partial_fit``; a list runs as a Pipeline.
    epochs : int, default=1
    verbose : int, default=0
        Show a progress bar with the latest metrics (tqdm).
    epoch_callback : callable or None, default=None
        Called as ``epoch_callback(self, epoch)`` after each completed epoch (its
        validation included), e.g. by a search that reports the validation score of
        every epoch to its pruner (:mod:`seqpipe.search`). An exception it raises ends
        training and propagates; the weights are those of the last completed epoch.

    Attributes
    ----------
    step_ : step
        The fitted wrapped step.
    n_epochs_ : int
        Number of epochs completed.
    epoch_seconds_ : list of float
        Wall time of each completed epoch (validation included).
    history_ : dict
        Histories of the MetricsWrappers inside, by name.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import SGDRegressor
    >>> from seqpipe.steps import EpochRepeater, MiniBatch
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> model = EpochRepeater(MiniBatch(SGDRegressor(random_state=0), batch_size=50), epochs=4)
    >>> model.fit(X, X.sum(axis=1)).n_epochs_
    4
    >>> model.get_params()["step__batch_size"]
    50
    """

    _validates_input = True

    def __init__(self, step: Any, epochs: int = 1, verbose: int = 0,
                 epoch_callback: Any = None) -> None:
        self.step = step
        self.epochs = epochs
        self.verbose = verbose
        self.epoch_callback = epoch_callback

    def fit(self, X: Any, y: Any = None, **params: Any) -> EpochRepeater:
        """Train the wrapped step for ``epochs`` passes over ``(X, y)``.

        Parameters
        ----------
        X, y : array-like
        **params : dict of str -> object
            Fit parameters of the wrapped step (e.g. ``sample_weight``), passed to its
            ``adapt`` and to every epoch's ``partial_fit``; with metadata routing
            enabled, those it requested (``set_fit_request``).

        Returns
        -------
        self : EpochRepeater
        """
        check_int_param(self, "epochs", self.epochs)
        params = self._step_params("fit", params)
        X = validate_X(self, X, reset=True)
        y = None if y is None else validate_y(y, len(X))
        step = self._start()
        if not hasattr(step, "partial_fit"):
            raise TypeError(f"EpochRepeater trains its step with partial_fit, which "
                            f"{type(step).__name__} does not have.")
        self.n_epochs_, self.epoch_seconds_ = 0, []
        progress = tqdm(total=self.epochs, unit="epoch", leave=True) if self.verbose else None
        with trusted_input():
            adapt_step(step, X, y, **params)
            inner_steps = list(iter_steps(step))
            checkpoint = Checkpoint(step)
            try:
                for epoch in range(self.epochs):
                    self._run_epoch(step, checkpoint, epoch, X, y, params)
                    if self.epoch_callback is not None:
                        self.epoch_callback(self, epoch)
                    if progress is not None:
                        progress.set_postfix(self._latest_metrics(), refresh=False)
                        progress.update()
                    if any(getattr(s, "stop_training_", False) for s in inner_steps):
                        break
            finally:
                if progress is not None:
                    progress.close()
        for inner in inner_steps:
            end_training = getattr(inner, "end_training", None)
            if end_training is not None:
                end_training()
        return self

    def _run_epoch(self, step: Any, checkpoint: Checkpoint, epoch: int, X: Any,
                   y: Any, params: dict[str, Any]) -> None:
        start = time.perf_counter()
        snapshot = checkpoint.save()
        try:
            step.partial_fit(X, y, **params)
        except DivergedError as error:
            checkpoint.restore(snapshot)
            error.epoch = epoch
            error.restored = (f"the end of epoch {epoch - 1}" if epoch
                              else "their values before the first epoch")
            raise
        except KeyboardInterrupt:
            checkpoint.restore(snapshot)
            raise
        self.n_epochs_ = epoch + 1
        self.epoch_seconds_.append(time.perf_counter() - start)

    def _latest_metrics(self) -> dict[str, str]:
        latest = {}
        for name, history in self.history_.items():
            for subset, metrics in history.items():
                for metric, values in metrics.items():
                    if values:
                        latest[f"{name}.{subset[:5]}.{metric}"] = f"{values[-1]:.4g}"
        return latest
