"""``GET /metrics``: Prometheus' text format with exact counts, a registry per app; model
calls in a worker thread, so a slow prediction does not hold up health checks."""

import asyncio
import time

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sklearn.base import BaseEstimator, RegressorMixin
from slow_model import SlowSum

from seqpipe import StreamingPredictor
from seqpipe.serving import create_app

PAST = 5


class Broken(RegressorMixin, BaseEstimator):
    """Fails with an unexpected error: the server answers 500."""

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        raise RuntimeError("boom")


def body_of(array, datatype="FP64", **parameters):
    array = np.asarray(array)
    body = {"inputs": [{"name": "input", "shape": list(array.shape), "datatype": datatype,
                        "data": array.ravel().tolist()}]}
    if parameters:
        body["parameters"] = parameters
    return body


async def send_all(app, requests):
    """Answers to ``(method, url, kwargs)`` in order; app exceptions answer 500."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return [await client.request(method, url, **kwargs)
                for method, url, kwargs in requests]


def samples(text):
    """{(sample name, sorted labels): value} of an exposition text."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def labels(**kwargs):
    return tuple(sorted(kwargs.items()))


@pytest.fixture
def app(window_pipeline):
    stream = StreamingPredictor(window_pipeline, window_size_past=PAST)
    return create_app({"plain": window_pipeline, "stream": stream,
                       "broken": Broken().fit(None)})


def test_metrics_count_requests_errors_latency_and_batch_sizes(app, windows, series):
    infer = "/v2/models/{}/infer".format
    requests = [("POST", infer("plain"), {"json": body_of(windows[:n])}) for n in (4, 2, 1)]
    requests += [
        ("POST", infer("plain"), {"content": b"{"}),                       # 400
        ("POST", infer("nope"), {"json": body_of(windows[:1])}),          # 404, model ""
        ("POST", infer("stream"), {"json": body_of(series[:3], sequence_id=7,
                                                   sequence_start=True)}),  # 3 steps
        ("POST", infer("broken"), {"json": body_of(windows[:2])}),        # 500
        ("GET", "/v2/health/live", {}),
        ("GET", "/v2/models/stream", {}),
        ("GET", "/no/such/route", {}),                                    # 404, unknown
    ]
    answers = asyncio.run(send_all(app, [*requests, ("GET", "/metrics", {})]))
    assert [a.status_code for a in answers] == [200, 200, 200, 400, 404, 200, 500, 200,
                                                200, 404, 200]
    metrics = answers[-1]
    assert metrics.headers["content-type"].startswith("text/plain; version=")
    found = samples(metrics.text)

    def requests_total(**kw):
        return found.get(("seqpipe_requests_total", labels(**kw)), 0)

    def errors_total(**kw):
        return found.get(("seqpipe_errors_total", labels(**kw)), 0)

    assert requests_total(model="plain", endpoint="infer", code="200") == 3
    assert requests_total(model="plain", endpoint="infer", code="400") == 1
    assert requests_total(model="", endpoint="infer", code="404") == 1
    assert requests_total(model="stream", endpoint="infer", code="200") == 1
    assert requests_total(model="broken", endpoint="infer", code="500") == 1
    assert requests_total(model="", endpoint="live", code="200") == 1
    assert requests_total(model="stream", endpoint="metadata", code="200") == 1
    assert requests_total(model="", endpoint="unknown", code="404") == 1
    assert sum(v for (name, _), v in found.items() if name == "seqpipe_requests_total") == 10
    # errors: exactly the 4xx and 5xx answers
    errors = [(dict(k)["code"], v) for (name, k), v in found.items()
              if name == "seqpipe_errors_total"]
    assert sum(v for _, v in errors) == 4
    assert {code for code, _ in errors} == {"400", "404", "500"}
    assert errors_total(model="plain", endpoint="infer", code="400") == 1
    assert errors_total(model="", endpoint="infer", code="404") == 1
    assert errors_total(model="", endpoint="unknown", code="404") == 1
    assert errors_total(model="broken", endpoint="infer", code="500") == 1
    # latency: one observation per request, in seconds
    latency = "seqpipe_request_duration_seconds_{}".format
    assert found[(latency("count"), labels(model="plain", endpoint="infer"))] == 4
    assert 0 < found[(latency("sum"), labels(model="plain", endpoint="infer"))] < 60
    assert found[(latency("bucket"), labels(model="plain", endpoint="infer",
                                            le="+Inf"))] == 4
    # batch sizes: rows of each answered model call, time steps of a streaming request
    assert found[("seqpipe_batch_size_count", labels(model="plain"))] == 3
    assert found[("seqpipe_batch_size_sum", labels(model="plain"))] == 7
    assert found[("seqpipe_batch_size_bucket", labels(model="plain", le="2.0"))] == 2
    assert found[("seqpipe_batch_size_sum", labels(model="stream"))] == 3
    assert ("seqpipe_batch_size_count", labels(model="broken")) not in found


def test_each_app_has_its_own_registry(window_pipeline, windows):
    first, second = create_app({"m": window_pipeline}), create_app({"m": window_pipeline})
    asyncio.run(send_all(first, [("POST", "/v2/models/m/infer",
                                  {"json": body_of(windows[:2])})] * 2))
    (text_1,), (text_2,) = (
        [a.text for a in asyncio.run(send_all(app, [("GET", "/metrics", {})]))]
        for app in (first, second))
    key = ("seqpipe_requests_total", labels(model="m", endpoint="infer", code="200"))
    assert samples(text_1)[key] == 2
    assert key not in samples(text_2)


def test_a_slow_prediction_does_not_hold_up_health_checks(tmp_path):
    marker = tmp_path / "started"
    app = create_app({"slow": SlowSum(delay=1.0, marker=str(marker)).fit(np.zeros((1, 2)))})

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            infer = asyncio.create_task(client.post(
                "/v2/models/slow/infer", json=body_of([[1.0, 2.0], [3.0, 4.0]])))
            deadline = time.monotonic() + 10
            while not marker.exists():
                assert time.monotonic() < deadline and not infer.done(), "never predicted"
                await asyncio.sleep(0.01)
            start = time.monotonic()
            live = await client.get("/v2/health/live")
            waited = time.monotonic() - start
            assert not infer.done()
            return live, waited, await infer

    live, waited, answer = asyncio.run(scenario())
    assert live.json() == {"live": True} and waited < 0.5
    assert answer.status_code == 200
    assert answer.json()["outputs"][0]["data"] == [3.0, 7.0]
