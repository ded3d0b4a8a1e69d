"""The scores ``seqpipe run NAME`` reports for an exercise: the model's and the naive
baselines' beside it.

Regressors (y of shape ``(n, future, d)`` or ``(n, d)``) are scored by MSE beside
predicting zero, repeating the window's last value (over the whole future for
``(n, future, d)``) and, given the training windows, a linear autoregression on the
window (scikit-learn's ``Ridge`` on the flattened window) and the seasonal-naive
forecast (the value one cycle earlier) when a cycle shorter than the window is found
in the training windows; classifiers (integer y) by accuracy beside always answering
the training part's majority class.

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
from sklearn.linear_model import Ridge

from seqpipe.forecasting.season import peak_lag

__all__ = ["accuracy", "classification_baselines", "detect_window_season", "linear_ar",
           "mse", "regression_baselines", "seasonal_naive_windows"]


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


def regression_baselines(X: np.ndarray, y: np.ndarray, X_train: np.ndarray | None = None,
                         y_train: np.ndarray | None = None,
                         season: int | None = None) -> dict[str, float]:
    """MSE of naive forecasts of ``y`` from the windows ``X``: zero, the last value and,
    with the training windows, a linear autoregression fitted on them; with a
    ``season`` shorter than the window, the seasonal-naive forecast."""
    scores = {"zero_mse": mse(y, np.zeros_like(y, dtype=np.float64)),
              "last_value_mse": mse(y, last_value(X, y))}
    if season is not None and season < X.shape[1]:
        scores["seasonal_naive_mse"] = mse(y, seasonal_naive_windows(X, y, season))
    if X_train is not None and y_train is not None:
        scores["linear_ar_mse"] = mse(y, linear_ar(X_train, y_train).predict(
            X.reshape(len(X), -1)).reshape(y.shape))
    return scores


def linear_ar(X_train: np.ndarray, y_train: np.ndarray) -> Ridge:
    """``Ridge(alpha=1e-3)`` from the flattened windows to the flattened targets."""
    return Ridge(alpha=1e-3).fit(X_train.reshape(len(X_train), -1),
                                 y_train.reshape(len(y_train), -1))


def seasonal_naive_windows(X: np.ndarray, y: np.ndarray, season: int) -> np.ndarray:
    """Each future step forecast by the window's value ``season`` steps (a multiple of
    them) earlier; shaped as y."""
    d = y.shape[-1]
    future = y.shape[1] if y.ndim == 3 else 1
    h = np.arange(future)
    index = X.shape[1] - season + h % season
    return X[:, index, :d].reshape(y.shape)


def detect_window_season(X_train: np.ndarray, threshold: float = 0.3) -> int | None:
    """The lag (2 to window length - 1) of the highest autocorrelation of the values'
    differences within the training windows, pooled over windows and features, if
    above ``threshold``; None otherwise (no cycle short enough to see in a window)."""
    if X_train.ndim != 3 or X_train.shape[1] < 4:
        return None
    diffs = np.diff(np.asarray(X_train, dtype=np.float64), axis=1)
    energy = float(np.sum(diffs * diffs))
    diffs -= diffs.mean(axis=1, keepdims=True)
    variance = float(np.sum(diffs * diffs))
    if variance <= 1e-12 * energy or variance == 0:  # straight lines: round-off only
        return None
    length = diffs.shape[1]
    acf = np.array([1.0] + [np.sum(diffs[:, :-lag] * diffs[:, lag:]) * length
                            / (length - lag) for lag in range(1, length)]) / np.array(
        [1.0] + [variance] * (length - 1))
    return peak_lag(acf, threshold)


def classification_baselines(y_train: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Accuracy on ``y`` of always answering the most frequent class of ``y_train``."""
    classes, counts = np.unique(y_train, return_counts=True)
    return {"majority_accuracy": accuracy(y, np.full(len(y), classes[counts.argmax()]))}
