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

from seqpipe.base._divergence import Checkpoint, DivergedError
from seqpipe.base._drivers import (
    adapt_step,
    each_batch,
    fit_resample_step,
    inverse_transform_y_step,
    partial_fit_batches,
    partial_fit_predict_step,
    partial_fit_resample_step,
    predict_with_truth_step,
    resample_step,
)
from seqpipe.base._history import HistoryMixin, collect_history, is_recorder, recording
from seqpipe.base._kinds import SampleMixin, StepTags, get_step_tags, is_sample_step
from seqpipe.base._nesting import iter_steps
from seqpipe.base._rows import follow_rows, take_rows

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
