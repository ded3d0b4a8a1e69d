"""The Open Inference Protocol v2 over HTTP for fitted seqpipe pipelines (FastAPI).

:func:`create_app` serves models by name: ``GET /v2`` (server metadata),
``GET /v2/health/live``, ``GET /v2/health/ready``, ``GET /v2/models/{name}``,
``GET /v2/models/{name}/ready`` and ``POST /v2/models/{name}/infer`` (also under
``/v2/models/{name}/versions/1/...``: every model has one version, ``1``), and
``GET /metrics`` in Prometheus' text format (:mod:`seqpipe.serving.metrics`).

A :class:`~seqpipe.forecasting.Forecaster` takes named inputs (its history, series,
dates and covariates) and answers its forecast and intervals as named outputs
(:mod:`seqpipe.serving.forecasts`). Every other model has one input, named ``input``
(FP32, FP64, INT32 or INT64), and one output, named ``output``: float predictions in
the request's float datatype (FP32 for an FP32 request, FP64 otherwise), labels in
their own (INT64, BOOL, or BYTES for strings). Tensors come and go as JSON or as binary data
(:mod:`seqpipe.serving.protocol`; ``binary_data`` of the requested output, or
``parameters.binary_data_output``, asks for a binary answer). A request makes at most
``Settings.max_windows`` windows, and is predicted in model calls of at most
``Settings.max_call_windows`` windows, so the memory a request takes is bounded.

An infer request with ``parameters.sequence_id`` streams, as in Triton's sequence
extension: the server keeps one
:class:`~seqpipe.StreamingPredictor` per (model, sequence), opened by
``sequence_start``, freed by ``sequence_end`` or after ``sequence_idle_seconds``.

Every refused request answers 4xx with ``{"error": "<message>"}``; the server keeps
serving. Model calls run in a worker thread, so a slow prediction does not hold up
other requests (health checks, metrics).

Concurrent infer requests to one model are stacked into one model call by its
:class:`~seqpipe.serving.batching.Batcher` (``Settings.max_batch_size`` rows at most,
waiting at most ``Settings.max_queue_delay_ms`` for companions; requests of different
per-sample shapes or datatypes are never stacked together). Streaming-sequence requests
are not batched: each feeds its own sequence's predictor, in order, as it arrives;
different sequences predict side by side (one request of a sequence at a time).

>>> import asyncio
>>> import httpx
>>> import numpy as np
>>> from sklearn.linear_model import Ridge
>>> X = np.random.default_rng(0).normal(size=(30, 3))
>>> app = create_app({"ridge": Ridge().fit(X, X[:, 0])})
>>> body = {"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP64",
...                     "data": [1.0, 2.0, 3.0]}]}
>>> async def ask():
...     transport = httpx.ASGITransport(app=app)
...     async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
...         return (await client.post("/v2/models/ridge/infer", json=body)).json()
>>> answer = asyncio.run(ask())
>>> answer["model_name"], answer["outputs"][0]["shape"]
('ridge', [1])

The input shape is known (and checked) when the model can stream: a Windower or a
step recording ``n_timesteps_in_`` inside, or a saved ``StreamingPredictor``; it is
``[-1]`` (unchecked) otherwise.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sklearn.pipeline import Pipeline as SklearnPipeline
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import seqpipe
from seqpipe._composition import StepComposition
from seqpipe.base import get_step_tags
from seqpipe.forecasting import Forecaster
from seqpipe.serving.batching import Batcher
from seqpipe.serving.forecasts import ServedForecaster
from seqpipe.serving.metrics import Metrics, MetricsMiddleware
from seqpipe.serving.protocol import (
    HEADER_LENGTH,
    NUMERIC_DATATYPES,
    PLATFORM,
    VERSION,
    ProtocolError,
    datatype_of,
    encode_answer,
    input_arrays,
    output_tensor,
    parse_request,
)
from seqpipe.steps import Windower
from seqpipe.streaming import StreamingPredictor, _inner_steps

__all__ = ["ServedModel", "Settings", "create_app"]

INPUT, OUTPUT = "input", "output"  # the names of every model's one input and output
EXTENSIONS = ("binary_tensor_data", "sequence")  # of the protocol, as Triton names them
_MAX_SEQUENCE_ID_LENGTH = 256
_MAX_QUEUE_DELAY_MS = 10_000  # a longer wait is a mistake, not a setting


@dataclasses.dataclass(frozen=True)
class Settings:
    """Limits of a server.

    Parameters
    ----------
    max_body_bytes : int, default=16 MiB
        Largest request body accepted; a larger one answers 413.
    max_sequences : int, default=1000
        Most streaming sequences open at once, over all models; one more answers 429.
    sequence_idle_seconds : float, default=600
        A sequence without a request for this long is freed.
    graceful_shutdown_seconds : float, default=30
        On SIGTERM the server stops accepting connections and waits this long for the
        requests in flight to finish before cancelling them (uvicorn's
        ``timeout_graceful_shutdown``; used by the server, not by the app).
    max_batch_size : int, default=32
        Dynamic batching (:mod:`seqpipe.serving.batching`): most rows stacked into one
        model call from concurrent infer requests; 1 switches batching off (each
        request is its own model call, several may run at once).
    max_queue_delay_ms : float, default=2
        Longest wait, in milliseconds, for more requests to join a batch (only while
        other requests to the model are being received; 0: never wait).
    max_windows : int, default=10000
        Most windows one infer request may make the model predict: the samples of a
        request of windows, the windows a posted series is cut into, the time steps
        of a streaming request. A larger request answers 413 naming the limit.
    max_call_windows : int, default=256
        Most windows per model call: a larger request is predicted in slices of this
        many, so the model's working memory does not grow with the request.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.serving import Settings, create_app
    >>> settings = Settings(max_batch_size=1, max_sequences=10)    # no batching
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> app = create_app({"ridge": Ridge().fit(X, X[:, 0])}, settings=settings)
    >>> settings.max_batch_size, settings.max_sequences
    (1, 10)
    """

    max_body_bytes: int = 16 * 2 ** 20
    max_sequences: int = 1000
    sequence_idle_seconds: float = 600.0
    graceful_shutdown_seconds: float = 30.0
    max_batch_size: int = 32
    max_queue_delay_ms: float = 2.0
    max_windows: int = 10_000
    max_call_windows: int = 256

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_sequences", "max_batch_size", "max_windows",
                     "max_call_windows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"The '{name}' setting must be an int in the range "
                                 f"[1, inf). Got {value!r} instead.")
        for name in ("sequence_idle_seconds", "graceful_shutdown_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not 0 < value < float("inf"):
                raise ValueError(f"The '{name}' setting must be a number in the range "
                                 f"(0, inf). Got {value!r} instead.")
        delay = self.max_queue_delay_ms
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or \
                not 0 <= delay <= _MAX_QUEUE_DELAY_MS:
            raise ValueError(f"The 'max_queue_delay_ms' setting must be a number in the "
                             f"range [0, {_MAX_QUEUE_DELAY_MS}]. Got {delay!r} instead.")


class ServedModel:
    """A model as the server sees it: what it predicts with, how it streams, metadata.

    Parameters
    ----------
    name : str
        The model's name in URLs.
    model : fitted estimator or StreamingPredictor
        A fitted pipeline; a :class:`~seqpipe.StreamingPredictor` (e.g. saved with
        ``window_size_past`` given) serves its pipeline and streams with its window
        length and number of features.
    header : dict, optional
        The artifact's header (:func:`seqpipe.persistence.read_header`), whose
        ``library_versions`` the metadata reports.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe import Pipeline
    >>> from seqpipe.serving import ServedModel
    >>> from seqpipe.steps import Windower
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> series = np.sin(np.arange(50.0))[:, None]
    >>> flatten = FunctionTransformer(lambda W: W.reshape(len(W), -1))
    >>> pipeline = Pipeline([Windower(5, 1), flatten, Ridge()])
    >>> model = ServedModel("sine", pipeline.fit(series, series[:, 0]))
    >>> model.name, model.batchable             # a series: requests are never stacked
    ('sine', False)
    """

    def __init__(self, name: str, model: Any, header: dict | None = None) -> None:
        self.name = name
        if isinstance(model, StreamingPredictor):
            self.pipeline = model.pipeline
            self._stream_args = {"window_size_past": model.window_size_past,
                                 "n_features": model.n_features_in_}
        else:
            self.pipeline = model
            self._stream_args = {}
        if not hasattr(self.pipeline, "predict"):
            raise TypeError(f"model '{name}' cannot be served: "
                            f"{type(self.pipeline).__name__} has no 'predict' method")
        self.header = header or {}
        try:
            probe = self.new_stream()
        except (TypeError, ValueError) as error:
            probe, self.stream_error = None, str(error)
        else:
            self.stream_error = None
        self.input_shape = self._input_shape(probe)
        # rows of a series are time steps, not samples: stacking requests would mix them
        self.windower = next((step for step in _inner_steps(self.pipeline)
                              if isinstance(step, Windower)), None)
        self.batchable = self.windower is None
        self.slices_series = self.windower is not None and _time_steps_apart(self.pipeline)
        # a series needs window_size_past time steps for one prediction; windows, one
        self._probe_rows = 1 if self.windower is None else self.windower.window_size_past
        self.output_shape, self.label_datatype, self.native_datatype = \
            self._output_signature()

    def new_stream(self) -> StreamingPredictor:
        """A fresh StreamingPredictor for one sequence."""
        return StreamingPredictor(self.pipeline, **self._stream_args)

    def _input_shape(self, probe: StreamingPredictor | None) -> list[int]:
        if probe is not None:
            if probe.takes_series_:  # a Windower inside: the pipeline takes a series
                return [-1, probe.n_features_in_]
            return [-1, probe.window_size_past, probe.n_features_in_]
        return [-1]  # unknown: the rank and sizes are not checked

    def _output_signature(self) -> tuple[list[int], str | None, str]:
        """(shape of the answers, their datatype when they are labels rather than
        floats, the model's own float datatype), from a prediction on zeros when the
        input shape is known; otherwise [-1], the datatype of ``classes_`` (a
        classifier's labels) and FP64."""
        labels = getattr(self.pipeline, "classes_", None)
        label_datatype = None if labels is None or np.asarray(labels).dtype.kind == "f" \
            else datatype_of(np.asarray(labels).dtype)
        if self.input_shape == [-1] or -1 in self.input_shape[1:]:  # unknown: no probe
            return [-1], label_datatype, "FP64"
        try:
            y = np.asarray(self.pipeline.predict(np.zeros((self._probe_rows,
                                                           *self.input_shape[1:]))))
        except Exception:  # noqa: BLE001 - the metadata then says "unknown"
            return [-1], label_datatype, "FP64"
        if y.dtype.kind == "f":
            return [-1, *y.shape[1:]], None, datatype_of(y.dtype)
        return [-1, *y.shape[1:]], datatype_of(y.dtype), "FP64"

    def answer_datatype(self, y: np.ndarray, request_datatype: str) -> str:
        """The datatype of the answer to a request of ``request_datatype``: floats in
        the request's float datatype (FP32 for FP32, FP64 otherwise), labels in their
        own (BOOL, INT32, INT64, BYTES)."""
        if y.dtype.kind == "f":
            return "FP32" if request_datatype == "FP32" else "FP64"
        return datatype_of(y.dtype)

    def n_windows(self, X: np.ndarray) -> int:
        """The windows the model predicts for ``X`` outside a sequence: its rows, or for
        a model taking a series the windows its Windower cuts (0 when too short)."""
        if self.windower is None:
            return X.shape[0]
        past, stride = self.windower.window_size_past, self.windower.stride
        return 0 if len(X) < past else (len(X) - past) // stride + 1

    def check_input(self, array: np.ndarray, name: str) -> None:
        """Refuse an input whose rank or known dimensions differ from the model's."""
        expected = self.input_shape
        if expected == [-1]:
            return
        if array.ndim != len(expected) or any(e not in (-1, a) for e, a in
                                              zip(expected, array.shape)):
            raise ProtocolError(f"input '{name}' has shape {list(array.shape)}; model "
                                f"'{self.name}' takes shape {expected} (-1: any size)")

    def metadata(self) -> dict:
        if self.label_datatype is not None:
            answers = dict.fromkeys(NUMERIC_DATATYPES, self.label_datatype)
        else:
            answers = {datatype: "FP32" if datatype == "FP32" else "FP64"
                       for datatype in NUMERIC_DATATYPES}
        return {
            "name": self.name,
            "versions": [VERSION],
            "platform": PLATFORM,
            "inputs": [{"name": INPUT, "datatype": self.native_datatype,
                        "shape": self.input_shape,
                        "parameters": {"datatypes": list(NUMERIC_DATATYPES)}}],
            "outputs": [{"name": OUTPUT, "datatype": answers[self.native_datatype],
                         "shape": self.output_shape,
                         "parameters": {"datatype_by_input": answers}}],
            "parameters": {
                "library_versions": dict(self.header.get("library_versions", {})),
                "created": self.header.get("created"),
                "streaming": self.stream_error is None,
            },
        }


def _time_steps_apart(pipeline: Any) -> bool:
    """Whether every step before the (first) Windower transforms each time step on its
    own (samplewise), so that a long series may be predicted in overlapping slices."""
    for step in _inner_steps(pipeline):
        if isinstance(step, Windower):
            return True
        if not isinstance(step, (StepComposition, SklearnPipeline)) and \
                not get_step_tags(step).samplewise:
            return False
    return False


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


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


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


async def _read_body(request: Request, limit: int) -> bytearray:
    """The body, refused (413) past ``limit`` bytes; a bytearray, so that binary tensors
    read from it are writable arrays without a copy."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ProtocolError("the Content-Length header is not a number")
        if int(declared) > limit:
            raise ProtocolError(f"the request body ({declared} bytes) is over the "
                                f"limit of {limit} bytes", status=413)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":
        raise ProtocolError(f"Content-Encoding {encoding[:40]!r} is not supported: send "
                            f"the body uncompressed", status=415)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProtocolError(f"the request body is over the limit of {limit} bytes",
                                status=413)
        chunks.append(chunk)
    return bytearray().join(chunks)


def _call(model: ServedModel, X: np.ndarray, expected: int | None = None) -> np.ndarray:
    """One model call; ``expected``: the number of predictions it must answer (when
    the request is predicted in slices)."""
    try:
        y = np.asarray(model.pipeline.predict(X))
    except (ValueError, TypeError) as error:
        raise ProtocolError(f"model '{model.name}' cannot predict from this input: "
                            f"{error}") from None
    if expected is not None and (y.ndim == 0 or len(y) != expected):
        raise ProtocolError(f"model '{model.name}' answered {len(y) if y.ndim else 0} "
                            f"predictions for {expected} windows, so its requests cannot "
                            f"be predicted in slices", status=500)
    return y


def _predict(model: ServedModel, X: np.ndarray, slice_windows: int) -> np.ndarray:
    """``model.pipeline.predict(X)`` in model calls of at most ``slice_windows`` windows:
    slices of rows, or for a model taking a series, overlapping slices of the series
    (when the steps before its Windower transform each time step on its own; else one
    call, the request's windows being bounded anyway)."""
    if model.windower is None:
        if len(X) <= slice_windows:
            return _call(model, X)
        return np.concatenate([_call(model, X[i:i + slice_windows], len(
            X[i:i + slice_windows])) for i in range(0, len(X), slice_windows)])
    n = model.n_windows(X)
    if n <= slice_windows or not model.slices_series:
        return _call(model, X)
    past, stride = model.windower.window_size_past, model.windower.stride
    first = (len(X) - past) % stride  # windows start there, every stride steps
    parts = []
    for j in range(0, n, slice_windows):  # windows j..last of the slice
        last = min(j + slice_windows, n) - 1
        parts.append(_call(model, X[first + j * stride:first + last * stride + past],
                           last - j + 1))
    return np.concatenate(parts)


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


def _requested_binary(body: dict, model: ServedModel) -> bool:
    """Whether the request asks for its output as binary data (``binary_data`` of the
    output it names, else ``parameters.binary_data_output``); refuses outputs the
    model does not have."""
    default = body.get("parameters", {}).get("binary_data_output", False)
    if not isinstance(default, bool):
        raise ProtocolError(f"parameter binary_data_output must be true or false, got "
                            f"{default!r:.40}")
    outputs = body.get("outputs")
    if outputs is None:
        return default
    if not isinstance(outputs, list):
        raise ProtocolError("'outputs' must be a list of the outputs requested")
    binary = default
    for output in outputs:
        name = output.get("name") if isinstance(output, dict) else None
        if not isinstance(name, str):
            raise ProtocolError("each requested output must be a JSON object with a "
                                "'name'")
        if name != OUTPUT:
            raise ProtocolError(f"model '{model.name}' has no output '{name:.100}'; its "
                                f"outputs: '{OUTPUT}'")
        parameters = output.get("parameters", {})
        if not isinstance(parameters, dict):
            raise ProtocolError(f"output '{name}': 'parameters' must be a JSON object")
        if "classification" in parameters:
            raise ProtocolError(f"output '{name}': the classification extension is not "
                                f"supported; the output holds the predictions themselves")
        binary = parameters.get("binary_data", default)
        if not isinstance(binary, bool):
            raise ProtocolError(f"output '{name}': parameter binary_data must be true or "
                                f"false, got {binary!r:.40}")
    return binary


def _answer_tensor(model: ServedModel, y: np.ndarray, request_datatype: str,
                   binary: bool) -> tuple[dict, bytes | None]:
    """The answer's tensor in the datatype the metadata announces; a NaN or infinite
    prediction asked for in JSON (which has no such number) is the model's failure:
    500."""
    if not binary and y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ProtocolError(f"model '{model.name}' predicted a NaN or infinite value, "
                            f"which JSON cannot carry", status=500)
    return output_tensor(OUTPUT, y, model.answer_datatype(y, request_datatype),
                         binary=binary)


def _the_input(model: ServedModel, body: dict, binary: memoryview
               ) -> tuple[np.ndarray, dict]:
    """The request's one input, as an array, and its tensor; refuses another number of
    inputs, another name, and datatypes the model cannot take (BOOL, BYTES)."""
    inputs = body["inputs"]
    if len(inputs) != 1:
        raise ProtocolError(f"model '{model.name}' takes 1 input, the request has "
                            f"{len(inputs)}")
    (X,) = input_arrays(body, binary)
    tensor = inputs[0]
    if tensor["name"] != INPUT:
        raise ProtocolError(f"model '{model.name}' takes one input, named '{INPUT}'; the "
                            f"request's input is named '{tensor['name']:.100}'")
    if tensor["datatype"] not in NUMERIC_DATATYPES:
        raise ProtocolError(f"input '{INPUT}' is {tensor['datatype']}; model "
                            f"'{model.name}' takes {', '.join(NUMERIC_DATATYPES)}")
    return X, tensor


def _served(name: str, model: Any, header: dict | None) -> ServedModel | ServedForecaster:
    if isinstance(model, Forecaster):
        return ServedForecaster(name, model, header)
    return ServedModel(name, model, header)


def _batcher_of(model: ServedModel | ServedForecaster, settings: Settings, metrics: Metrics
                ) -> Batcher | None:
    """The model's dynamic batcher, or None when its requests are run one by one
    (batching off, or a model taking a series). A forecaster's batches are object
    arrays of :class:`~seqpipe.serving.forecasts.ForecastRequest`."""
    if settings.max_batch_size == 1 or not model.batchable:
        return None
    call = model.forecast_many if isinstance(model, ServedForecaster) else \
        (lambda X: _predict(model, X, settings.max_call_windows))
    return Batcher(call,
                   max_batch_size=settings.max_batch_size,
                   max_queue_delay_ms=settings.max_queue_delay_ms,
                   on_call=lambda rows: metrics.batch_size.labels(model.name).observe(rows))


async def _infer_forecast(model: ServedForecaster, body: dict, binary: memoryview,
                          batcher: Batcher | None, sequences: _Sequences,
                          metrics: Metrics) -> Response:
    """A forecaster's answer: its named inputs read, the forecast (stacked with
    concurrent ones by the batcher), its outputs."""
    tensors = body["inputs"]
    names = [tensor["name"] for tensor in tensors]
    if len(set(names)) != len(names):
        raise ProtocolError(f"the request names an input twice: {names}")
    arrays = dict(zip(names, input_arrays(body, binary)))
    wanted, binary_answer = _forecast_outputs(body, model)
    sequence = _sequence_parameters(body.get("parameters", {}))
    answer: dict = {"model_name": model.name, "model_version": VERSION}
    if body.get("id") is not None:
        answer["id"] = body["id"]
    if sequence is None:
        forecast = model.request(arrays)
    else:
        sequence_id, start, end = sequence
        with sequences.lock:
            stream, in_use = sequences.get(model, sequence_id, start=start)
        try:
            with in_use:
                forecast = model.extend(stream, arrays, start)
        finally:
            if end:
                with sequences.lock:
                    sequences.end(model, sequence_id, stream)
        answer["parameters"] = {"sequence_id": sequence_id,
                                "window_filled": stream.n_buffered,
                                "window_size": stream.window_size_past}
    outputs: dict = {}
    if forecast is not None:
        batch = np.empty(1, dtype=object)
        batch[0] = forecast
        if batcher is None:
            outputs = (await run_in_threadpool(model.forecast_many, batch))[0]
            metrics.batch_size.labels(model.name).observe(1)
        else:
            outputs = (await batcher.predict(batch))[0]
    y_datatype = next(t["datatype"] for t in body["inputs"] if t["name"] == "y")
    raw: list[bytes] = []
    answer["outputs"] = []
    for name in wanted if outputs else []:
        datatype = "BYTES" if name == "date" else "FP32" if y_datatype == "FP32" else "FP64"
        tensor, data = output_tensor(name, outputs[name], datatype, binary=binary_answer)
        answer["outputs"].append(tensor)
        if data is not None:
            raw.append(data)
    content, header_length = encode_answer(answer, raw)
    if header_length is None:
        return Response(content, media_type="application/json")
    return Response(content, media_type="application/octet-stream",
                    headers={HEADER_LENGTH: str(header_length)})


def _forecast_outputs(body: dict, model: ServedForecaster) -> tuple[list[str], bool]:
    """The outputs a forecaster's request asks for (all by default), and whether as
    binary data; refuses outputs the model does not have."""
    binary = body.get("parameters", {}).get("binary_data_output", False)
    if not isinstance(binary, bool):
        raise ProtocolError(f"parameter binary_data_output must be true or false, got "
                            f"{binary!r:.40}")
    requested = body.get("outputs")
    if requested is None:
        return model.output_names, binary
    if not isinstance(requested, list) or not all(
            isinstance(output, dict) and isinstance(output.get("name"), str)
            for output in requested):
        raise ProtocolError("'outputs' must be a list of JSON objects with a 'name'")
    names = [output["name"] for output in requested]
    unknown = [name for name in names if name not in model.output_names]
    if unknown:
        raise ProtocolError(f"model '{model.name}' has no output '{unknown[0]:.100}'; its "
                            f"outputs: {', '.join(model.output_names)}")
    flags = {output.get("parameters", {}).get("binary_data", binary) for output in requested}
    return names, bool(flags == {True})


def create_app(models: dict[str, Any], *, settings: Settings | None = None,
               headers: dict[str, dict] | None = None) -> FastAPI:
    """A FastAPI app serving ``models`` by name over the Open Inference Protocol v2.

    Parameters
    ----------
    models : dict of str to fitted estimator or StreamingPredictor
        The models, by the name used in URLs.
    settings : Settings, optional
        Limits (body size, open sequences, idle expiry); defaults to ``Settings()``.
    headers : dict of str to dict, optional
        Artifact headers by model name, for the versions in the metadata.

    Examples
    --------
    >>> import asyncio
    >>> import httpx
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.serving import create_app
    >>> X = np.random.default_rng(0).normal(size=(30, 3))
    >>> app = create_app({"ridge": Ridge().fit(X, X[:, 0])})
    >>> async def metadata():
    ...     transport = httpx.ASGITransport(app=app)
    ...     async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
    ...         return (await client.get("/v2/models/ridge")).json()
    >>> meta = asyncio.run(metadata())
    >>> meta["name"], meta["inputs"][0]["name"], meta["outputs"][0]["name"]
    ('ridge', 'input', 'output')
    """
    if not models:
        raise ValueError("create_app needs at least one model")
    settings = settings or Settings()
    headers = headers or {}
    served = {name: _served(name, model, headers.get(name)) for name, model in models.items()}
    sequences = _Sequences(settings)
    app_metrics = Metrics(set(served))
    batchers = {name: _batcher_of(model, settings, app_metrics)
                for name, model in served.items()}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The models and libraries loaded so far (TensorFlow: ~10^6 objects) stay alive
        # as long as the server: frozen out of the garbage collector, its full
        # collections no longer walk them. Each walk stalled every request (seed 002's
        # model, 32 clients: p99 latency 260-310 ms -> 41-53 ms, throughput +5-8%).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            for batcher in batchers.values():  # their model threads end with the server
                if batcher is not None:
                    batcher.close()

    app = FastAPI(title="seqpipe", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.add_middleware(MetricsMiddleware, metrics=app_metrics)
    app.state.models = served
    app.state.sequences = sequences
    app.state.settings = settings
    app.state.metrics = app_metrics
    app.state.batchers = batchers

    @app.exception_handler(ProtocolError)
    async def protocol_error(request: Request, error: ProtocolError) -> JSONResponse:
        return _error(error.status, str(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        message = error.detail if isinstance(error.detail, str) else str(error.detail)
        if error.status_code == 404:
            message = f"no such endpoint: {request.method} {request.url.path}"
        elif error.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
        return _error(error.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        return _error(422, f"invalid request: {error.errors()}")

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        return _error(500, f"internal error ({type(error).__name__}); the server keeps "
                           "serving")

    def model_named(request: Request) -> ServedModel:
        """The model a route names, at the version it names (if any)."""
        name = request.path_params["name"]  # read here: FastAPI's parameters cost more
        if name not in served:
            raise ProtocolError(f"unknown model '{name:.100}'; served models: "
                                f"{', '.join(sorted(served))}", status=404)
        version = request.path_params.get("version", VERSION)
        if version != VERSION:
            raise ProtocolError(f"model '{name}' has no version '{version:.40}'; its only "
                                f"version is {VERSION}", status=404)
        return served[name]

    @app.get("/v2")
    async def server_metadata() -> dict:
        return {"name": PLATFORM, "version": seqpipe.__version__,
                "extensions": list(EXTENSIONS)}

    @app.get("/v2/health/live")
    async def live() -> dict:
        return {"live": True}

    @app.get("/v2/health/ready")
    async def ready() -> dict:
        return {"ready": True}

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(app_metrics.registry),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.get("/v2/models/{name}")
    @app.get("/v2/models/{name}/versions/{version}")
    async def metadata(request: Request) -> dict:
        return model_named(request).metadata()

    @app.get("/v2/models/{name}/ready")
    @app.get("/v2/models/{name}/versions/{version}/ready")
    async def model_ready(request: Request) -> dict:
        return {"name": model_named(request).name, "ready": True}

    @app.post("/v2/models/{name}/infer")
    @app.post("/v2/models/{name}/versions/{version}/infer")
    async def infer(request: Request) -> Response:
        model = model_named(request)
        name = model.name
        batcher = batchers[name]
        if isinstance(model, ServedForecaster):
            with batcher.receiving() if batcher else contextlib.nullcontext():
                body, binary = parse_request(await _read_body(
                    request, settings.max_body_bytes), request.headers.get(HEADER_LENGTH))
            return await _infer_forecast(model, body, binary, batcher, sequences,
                                         app_metrics)
        with batcher.receiving() if batcher else contextlib.nullcontext():
            body, binary = parse_request(await _read_body(request, settings.max_body_bytes),
                                         request.headers.get(HEADER_LENGTH))
            X, tensor = _the_input(model, body, binary)
            sequence = _sequence_parameters(body.get("parameters", {}))
            binary_answer = _requested_binary(body, model)
            windows = X.shape[0] if sequence is not None and X.ndim else \
                model.n_windows(X) if X.ndim else 0
            if windows > settings.max_windows:
                raise ProtocolError(
                    f"input '{INPUT}' makes {windows} windows; the server predicts at "
                    f"most {settings.max_windows} per request (--max-windows): split "
                    f"it", status=413)
            if sequence is None:
                model.check_input(X, INPUT)
                if X.ndim == 0 or X.shape[0] == 0:
                    raise ProtocolError(f"input '{INPUT}' has no sample (shape "
                                        f"{list(X.shape)}; the first dimension counts "
                                        f"the samples)")
        answer: dict = {"model_name": name, "model_version": VERSION}
        if body.get("id") is not None:
            answer["id"] = body["id"]
        raw: list[bytes] = []
        if sequence is None:
            if batcher is None:
                y = await run_in_threadpool(_predict, model, X, settings.max_call_windows)
                app_metrics.batch_size.labels(name).observe(X.shape[0])
            else:
                y = await batcher.predict(X)
            outputs = [(y, tensor["datatype"])]
        else:
            sequence_id, start, end = sequence
            predictor, predictions = await run_in_threadpool(
                _stream, sequences, model, sequence_id, start, end, X, INPUT,
                settings.max_call_windows)
            app_metrics.batch_size.labels(name).observe(X.shape[0] if X.ndim else 1)
            full = [p for p in predictions if p is not None]
            outputs = [(np.stack(full), tensor["datatype"])] if full else []
            answer["parameters"] = {"sequence_id": sequence_id,
                                    "window_filled": predictor.n_buffered,
                                    "window_size": predictor.window_size_past}
        answer["outputs"] = []
        for y, datatype in outputs:
            output, data = _answer_tensor(model, y, datatype, binary_answer)
            answer["outputs"].append(output)
            if data is not None:
                raw.append(data)
        content, header_length = encode_answer(answer, raw)
        if header_length is None:  # encoded here: FastAPI's serializer costs more
            return Response(content, media_type="application/json")
        return Response(content, media_type="application/octet-stream",
                        headers={HEADER_LENGTH: str(header_length)})

    return app
