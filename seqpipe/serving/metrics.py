"""Prometheus metrics of one served app, in their own registry (prometheus_client).

Every app gets its own :class:`~prometheus_client.CollectorRegistry`, so several apps
in one process do not clash. ``GET /metrics`` answers :func:`generate_latest` of it:

- ``seqpipe_requests_total{model, endpoint, code}``: every answered request;
- ``seqpipe_errors_total{model, endpoint, code}``: those answered 4xx or 5xx;
- ``seqpipe_request_duration_seconds{model, endpoint}``: latency histogram;
- ``seqpipe_batch_size{model}``: rows per model call (with dynamic batching, the rows
  of every infer request stacked into the call), or the time steps of each streaming
  request.

``endpoint`` is the route's name (``infer``, ``metadata``, ``model_ready``, ``live``,
``ready``, ``metrics``, ``server_metadata``; ``unknown`` when no route matches; the
``/versions/1/`` routes count as the unversioned ones); ``model`` is the served
model's name, or ``""`` for a request naming no model or an unknown one, so a client
cannot grow the number of series.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["Metrics", "MetricsMiddleware"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class Metrics:
    """The app's metrics, registered in a registry of their own."""

    def __init__(self, model_names: set[str] | frozenset[str]) -> None:
        self.model_names = frozenset(model_names)
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "seqpipe_requests", "Requests answered, by model, endpoint and status code.",
            ["model", "endpoint", "code"], registry=self.registry)
        self.errors = Counter(
            "seqpipe_errors", "Requests answered with a 4xx or 5xx status.",
            ["model", "endpoint", "code"], registry=self.registry)
        self.latency = Histogram(
            "seqpipe_request_duration_seconds",
            "Time from a request's arrival to its answer, in seconds.",
            ["model", "endpoint"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_size = Histogram(
            "seqpipe_batch_size", "Rows per model call (infer) or time steps per "
            "streaming request.", ["model"], buckets=BATCH_BUCKETS, registry=self.registry)

    def model_label(self, name: Any) -> str:
        return name if name in self.model_names else ""

    def observe(self, model: str, endpoint: str, status: int, seconds: float) -> None:
        code = str(status)
        self.requests.labels(model, endpoint, code).inc()
        if status >= 400:
            self.errors.labels(model, endpoint, code).inc()
        self.latency.labels(model, endpoint).observe(seconds)


class MetricsMiddleware:
    """ASGI middleware recording every HTTP request in :class:`Metrics`.

    It sits inside Starlette's outermost error middleware: a request whose handler
    raised an unexpected exception is counted as 500, then the exception goes on to the
    app's 500 handler.
    """

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except Exception:
            status = 500
            raise
        finally:
            endpoint = getattr(scope.get("endpoint"), "__name__", None) or "unknown"
            model = self.metrics.model_label(scope.get("path_params", {}).get("name"))
            self.metrics.observe(model, endpoint, status, time.perf_counter() - start)
