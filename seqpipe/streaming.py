"""StreamingPredictor: one time step in, the next prediction out (seed 002's deployment).

A fitted pipeline predicts from windows of ``window_size_past`` time steps. In
deployment, values arrive one at a time (a closing price a day); the predictor keeps
the last ``window_size_past`` of them in a bounded buffer and, once a full window has
arrived, answers with the pipeline's prediction for it, in y's units.

>>> import numpy as np
>>> from sklearn.linear_model import Ridge
>>> from sklearn.preprocessing import FunctionTransformer
>>> from seqpipe import Pipeline, StreamingPredictor
>>> from seqpipe.steps import MeanStdNormalizer
>>> series = np.sin(np.arange(40.0))[:, None]                        # (40, 1)
>>> windows = np.stack([series[i:i + 5] for i in range(35)])         # (35, 5, 1)
>>> flatten = FunctionTransformer(np.reshape, kw_args={"shape": (-1, 5)})
>>> pipe = Pipeline([MeanStdNormalizer(), flatten, Ridge()])
>>> pipe = pipe.fit(windows, series[5:, 0])                         # next value
>>> stream = StreamingPredictor(pipe, window_size_past=5)
>>> [stream.update(v) for v in series[:4, 0]]                        # not a full window yet
[None, None, None, None]
>>> answer = stream.update(series[4, 0])
>>> bool(np.isclose(answer, pipe.predict(windows[:1])[0]))
True
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.pipeline import Pipeline as SklearnPipeline
from sklearn.utils.validation import check_is_fitted

from seqpipe._composition import StepComposition
from seqpipe.steps.window import Windower

__all__ = ["StreamingPredictor", "takes_series"]


def takes_series(pipeline: Any) -> bool:
    """Whether ``pipeline`` holds a Windower (anywhere inside): it predicts from a whole
    series, whose rows are time steps, rather than from independent windows or samples.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe import Pipeline
    >>> from seqpipe.steps import MeanStdNormalizer, Windower
    >>> from seqpipe.streaming import takes_series
    >>> takes_series(Pipeline([Windower(5, 1), Ridge()]))
    True
    >>> takes_series(Pipeline([MeanStdNormalizer(), Ridge()]))
    False
    """
    return any(isinstance(step, Windower) for step in _inner_steps(pipeline))


def _inner_steps(step: Any) -> Iterator[Any]:
    """``step`` and every step inside it, in the order data flows through them.

    Looks into pipelines (seqpipe's and scikit-learn's) and meta-steps (the fitted ``step_``, else
    ``step``), wherever they sit.
    """
    yield step
    if isinstance(step, (StepComposition, SklearnPipeline)):
        for item in step.steps:
            inner = item[1] if isinstance(item, tuple) else item
            if not (isinstance(inner, str) or inner is None):
                yield from _inner_steps(inner)
        return
    wrapped = getattr(step, "step_", None)
    if wrapped is None:
        wrapped = getattr(step, "step", None)
    if isinstance(wrapped, (list, tuple)):
        for inner in wrapped:
            yield from _inner_steps(inner)
    elif wrapped is not None and not isinstance(wrapped, str):
        yield from _inner_steps(wrapped)


class StreamingPredictor:
    """Predict from a stream, one time step at a time, with a fitted pipeline.

    The predictor keeps the last ``window_size_past`` time steps received, oldest
    first, in a fixed-size array ``(window_size_past, n_features)`` allocated once
    (it never grows; each update shifts it by one time step). :meth:`update` adds one time step and,
    once ``window_size_past`` of them have arrived, returns the pipeline's prediction
    for the window they form; before that it returns None.

    What the window is given to the pipeline as depends on the pipeline:

    - **No Windower inside** (e.g. ``Pipeline([MeanStdNormalizer(), ToNumpy(),
      KerasModelStep(...)])`` fitted on windows ``(n, past, d)``): the pipeline
      predicts from windows, and gets the buffer as one window ``(1, past, d)``.
      The answer is ``pipeline.predict(window[None])[0]``.
    - **A Windower inside** (fitted on a series ``(n_timesteps, d)``): the pipeline
      predicts from a series, and gets the buffer as a series ``(past, d)``, which
      its Windower turns into exactly one window. The answer is the last row of
      ``pipeline.predict(series)`` for any series ending with those ``past`` steps,
      provided the steps before the Windower transform each time step on its own
      (as MeanStdNormalizer and ToNumpy do): a step that looks further back (a
      difference, a rolling mean) would only see the buffer. With a Windower's
      ``stride > 1``, every time step still gets an answer (the stride thins the
      training windows, not the stream).

    Parameters
    ----------
    pipeline : fitted estimator with ``predict``
        Usually a :class:`~seqpipe.Pipeline` or a meta-step around one.
    window_size_past : int, optional
        Number of time steps per window. Inferred when None: from the first
        Windower inside the pipeline, else from the first step with
        ``n_timesteps_in_`` (:class:`~seqpipe.steps.KerasModelStep`). Given
        explicitly, it must match the Windower's.
    n_features : int, optional
        Number of features per time step. Inferred when None from the pipeline's
        ``n_features_in_`` (or the Windower's); give it for pipelines whose first
        step does not record it.

    Attributes
    ----------
    pipeline : estimator
        The fitted pipeline (not copied).
    window_size_past : int
        Time steps per window (inferred or given).
    n_features_in_ : int
        Features per time step that :meth:`update` expects.
    takes_series_ : bool
        Whether the pipeline gets a series (a Windower inside) or one window.
    n_buffered : int
        Time steps in the buffer, at most ``window_size_past``.

    Notes
    -----
    Answers are those of ``pipeline.predict`` on the same windows, up to the
    round-off of predicting one window at a time instead of a batch: exactly or to
    float64 precision for NumPy estimators, to float32 precision for Keras models
    (their kernels may sum in another order for another batch size).

    The predictor pickles with its buffer: saved with :func:`seqpipe.save` mid-stream
    and reloaded with :func:`seqpipe.load`, it resumes where it stopped (call
    :meth:`reset` to start a fresh stream). It is not thread-safe: use one per stream,
    or a lock.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from seqpipe import Pipeline, StreamingPredictor
    >>> from seqpipe.steps import MeanStdNormalizer
    >>> windows = np.random.default_rng(0).normal(size=(50, 3, 2))       # (n, past, d)
    >>> flatten = FunctionTransformer(np.reshape, kw_args={"shape": (-1, 6)})
    >>> pipe = Pipeline([MeanStdNormalizer(), flatten, Ridge()])
    >>> pipe = pipe.fit(windows, windows[:, -1, 0])
    >>> stream = StreamingPredictor(pipe, window_size_past=3)
    >>> stream.n_features_in_
    2
    >>> stream.update([0.1, 0.2]) is None, stream.n_buffered
    (True, 1)
    >>> answers = stream.update_many([[0.3, 0.4], [0.5, 0.6], [0.7, 0.8]])
    >>> [a is None for a in answers]
    [True, False, False]
    >>> stream.reset().n_buffered
    0
    """

    def __init__(self, pipeline: Any, *, window_size_past: int | None = None,
                 n_features: int | None = None) -> None:
        name = type(pipeline).__name__
        if not hasattr(pipeline, "predict"):
            raise TypeError(
                f"StreamingPredictor needs a fitted pipeline that predicts (has a "
                f"'predict' method); got {name}, which does not."
            )
        check_is_fitted(pipeline)
        steps = list(_inner_steps(pipeline))
        windower = next((s for s in steps if isinstance(s, Windower)), None)
        self.pipeline = pipeline
        self.takes_series_ = windower is not None
        self._stride = 1 if windower is None else windower.stride
        self.window_size_past = self._resolve_window_size(steps, windower, window_size_past)
        self.n_features_in_ = self._resolve_n_features(pipeline, windower, n_features)
        self._buffer = np.zeros((self.window_size_past, self.n_features_in_))
        self.reset()

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _check_positive_int(value: Any, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(
                f"The '{name}' parameter of StreamingPredictor must be an int in the "
                f"range [1, inf) or None. Got {value!r} instead."
            )
        return int(value)

    def _resolve_window_size(self, steps: list, windower: Windower | None,
                             given: int | None) -> int:
        if given is not None:
            given = self._check_positive_int(given, "window_size_past")
        if windower is not None:
            if given is not None and given != windower.window_size_past:
                raise ValueError(
                    f"window_size_past={given} does not match the pipeline's Windower, "
                    f"which cuts windows of {windower.window_size_past} time steps. "
                    f"Leave window_size_past=None to use the Windower's."
                )
            return int(windower.window_size_past)
        if given is not None:
            return given
        for step in steps:
            n_timesteps = getattr(step, "n_timesteps_in_", None)
            if n_timesteps is not None:
                return int(n_timesteps)
        raise ValueError(
            f"StreamingPredictor cannot infer window_size_past from "
            f"{type(self.pipeline).__name__}: it holds neither a Windower nor a step "
            f"that records its window length (n_timesteps_in_, as KerasModelStep). "
            f"Pass window_size_past=<time steps per window>."
        )

    def _resolve_n_features(self, pipeline: Any, windower: Windower | None,
                            given: int | None) -> int:
        if given is not None:
            return self._check_positive_int(given, "n_features")
        for source in (pipeline, windower):  # a Pipeline whose first step lacks it: None
            n_features = getattr(source, "n_features_in_", None)
            if n_features is not None:
                return int(n_features)
        raise ValueError(
            f"StreamingPredictor cannot infer the number of features per time step: "
            f"{type(pipeline).__name__} has no n_features_in_. Pass n_features=<d>."
        )

    # ------------------------------------------------------------------ state
    @property
    def n_buffered(self) -> int:
        """Number of time steps in the buffer (at most ``window_size_past``)."""
        return self._filled

    def reset(self) -> StreamingPredictor:
        """Empty the buffer: the next answer comes after ``window_size_past`` updates.

        Returns
        -------
        self : StreamingPredictor
        """
        self._buffer[:] = 0.0
        self._filled = 0
        return self

    def window(self) -> np.ndarray | None:
        """The buffered time steps, oldest first, shape ``(n_buffered, n_features)``
        (a copy); None when the buffer is empty."""
        if self._filled == 0:
            return None
        return self._buffer[:self._filled].copy()

    def __repr__(self) -> str:
        return (f"StreamingPredictor({type(self.pipeline).__name__}, window_size_past="
                f"{self.window_size_past}, n_features={self.n_features_in_}, "
                f"n_buffered={self._filled})")

    # ------------------------------------------------------------------ input checks
    def _check_block(self, values: Any, method: str, *, one: bool) -> np.ndarray:
        d = self.n_features_in_
        if one:
            expected = f"a scalar or one time step of shape ({d},)" if d == 1 else \
                f"one time step of shape ({d},)"
        else:
            expected = f"time steps of shape (k, {d})" + (" or (k,)" if d == 1 else "")
        try:
            array = np.asarray(values)
        except (TypeError, ValueError) as error:  # ragged nested sequences
            raise ValueError(f"StreamingPredictor.{method} expects {expected} of numbers; "
                             f"could not read {values!r} as an array ({error}).") from None
        if array.dtype.kind not in "iuf":
            raise ValueError(
                f"StreamingPredictor.{method} expects numbers (int or float), got "
                f"{values!r} (dtype {array.dtype})."
            )
        if one:
            fits = array.shape == (d,) or (d == 1 and array.shape == ())
        else:
            fits = (array.ndim == 2 and array.shape[1] == d) or (d == 1 and array.ndim == 1)
        if not fits:
            raise ValueError(
                f"StreamingPredictor.{method} expects {expected} (the pipeline was fitted "
                f"on {d} feature{'s' if d > 1 else ''}); got shape {array.shape}."
            )
        array = array.astype(np.float64, copy=False).reshape(-1, d)
        if not np.isfinite(array).all():
            raise ValueError(
                f"StreamingPredictor.{method} got a NaN or infinite value: "
                f"{values!r}. Every time step must be finite."
            )
        return array

    # ------------------------------------------------------------------ predict
    def update(self, value: Any) -> Any:
        """Add one time step; predict once a full window has arrived.

        Parameters
        ----------
        value : float or array-like of shape (n_features,)
            The new time step: a scalar when the pipeline has one feature.

        Returns
        -------
        prediction : ndarray, scalar or None
            ``pipeline.predict`` for the window of the last ``window_size_past`` time
            steps, one sample of it (in y's units, shape of one sample of y); None
            until ``window_size_past`` time steps have arrived.

        Raises
        ------
        ValueError
            When ``value`` is not numeric, finite and of the expected shape; the
            buffer is then left unchanged.
        """
        return self._add(self._check_block(value, "update", one=True))[0]

    def update_many(self, values: Any) -> list[Any]:
        """Add ``k`` time steps in order; the answer after each of them.

        The same answers as ``k`` calls of :meth:`update` (to the round-off of a
        batch), from one call of ``pipeline.predict`` for all the full windows.

        Parameters
        ----------
        values : array-like of shape (k, n_features), or (k,) with one feature

        Returns
        -------
        predictions : list of length k
            For each time step, the prediction (as :meth:`update` returns it) or None
            while the window is not full yet.
        """
        return self._add(self._check_block(values, "update_many", one=False))

    def _add(self, block: np.ndarray) -> list[Any]:
        past = self.window_size_past
        known = self.window()
        if known is None:
            known = block[:0]
        series = np.concatenate((known, block))  # at most past + k time steps
        # the window ending at series[end] is full from end = past - 1 on
        first_end = max(past - 1, len(known))
        answers: list[Any] = [None] * (min(first_end, len(series)) - len(known))
        if first_end < len(series):
            if self.takes_series_ and self._stride == 1:
                y_pred = self.pipeline.predict(series[first_end - past + 1:])
            elif self.takes_series_:  # the Windower would skip windows: one at a time
                y_pred = np.concatenate([self.pipeline.predict(series[end - past + 1:end + 1])
                                         for end in range(first_end, len(series))])
            else:
                windows = sliding_window_view(series, past, axis=0)[first_end - past + 1:]
                y_pred = self.pipeline.predict(np.moveaxis(windows, -1, 1))
            if len(y_pred) != len(series) - first_end:
                raise ValueError(
                    f"{type(self.pipeline).__name__}.predict returned {len(y_pred)} "
                    f"predictions for {len(series) - first_end} window(s) of "
                    f"{past} time steps; StreamingPredictor needs one per window."
                )
            answers.extend(y_pred[i] for i in range(len(y_pred)))
        self._store(series[-past:])
        return answers

    def _store(self, last: np.ndarray) -> None:
        """Keep ``last`` (the newest time steps, at most ``window_size_past``)."""
        self._buffer[:len(last)] = last
        self._filled = len(last)
