"""Metrics recorders: finding them and their ``history_`` in a step, and the sessions in
which the outermost ones record a validation pass."""

from __future__ import annotations

import contextvars
from typing import Any

import numpy as np

from seqpipe.base._nesting import iter_steps


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
