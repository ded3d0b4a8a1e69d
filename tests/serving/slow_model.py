"""A model whose prediction is slow, importable by a server subprocess (its directory
goes on the subprocess's PYTHONPATH): for graceful shutdown and the worker thread."""

import pathlib
import time

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin


class SlowSum(RegressorMixin, BaseEstimator):
    """Predicts each row's sum after sleeping ``delay`` seconds; touches ``marker`` (a
    file path) when a prediction starts, so a test knows the request is in flight."""

    def __init__(self, delay=1.0, marker=None):
        self.delay = delay
        self.marker = marker

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        if self.marker is not None:
            pathlib.Path(self.marker).touch()
        time.sleep(self.delay)
        X = np.asarray(X, dtype=float)
        return X.reshape(len(X), -1).sum(axis=1)
