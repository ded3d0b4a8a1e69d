"""The drivers: any step through the fit, evaluation, incremental and batch paths, each
step kind handled in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.base import clone

from seqpipe.base._divergence import DivergedError
from seqpipe.base._kinds import is_sample_step
from seqpipe.base._rows import take_rows


def fit_resample_step(step: Any, X: Any, y: Any, **params: Any) -> tuple[Any, Any]:
    """Fit ``step`` on ``(X, y)`` (with fit ``params``) and return what the next step
    sees when fitting.

    Sample steps go through ``fit_resample``; transformer steps through
    ``fit_transform`` (or ``fit`` then ``transform``), leaving y unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from seqpipe.base import fit_resample_step
    >>> from seqpipe.steps import MeanStdNormalizer
    >>> Xt, yt = fit_resample_step(MeanStdNormalizer(), X, X + 1.0)   # y scaled with X
    >>> Xt.shape, yt.shape
    ((6, 2), (6, 2))
    """
    if is_sample_step(step):
        return step.fit_resample(X, y, **params)
    if hasattr(step, "fit_transform"):
        return step.fit_transform(X, y, **params), y
    return step.fit(X, y, **params).transform(X), y


def resample_step(step: Any, X: Any, y: Any) -> tuple[Any, Any]:
    """Return what the next step sees when a fitted ``step`` is evaluated on ``(X, y)``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from seqpipe.base import resample_step
    >>> from seqpipe.steps import MeanStdNormalizer
    >>> Xt, yt = resample_step(MeanStdNormalizer().fit(X), X, y)    # nothing learned
    >>> Xt.shape, yt.shape
    ((6, 2), (6,))
    """
    if is_sample_step(step):
        return step.resample(X, y)
    return step.transform(X), y


def inverse_transform_y_step(step: Any, y: Any, X: Any) -> Any:
    """Undo ``step``'s change of y's units on ``y``; ``X`` is the step's input.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.base import inverse_transform_y_step
    >>> inverse_transform_y_step(Ridge(), y, X) is y        # no inverse_transform_y: as is
    True
    """
    inverse = getattr(step, "inverse_transform_y", None)
    return y if inverse is None else inverse(y, X)


def partial_fit_resample_step(step: Any, X: Any, y: Any, **params: Any) -> tuple[Any, Any]:
    """What a fitted ``step`` makes of ``(X, y)`` on a later training pass.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from seqpipe.base import partial_fit_resample_step
    >>> from seqpipe.steps import DataShuffler
    >>> Xs, ys = partial_fit_resample_step(DataShuffler(random_state=0), X, y)
    >>> sorted(ys.tolist()) == sorted(y.tolist())          # reshuffled on every pass
    True
    """
    if hasattr(step, "partial_fit_resample"):
        return step.partial_fit_resample(X, y, **params)
    return resample_step(step, X, y)


def adapt_step(step: Any, X: Any, y: Any, **params: Any) -> None:
    """Let ``step`` get ready for incremental training on ``(X, y)`` (and fit ``params``).

    A step without ``adapt`` (e.g. scikit-learn's SGDRegressor) is reset to its
    unfitted state instead, in place, so that training starts from scratch.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from sklearn.linear_model import SGDRegressor
    >>> from seqpipe.base import adapt_step
    >>> model = SGDRegressor().fit(X, y)
    >>> adapt_step(model, X, y)                 # no adapt method: reset to unfitted
    >>> hasattr(model, "coef_")
    False
    """
    adapt = getattr(step, "adapt", None)
    if adapt is not None:
        adapt(X, y, **params)
    elif hasattr(step, "get_params"):
        fresh = clone(step)
        step.__dict__.clear()
        step.__dict__.update(fresh.__dict__)


def predict_with_truth_step(step: Any, X: Any, y: Any) -> tuple[Any, Any]:
    """``(y_true, y_pred)`` of a fitted ``step`` on ``(X, y)``, both in y's units.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.base import predict_with_truth_step
    >>> y_true, y_pred = predict_with_truth_step(Ridge().fit(X, y), X, y)
    >>> y_true is y, y_pred.shape
    (True, (6,))
    """
    evaluate = getattr(step, "predict_with_truth", None)
    if evaluate is not None:
        return evaluate(X, y)
    return y, step.predict(X)


def each_batch(method: Callable[..., Any], X: Any, y: Any, batch_size: int,
               params: dict[str, Any] | None = None) -> list[Any]:
    """``method(X_batch, y_batch, **params_batch)`` on consecutive batches of
    ``batch_size`` samples (the last may be smaller), in turn; their results. Row-aligned
    ``params`` are sliced with the rows (:func:`take_rows`). A :class:`DivergedError`
    gets the index of the batch that diverged.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from seqpipe.base import each_batch
    >>> each_batch(lambda X_batch, y_batch: len(X_batch), X, y, batch_size=4)   # last kept
    [4, 2]
    """
    results = []
    n_rows = len(X)
    for index, start in enumerate(range(0, n_rows, batch_size)):
        rows = slice(start, start + batch_size)
        try:
            results.append(method(X[rows], None if y is None else y[rows],
                                  **take_rows(params or {}, rows, n_rows)))
        except DivergedError as error:
            error.batch = index
            raise
    return results


def partial_fit_batches(step: Any, X: Any, y: Any, batch_size: int, *,
                        predict: bool = False, **params: Any) -> list[tuple[Any, Any]] | None:
    """One ``partial_fit`` of ``step`` per consecutive batch of ``batch_size`` samples,
    row-aligned fit ``params`` sliced with the rows.

    With ``predict``, returns the ``(y_true, y_pred)`` of every batch in y's units,
    predicted right after that batch's update; otherwise None.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from sklearn.linear_model import SGDRegressor
    >>> from seqpipe.base import partial_fit_batches
    >>> model = SGDRegressor(random_state=0)
    >>> pairs = partial_fit_batches(model, X, y, 4, predict=True)
    >>> [(y_true.shape, y_pred.shape) for y_true, y_pred in pairs]
    [((4,), (4,)), ((2,), (2,))]
    """
    fast = getattr(step, "partial_fit_batches", None)
    if fast is not None:
        return fast(X, y, batch_size, predict=predict, **params)
    if not predict:
        each_batch(step.partial_fit, X, y, batch_size, params)
        return None

    def update_then_predict(X_batch: Any, y_batch: Any, **batch_params: Any) -> tuple[Any, Any]:
        step.partial_fit(X_batch, y_batch, **batch_params)
        return predict_with_truth_step(step, X_batch, y_batch)

    return each_batch(update_then_predict, X, y, batch_size, params)


def partial_fit_predict_step(step: Any, X: Any, y: Any, **params: Any) -> tuple[Any, Any]:
    """One incremental update of ``step`` on ``(X, y)`` (with fit ``params``), then its
    ``(y_true, y_pred)`` on the same data (:func:`partial_fit_batches` with a single
    batch).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from sklearn.linear_model import SGDRegressor
    >>> from seqpipe.base import partial_fit_predict_step
    >>> y_true, y_pred = partial_fit_predict_step(SGDRegressor(random_state=0), X, y)
    >>> y_true.shape, y_pred.shape
    ((6,), (6,))
    """
    fast = getattr(step, "partial_fit_batches", None)
    if fast is not None:
        return fast(X, y, max(len(X), 1), predict=True, **params)[0]
    step.partial_fit(X, y, **params)
    return predict_with_truth_step(step, X, y)
