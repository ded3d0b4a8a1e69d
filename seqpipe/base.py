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

Incremental training
--------------------
``MiniBatch`` and ``EpochRepeater`` train through ``partial_fit``. A step of your
own needs at most two more methods, both optional:

``adapt(X, y) -> self``
    Get ready on all the training data before the first pass: fit what needs all
    of it (a normalizer's statistics), build what needs its shapes (a Keras model),
    train nothing. Without it, an estimator is reset to its unfitted state
    (:func:`adapt_step`); a Pipeline ``fit``\\s the steps before its last one.
``partial_fit_resample(X, y) -> (X, y)``
    For sample steps that act anew on every training pass (DataShuffler
    reshuffles). Other fitted steps stay fixed on later passes and use ``resample``.

One more method is a fast path that seqpipe's own Pipeline and meta-steps
implement, and that a step never needs to: ``partial_fit_batches(X, y,
batch_size, *, predict=False)`` makes one ``partial_fit`` per consecutive batch and,
with ``predict``, returns each batch's ``(y_true, y_pred)`` in y's units, taken
right after its update (what a MetricsWrapper records, without a second pass over
the data). The drivers below fall back to plain ``partial_fit`` and
``predict_with_truth`` for any other step.

``fit`` of a meta-step is ``adapt`` followed by its first pass. Data is validated
once, at the outermost step, then flows through the inner steps in
:func:`seqpipe._validation.trusted_input` mode, so nothing is re-checked per batch.

Fit parameters
--------------
Every training method (``fit``, ``fit_resample``, ``adapt``, ``partial_fit``,
``partial_fit_batches``) takes keyword fit parameters after ``(X, y)``, e.g. a
``sample_weight``, as scikit-learn's ``fit(X, y, **params)``. A Pipeline routes them
to its steps by name (``step__param``) or, with scikit-learn's metadata routing
enabled, to the steps that requested them (``set_fit_request``: a step's request for
``fit`` covers all its training calls). Meta-steps pass them on to the step they wrap.

A parameter with one row per sample (an array-like as long as X) follows the rows:
batches and validation splits slice it, and after a head step of a Pipeline it is
taken at the rows that step made. A step that keeps the samples (tag
``keeps_samples``) leaves it as is; a sample step that reorders or selects rows on
the fit path says which input row each output row is in ``sample_indices_`` (as
imbalanced-learn's samplers do; DataShuffler); the evaluation path never reorders.
A step that derives new rows (Windower cuts windows) cannot carry such a parameter
to the steps after it: that is an error naming the step and the parameters.

Tags
----
Like scikit-learn's ``__sklearn_tags__``, a step may declare :class:`StepTags` in
``__seqpipe_tags__()``; :func:`get_step_tags` reads them, with defaults for any
other estimator:

``keeps_samples``
    Every path maps sample *i* to sample *i*: nothing is dropped, derived or
    reordered, and a y given is the truth as is. Default: True for transformers and
    plain estimators, False for sample steps and for steps with their own
    evaluation path (``predict_with_truth``).
``samplewise``
    ``keeps_samples``, and each sample is transformed on its own by state that no
    later training pass changes (a normalizer, a cast). A Pipeline whose steps
    before the last are all samplewise, and whose last step keeps the samples,
    preprocesses a whole pass at once and calls only its last step per batch: the
    same numbers as batch by batch, far fewer calls. Default: False.

Pipelines and meta-steps derive their tags from the steps they hold.

Hooks seqpipe looks for
-----------------------
Besides the methods above, these are found by duck typing:

``predict_with_truth(X, y) -> (y_true, y_pred)``
    The evaluation path, both in y's units, so that metrics, validation and plots
    work when y is derived by a step (Windower). Default: ``(y, predict(X))``.
``get_training_state() -> state or None`` / ``set_training_state(state)``
    Everything training changes (a Keras model's weights and optimizer state), as a
    snapshot and back; None when there is nothing yet. :class:`Checkpoint` uses them
    to undo a diverged pass, an interrupted epoch, or to restore the best epoch.
``stop_training_`` / ``end_training()``
    A step may set ``stop_training_ = True`` to ask for early stopping and define
    ``end_training()`` to run when training ends; ``EpochRepeater`` honours both.
``set_output(transform=...)`` and ``get_feature_names_out(input_features)``
    scikit-learn's table output, on the steps whose outputs are 2-D tables
    (MeanStdNormalizer, ToNumpy); a Pipeline sets and chains them through its steps.
``record(subset, y_true, y_pred)`` and ``history_``
    A metrics recorder (``MetricsWrapper``). :func:`collect_history` gathers the
    ``history_`` of every recorder in a step; on a validation pass
    (:class:`recording`) the outermost recorders on the evaluation path record what
    they see under ``"validation"``, in their own units.

The functions below drive any step through these paths; pipelines and meta-steps
use them so that every step kind is handled in one place.

Example
-------
>>> import numpy as np
>>> from seqpipe.base import fit_resample_step, get_step_tags
>>> from seqpipe.steps import MeanStdNormalizer
>>> X = np.arange(12.0).reshape(6, 2)
>>> Xt, yt = fit_resample_step(MeanStdNormalizer(), X, X + 1.0)
>>> Xt.shape, yt.shape
((6, 2), (6, 2))
>>> get_step_tags(MeanStdNormalizer()).samplewise
True
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils import _safe_indexing

__all__ = [
    "Checkpoint",
    "DivergedError",
    "HistoryMixin",
    "SampleMixin",
    "StepTags",
    "adapt_step",
    "collect_history",
    "each_batch",
    "follow_rows",
    "fit_resample_step",
    "get_step_tags",
    "inverse_transform_y_step",
    "is_recorder",
    "is_sample_step",
    "iter_steps",
    "partial_fit_batches",
    "partial_fit_predict_step",
    "partial_fit_resample_step",
    "predict_with_truth_step",
    "recording",
    "resample_step",
    "take_rows",
]


# ---------------------------------------------------------------------------- tags
@dataclasses.dataclass
class StepTags:
    """What seqpipe may assume of a step (see the module docstring, "Tags").

    Parameters
    ----------
    keeps_samples : bool, default=True
        Every path maps sample *i* to sample *i* (nothing dropped, derived, reordered).
    samplewise : bool, default=False
        ``keeps_samples``, and each sample is transformed on its own by state that no
        later training pass changes: a training pass may be preprocessed at once.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from seqpipe.base import get_step_tags
    >>> from seqpipe.steps import DataShuffler, MeanStdNormalizer
    >>> get_step_tags(MeanStdNormalizer())
    StepTags(keeps_samples=True, samplewise=True)
    >>> get_step_tags(DataShuffler()).keeps_samples       # it reorders
    False
    """

    keeps_samples: bool = True
    samplewise: bool = False


def get_step_tags(step: Any) -> StepTags:
    """The :class:`StepTags` of ``step``: its ``__seqpipe_tags__()``, or defaults.

    The defaults: transformers and plain estimators keep the samples; sample steps
    (``fit_resample``) and steps with an evaluation path of their own
    (``predict_with_truth``) may not. Nothing is samplewise unless it says so.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.base import get_step_tags
    >>> from seqpipe.steps import Windower
    >>> get_step_tags(Ridge())                       # defaults for any estimator
    StepTags(keeps_samples=True, samplewise=False)
    >>> get_step_tags(Windower(5, 1)).keeps_samples  # derives windows
    False
    """
    declared = getattr(step, "__seqpipe_tags__", None)
    if declared is not None:
        return declared()
    keeps = not (is_sample_step(step) or hasattr(step, "predict_with_truth"))
    return StepTags(keeps_samples=keeps, samplewise=False)


# ---------------------------------------------------------------------------- sample steps
class SampleMixin:
    """Defaults for sample steps.

    A sample step implements ``fit_resample(X, y)`` and ``transform(X)``; this mixin
    supplies ``resample`` (transform X, keep y), ``fit`` (fit_resample, then
    return self) and ``fit_transform`` (the X half of ``fit_resample``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from sklearn.base import BaseEstimator
    >>> from seqpipe.base import SampleMixin
    >>> class DropFirst(SampleMixin, BaseEstimator):
    ...     # drops the first sample while fitting; predictions keep every sample
    ...     def fit_resample(self, X, y):
    ...         return X[1:], y[1:]
    ...     def transform(self, X):
    ...         return X
    >>> step = DropFirst()
    >>> step.fit(X, y) is step, step.resample(X, y)[0].shape    # the mixin's fit, resample
    (True, (6, 2))
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
    """Whether ``step`` follows the sample-step protocol (has ``fit_resample``).

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.base import is_sample_step
    >>> from seqpipe.steps import DataShuffler
    >>> is_sample_step(DataShuffler()), is_sample_step(Ridge())
    (True, False)
    """
    return hasattr(step, "fit_resample")


# ---------------------------------------------------------------------------- fit parameters
def _n_rows(value: Any) -> int | None:
    """The number of rows of an array-like, None for anything else (scalars, str, dict)."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
        return None
    try:
        return len(value)
    except TypeError:  # a 0-d array
        return None


def take_rows(params: dict[str, Any], rows: slice | np.ndarray, n_rows: int) -> dict[str, Any]:
    """``params`` with every value of ``n_rows`` rows taken at ``rows`` (a slice or
    indices); other values, and dicts of them (recursively), as they are.

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.base import take_rows
    >>> params = {"sample_weight": np.arange(6.0), "alpha": 1.0}
    >>> take_rows(params, slice(0, 2), n_rows=6)          # row-aligned values are sliced
    {'sample_weight': array([0., 1.]), 'alpha': 1.0}
    """
    if not params:
        return params
    taken = {}
    for name, value in params.items():
        if isinstance(value, dict):
            value = take_rows(value, rows, n_rows)
        elif _n_rows(value) == n_rows:
            value = value[rows] if isinstance(value, np.ndarray) else _safe_indexing(value, rows)
        taken[name] = value
    return taken


def follow_rows(step: Any, params: dict[str, Any], n_in: int, n_out: int, *,
                training: bool = True) -> dict[str, Any]:
    """Fit parameters of the steps after ``step`` (any dict, nested by step name),
    their row-aligned values brought to the rows ``step`` made of ``n_in`` rows.

    A step that keeps the samples changes nothing. Otherwise, on the fit path
    (``training``) the rows are the step's ``sample_indices_``; on the evaluation path
    (``resample``), which never reorders, they are the same rows if ``n_out == n_in``.
    Raises a ValueError naming the step and the parameters when the rows cannot follow.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from seqpipe.base import follow_rows
    >>> from seqpipe.steps import DataShuffler
    >>> shuffler = DataShuffler(random_state=0)
    >>> _ = shuffler.fit_resample(X, y)
    >>> weights = follow_rows(shuffler, {"sample_weight": np.arange(6.0)}, 6, 6)
    >>> bool((weights["sample_weight"] == shuffler.sample_indices_).all())   # same order
    True
    """
    aligned = sorted(_row_aligned(params, n_in))
    if not aligned or get_step_tags(step).keeps_samples:
        return params
    if training:
        rows = getattr(step, "sample_indices_", None)
    else:
        rows = slice(None) if n_out == n_in else None
    if rows is None or (not isinstance(rows, slice) and len(rows) != n_out):
        raise ValueError(
            f"{type(step).__name__} changes the samples ({n_in} in, {n_out} out) without "
            f"saying which input sample each output sample comes from (sample_indices_), "
            f"so the fit parameter(s) {aligned}, given per input sample, cannot follow "
            f"them to the steps after it. Pass data already cut into the samples the "
            f"model trains on (e.g. windows), with one value per sample, to a pipeline "
            f"without {type(step).__name__}."
        )
    return take_rows(params, rows, n_in)


def _row_aligned(params: dict[str, Any], n_rows: int) -> set[str]:
    """Names of the values (in nested dicts too) with ``n_rows`` rows."""
    names = set()
    for name, value in params.items():
        if isinstance(value, dict):
            names |= _row_aligned(value, n_rows)
        elif _n_rows(value) == n_rows:
            names.add(name)
    return names


# ---------------------------------------------------------------------------- drivers
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


# ---------------------------------------------------------------------------- nesting
def iter_steps(step: Any) -> Iterator[Any]:
    """Yield ``step`` and every step nested in it (depth first, through its params).

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.base import iter_steps
    >>> from seqpipe.steps import EpochRepeater, MiniBatch
    >>> [type(step).__name__ for step in iter_steps(EpochRepeater(MiniBatch(Ridge())))]
    ['EpochRepeater', 'MiniBatch', 'Ridge']
    """
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


# ---------------------------------------------------------------------------- checkpoints
class Checkpoint:
    """The training state of every step inside a step, to put back later.

    Holders are the steps with ``get_training_state``/``set_training_state`` (a
    Keras step: weights and optimizer state), found once; :meth:`save` snapshots
    them, :meth:`restore` puts a snapshot back.

    Parameters
    ----------
    step : step
        Searched with :func:`iter_steps`, itself included.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> Checkpoint(Ridge()).holders
    []
    """

    def __init__(self, step: Any) -> None:
        self.holders = [s for s in iter_steps(step) if hasattr(s, "get_training_state")]

    def save(self) -> list[tuple[Any, Any]]:
        """A snapshot of every holder's training state (holders with none are left out)."""
        states = ((holder, holder.get_training_state()) for holder in self.holders)
        return [(holder, state) for holder, state in states if state is not None]

    @staticmethod
    def restore(snapshot: list[tuple[Any, Any]]) -> None:
        """Put back the training states of a :meth:`save` snapshot."""
        for holder, state in snapshot:
            holder.set_training_state(state)


# ---------------------------------------------------------------------------- history
def is_recorder(step: Any) -> bool:
    """Whether ``step`` records metrics (has ``record``, like a MetricsWrapper).

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.base import is_recorder
    >>> from seqpipe.steps import MetricsWrapper
    >>> is_recorder(MetricsWrapper(Ridge())), is_recorder(Ridge())
    (True, False)
    """
    return callable(getattr(type(step), "record", None))


def collect_history(step: Any) -> dict[str, dict]:
    """The ``history_`` of every recorder in ``step`` (see :func:`is_recorder`), by name.

    Unnamed recorders are called ``"metrics"``; clashing names get ``-1``, ``-2``...

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.base import collect_history
    >>> from seqpipe.steps import MetricsWrapper
    >>> step = MetricsWrapper(Ridge(), name="ridge").fit(X, y)
    >>> history = collect_history(step)
    >>> list(history), list(history["ridge"])
    (['ridge'], ['train', 'validation'])
    """
    histories: dict[str, dict] = {}
    for inner in iter_steps(step):
        if not is_recorder(inner) or not hasattr(inner, "history_"):
            continue
        name = getattr(inner, "name", None) or "metrics"
        key, count = name, 1
        while key in histories:
            key, count = f"{name}-{count}", count + 1
        histories[key] = inner.history_
    return histories


class HistoryMixin:
    """``history_``: the metrics recorded by the recorders inside, by name.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe import Pipeline
    >>> from seqpipe.steps import MetricsWrapper
    >>> pipeline = Pipeline([MetricsWrapper(Ridge(), name="ridge")]).fit(X, y)
    >>> list(pipeline.history_)                   # Pipeline has HistoryMixin's history_
    ['ridge']
    """

    @property
    def history_(self) -> dict[str, dict]:
        """``{name: {"train": {metric: [...]}, "validation": {...}}}`` of inner recorders."""
        return collect_history(self)


_RECORDING: contextvars.ContextVar[recording | None] = contextvars.ContextVar(
    "seqpipe_recording", default=None)


class recording:  # noqa: N801 - used like a function: ``with recording("validation"):``
    """Let the outermost recorders on an evaluation path record what they see.

    Inside ``with recording(subset) as session:``, a recorder's
    ``predict_with_truth`` calls :meth:`add` with the ``(y_true, y_pred)`` it
    computes, in its own units, and evaluates the step it wraps outside the session
    (so recorders nested in it do not record). When the block ends, each recorder
    records the concatenation of what it saw under ``subset`` once (a MiniBatch
    evaluates in chunks). ``session.recorders`` lists those that recorded.

    Parameters
    ----------
    subset : str
        Where the recorders record, e.g. ``"validation"``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.base import recording
    >>> from seqpipe.steps import MetricsWrapper
    >>> step = MetricsWrapper(Ridge(), name="ridge").fit(X, y)
    >>> with recording("validation") as session:
    ...     _ = step.predict_with_truth(X, y)
    >>> len(step.history_["validation"]["mse"]), len(session.recorders)
    (1, 1)
    """

    def __init__(self, subset: str) -> None:
        self.subset = subset
        self._seen: dict[int, tuple[Any, list, list]] = {}

    @property
    def recorders(self) -> list[Any]:
        """The recorders that saw data in this session."""
        return [recorder for recorder, _, _ in self._seen.values()]

    def __enter__(self) -> recording:
        self._token = _RECORDING.set(self)
        return self

    def __exit__(self, exc_type: Any, *exc_info: Any) -> None:
        _RECORDING.reset(self._token)
        if exc_type is not None:
            return
        for recorder, truths, predictions in self._seen.values():
            recorder.record(self.subset, _concatenate(truths), _concatenate(predictions))

    def add(self, recorder: Any, y_true: Any, y_pred: Any) -> None:
        """Keep ``(y_true, y_pred)`` that ``recorder`` saw, to record when the session ends."""
        _, truths, predictions = self._seen.setdefault(id(recorder), (recorder, [], []))
        truths.append(y_true)
        predictions.append(y_pred)

    @staticmethod
    def current() -> recording | None:
        """The session a recorder should add to, or None outside one."""
        return _RECORDING.get()

    @staticmethod
    def paused() -> contextvars.Token:
        """Hide the current session from nested recorders; undo with :meth:`resume`."""
        return _RECORDING.set(None)

    @staticmethod
    def resume(token: contextvars.Token) -> None:
        """Undo :meth:`paused`."""
        _RECORDING.reset(token)


def _concatenate(arrays: list[Any]) -> Any:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


# ---------------------------------------------------------------------------- errors
class DivergedError(FloatingPointError):
    """Training produced a non-finite loss.

    Each level that knows more fills it in: the Keras step sets ``loss``, the batch
    loop (:func:`each_batch`) the ``batch``, EpochRepeater the ``epoch`` and whether
    weights were restored.

    Examples
    --------
    >>> from seqpipe.base import DivergedError
    >>> error = DivergedError("the loss is nan")
    >>> isinstance(error, FloatingPointError)     # what a NaN loss raises while training
    True
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
