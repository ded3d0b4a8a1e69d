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
import gc
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import seqpipe
from seqpipe.forecasting import Forecaster
from seqpipe.serving.batching import Batcher
from seqpipe.serving.forecast_infer import _infer_forecast
from seqpipe.serving.forecasts import ServedForecaster
from seqpipe.serving.infer import (
    _answer_tensor,
    _predict,
    _read_body,
    _requested_binary,
    _the_input,
)
from seqpipe.serving.metrics import Metrics, MetricsMiddleware
from seqpipe.serving.models import INPUT, ServedModel
from seqpipe.serving.protocol import (
    HEADER_LENGTH,
    PLATFORM,
    VERSION,
    ProtocolError,
    encode_answer,
    parse_request,
)
from seqpipe.serving.sequences import _sequence_parameters, _Sequences, _stream
from seqpipe.serving.settings import Settings

__all__ = ["ServedModel", "Settings", "create_app"]

EXTENSIONS = ("binary_tensor_data", "sequence")  # of the protocol, as Triton names them


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


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
