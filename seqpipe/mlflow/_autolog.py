"""Autologging: every ``fit`` of a seqpipe Pipeline, step or search, patched to log
itself to MLflow (the fits inside it are its own)."""

from __future__ import annotations

import functools
import threading
import warnings
from typing import Any

import mlflow
import numpy as np

import seqpipe.steps
from seqpipe.mlflow._runs import _log_fitted
from seqpipe.pipeline import Pipeline

_LOCK = threading.Lock()
_ORIGINALS: dict[type, Any] = {}
_CONFIG: dict[str, Any] = {"log_models": True}
_BUSY = threading.Lock()  # held during an autologged fit: the fits inside are its own


def _classes() -> list[type]:
    """The classes whose own ``fit`` autolog patches: Pipeline, the steps, the searches."""
    roots = [Pipeline, *(getattr(seqpipe.steps, name) for name in seqpipe.steps.__all__)]
    try:
        from seqpipe.search.searches import GridSearch, RandomSearch, TPESearch
    except ImportError:  # pragma: no cover - the search extra is missing
        pass
    else:
        roots += [RandomSearch, GridSearch, TPESearch]
    found: dict[type, None] = {}
    for root in roots:
        for cls in root.__mro__:
            if "fit" in vars(cls) and cls.__module__.startswith("seqpipe"):
                found[cls] = None
    return list(found)


def _autologged(original: Any) -> Any:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _BUSY.acquire(blocking=False):  # a fit inside an autologged fit
            return original(self, *args, **kwargs)
        try:
            own_run = mlflow.active_run() is None
            if own_run:
                mlflow.start_run(run_name=type(self).__name__)
            try:
                result = original(self, *args, **kwargs)
            except BaseException:
                if own_run:
                    mlflow.end_run(status="FAILED")
                raise
            try:
                example = _example(args[0] if args else kwargs.get("X"))
                _log_fitted(mlflow.MlflowClient(), mlflow.active_run().info.run_id, self,
                            _CONFIG["log_models"], example)
            except Exception as error:  # noqa: BLE001 - logging never breaks a fit
                warnings.warn(f"seqpipe.mlflow.autolog could not log the fit of "
                              f"{type(self).__name__}: {type(error).__name__}: {error}",
                              stacklevel=2)
            if own_run:
                mlflow.end_run()
            return result
        finally:
            _BUSY.release()

    return fit


def _example(X: Any) -> Any:
    """The first rows of X (numpy arrays only) as the logged model's input example."""
    return X[:5] if isinstance(X, np.ndarray) and X.ndim >= 1 and len(X) >= 5 else None


def autolog(*, log_models: bool = True, disable: bool = False) -> None:
    """Log every ``fit`` of a seqpipe Pipeline, step or search to MLflow.

    Each top-level ``fit`` logs to the active run, or to a run of its own named after
    the estimator's class (ended when the fit ends; FAILED if it raises), what
    :func:`log_fit` logs. The fits it makes inside (a pipeline's steps, a search's
    trials and refit) are not logged separately; nor is a fit in another thread while
    one is being logged. Logging errors are warnings: they never break a fit.

    Parameters
    ----------
    log_models : bool, default=True
        Log the fitted model (a search's ``best_estimator_``) as ``model``, its
        signature inferred from the first 5 samples of X when X is an array.
    disable : bool, default=False
        Remove the patches: fits are no longer logged.

    Examples
    --------
    >>> import mlflow, numpy as np, tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe import Pipeline
    >>> import seqpipe.mlflow
    >>> root = tempfile.mkdtemp()
    >>> mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")  # a local store
    >>> _ = mlflow.set_experiment(experiment_id=mlflow.create_experiment(
    ...     "demo", artifact_location=f"{root}/artifacts"))
    >>> seqpipe.mlflow.autolog(log_models=False)
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> _ = Pipeline([Ridge(alpha=0.5)]).fit(X, X[:, 0])
    >>> mlflow.search_runs()["params.ridge__alpha"].tolist()
    ['0.5']
    >>> seqpipe.mlflow.autolog(disable=True)
    """
    for name, value in (("log_models", log_models), ("disable", disable)):
        if not isinstance(value, bool):
            raise ValueError(f"The '{name}' parameter of seqpipe.mlflow.autolog must be a "
                             f"bool. Got {value!r} instead.")
    with _LOCK:
        _CONFIG["log_models"] = log_models
        if disable:
            for cls, original in _ORIGINALS.items():
                cls.fit = original
            _ORIGINALS.clear()
            return
        for cls in _classes():
            if cls not in _ORIGINALS:
                _ORIGINALS[cls] = vars(cls)["fit"]
                cls.fit = _autologged(vars(cls)["fit"])
