"""The served app in process: answers equal the pipeline's, streaming equals
StreamingPredictor's, every refused request answers 4xx with a JSON error."""

import asyncio
import gc
import json
import threading

import httpx
import numpy as np
import pytest
from served_models import Labeller
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge

import seqpipe
from seqpipe import Pipeline, StreamingPredictor, save
from seqpipe.serving import Settings, create_app, load_models
from seqpipe.serving.protocol import DATATYPES
from seqpipe.steps import MeanStdNormalizer, Windower

PAST = 5


def tensor(array, datatype="FP64", name="input"):
    array = np.asarray(array)
    return {"name": name, "shape": list(array.shape), "datatype": datatype,
            "data": array.ravel().tolist()}


def body_of(array, datatype="FP64", **parameters):
    body = {"inputs": [tensor(array, datatype)]}
    if parameters:
        body["parameters"] = parameters
    return body


def output_of(answer):
    (output,) = answer["outputs"]
    return np.reshape(output["data"], output["shape"])


@pytest.fixture
def app(window_pipeline):
    """'plain' serves the pipeline (input shape unknown, cannot stream); 'stream' serves
    a StreamingPredictor of it (windows of PAST, streams)."""
    stream = StreamingPredictor(window_pipeline, window_size_past=PAST)
    return create_app({"plain": window_pipeline, "stream": stream},
                      settings=Settings(max_body_bytes=20_000, max_sequences=3))


@pytest.fixture
def client(app, client_of):
    return client_of(app)


# ---------------------------------------------------------------- health and metadata
def test_health_and_model_ready(client):
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get("/v2/models/stream/ready").json() == {"name": "stream", "ready": True}


def test_metadata_from_a_loaded_artifact_reports_shapes_and_versions(window_pipeline,
                                                                     tmp_path, client_of):
    save(StreamingPredictor(window_pipeline, window_size_past=PAST), tmp_path / "m.seqpipe")
    models, headers = load_models([str(tmp_path / "m.seqpipe"),
                                   f"other={tmp_path / 'm.seqpipe'}"])
    assert sorted(models) == ["m", "other"]
    client = client_of(create_app(models, headers=headers))
    meta = client.get("/v2/models/m").json()
    assert meta["name"] == "m" and meta["platform"] == "seqpipe"
    assert meta["versions"] == ["1"]
    assert meta["inputs"] == [{"name": "input", "datatype": "FP64", "shape": [-1, PAST, 2],
                               "parameters": {"datatypes": ["FP32", "FP64", "INT32",
                                                            "INT64"]}}]
    assert meta["outputs"] == [{"name": "output", "datatype": "FP64", "shape": [-1, 2],
                                "parameters": {"datatype_by_input": {
                                    "FP32": "FP32", "FP64": "FP64", "INT32": "FP64",
                                    "INT64": "FP64"}}}]
    versions = meta["parameters"]["library_versions"]
    assert versions["scikit-learn"] and versions["numpy"] and versions["seqpipe"]
    assert meta["parameters"]["streaming"] is True


# ---------------------------------------------------------------- infer
@pytest.mark.parametrize("model", ["plain", "stream"])
def test_infer_equals_predict(client, window_pipeline, windows, model):
    X = windows[:7]
    answer = client.post(f"/v2/models/{model}/infer", json={**body_of(X), "id": "a1"}).json()
    assert answer["model_name"] == model and answer["id"] == "a1"
    assert answer["outputs"][0]["datatype"] == "FP64"
    np.testing.assert_allclose(output_of(answer), window_pipeline.predict(X), rtol=1e-12)


def test_infer_takes_nested_data_fp32_and_integers(client, window_pipeline, windows):
    X = windows[:3]
    nested = {"inputs": [{**tensor(X), "data": X.tolist()}]}
    np.testing.assert_allclose(output_of(client.post("/v2/models/stream/infer",
                                                     json=nested).json()),
                               window_pipeline.predict(X), rtol=1e-12)
    X32 = X.astype(np.float32)
    answer = client.post("/v2/models/stream/infer", json=body_of(X32, "FP32")).json()
    np.testing.assert_allclose(output_of(answer), window_pipeline.predict(X32), rtol=1e-5)
    Xint = np.rint(X).astype(np.int64)
    answer = client.post("/v2/models/stream/infer", json=body_of(Xint, "INT64")).json()
    np.testing.assert_allclose(output_of(answer), window_pipeline.predict(Xint), rtol=1e-12)


# ---------------------------------------------------------------- streaming sequences
def test_a_sequence_answers_as_streaming_predictor(client, window_pipeline, series):
    reference = StreamingPredictor(window_pipeline, window_size_past=PAST)
    start = 0
    for i, k in enumerate([2, 1, 3, 1, 4]):
        block = series[start:start + k]
        start += k
        expected = [a for a in reference.update_many(block) if a is not None]
        parameters = {"sequence_id": 7, "sequence_start": i == 0}
        response = client.post("/v2/models/stream/infer", json=body_of(block, **parameters))
        assert response.status_code == 200, response.text
        answer = response.json()
        if not expected:
            assert answer["outputs"] == []
        else:
            np.testing.assert_allclose(output_of(answer), np.stack(expected), rtol=1e-12)
    assert start == 11 and answer["parameters"]["sequence_id"] == 7


def test_sequences_are_independent_and_end_frees_them(client, window_pipeline, series):
    url = "/v2/models/stream/infer"
    client.post(url, json=body_of(series[:4], sequence_id="a", sequence_start=True))
    client.post(url, json=body_of(series[40:44], sequence_id="b", sequence_start=True))
    answer_a = client.post(url, json=body_of(series[4:5], sequence_id="a",
                                             sequence_end=True)).json()
    answer_b = client.post(url, json=body_of(series[44:45], sequence_id="b")).json()
    np.testing.assert_allclose(output_of(answer_a), window_pipeline.predict(
        series[None, :5]), rtol=1e-12)
    np.testing.assert_allclose(output_of(answer_b), window_pipeline.predict(
        series[None, 40:45]), rtol=1e-12)
    ended = client.post(url, json=body_of(series[5:6], sequence_id="a"))
    assert ended.status_code == 404 and "unknown sequence 'a'" in ended.json()["error"]


class Meeting(RegressorMixin, BaseEstimator):
    """Sums each window; once given a threading.Barrier (``barrier_``), each prediction
    first waits there for the others (a prediction alone times out and fails)."""

    def fit(self, X, y=None):
        self.n_features_in_ = np.shape(X)[-1]
        self.barrier_ = None
        return self

    def predict(self, X):
        if self.barrier_ is not None:
            self.barrier_.wait()
        return np.reshape(X, (len(X), -1)).sum(axis=1)


def test_sequences_predict_side_by_side(client_of):
    meeting = Meeting().fit(np.zeros((4, PAST, 1)))
    app = create_app({"m": StreamingPredictor(meeting, window_size_past=PAST)})
    client = client_of(app)
    for sequence in ("a", "b"):  # the windows less one time step: no prediction yet
        first = client.post("/v2/models/m/infer", json=body_of(
            np.ones((PAST - 1, 1)), sequence_id=sequence, sequence_start=True)).json()
        assert first["outputs"] == []

    async def complete_both():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await asyncio.gather(*(
                http.post("/v2/models/m/infer", json=body_of(
                    np.full((1, 1), value), sequence_id=sequence, sequence_end=True))
                for sequence, value in (("a", 10.0), ("b", 20.0))))

    # each prediction waits for the other sequence's: they must run at the same time
    meeting.barrier_ = threading.Barrier(2, timeout=10)
    answers = [answer.json() for answer in asyncio.run(complete_both())]
    assert [output_of(answer).tolist() for answer in answers] == [
        [PAST - 1 + 10.0], [PAST - 1 + 20.0]]
    assert len(app.state.sequences) == 0


def test_ending_a_sequence_spares_the_one_a_later_start_opened(app):
    sequences, model = app.state.sequences, app.state.models["stream"]
    first, _ = sequences.get(model, 7, start=True)
    restarted, _ = sequences.get(model, 7, start=True)  # a client started it again
    sequences.end(model, 7, first)  # the first one's sequence_end, arriving late
    assert len(sequences) == 1
    assert sequences.get(model, 7, start=False)[0] is restarted
    sequences.end(model, 7, restarted)
    assert len(sequences) == 0


def test_open_sequences_are_bounded_and_expire(window_pipeline, series, client_of):
    stream = StreamingPredictor(window_pipeline, window_size_past=PAST)
    app = create_app({"s": stream}, settings=Settings(max_sequences=2,
                                                      sequence_idle_seconds=30))
    now = [1000.0]
    app.state.sequences.clock = lambda: now[0]
    client = client_of(app)
    url = "/v2/models/s/infer"
    for sequence_id in (1, 2):
        ok = client.post(url, json=body_of(series[:1], sequence_id=sequence_id,
                                           sequence_start=True))
        assert ok.status_code == 200
    full = client.post(url, json=body_of(series[:1], sequence_id=3, sequence_start=True))
    assert full.status_code == 429 and "too many open sequences (at most 2)" in \
        full.json()["error"]
    now[0] += 20
    assert client.post(url, json=body_of(series[1:2], sequence_id=2)).status_code == 200
    now[0] += 20  # sequence 1 idle for 40 s, sequence 2 for 20 s
    expired = client.post(url, json=body_of(series[1:2], sequence_id=1))
    assert expired.status_code == 404 and "unknown sequence 1" in expired.json()["error"]
    assert client.post(url, json=body_of(series[:1], sequence_id=3,
                                         sequence_start=True)).status_code == 200
    assert client.post(url, json=body_of(series[2:3], sequence_id=2)).status_code == 200


# ---------------------------------------------------------------- refused requests
def good(series):
    return body_of(np.stack([series[:PAST]]))


def raw(text):
    return {"content": text.encode(), "headers": {"content-type": "application/json"}}


BAD = {
    "malformed JSON": ("stream", raw('{"inputs": ['), 400, "not valid JSON"),
    "not an object": ("stream", raw("[1, 2]"), 400, "must be a JSON object"),
    "no inputs": ("stream", {"json": {"parameters": {}}}, 400, "needs 'inputs'"),
    "two inputs": ("stream", {"json": {"inputs": [tensor([[[1.0] * 2] * PAST])] * 2}}, 400,
                   "takes 1 input, the request has 2"),
    "data shorter than shape": ("stream", {"json": {"inputs": [
        {"name": "x", "shape": [1, PAST, 2], "datatype": "FP64", "data": [1.0] * 9}]}}, 400,
        "shape [1, 5, 2] needs 10 values, data holds 9"),
    "wrong shape for the model": ("stream", {"json": body_of(np.ones((1, 4, 2)))}, 400,
                                  "has shape [1, 4, 2]; model 'stream' takes shape "
                                  "[-1, 5, 2]"),
    "unsupported datatype": ("stream", {"json": body_of(np.ones((1, PAST, 2)), "FP16")}, 400,
                             'datatype "FP16" is not supported'),
    "floats as INT32": ("stream", {"json": body_of(np.full((1, PAST, 2), 0.5), "INT32")},
                        400, "datatype INT32 needs integers"),
    "INT32 out of range": ("stream", {"json": body_of(np.full((1, PAST, 2), 2 ** 40),
                                                      "INT32")}, 400,
                           "out of INT32's range"),
    "a string in data": ("stream", {"json": {"inputs": [
        {"name": "x", "shape": [2], "datatype": "FP64", "data": [1.0, "a"]}]}}, 400,
        'data must hold numbers only, got "a"'),
    "NaN": ("stream", raw('{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", '
                          '"data": [NaN]}]}'), 400, "holds NaN"),
    "Infinity": ("stream", raw('{"inputs": [{"name": "x", "shape": [1], "datatype": '
                               '"FP64", "data": [-Infinity]}]}'), 400, "holds -Infinity"),
    "overflow to inf": ("stream", raw('{"inputs": [{"name": "x", "shape": [1], "datatype": '
                                      '"FP32", "data": [1e300]}]}'), 400,
                        "NaN or infinite value"),
    "unknown model": ("nope", {"json": body_of(np.ones((1, PAST, 2)))}, 404,
                      "unknown model 'nope'; served models: plain, stream"),
    "unknown sequence": ("stream", {"json": body_of(np.ones((1, 2)), sequence_id=99)}, 404,
                         "unknown sequence 99 of model 'stream'"),
    "bad sequence_id": ("stream", {"json": body_of(np.ones((1, 2)), sequence_id=[1])}, 400,
                        "sequence_id must be a positive integer"),
    "start without an id": ("stream", {"json": body_of(np.ones((1, 2)),
                                                       sequence_start=True)}, 400,
                            "sequence_start needs a sequence_id"),
    "model that cannot stream": ("plain", {"json": body_of(np.ones((1, 2)), sequence_id=1,
                                                           sequence_start=True)}, 400,
                                 "model 'plain' cannot stream"),
    "wrong step shape in a sequence": ("stream", {"json": body_of(
        np.ones((2, 3)), sequence_id=5, sequence_start=True)}, 400,
        "input 'input' of sequence 5: StreamingPredictor.update_many expects time steps "
        "of shape (k, 2)"),
    "model cannot predict": ("plain", {"json": body_of(np.ones((1, 3, 2)))}, 400,
                             "model 'plain' cannot predict from this input"),
    "no sample": ("stream", {"json": body_of(np.ones((0, PAST, 2)))}, 400,
                  "has no sample (shape [0, 5, 2]"),
    "a scalar": ("plain", {"json": {"inputs": [{"name": "input", "shape": [], "datatype": "FP64",
                                                "data": [1.0]}]}}, 400,
                 "has no sample (shape []; the first dimension counts the samples)"),
    "body over the limit": ("stream", {"json": body_of(np.full((1, 3000, 2), 1.5))}, 413,
                            "is over the limit of 20000 bytes"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_refused_request_answers_4xx_naming_the_problem_then_serving_goes_on(
        client, series, window_pipeline, case):
    model, request, status, message = BAD[case]
    response = client.post(f"/v2/models/{model}/infer", **request)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert message in response.json()["error"]
    after = client.post("/v2/models/stream/infer", json=good(series))
    assert after.status_code == 200
    np.testing.assert_allclose(output_of(after.json()),
                               window_pipeline.predict(series[None, :PAST]))


def test_a_chunked_body_over_the_limit_is_refused_while_read(client, series):
    async def chunks():
        for _ in range(30):
            yield b" " * 1000

    response = client.post("/v2/models/stream/infer", content=chunks())
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert "over the limit of 20000 bytes" in response.json()["error"]


def test_unknown_routes_and_methods_answer_json(client):
    missing = client.get("/v2/nothing")
    assert missing.status_code == 404 and missing.json() == {
        "error": "no such endpoint: GET /v2/nothing"}
    wrong = client.get("/v2/models/stream/infer")
    assert wrong.status_code == 405 and "method GET is not allowed" in wrong.json()["error"]
    unknown = client.get("/v2/models/nope/ready")
    assert unknown.status_code == 404 and "unknown model 'nope'" in unknown.json()["error"]


def test_settings_are_checked():
    with pytest.raises(ValueError, match=r"The 'max_sequences' setting must be an int in "
                                         r"the range \[1, inf\)\. Got 0 instead\."):
        Settings(max_sequences=0)
    with pytest.raises(ValueError, match=r"The 'graceful_shutdown_seconds' setting must be "
                                         r"a number in the range \(0, inf\)\. Got inf"):
        Settings(graceful_shutdown_seconds=float("inf"))
    assert json.loads(json.dumps(Settings().__dict__))["max_body_bytes"] == 16 * 2 ** 20


class FlatRidge(RegressorMixin, BaseEstimator):
    """Ridge on flattened windows, predicting y of any shape."""

    def fit(self, X, y):
        self.y_shape_ = np.shape(y)[1:]
        self.ridge_ = Ridge(alpha=0.1).fit(np.reshape(X, (len(X), -1)),
                                           np.reshape(y, (len(y), -1)))
        return self

    def predict(self, X):
        return self.ridge_.predict(np.reshape(X, (len(X), -1))).reshape(
            (len(X), *self.y_shape_))


def test_a_pipeline_with_a_windower_takes_a_series_and_streams(series, client_of):
    pipeline = Pipeline([MeanStdNormalizer(), Windower(PAST, 3), FlatRidge()]).fit(series)
    client = client_of(create_app({"w": pipeline}))
    meta = client.get("/v2/models/w").json()
    assert meta["inputs"][0]["shape"] == [-1, 2]
    assert meta["outputs"][0]["shape"] == [-1, 3, 2]
    answer = client.post("/v2/models/w/infer", json=body_of(series[:12])).json()
    np.testing.assert_allclose(output_of(answer), pipeline.predict(series[:12]), rtol=1e-12)
    reference = StreamingPredictor(pipeline).update_many(series[:7])
    answer = client.post("/v2/models/w/infer", json=body_of(
        series[:7], sequence_id=1, sequence_start=True, sequence_end=True)).json()
    np.testing.assert_allclose(output_of(answer), np.stack(reference[PAST - 1:]),
                               rtol=1e-12)


class NaNForZeros(RegressorMixin, BaseEstimator):
    """Predicts each sample's sum, or NaN for an all-zero sample."""

    def fit(self, X, y):
        self.is_fitted_ = True
        return self

    def predict(self, X):
        sums = np.reshape(X, (len(X), -1)).sum(axis=1)
        return np.where(sums == 0, np.nan, sums)


def test_a_non_finite_prediction_answers_500_naming_the_model_then_serving_goes_on(
        client_of):
    client = client_of(create_app({"n": NaNForZeros().fit(None, None)}))
    failed = client.post("/v2/models/n/infer", json=body_of(np.zeros((1, 3))))
    assert failed.status_code == 500
    assert failed.json() == {"error": "model 'n' predicted a NaN or infinite value, which "
                                      "JSON cannot carry"}
    answer = client.post("/v2/models/n/infer", json=body_of(np.ones((2, 3))))
    assert answer.status_code == 200
    np.testing.assert_array_equal(output_of(answer.json()), [3.0, 3.0])


# ---------------------------------------------------------------- the protocol as clients use it
def test_server_metadata_and_the_routes_of_version_1(client, window_pipeline, windows):
    assert client.get("/v2").json() == {"name": "seqpipe", "version": seqpipe.__version__,
                                        "extensions": ["binary_tensor_data", "sequence"]}
    assert client.get("/v2/models/stream/versions/1").json() == \
        client.get("/v2/models/stream").json()
    assert client.get("/v2/models/stream/versions/1/ready").json() == {
        "name": "stream", "ready": True}
    answer = client.post("/v2/models/stream/versions/1/infer", json=body_of(windows[:2]))
    assert answer.json()["model_version"] == "1"
    np.testing.assert_allclose(output_of(answer.json()), window_pipeline.predict(windows[:2]))
    for url in ("/v2/models/stream/versions/2", "/v2/models/stream/versions/2/ready"):
        missing = client.get(url)
        assert missing.status_code == 404 and missing.json() == {
            "error": "model 'stream' has no version '2'; its only version is 1"}
    missing = client.post("/v2/models/stream/versions/01/infer", json=body_of(windows[:2]))
    assert missing.status_code == 404 and "has no version '01'" in missing.json()["error"]


def binary_body(array, datatype, **request):
    """JSON then raw little-endian bytes, as tritonclient sends a tensor by default."""
    raw = np.ascontiguousarray(array, dtype=DATATYPES[datatype]).tobytes()
    header = json.dumps({"inputs": [{"name": "input", "shape": list(np.shape(array)),
                                     "datatype": datatype,
                                     "parameters": {"binary_data_size": len(raw)}}],
                         **request}).encode()
    return {"content": header + raw,
            "headers": {"Inference-Header-Content-Length": str(len(header)),
                        "Content-Type": "application/octet-stream"}}


def binary_output(response):
    """The one output of a binary answer, as an array of its datatype."""
    length = int(response.headers["Inference-Header-Content-Length"])
    (output,) = json.loads(response.content[:length])["outputs"]
    assert output["parameters"]["binary_data_size"] == len(response.content) - length
    values = np.frombuffer(response.content[length:], DATATYPES[output["datatype"]])
    return output["datatype"], values.reshape(output["shape"])


@pytest.mark.parametrize("datatype", ["FP32", "FP64"])
def test_binary_requests_and_binary_answers(client, window_pipeline, windows, datatype):
    X = windows[:3].astype(DATATYPES[datatype])
    expected = window_pipeline.predict(X)
    answer = client.post("/v2/models/stream/infer", **binary_body(X, datatype))
    assert answer.status_code == 200, answer.text
    assert "inference-header-content-length" not in answer.headers  # JSON asked
    (output,) = answer.json()["outputs"]
    assert output["datatype"] == datatype
    np.testing.assert_allclose(output_of(answer.json()), expected, rtol=1e-5)
    for request in ({"parameters": {"binary_data_output": True}},
                    {"outputs": [{"name": "output", "parameters": {"binary_data": True}}]}):
        answer = client.post("/v2/models/stream/infer", **binary_body(X, datatype, **request))
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/octet-stream"
        got_datatype, y = binary_output(answer)
        assert got_datatype == datatype
        np.testing.assert_allclose(y, expected, rtol=1e-5)
    json_asked = client.post("/v2/models/stream/infer", **binary_body(X, datatype, **{
        "parameters": {"binary_data_output": True},
        "outputs": [{"name": "output", "parameters": {"binary_data": False}}]}))
    assert json_asked.headers["content-type"] == "application/json"


def test_an_fp32_request_gets_fp32_back_as_the_metadata_says(client, windows):
    meta = client.get("/v2/models/stream").json()
    by_input = meta["outputs"][0]["parameters"]["datatype_by_input"]
    for datatype in ("FP32", "FP64", "INT32", "INT64"):
        X = np.rint(windows[:2]).astype(DATATYPES[datatype])
        answer = client.post("/v2/models/stream/infer", json=body_of(X, datatype)).json()
        assert answer["outputs"][0]["datatype"] == by_input[datatype] == (
            "FP32" if datatype == "FP32" else "FP64")


@pytest.mark.parametrize("labels, datatype", [
    (np.array(["down", "up"]), "BYTES"),
    (np.array([3, 7]), "INT64"),
    (np.array([False, True]), "BOOL"),
])
def test_a_classifier_answers_its_labels_in_their_datatype(client_of, labels, datatype):
    X = np.array([[[1.0]], [[-1.0]], [[2.0]]])
    model = Labeller().fit(X, labels)
    client = client_of(create_app({"plain": model, "windows": StreamingPredictor(
        model, window_size_past=1)}))
    for name in ("plain", "windows"):  # shape unknown (classes_), or probed
        meta = client.get(f"/v2/models/{name}").json()
        assert meta["outputs"][0]["datatype"] == datatype
        assert set(meta["outputs"][0]["parameters"]["datatype_by_input"].values()) == {
            datatype}
    expected = model.predict(X).tolist()
    answer = client.post("/v2/models/windows/infer", json=body_of(X, "FP32"))
    assert answer.status_code == 200, answer.text
    (output,) = answer.json()["outputs"]
    assert output["datatype"] == datatype and output["shape"] == [3]
    assert output["data"] == [str(v) if datatype == "BYTES" else v for v in expected]
    binary = client.post("/v2/models/windows/infer", **binary_body(
        X, "FP64", parameters={"binary_data_output": True}))
    length = int(binary.headers["Inference-Header-Content-Length"])
    raw = binary.content[length:]
    if datatype == "BYTES":
        assert raw == b"".join(len(v).to_bytes(4, "little") + v.encode() for v in expected)
    else:
        assert np.frombuffer(raw, DATATYPES[datatype]).tolist() == expected
    stream = client.post("/v2/models/windows/infer", json=body_of(
        X[:, 0], sequence_id=1, sequence_start=True, sequence_end=True)).json()
    assert stream["outputs"][0]["datatype"] == datatype


CLIENT_ERRORS = {
    "another input name": ({"json": {"inputs": [tensor(np.ones((1, PAST, 2)), name="x")]}},
                           400, "model 'stream' takes one input, named 'input'; the "
                                "request's input is named 'x'"),
    "an unknown output": ({"json": {**body_of(np.ones((1, PAST, 2))),
                                    "outputs": [{"name": "probabilities"}]}}, 400,
                          "model 'stream' has no output 'probabilities'; its outputs: "
                          "'output'"),
    "classification": ({"json": {**body_of(np.ones((1, PAST, 2))), "outputs": [
        {"name": "output", "parameters": {"classification": 2}}]}}, 400,
        "the classification extension is not supported"),
    "binary_data not a bool": ({"json": {**body_of(np.ones((1, PAST, 2))), "outputs": [
        {"name": "output", "parameters": {"binary_data": "yes"}}]}}, 400,
        "parameter binary_data must be true or false, got 'yes'"),
    "a BOOL input": ({"json": {"inputs": [{"name": "input", "shape": [1], "datatype": "BOOL",
                                           "data": [True]}]}}, 400,
                     "input 'input' is BOOL; model 'stream' takes FP32, FP64, INT32, INT64"),
    "an empty tensor with a huge dimension": (
        {"json": {"inputs": [{"name": "input", "shape": [0, 2 ** 62], "datatype": "FP32",
                              "data": []}]}}, 400, "shape [0, 4611686018427387904] is "
                                                   "too large"),
    "binary data without its header": ({"content": binary_body(
        np.ones((1, PAST, 2)), "FP64")["content"]}, 400, "not valid JSON"),
    "a compressed body": ({"content": b"{}", "headers": {"Content-Encoding": "gzip"}}, 415,
                          "Content-Encoding 'gzip' is not supported: send the body "
                          "uncompressed"),
}


@pytest.mark.parametrize("case", CLIENT_ERRORS, ids=list(CLIENT_ERRORS))
def test_requests_clients_may_send_wrong_are_refused_naming_the_problem(client, case):
    request, status, message = CLIENT_ERRORS[case]
    response = client.post("/v2/models/stream/infer", **request)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]


# ---------------------------------------------------------------- bounded work per request
class CallSizes(FlatRidge):
    """FlatRidge recording the number of windows of each call (``calls_``)."""

    def fit(self, X, y):
        self.n_features_in_ = np.shape(X)[-1]
        return super().fit(X, y)

    def predict(self, X):
        self.calls_.append(len(X))
        return super().predict(X)


def test_a_request_of_more_windows_than_the_limit_answers_413(series, windows, client_of):
    windows_model = CallSizes().fit(windows[:-1], series[PAST:])
    series_model = Pipeline([MeanStdNormalizer(), Windower(PAST, 1),
                             CallSizes()]).fit(series)
    client = client_of(create_app(
        {"windows": StreamingPredictor(windows_model, window_size_past=PAST),
         "series": series_model}, settings=Settings(max_windows=20)))
    for model in (windows_model, series_model[-1]):
        model.calls_ = []
    cases = [("windows", body_of(windows[:21]), 21),
             ("series", body_of(series[:PAST + 20]), 21),  # 25 time steps: 21 windows
             ("windows", body_of(series[:21], sequence_id=1, sequence_start=True), 21)]
    for name, body, count in cases:
        refused = client.post(f"/v2/models/{name}/infer", json=body)
        assert refused.status_code == 413, refused.text
        assert refused.json()["error"] == (
            f"input 'input' makes {count} windows; the server predicts at most 20 per "
            f"request (--max-windows): split it")
    assert windows_model.calls_ == series_model[-1].calls_ == []  # nothing predicted
    assert client.post("/v2/models/windows/infer", json=body_of(
        windows[:20])).status_code == 200
    assert client.post("/v2/models/series/infer", json=body_of(
        series[:PAST + 19])).status_code == 200
    assert windows_model.calls_ == series_model[-1].calls_ == [20]


@pytest.mark.parametrize("stride", [1, 3])
def test_a_long_series_is_predicted_in_slices_equal_to_the_whole(series, client_of, stride):
    pipeline = Pipeline([MeanStdNormalizer(), Windower(PAST, 2, stride=stride),
                         CallSizes()]).fit(series)
    pipeline[-1].calls_ = []
    posted = series[:-1]  # 79 steps: with stride 3, the first window starts at step 2
    whole = pipeline.predict(posted)  # 75 windows with stride 1, 25 with stride 3
    client = client_of(create_app({"w": pipeline}, settings=Settings(max_call_windows=7)))
    pipeline[-1].calls_ = []
    answer = client.post("/v2/models/w/infer", json=body_of(posted))
    assert answer.status_code == 200, answer.text
    np.testing.assert_allclose(output_of(answer.json()), whole, rtol=1e-12)
    n = len(whole)
    assert pipeline[-1].calls_ == [7] * (n // 7) + ([n % 7] if n % 7 else [])


def test_windows_and_sequences_are_predicted_in_slices(series, windows, client_of):
    model = CallSizes().fit(windows[:-1], series[PAST:])
    model.calls_ = []
    client = client_of(create_app({"m": StreamingPredictor(model, window_size_past=PAST)},
                                  settings=Settings(max_call_windows=8, max_batch_size=1)))
    model.calls_ = []  # not the metadata's probe
    X = windows[:30]
    answer = client.post("/v2/models/m/infer", json=body_of(X))
    assert model.calls_ == [8, 8, 8, 6]
    np.testing.assert_allclose(output_of(answer.json()), model.predict(X), rtol=1e-12)
    model.calls_ = []
    reference = StreamingPredictor(model, window_size_past=PAST).update_many(series[:30])
    model.calls_ = []
    answer = client.post("/v2/models/m/infer", json=body_of(
        series[:30], sequence_id="s", sequence_start=True)).json()
    np.testing.assert_allclose(output_of(answer), np.stack(reference[PAST - 1:]),
                               rtol=1e-12)
    assert max(model.calls_) <= 8 and sum(model.calls_) == 30 - PAST + 1


def test_the_server_freezes_what_it_loaded_out_of_the_garbage_collector(app):
    """A full collection walking TensorFlow's objects stalled every request (p99)."""
    async def frozen_while_serving():
        async with app.router.lifespan_context(app):
            return gc.get_freeze_count()

    gc.unfreeze()
    assert asyncio.run(frozen_while_serving()) > 1000
    assert gc.get_freeze_count() == 0  # given back at shutdown
