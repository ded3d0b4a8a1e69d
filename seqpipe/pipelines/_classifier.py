"""OneHotClassifier: a classifier made of an estimator trained on one-hot targets.

:class:`~seqpipe.steps.KerasModelStep` is a regressor: it learns whatever array y it
is given. Given one-hot targets, a softmax model and ``categorical_crossentropy``,
it learns class probabilities; this wrapper does the encoding and decoding so that
the whole is a scikit-learn classifier (``classes_``, ``predict_proba``, accuracy as
``score``).

>>> from seqpipe.datasets import make_echo_sequences
>>> from seqpipe.models import lstm_classifier
>>> from seqpipe.steps import KerasModelStep
>>> X, y = make_echo_sequences(64, n_classes=3, random_state=0)
>>> clf = OneHotClassifier(KerasModelStep(lstm_classifier, loss="categorical_crossentropy",
...                                       units=4, random_state=0)).fit(X, y)
>>> clf.predict_proba(X).shape, clf.classes_.shape
((64, 3), (3,))
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

__all__ = ["OneHotClassifier"]


class OneHotClassifier(ClassifierMixin, BaseEstimator):
    """Train a copy of ``estimator`` on the one-hot encoding of class labels.

    ``fit`` finds the classes (``numpy.unique(y)``), encodes y as rows of
    ``numpy.eye(n_classes)`` and fits a clone of ``estimator`` on them; its
    predictions are read as class probabilities. The estimator should output
    probabilities (e.g. a :class:`~seqpipe.steps.KerasModelStep` with a softmax
    builder such as :func:`seqpipe.models.lstm_classifier` and
    ``loss="categorical_crossentropy"``). The estimator's parameters are reachable as
    ``estimator__<name>``.

    Parameters
    ----------
    estimator : estimator
        A regressor with ``fit(X, Y)`` and ``predict(X) -> (n_samples, n_classes)``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``, sorted.
    estimator_ : estimator
        The fitted clone of ``estimator``.
    n_features_in_ : int
        Number of features seen by the estimator during fit.

    Examples
    --------
    Any regressor of one-hot rows becomes a classifier with ``classes_`` and
    ``predict_proba``:

    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.pipelines import OneHotClassifier
    >>> X = np.array([[0.0], [0.1], [0.9], [1.0]])
    >>> classifier = OneHotClassifier(Ridge(alpha=1e-3)).fit(X, ["low", "low", "high", "high"])
    >>> classifier.classes_.tolist(), classifier.predict([[0.05], [0.95]]).tolist()
    (['high', 'low'], ['low', 'high'])
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any) -> OneHotClassifier:
        """Fit a clone of ``estimator`` on X and the one-hot encoding of the labels y.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : OneHotClassifier
        """
        if y is None:
            raise ValueError("OneHotClassifier requires y to be passed, but the target y "
                             "is None.")
        y = column_or_1d(y, warn=True)  # a column vector is accepted with a warning
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        one_hot = np.eye(len(self.classes_), dtype=np.float32)[encoded]
        self.estimator_ = clone(self.estimator).fit(X, one_hot)
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, in the order of ``classes_``; each row sums to 1.

        The estimator's outputs, clipped at 0 and renormalized in float64.
        """
        check_is_fitted(self, "estimator_")
        scores = np.asarray(self.estimator_.predict(X), dtype=np.float64)
        scores = np.clip(scores.reshape(len(scores), -1), 0.0, None)
        totals = scores.sum(axis=1, keepdims=True)
        uniform = np.full_like(scores, 1.0 / scores.shape[1])
        return np.divide(scores, totals, out=uniform, where=totals > 0)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample."""
        proba = self.predict_proba(X)  # checks that it is fitted
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = inner.input_tags
        tags.non_deterministic = inner.non_deterministic
        if inner.regressor_tags is not None:  # e.g. a Keras step trained for one epoch
            tags.classifier_tags.poor_score = inner.regressor_tags.poor_score
        return tags
