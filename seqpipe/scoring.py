"""Scores on forecasts: scikit-learn scorers and metrics that accept any y shape.

scikit-learn's metrics refuse targets of more than two dimensions, and
``cross_val_score``/``GridSearchCV`` turn that error into a NaN score with only a
warning: ``scoring="neg_mean_squared_error"`` on windows ``y`` of shape
``(n_samples, n_timesteps, n_features)`` silently yields ``[nan nan ...]``. This
module provides the same scores for any y shape, in two forms:

- **scorers** ``scorer(estimator, X, y) -> float``, greater is better, for the
  ``scoring`` argument of ``cross_val_score``, ``GridSearchCV`` or
  :mod:`seqpipe.search`: :func:`get_scorer` and :func:`make_scorer`. A scorer gets
  the truth and the predictions through the estimator's evaluation path
  (:func:`seqpipe.base.predict_with_truth_step`), so it also scores a pipeline
  whose y is derived from X by a step such as a Windower (y may be None).
- **metrics** ``metric(y_true, y_pred) -> float`` on known predictions, for
  MetricsWrapper and ValidationSplit: :func:`resolve_metric`,
  :func:`resolve_metrics`, :func:`mse`.

Both flatten every array of more than two dimensions to ``(n_samples, n_timesteps
* n_features)`` (:func:`flatten_2d`) before calling the metric, and both are built
on one class, a subclass of scikit-learn's own scorer: sign, keyword arguments,
response methods (``predict_proba``, ``decision_function``), ``pos_label`` and
metadata routing work as in scikit-learn.

>>> import numpy as np
>>> from seqpipe.scoring import get_scorer, resolve_metrics
>>> metrics = resolve_metrics(["mse", "neg_mean_absolute_error"])
>>> y = np.zeros((4, 3, 2))
>>> {name: float(f(y, y + 1.0)) for name, f in metrics.items()}
{'mse': 1.0, 'neg_mean_absolute_error': -1.0}
>>> class Persistence:                  # forecasts that the future repeats the past
...     def predict(self, X):
...         return X
>>> float(get_scorer("neg_mean_squared_error")(Persistence(), y, y + 2.0))
-4.0
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import get_scorer_names, mean_squared_error
from sklearn.metrics import make_scorer as _sklearn_make_scorer
from sklearn.metrics._scorer import (
    _cached_call,
    _get_response_method_name,
    _Scorer,
)
from sklearn.utils import get_tags
from sklearn.utils.validation import _check_response_method, _num_samples

from seqpipe.base import predict_with_truth_step

__all__ = ["flatten_2d", "get_scorer", "make_scorer", "mse", "resolve_metric",
           "resolve_metrics"]

Metric = Callable[[Any, Any], float]
Scorer = Callable[..., Any]

_UNCACHED = partial(_cached_call, None)
_EVALUATED = ("seqpipe.scoring", "predict_with_truth")  # key in a multi-metric cache


def flatten_2d(y: Any) -> np.ndarray:
    """Flatten a 3-D target ``(n, timesteps, features)`` to ``(n, timesteps * features)``.

    Parameters
    ----------
    y : array-like
        Target or predictions; arrays of at most two dimensions are returned as is.

    Returns
    -------
    ndarray
        ``y`` with one row per sample.

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.scoring import flatten_2d
    >>> flatten_2d(np.zeros((4, 10, 2))).shape, flatten_2d(np.zeros((4, 3))).shape
    ((4, 20), (4, 3))
    """
    y = np.asarray(y)
    return y.reshape(len(y), -1) if y.ndim > 2 else y


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error over every value; 3-D arrays are flattened.

    Float arrays of the same shape take a numpy fast path (metrics are recorded per
    batch); anything else goes through scikit-learn's ``mean_squared_error``.

    Parameters
    ----------
    y_true, y_pred : array-like of the same shape

    Returns
    -------
    float
        The mean of the squared differences (lower is better).

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.scoring import mse
    >>> y_true = np.zeros((2, 3, 1))
    >>> mse(y_true, y_true + 0.5)
    0.25
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape == y_pred.shape and y_true.dtype.kind == y_pred.dtype.kind == "f":
        squared = np.subtract(y_true, y_pred, dtype=np.float64)
        np.square(squared, out=squared)
        return float(squared.sum() / squared.size)
    return float(mean_squared_error(flatten_2d(y_true), flatten_2d(y_pred)))


class _Responses:
    """Stands in for a fitted estimator whose response (e.g. ``predict_proba``) is known.

    It has the estimator's tags and classes, and only the one response method, so
    that scikit-learn's scorer post-processes the response exactly as it would the
    estimator's own (the positive class's column of a binary ``predict_proba``...).
    """

    def __init__(self, estimator: Any, method: str, response: Any) -> None:
        self._estimator = estimator

        def respond(X: Any) -> Any:
            return response

        respond.__name__ = method
        setattr(self, method, respond)

    @property
    def classes_(self) -> Any:
        return self._estimator.classes_

    def __sklearn_tags__(self) -> Any:
        return get_tags(self._estimator)


def _cache_of(method_caller: Any) -> dict | None:
    """The per-call cache of scikit-learn's multi-metric scoring (a dict), if any, so
    that a dict of seqpipe scorers evaluates the estimator once."""
    if isinstance(method_caller, partial) and method_caller.func is _cached_call:
        cache = method_caller.args[0] if method_caller.args else None
        return cache if isinstance(cache, dict) else None
    return None


def _memo(cache: dict | None, key: Any, compute: Callable[[], Any]) -> Any:
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


class _FlatScorer(_Scorer):
    """A scikit-learn scorer for any y shape (see the module's docstring).

    ``predict`` responses come from the estimator's evaluation path
    (``predict_with_truth``), truth and predictions in y's units. Other responses
    (``predict_proba``, ``decision_function``) come from the estimator's method on X;
    their truth is y when it has one row per response row, else (y None, or
    resampled by a step) the truth of the evaluation path, which costs a prediction.
    """

    def __call__(self, estimator: Any, X: Any, y_true: Any = None, **kwargs: Any) -> Any:
        """Score ``estimator`` on ``(X, y_true)``; y_true may be None when a step of the
        estimator derives it from X (scikit-learn then calls ``scorer(estimator, X)``)."""
        return super().__call__(estimator, X, y_true, **kwargs)

    def _score(self, method_caller: Any, estimator: Any, X: Any, y_true: Any = None,
               **kwargs: Any) -> Any:
        method = _check_response_method(estimator, self._response_method)
        name = _get_response_method_name(method)
        cache = _cache_of(method_caller)

        def evaluate() -> tuple[Any, Any]:
            return predict_with_truth_step(estimator, X, y_true)

        if name == "predict":
            return self._score_predictions(*_memo(cache, _EVALUATED, evaluate), **kwargs)
        response = _memo(cache, ("seqpipe.scoring", name), partial(method, X))
        truth = y_true
        if truth is None or (hasattr(estimator, "predict_with_truth")
                             and _num_samples(truth) != _num_samples(response)):
            truth = _memo(cache, _EVALUATED, evaluate)[0]
        self._check_truth(truth)
        return super()._score(_UNCACHED, _Responses(estimator, name, flatten_2d(response)),
                              None, flatten_2d(truth), **kwargs)

    def _score_predictions(self, y_true: Any, y_pred: Any, **kwargs: Any) -> Any:
        """The score of known predictions (``predict`` responses), sign included."""
        self._check_truth(y_true)
        if kwargs:
            self._warn_overlap(message=(
                "There is an overlap between set kwargs of this scorer instance and passed "
                "metadata. Please pass them either as kwargs to `make_scorer` or metadata, "
                "but not both."), kwargs=kwargs)
        return self._sign * self._score_func(flatten_2d(y_true), flatten_2d(y_pred),
                                             **{**self._kwargs, **kwargs})

    @staticmethod
    def _check_truth(y_true: Any) -> None:
        if y_true is None:
            raise ValueError("Scoring needs y: pass y, or derive it from X with a step such "
                             "as Windower inside a seqpipe Pipeline.")

    def __repr__(self) -> str:
        return f"seqpipe.scoring.{super().__repr__()}"


def _flat(scorer: _Scorer) -> _FlatScorer:
    """The seqpipe version of a scikit-learn scorer (same function, sign, kwargs)."""
    return _FlatScorer(scorer._score_func, scorer._sign, scorer._kwargs,
                       scorer._response_method)


class _EstimatorScore:
    """``scorer(estimator, X, y) -> estimator.score(X, y)`` (``scoring=None``, picklable)."""

    def __call__(self, estimator: Any, X: Any, y: Any = None, **kwargs: Any) -> float:
        return estimator.score(X, y, **kwargs)

    def __repr__(self) -> str:
        return "seqpipe.scoring.get_scorer(None)"


def make_scorer(score_func: Callable[..., Any], *, greater_is_better: bool = True,
                response_method: str | tuple[str, ...] | list[str] = "predict",
                **kwargs: Any) -> Scorer:
    """Make a scorer from a metric, as :func:`sklearn.metrics.make_scorer`, for any y shape.

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, y_pred, **kwargs)``; arrays of more than two dimensions
        are flattened to ``(n_samples, n_timesteps * n_features)`` first.
    greater_is_better : bool, default=True
        Whether ``score_func`` is a score (high is good) or a loss (the scorer then
        returns its negation, so that greater is still better).
    response_method : {"predict", "predict_proba", "decision_function"} or tuple of them, \
default="predict"
        The estimator's method whose output is scored (the first one the estimator
        has, for a tuple). ``"predict"`` goes through the estimator's evaluation
        path, so y may be derived from X by a step such as Windower.
    **kwargs
        Passed to ``score_func``.

    Returns
    -------
    callable
        ``scorer(estimator, X, y) -> float``, greater is better; it pickles when
        ``score_func`` does.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.metrics import mean_absolute_error
    >>> from seqpipe.scoring import make_scorer
    >>> class Zero:
    ...     def predict(self, X):
    ...         return np.zeros_like(X)
    >>> y = np.ones((3, 4, 2))
    >>> float(make_scorer(mean_absolute_error, greater_is_better=False)(Zero(), y, y))
    -1.0
    """
    return _flat(_sklearn_make_scorer(score_func, greater_is_better=greater_is_better,
                                      response_method=response_method, **kwargs))


def get_scorer(scoring: str | Scorer | None) -> Scorer:
    """A scorer ``scorer(estimator, X, y) -> float`` that accepts any y shape.

    Parameters
    ----------
    scoring : str, callable or None
        - a name of :func:`sklearn.metrics.get_scorer_names` (``"r2"``,
          ``"neg_mean_squared_error"``, ``"accuracy"``, ``"neg_log_loss"``...), with
          scikit-learn's sign: losses are negated, so greater is always better;
        - ``"mse"``: the mean squared error with seqpipe's fast :func:`mse`, *negated*
          like ``"neg_mean_squared_error"`` (a scorer's greater is better; the metric
          ``resolve_metric("mse")`` is the positive MSE);
        - a scorer made by :func:`sklearn.metrics.make_scorer`: the same scorer for
          any y shape; any other callable is returned as is;
        - None: the estimator's own ``score`` (R² for a seqpipe Pipeline).

    Returns
    -------
    callable
        ``scorer(estimator, X, y) -> float``, greater is better, picklable (so that
        ``cross_val_score(..., n_jobs=2)`` can send it to its workers). Arrays of
        more than two dimensions are flattened to ``(n_samples, n_timesteps *
        n_features)`` before the metric sees them; predictions and truth come from
        the estimator's evaluation path, so y may be None when a step derives it.

    Raises
    ------
    ValueError
        If ``scoring`` is an unknown name.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from seqpipe.scoring import get_scorer
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> model = LinearRegression().fit(X, X[:, 0])
    >>> round(float(get_scorer("mse")(model, X, X[:, 0] + 1.0)), 6)     # negated: greater is better
    -1.0
    """
    if scoring is None:
        return _EstimatorScore()
    if isinstance(scoring, str):
        if scoring == "mse":
            return _FlatScorer(mse, -1, {}, "predict")
        if scoring not in get_scorer_names():
            raise ValueError(
                f"{scoring!r} is not a valid scoring value: expected 'mse' or a name of "
                f"sklearn.metrics.get_scorer_names().")
        return _flat(_sklearn_get_scorer(scoring))
    if type(scoring) is _Scorer:  # sklearn's make_scorer; subclasses are kept as they are
        return _flat(scoring)
    if callable(scoring):
        return scoring
    raise TypeError(f"scoring must be a str, a callable or None; got {scoring!r}.")


class _PredictionMetric:
    """A scorer applied to known predictions: ``metric(y_true, y_pred)`` (picklable)."""

    def __init__(self, name: str, scorer: _FlatScorer) -> None:
        self.__name__ = name
        self.scorer = scorer

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        return float(self.scorer._score_predictions(y_true, y_pred))


def _scorer_name(scorer: _Scorer) -> str:
    name = getattr(scorer._score_func, "__name__", None) or repr(scorer._score_func)
    return name if scorer._sign > 0 else f"neg_{name}"


def resolve_metric(metric: str | Metric | Scorer) -> Metric:
    """One metric ``f(y_true, y_pred) -> float`` on known predictions.

    Parameters
    ----------
    metric : str or callable
        ``"mse"`` (the positive mean squared error, :func:`mse`), a scikit-learn
        scorer name (sign included: ``"neg_mean_squared_error"`` is negative), a
        scorer made by :func:`make_scorer` or :func:`sklearn.metrics.make_scorer`, or
        a callable ``f(y_true, y_pred)``.

    Returns
    -------
    callable
        ``f(y_true, y_pred) -> float`` with a ``__name__``; arrays of more than two
        dimensions are flattened to ``(n_samples, n_timesteps * n_features)`` first.

    Raises
    ------
    ValueError
        If ``metric`` is unknown, or scores a response other than predictions
        (``"neg_log_loss"`` needs ``predict_proba``: use it with :func:`get_scorer`).

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.scoring import resolve_metric
    >>> metric = resolve_metric("mse")                     # the positive MSE
    >>> metric.__name__, metric(np.zeros((2, 2, 1)), np.ones((2, 2, 1)))
    ('mse', 1.0)
    """
    if isinstance(metric, _Scorer):
        scorer, name = _flat(metric), _scorer_name(metric)
    elif callable(metric):
        scorer, name = _FlatScorer(metric, 1, {}, "predict"), getattr(metric, "__name__",
                                                                         "metric")
    elif metric == "mse":
        return mse
    elif isinstance(metric, str) and metric in get_scorer_names():
        scorer, name = _flat(_sklearn_get_scorer(metric)), metric
    else:
        raise ValueError(
            f"Unknown metric {metric!r}: expected 'mse', a scikit-learn scorer name (see "
            f"sklearn.metrics.get_scorer_names()) or a callable f(y_true, y_pred)."
        )
    methods = scorer._response_method
    if "predict" not in ([methods] if isinstance(methods, str) else methods):
        raise ValueError(
            f"Metric {name!r} scores {methods!r}, not predictions; metrics are computed "
            f"from (y_true, y_pred). Use it as a scorer: seqpipe.scoring.get_scorer."
        )
    return _PredictionMetric(name, scorer)


def resolve_metrics(metrics: Any) -> dict[str, Metric]:
    """Metrics by name from None (MSE), a name, a callable, a list or a dict of them.

    Parameters
    ----------
    metrics : None, str, callable, list or dict
        Each one as in :func:`resolve_metric`; a dict names its metrics.

    Returns
    -------
    dict
        ``{name: f(y_true, y_pred)}``.

    Raises
    ------
    ValueError
        If two metrics of a list have the same name.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.metrics import mean_absolute_error
    >>> from seqpipe.scoring import resolve_metrics
    >>> metrics = resolve_metrics(["mse", mean_absolute_error])
    >>> sorted(metrics)
    ['mean_absolute_error', 'mse']
    >>> metrics["mean_absolute_error"](np.zeros((2, 3, 1)), np.full((2, 3, 1), 2.0))
    2.0
    """
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
