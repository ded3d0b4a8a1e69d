"""The step protocol: what a seqpipe step is, on one page.

Every step is a :class:`sklearn.base.BaseEstimator`: ``__init__`` only stores its
arguments, validation happens in ``fit``, learned state ends in ``_``, and
``get_params``/``set_params``/``clone`` work as in scikit-learn. (Data steps opt out
of scikit-learn's ``set_output`` wrapping, ``auto_wrap_output_keys=None``: their
outputs are 3-D arrays, and the wrapper costs more than the work on a batch.) There are four
kinds of steps; a step's kind follows from the methods it has (duck typing, as in
scikit-learn), the mixins below only provide defaults.

**Transformer step** — changes X only::

    fit(X, y=None) -> self
    transform(X) -> X
    inverse_transform(X) -> X          (optional)

**Sample step** — may change the samples and/or y *while fitting* (a
:class:`~seqpipe.steps.Windower` derives y from a series, a
:class:`~seqpipe.steps.DataShuffler` reorders, a y-normalizer rescales y)::

    fit_resample(X, y) -> (X, y)       fit path: learn, then change samples and y
    resample(X, y) -> (X, y)           evaluation path: same change, nothing learned
    transform(X) -> X                  predict path: only X flows
    inverse_transform_y(y, X) -> y     (optional) undo a change of y's units on
                                       predictions; X is what this step received

A :class:`~seqpipe.Pipeline` calls ``fit_resample`` when it is fitted,
``resample`` when it is scored (so that y can be derived the same way, e.g. by a
Windower) and ``transform`` when it predicts. Predictions then flow back through
every ``inverse_transform_y`` in reverse order, so ``Pipeline.predict`` always
answers in the units of the y the user passed.

**Estimator step** — last in a pipeline::

    fit(X, y) -> self
    predict(X) -> y
    partial_fit(X, y) -> self          (optional: one incremental update)
    predict_proba(X), score(X, y)      (optional)

**Meta-step** — wraps a step (parameter ``step``) and decides how it is trained:
``TrainOnly``, ``ForEach``, ``MiniBatch``, ``EpochRepeater``, ``ValidationSplit``,
``MetricsWrapper``, ``PlotPredictions``. The wrapped step's parameters are
reachable as ``step__param`` through the usual nested ``get_params``/``set_params``.

**Incremental training** — ``MiniBatch`` and ``EpochRepeater`` train through::

    adapt(X, y) -> self                (optional) get ready on all the training data:
                                       fit what needs all of it (a normalizer's
                                       statistics), build what needs its shapes (a
                                       Keras model), train nothing
    partial_fit(X, y) -> self          one incremental update (a batch, an epoch)
    partial_fit_predict(X, y)          (optional) partial_fit, then (y_true, y_pred) on
                                       the same data, without redoing the preprocessing
                                       (a MiniBatch: each batch right after its update)
    adapt_resample(X, y)               (optional, sample steps) fit without acting
                                       as on a training pass (DataShuffler only
                                       starts its generator); default fit_resample
    partial_fit_resample(X, y)         (optional, sample steps) act again on every
                                       training pass (DataShuffler reshuffles); other
                                       fitted steps stay fixed and use ``resample``
    partial_fit_batches(X, y, batch_size)
    partial_fit_predict_batches(X, y, batch_size)
                                       (optional) one ``partial_fit`` (and its
                                       predictions) per consecutive batch, the batch
                                       loop pushed down into the step

A step whose fitted ``resample``, ``transform`` and ``inverse_transform_y`` act on
each sample on its own and that learns nothing on later passes (a normalizer, a
cast) declares ``_samplewise = True``. A Pipeline whose steps before the last are
all samplewise then preprocesses a whole pass at once and loops over the batches
at its last step only: the same numbers as batch by batch, with far fewer calls.

``fit`` of a meta-step is ``adapt`` followed by its first pass. Evaluation goes
through ``predict_with_truth(X, y) -> (y_true, y_pred)``, both in y's units, so
that metrics, validation and plots work when y is derived by a step (Windower). While training, a
step may set ``stop_training_ = True`` (early stopping) and may define
``end_training()``; ``EpochRepeater`` honours both. Data is validated once, at the
outermost step, then flows through the inner steps in
:func:`seqpipe._validation.trusted_input` mode, so nothing is re-checked per batch.

The functions below drive any step through these paths; pipelines and meta-steps
use them so that every step kind is handled in one place.

Example
-------
>>> import numpy as np
>>> from seqpipe.base import fit_resample_step
>>> from seqpipe.steps import MeanStdNormalizer
>>> X = np.arange(12.0).reshape(6, 2)
>>> Xt, yt = fit_resample_step(MeanStdNormalizer(), X, X[:, :1] * 0 + X)
>>> Xt.shape, yt.shape
((6, 2), (6, 2))
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from sklearn.base import clone

__all__ = [
    "DivergedError",
    "SampleMixin",
    "adapt_resample_step",
    "adapt_step",
    "each_batch",
    "predict_with_truth_step",
    "fit_resample_step",
    "inverse_transform_y_step",
    "is_sample_step",
    "iter_steps",
    "partial_fit_batches",
    "partial_fit_predict_batches",
    "partial_fit_predict_step",
    "partial_fit_resample_step",
    "resample_step",
    "restore_weights",
    "snapshot_weights",
    "weight_holders",
]


class SampleMixin:
    """Defaults for sample steps.

    A sample step implements ``fit_resample(X, y)`` and ``transform(X)``; this mixin
    supplies ``resample`` (transform X, keep y), ``fit`` (fit_resample, then
    return self) and ``fit_transform`` (the X half of ``fit_resample``).
    """

    def fit(self, X: Any, y: Any = None) -> SampleMixin:
        """Fit the step on ``(X, y)`` and return it (calls ``fit_resample``)."""
        self.fit_resample(X, y)
        return self

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit the step and return the transformed X of ``fit_resample``."""
        return self.fit_resample(X, y)[0]

    def resample(self, X: Any, y: Any = None) -> tuple[Any, Any]:
        """Apply the fitted step to ``(X, y)`` without learning anything.

        The default transforms X and leaves y as is; steps that derive or rescale
        y override it.
        """
        return self.transform(X), y


def is_sample_step(step: Any) -> bool:
    """Whether ``step`` follows the sample-step protocol (has ``fit_resample``)."""
    return hasattr(step, "fit_resample")


def fit_resample_step(step: Any, X: Any, y: Any) -> tuple[Any, Any]:
    """Fit ``step`` on ``(X, y)`` and return what the next step sees when fitting.

    Sample steps go through ``fit_resample``; transformer steps through
    ``fit_transform`` (or ``fit`` then ``transform``), leaving y unchanged.
    """
    if is_sample_step(step):
        return step.fit_resample(X, y)
    if hasattr(step, "fit_transform"):
        return step.fit_transform(X, y), y
    return step.fit(X, y).transform(X), y


def resample_step(step: Any, X: Any, y: Any) -> tuple[Any, Any]:
    """Return what the next step sees when a fitted ``step`` is evaluated on ``(X, y)``."""
    if is_sample_step(step):
        return step.resample(X, y)
    return step.transform(X), y


def inverse_transform_y_step(step: Any, y: Any, X: Any) -> Any:
    """Undo ``step``'s change of y's units on ``y``; ``X`` is the step's input."""
    inverse = getattr(step, "inverse_transform_y", None)
    return y if inverse is None else inverse(y, X)


def partial_fit_resample_step(step: Any, X: Any, y: Any) -> tuple[Any, Any]:
    """What a fitted ``step`` makes of ``(X, y)`` on a later training pass."""
    if hasattr(step, "partial_fit_resample"):
        return step.partial_fit_resample(X, y)
    return resample_step(step, X, y)


def adapt_resample_step(step: Any, X: Any, y: Any) -> tuple[Any, Any]:
    """Fit ``step`` on ``(X, y)`` while getting ready for incremental training; return
    what the next step adapts on (:func:`fit_resample_step` unless the step says
    otherwise: a DataShuffler does not shuffle, as adapting is not a training pass)."""
    adapt_resample = getattr(step, "adapt_resample", None)
    if adapt_resample is not None:
        return adapt_resample(X, y)
    return fit_resample_step(step, X, y)


def adapt_step(step: Any, X: Any, y: Any) -> None:
    """Let ``step`` get ready for incremental training on ``(X, y)``.

    A step without ``adapt`` (e.g. scikit-learn's SGDRegressor) is reset to its
    unfitted state instead, in place, so that training starts from scratch.
    """
    adapt = getattr(step, "adapt", None)
    if adapt is not None:
        adapt(X, y)
    elif hasattr(step, "get_params"):
        fresh = clone(step)
        step.__dict__.clear()
        step.__dict__.update(fresh.__dict__)


def predict_with_truth_step(step: Any, X: Any, y: Any) -> tuple[Any, Any]:
    """``(y_true, y_pred)`` of a fitted ``step`` on ``(X, y)``, both in y's units."""
    evaluate = getattr(step, "predict_with_truth", None)
    if evaluate is not None:
        return evaluate(X, y)
    return y, step.predict(X)


def partial_fit_predict_step(step: Any, X: Any, y: Any) -> tuple[Any, Any]:
    """One incremental update of ``step``, then its ``(y_true, y_pred)`` on ``(X, y)``."""
    fast = getattr(step, "partial_fit_predict", None)
    if fast is not None:
        return fast(X, y)
    step.partial_fit(X, y)
    return predict_with_truth_step(step, X, y)


def each_batch(method: Callable[[Any, Any], Any], X: Any, y: Any,
               batch_size: int) -> list[Any]:
    """``method(X_batch, y_batch)`` on consecutive batches of ``batch_size`` samples (the
    last may be smaller), in turn; their results. A :class:`DivergedError` gets the
    index of the batch that diverged."""
    results = []
    for index, start in enumerate(range(0, len(X), batch_size)):
        stop = start + batch_size
        try:
            results.append(method(X[start:stop], None if y is None else y[start:stop]))
        except DivergedError as error:
            error.batch = index
            raise
    return results


def partial_fit_batches(step: Any, X: Any, y: Any, batch_size: int) -> None:
    """One ``partial_fit`` of ``step`` per consecutive batch of ``batch_size`` samples."""
    fused = getattr(step, "partial_fit_batches", None)
    if fused is not None:
        fused(X, y, batch_size)
    else:
        each_batch(step.partial_fit, X, y, batch_size)


def partial_fit_predict_batches(step: Any, X: Any, y: Any,
                                batch_size: int) -> list[tuple[Any, Any]]:
    """:func:`partial_fit_predict_step` on each consecutive batch of ``batch_size``
    samples, in turn: the ``(y_true, y_pred)`` of every batch, in y's units."""
    fused = getattr(step, "partial_fit_predict_batches", None)
    if fused is not None:
        return fused(X, y, batch_size)
    return each_batch(functools.partial(partial_fit_predict_step, step), X, y, batch_size)


def iter_steps(step: Any) -> Iterator[Any]:
    """Yield ``step`` and every step nested in it (depth first, through its params)."""
    yield step
    for name in _param_names(type(step)):
        value = getattr(step, name, None)
        if isinstance(value, (list, tuple)):
            for item in value:
                item = item[1] if isinstance(item, tuple) else item
                if hasattr(item, "fit"):
                    yield from iter_steps(item)
        elif hasattr(value, "fit"):
            yield from iter_steps(value)


@functools.cache
def _param_names(cls: type) -> tuple[str, ...]:
    """Constructor parameter names of an estimator class (inspected once per class)."""
    getter = getattr(cls, "_get_param_names", None)
    return tuple(getter()) if getter is not None else ()


def weight_holders(step: Any) -> list[Any]:
    """The steps in ``step`` whose weights can be snapshot (``get_weights``)."""
    return [s for s in iter_steps(step) if hasattr(s, "get_weights")]


def snapshot_weights(holders: list[Any]) -> list[tuple[Any, Any]]:
    """Copies of the weights of ``holders`` (see :func:`weight_holders`) that are built."""
    return [(s, s.get_weights()) for s in holders if getattr(s, "model_", None) is not None]


def restore_weights(snapshot: list[tuple[Any, Any]]) -> None:
    """Put back weights taken by :func:`snapshot_weights`."""
    for step, weights in snapshot:
        step.set_weights(weights)


class DivergedError(FloatingPointError):
    """Training produced a non-finite loss.

    Each level that knows more fills it in: the Keras step sets ``loss``, the batch
    loop (:func:`each_batch`) the ``batch``, EpochRepeater the ``epoch`` and whether
    weights were restored.
    """

    def __init__(self, loss: float, *, batch: int | None = None, epoch: int | None = None,
                 restored: str | None = None) -> None:
        super().__init__(loss)
        self.loss, self.batch, self.epoch, self.restored = loss, batch, epoch, restored

    def __str__(self) -> str:
        where = ", ".join(f"{name} {value}" for name, value in
                          (("epoch", self.epoch), ("batch", self.batch)) if value is not None)
        restored = f" Weights were restored to {self.restored}." if self.restored else ""
        return (f"Training diverged: the loss became {self.loss}"
                f"{' at ' + where if where else ''}.{restored} Lower the learning_rate or "
                f"check the data for extreme values.")
