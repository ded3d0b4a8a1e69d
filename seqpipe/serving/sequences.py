"""Streaming sequences (Triton's sequence extension): the table of open sequences,
their request parameters, and feeding a sequence's predictor."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

import numpy as np

from seqpipe.serving.models import ServedModel
from seqpipe.serving.protocol import ProtocolError
from seqpipe.serving.settings import Settings
from seqpipe.streaming import StreamingPredictor

_MAX_SEQUENCE_ID_LENGTH = 256


class _Sequences:
    """Open streaming sequences: bounded in number, freed when idle.

    Each has a predictor and a lock (one request of a sequence at a time; sequences run
    side by side); ``lock`` guards the table itself.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._open: OrderedDict[tuple[str, Any],
                                tuple[StreamingPredictor, threading.Lock, float]] = \
            OrderedDict()
        self.lock = threading.Lock()
        self.clock = time.monotonic  # seconds; replaceable in tests

    def __len__(self) -> int:
        return len(self._open)

    def _expire(self, now: float) -> None:
        limit = now - self.settings.sequence_idle_seconds
        while self._open:
            key, (_, _, last) = next(iter(self._open.items()))
            if last > limit:
                break
            del self._open[key]

    def get(self, model: ServedModel, sequence_id: Any, *, start: bool
            ) -> tuple[StreamingPredictor, threading.Lock]:
        now = self.clock()
        self._expire(now)
        key = (model.name, sequence_id)
        if start:
            if model.stream_error is not None:
                raise ProtocolError(f"model '{model.name}' cannot stream: "
                                    f"{model.stream_error}")
            self._open.pop(key, None)  # a new start restarts the sequence
            if len(self._open) >= self.settings.max_sequences:
                raise ProtocolError(f"too many open sequences (at most "
                                    f"{self.settings.max_sequences}); end one with "
                                    f"sequence_end", status=429)
            predictor, in_use = model.new_stream(), threading.Lock()
        elif key in self._open:
            predictor, in_use, _ = self._open.pop(key)
        else:
            raise ProtocolError(f"unknown sequence {sequence_id!r} of model "
                                f"'{model.name}': start it with sequence_start=true (it "
                                f"may have ended or been idle for more than "
                                f"{self.settings.sequence_idle_seconds:g} s)", status=404)
        self._open[key] = (predictor, in_use, now)  # most recently used last
        return predictor, in_use

    def end(self, model: ServedModel, sequence_id: Any,
            predictor: StreamingPredictor) -> None:
        """Free the sequence, unless a later start has replaced its predictor."""
        key = (model.name, sequence_id)
        if key in self._open and self._open[key][0] is predictor:
            del self._open[key]


def _sequence_parameters(parameters: dict) -> tuple[Any, bool, bool] | None:
    """(sequence_id, start, end), or None for a request outside any sequence."""
    if "sequence_id" not in parameters:
        for flag in ("sequence_start", "sequence_end"):
            if parameters.get(flag):
                raise ProtocolError(f"parameter {flag} needs a sequence_id")
        return None
    sequence_id = parameters["sequence_id"]
    valid = (type(sequence_id) is int and sequence_id > 0) or (
        isinstance(sequence_id, str) and 0 < len(sequence_id) <= _MAX_SEQUENCE_ID_LENGTH)
    if not valid:
        raise ProtocolError(f"sequence_id must be a positive integer or a non-empty "
                            f"string of at most {_MAX_SEQUENCE_ID_LENGTH} characters, got "
                            f"{sequence_id!r:.60}")
    flags = []
    for flag in ("sequence_start", "sequence_end"):
        value = parameters.get(flag, False)
        if not isinstance(value, bool):
            raise ProtocolError(f"parameter {flag} must be true or false, got {value!r:.40}")
        flags.append(value)
    return sequence_id, flags[0], flags[1]



def _stream(sequences: _Sequences, model: ServedModel, sequence_id: Any, start: bool,
            end: bool, X: np.ndarray, tensor_name: Any, slice_windows: int
            ) -> tuple[StreamingPredictor, list]:
    """Feed ``X``'s time steps to the sequence's predictor (at most ``slice_windows``
    per model call): (predictor, answers)."""
    with sequences.lock:
        predictor, in_use = sequences.get(model, sequence_id, start=start)
    blocks = [X] if X.ndim == 0 or len(X) <= slice_windows else [
        X[i:i + slice_windows] for i in range(0, len(X), slice_windows)]
    predictions: list = []
    try:
        with in_use:  # StreamingPredictor is not thread-safe
            for block in blocks:
                predictions.extend(predictor.update_many(block))
    except (ValueError, TypeError) as error:
        raise ProtocolError(f"input '{tensor_name}' of sequence {sequence_id!r}: "
                            f"{error}") from None
    finally:
        if end:
            with sequences.lock:
                sequences.end(model, sequence_id, predictor)
    return predictor, predictions

