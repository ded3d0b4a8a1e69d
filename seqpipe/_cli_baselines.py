"""The scores ``seqpipe run`` reports: the model's and the naive baselines' beside it.

Regressors (y of shape ``(n, future, d)`` or ``(n, d)``) are scored by MSE beside
predicting zero and repeating the window's last value (over the whole future for
``(n, future, d)``); classifiers (integer y) by accuracy beside always answering the
training part's majority class.

>>> import numpy as np
>>> X = np.arange(6.0).reshape(2, 3, 1)
>>> y = np.array([[3.0], [6.0]])
>>> regression_baselines(X, y)
{'zero_mse': 22.5, 'last_value_mse': 1.0}
>>> classification_baselines(np.array([1, 1, 2]), np.array([1, 2]))
{'majority_accuracy': 0.5}
"""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "classification_baselines", "mse", "regression_baselines"]


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error over every value, in float64."""
    return float(np.mean((np.asarray(y_true, np.float64) - y_pred) ** 2))


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of the labels predicted exactly."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def last_value(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The last past value of each window, shaped as y (repeated over a future window)."""
    d = y.shape[-1]
    if y.ndim == 3:
        return np.broadcast_to(X[:, -1:, :d], y.shape)
    return X[:, -1, :d].reshape(y.shape)


def regression_baselines(X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """MSE of naive forecasts of ``y`` from the windows ``X``: zero, and the last value."""
    return {"zero_mse": mse(y, np.zeros_like(y, dtype=np.float64)),
            "last_value_mse": mse(y, last_value(X, y))}


def classification_baselines(y_train: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Accuracy on ``y`` of always answering the most frequent class of ``y_train``."""
    classes, counts = np.unique(y_train, return_counts=True)
    return {"majority_accuracy": accuracy(y, np.full(len(y), classes[counts.argmax()]))}
