"""Models for servers in subprocesses (this directory goes on their PYTHONPATH):
a classifier of any labels, and a model whose working memory grows with the windows
of each call, as a recurrent network's activations do."""

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin


class Labeller(BaseEstimator):
    """Classifies each sample by the sign of its first value: ``classes_[0]`` for <= 0,
    ``classes_[1]`` for > 0 (labels of any dtype, given at fit)."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = np.shape(X)[-1]
        return self

    def predict(self, X):
        return self.classes_[(np.reshape(X, (len(X), -1))[:, 0] > 0).astype(int)]


class Activations(RegressorMixin, BaseEstimator):
    """Predicts the mean of ``tanh(x * w)`` over each window's time steps and ``units``
    weights: a call on n windows of t steps allocates ``n * t * units`` float64 values
    (8 * 128 = 1 KiB per time step with the default), like an RNN's activations."""

    def __init__(self, units=128):
        self.units = units

    def fit(self, X, y=None):
        self.n_features_in_ = np.shape(X)[-1]
        self.weights_ = np.linspace(-1.0, 1.0, self.units)
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=np.float64)
        hidden = np.tanh(X[..., :1] * self.weights_)  # (n, t, units)
        return hidden.mean(axis=(1, 2))
