"""The Open Inference Protocol v2 over HTTP for fitted seqpipe pipelines (FastAPI).

:func:`create_app` serves models by name: ``GET /v2/health/live``,
``GET /v2/health/ready``, ``GET /v2/models/{name}``, ``GET /v2/models/{name}/ready`` and
``POST /v2/models/{name}/infer``, and ``GET /metrics`` in Prometheus' text format
(:mod:`seqpipe.serving.metrics`). An infer request with ``parameters.sequence_id``
streams, as in Triton's sequence extension: the server keeps one
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
>>> body = {"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64",
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
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from seqpipe.serving.batching import Batcher
from seqpipe.serving.metrics import Metrics, MetricsMiddleware
from seqpipe.serving.protocol import (
    ProtocolError,
    array_to_tensor,
    datatype_of,
    parse_body,
    tensor_to_array,
)
from seqpipe.streaming import StreamingPredictor, takes_series

__all__ = ["ServedModel", "Settings", "create_app"]

PLATFORM = "seqpipe"
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
        # a series needs window_size_past time steps for one prediction; windows, one
        self._probe_rows = 1 if probe is None or not probe.takes_series_ else \
            probe.window_size_past
        self.output_shape, self.output_datatype = self._output_signature()
        # rows of a series are time steps, not samples: stacking requests would mix them
        self.batchable = not takes_series(self.pipeline)

    def new_stream(self) -> StreamingPredictor:
        """A fresh StreamingPredictor for one sequence."""
        return StreamingPredictor(self.pipeline, **self._stream_args)

    def _input_shape(self, probe: StreamingPredictor | None) -> list[int]:
        if probe is not None:
            if probe.takes_series_:  # a Windower inside: the pipeline takes a series
                return [-1, probe.n_features_in_]
            return [-1, probe.window_size_past, probe.n_features_in_]
        return [-1]  # unknown: the rank and sizes are not checked

    def _output_signature(self) -> tuple[list[int], str]:
        """Shape and datatype of the answers, from a prediction on zeros when the input
        shape is known; [-1] and FP64 otherwise."""
        if self.input_shape == [-1] or -1 in self.input_shape[1:]:  # unknown: no probe
            return [-1], "FP64"
        try:
            y = np.asarray(self.pipeline.predict(np.zeros((self._probe_rows,
                                                           *self.input_shape[1:]))))
        except Exception:  # noqa: BLE001 - the metadata then says "unknown"
            return [-1], "FP64"
        return [-1, *y.shape[1:]], datatype_of(y.dtype)

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
        return {
            "name": self.name,
            "versions": [],
            "platform": PLATFORM,
            "inputs": [{"name": "input", "datatype": "FP64", "shape": self.input_shape}],
            "outputs": [{"name": "output", "datatype": self.output_datatype,
                         "shape": self.output_shape}],
            "parameters": {
                "library_versions": dict(self.header.get("library_versions", {})),
                "created": self.header.get("created"),
                "streaming": self.stream_error is None,
            },
        }


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


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ProtocolError("the Content-Length header is not a number")
        if int(declared) > limit:
            raise ProtocolError(f"the request body ({declared} bytes) is over the "
                                f"limit of {limit} bytes", status=413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProtocolError(f"the request body is over the limit of {limit} bytes",
                                status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def _predict(model: ServedModel, X: np.ndarray) -> np.ndarray:
    try:
        y = np.asarray(model.pipeline.predict(X))
    except (ValueError, TypeError) as error:
        raise ProtocolError(f"model '{model.name}' cannot predict from this input: "
                            f"{error}") from None
    return y


def _output_tensor(model: ServedModel, y: np.ndarray) -> dict:
    """The answer's tensor; a NaN or infinite prediction (JSON has no such number) is
    the model's failure: 500."""
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ProtocolError(f"model '{model.name}' predicted a NaN or infinite value, "
                            f"which JSON cannot carry", status=500)
    return array_to_tensor("output", y)


def _stream(sequences: _Sequences, model: ServedModel, sequence_id: Any, start: bool,
            end: bool, X: np.ndarray, tensor_name: Any
            ) -> tuple[StreamingPredictor, list]:
    """Feed ``X``'s time steps to the sequence's predictor: (predictor, answers)."""
    with sequences.lock:
        predictor, in_use = sequences.get(model, sequence_id, start=start)
    try:
        with in_use:  # StreamingPredictor is not thread-safe
            predictions = predictor.update_many(X)
    except (ValueError, TypeError) as error:
        raise ProtocolError(f"input '{tensor_name}' of sequence {sequence_id!r}: "
                            f"{error}") from None
    finally:
        if end:
            with sequences.lock:
                sequences.end(model, sequence_id, predictor)
    return predictor, predictions


def _batcher_of(model: ServedModel, settings: Settings, metrics: Metrics
                ) -> Batcher | None:
    """The model's dynamic batcher, or None when its requests are run one by one
    (batching off, or a model taking a series)."""
    if settings.max_batch_size == 1 or not model.batchable:
        return None
    return Batcher(lambda X: _predict(model, X), max_batch_size=settings.max_batch_size,
                   max_queue_delay_ms=settings.max_queue_delay_ms,
                   on_call=lambda rows: metrics.batch_size.labels(model.name).observe(rows))


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
    """
    if not models:
        raise ValueError("create_app needs at least one model")
    settings = settings or Settings()
    headers = headers or {}
    served = {name: ServedModel(name, model, headers.get(name))
              for name, model in models.items()}
    sequences = _Sequences(settings)
    app_metrics = Metrics(set(served))
    batchers = {name: _batcher_of(model, settings, app_metrics)
                for name, model in served.items()}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
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

    def model_named(name: str) -> ServedModel:
        if name not in served:
            raise ProtocolError(f"unknown model '{name:.100}'; served models: "
                                f"{', '.join(sorted(served))}", status=404)
        return served[name]

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
    async def metadata(name: str) -> dict:
        return model_named(name).metadata()

    @app.get("/v2/models/{name}/ready")
    async def model_ready(name: str) -> dict:
        return {"name": model_named(name).name, "ready": True}

    @app.post("/v2/models/{name}/infer")
    async def infer(request: Request) -> JSONResponse:
        name = request.path_params["name"]  # read here: FastAPI's parameters cost more
        model = model_named(name)
        batcher = batchers[name]
        with batcher.receiving() if batcher else contextlib.nullcontext():
            body = parse_body(await _read_body(request, settings.max_body_bytes))
            inputs = body["inputs"]
            if len(inputs) != 1:
                raise ProtocolError(f"model '{name}' takes 1 input, the request has "
                                    f"{len(inputs)}")
            tensor_name = inputs[0].get("name") if isinstance(inputs[0], dict) else None
            X = tensor_to_array(inputs[0])
            sequence = _sequence_parameters(body.get("parameters", {}))
            if sequence is None:
                model.check_input(X, tensor_name)
                if X.ndim == 0 or X.shape[0] == 0:
                    raise ProtocolError(f"input '{tensor_name}' has no sample (shape "
                                        f"{list(X.shape)}; the first dimension counts "
                                        f"the samples)")
        answer: dict = {"model_name": name}
        if body.get("id") is not None:
            answer["id"] = body["id"]
        if sequence is None:
            if batcher is None:
                y = await run_in_threadpool(_predict, model, X)
                app_metrics.batch_size.labels(name).observe(X.shape[0])
            else:
                y = await batcher.predict(X)
            answer["outputs"] = [_output_tensor(model, y)]
            return JSONResponse(answer)  # encoded here: FastAPI's serializer costs more
        sequence_id, start, end = sequence
        predictor, predictions = await run_in_threadpool(
            _stream, sequences, model, sequence_id, start, end, X, tensor_name)
        app_metrics.batch_size.labels(name).observe(X.shape[0] if X.ndim else 1)
        full = [p for p in predictions if p is not None]
        answer["outputs"] = [_output_tensor(model, np.stack(full))] if full else []
        answer["parameters"] = {"sequence_id": sequence_id,
                                "window_filled": predictor.n_buffered,
                                "window_size": predictor.window_size_past}
        return JSONResponse(answer)

    return app
