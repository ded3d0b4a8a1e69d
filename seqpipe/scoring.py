"""Metrics on forecasts: 3-D targets, scikit-learn scorer names and callables.

>>> import numpy as np
>>> from seqpipe.scoring import resolve_metrics
>>> metrics = resolve_metrics(["mse", "neg_mean_absolute_error"])
>>> y = np.zeros((4, 3, 2))
>>> {name: float(f(y, y + 1.0)) for name, f in metrics.items()}
{'mse': 1.0, 'neg_mean_absolute_error': -1.0}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics import get_scorer, get_scorer_names, mean_squared_error

Metric = Callable[[Any, Any], float]


def flatten_2d(y: Any) -> np.ndarray:
    """Flatten a 3-D target ``(n, timesteps, features)`` to ``(n, timesteps * features)``."""
    y = np.asarray(y)
    return y.reshape(len(y), -1) if y.ndim > 2 else y


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error over every value; 3-D arrays are flattened.

    Float arrays of the same shape take a numpy fast path (metrics are recorded per
    batch); anything else goes through scikit-learn's ``mean_squared_error``.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape == y_pred.shape and y_true.dtype.kind == y_pred.dtype.kind == "f":
        squared = np.subtract(y_true, y_pred, dtype=np.float64)
        np.square(squared, out=squared)
        return float(squared.sum() / squared.size)
    return float(mean_squared_error(flatten_2d(y_true), flatten_2d(y_pred)))


class _Predicted(RegressorMixin, BaseEstimator):
    """Stands in for an estimator whose predictions are already known."""

    def __init__(self, y_pred: np.ndarray) -> None:
        self.y_pred = y_pred

    def predict(self, X: Any) -> np.ndarray:
        return self.y_pred


class _ScorerMetric:
    """A scikit-learn scorer applied to known predictions (picklable)."""

    def __init__(self, name: str) -> None:
        self.__name__ = name
        self.scorer = get_scorer(name)

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        return float(self.scorer(_Predicted(flatten_2d(y_pred)), None, flatten_2d(y_true)))


class _Flattened:
    """A metric callable applied to flattened 3-D targets (picklable)."""

    def __init__(self, function: Metric) -> None:
        self.__name__ = getattr(function, "__name__", "metric")
        self.function = function

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        return float(self.function(flatten_2d(y_true), flatten_2d(y_pred)))


def resolve_metric(metric: str | Metric) -> Metric:
    """One metric ``f(y_true, y_pred) -> float`` from ``"mse"``, a scikit-learn scorer
    name (sign included: ``"neg_mean_squared_error"`` is negative) or a callable.

    3-D arrays are flattened to ``(n_samples, n_timesteps * n_features)`` first.
    """
    if callable(metric):
        return _Flattened(metric)
    if metric == "mse":
        return mse
    if isinstance(metric, str) and metric in get_scorer_names():
        return _ScorerMetric(metric)
    raise ValueError(
        f"Unknown metric {metric!r}: expected 'mse', a scikit-learn scorer name (see "
        f"sklearn.metrics.get_scorer_names()) or a callable f(y_true, y_pred)."
    )


def resolve_metrics(metrics: Any) -> dict[str, Metric]:
    """Metrics by name from None (MSE), a name, a callable, a list or a dict of them."""
    if metrics is None:
        return {"mse": mse}
    if isinstance(metrics, dict):
        return {name: resolve_metric(metric) for name, metric in metrics.items()}
    if isinstance(metrics, (str,)) or callable(metrics):
        metrics = [metrics]
    resolved = [resolve_metric(metric) for metric in metrics]
    names = [metric.__name__ for metric in resolved]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise ValueError(f"Metrics must have distinct names; {clashes} appear more than once. "
                         f"Pass a dict {{name: metric}} to name them.")
    return dict(zip(names, resolved))
