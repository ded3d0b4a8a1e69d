"""The real clients people deploy with, against a real server (``seqpipe
serve`` in a subprocess): Triton's ``tritonclient.http``, which sends and
asks for binary tensor data by default, and KServe's ``InferenceRESTClient``."""

import asyncio

import numpy as np
import pytest
from served_models import Labeller
from test_server import running_server

from seqpipe import StreamingPredictor, save

triton = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException  # noqa: E402

PAST = 5
LABELS = np.array(["down", "up"])


@pytest.fixture(scope="module")
def server(window_pipeline, tmp_path_factory):
    """Base URL (host:port) of a server of 'model' (windows of PAST, 2 features, a
    regressor) and 'labels' (a classifier of windows with string labels)."""
    folder = tmp_path_factory.mktemp("clients")
    save(StreamingPredictor(window_pipeline, window_size_past=PAST), folder / "model.seqpipe")
    labeller = Labeller().fit(np.zeros((2, PAST, 2)), LABELS)
    save(StreamingPredictor(labeller, window_size_past=PAST), folder / "labels.seqpipe")
    with running_server(folder / "model.seqpipe", "--max-windows", "100",
                        models=[f"labels={folder / 'labels.seqpipe'}"]) as (_, url):
        yield url.removeprefix("http://")


@pytest.fixture
def client(server):
    client = triton.InferenceServerClient(server, network_timeout=30)
    yield client
    client.close()


def infer_input(array, datatype, name="input", binary_data=True):
    tensor = triton.InferInput(name, list(array.shape), datatype)
    tensor.set_data_from_numpy(array, binary_data=binary_data)
    return tensor


def test_tritonclient_reads_server_and_model_metadata(client):
    assert client.is_server_live() and client.is_server_ready()
    server = client.get_server_metadata()
    assert server["name"] == "seqpipe" and "binary_tensor_data" in server["extensions"]
    assert client.is_model_ready("model") and client.is_model_ready("model", "1")
    assert not client.is_model_ready("model", "2")
    meta = client.get_model_metadata("model", "1")
    assert meta["versions"] == ["1"]
    assert meta["inputs"][0]["name"] == "input" and meta["inputs"][0]["shape"] == [-1, PAST, 2]
    assert meta["outputs"][0]["name"] == "output"
    assert client.get_model_metadata("labels")["outputs"][0]["datatype"] == "BYTES"


@pytest.mark.parametrize("datatype, dtype", [("FP32", np.float32), ("FP64", np.float64)])
def test_tritonclient_infers_in_binary_by_default(client, window_pipeline, windows,
                                                 datatype, dtype):
    X = windows[:6].astype(dtype)
    result = client.infer("model", [infer_input(X, datatype)], model_version="1",
                          request_id="r1")
    y = result.as_numpy("output")
    assert y.dtype == dtype and result.get_response()["id"] == "r1"
    assert result.get_output("output")["parameters"]["binary_data_size"] == y.nbytes
    np.testing.assert_allclose(y, window_pipeline.predict(X), rtol=1e-5)


def test_tritonclient_infers_in_json_when_asked(client, window_pipeline, windows):
    X = windows[:3]
    result = client.infer("model", [infer_input(X, "FP64", binary_data=False)],
                          outputs=[triton.InferRequestedOutput("output",
                                                               binary_data=False)])
    assert "data" in result.get_output("output")
    np.testing.assert_allclose(result.as_numpy("output"), window_pipeline.predict(X),
                               rtol=1e-12)


def test_tritonclient_gets_string_labels_as_bytes(client, windows):
    X = windows[:4].copy()
    X[::2, 0, 0] = -1.0  # 'down' for windows 0 and 2
    for binary_data in (True, False):
        result = client.infer("labels", [infer_input(X.astype(np.float32), "FP32")],
                              outputs=[triton.InferRequestedOutput(
                                  "output", binary_data=binary_data)])
        labels = result.as_numpy("output").tolist()  # bytes from binary, str from JSON
        assert labels == [b"down", b"up", b"down", b"up"] if binary_data else \
            ["down", "up", "down", "up"]


def test_tritonclient_streams_a_sequence(client, window_pipeline, series):
    reference = StreamingPredictor(window_pipeline, window_size_past=PAST)
    start = 0
    for i, k in enumerate([3, 2, 4]):
        block = series[start:start + k]
        start += k
        expected = [a for a in reference.update_many(block) if a is not None]
        result = client.infer("model", [infer_input(block, "FP64")], sequence_id=42,
                              sequence_start=i == 0, sequence_end=i == 2)
        if expected:
            np.testing.assert_allclose(result.as_numpy("output"), np.stack(expected),
                                       rtol=1e-12)
        else:
            assert result.as_numpy("output") is None
    with pytest.raises(InferenceServerException, match="unknown sequence 42"):
        client.infer("model", [infer_input(series[:1], "FP64")], sequence_id=42)


@pytest.mark.parametrize("inputs, outputs, status, message", [
    (lambda X: [infer_input(X, "FP64", name="close")], None, "400",
     "model 'model' takes one input, named 'input'; the request's input is named "
     "'close'"),
    (lambda X: [infer_input(X, "FP64")], ["scores"], "400",
     "model 'model' has no output 'scores'; its outputs: 'output'"),
    (lambda X: [infer_input(np.zeros((101, PAST, 2)), "FP64")], None, "413",
     "input 'input' makes 101 windows; the server predicts at most 100 per request"),
    (lambda X: [infer_input(X[:, :4], "FP64")], None, "400",
     "has shape [2, 4, 2]; model 'model' takes shape [-1, 5, 2]"),
])
def test_tritonclient_reports_the_servers_error(client, windows, inputs, outputs, status,
                                                message):
    requested = [triton.InferRequestedOutput(name) for name in outputs or []] or None
    with pytest.raises(InferenceServerException) as caught:
        client.infer("model", inputs(np.ascontiguousarray(windows[:2])), outputs=requested)
    assert caught.value.status() == status
    assert message in caught.value.message()


# ---------------------------------------------------------------- KServe's InferenceRESTClient
def kserve_call(method, *args, **kwargs):
    """``await InferenceRESTClient(v2).method(*args, **kwargs)`` (an async client)."""
    from kserve import InferenceRESTClient, RESTConfig

    async def call():
        client = InferenceRESTClient(RESTConfig(protocol="v2", timeout=30))
        try:
            return await getattr(client, method)(*args, **kwargs)
        finally:
            await client.close()

    return asyncio.run(call())


def kserve_request(model, array, datatype, *, binary_inputs, binary_outputs=None,
                   **parameters):
    from kserve import InferInput, InferRequest
    from kserve.protocol.infer_type import RequestedOutput

    tensor = InferInput("input", list(array.shape), datatype)
    tensor.set_data_from_numpy(array, binary_data=binary_inputs)
    outputs = None if binary_outputs is None else [
        RequestedOutput("output", parameters={"binary_data": binary_outputs})]
    return InferRequest(model, [tensor], request_id="k1", request_outputs=outputs,
                        parameters=parameters or None)


@pytest.mark.parametrize("binary_inputs, binary_outputs", [
    (True, True), (True, None), (False, True), (False, None)])
def test_kserve_client_infers_in_binary_and_json(server, window_pipeline, windows,
                                                binary_inputs, binary_outputs):
    pytest.importorskip("kserve")
    url = f"http://{server}"
    assert kserve_call("is_server_live", url) and kserve_call("is_server_ready", url)
    assert kserve_call("is_model_ready", url, "model")
    X = windows[:5].astype(np.float32)
    headers = {}
    response = kserve_call("infer", url, kserve_request(
        "model", X, "FP32", binary_inputs=binary_inputs, binary_outputs=binary_outputs),
        model_name="model", response_headers=headers)
    assert ("inference-header-content-length" in headers) is bool(binary_outputs)
    assert response.id == "k1" and response.model_name == "model"
    (output,) = response.outputs
    assert output.name == "output" and output.datatype == "FP32"
    y = output.as_numpy()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, window_pipeline.predict(X), rtol=1e-5)


def test_kserve_client_gets_string_labels_and_streams(server, window_pipeline, windows,
                                                     series):
    pytest.importorskip("kserve")
    url = f"http://{server}"
    X = windows[:2].copy()
    X[0, 0, 0] = -1.0
    labels = kserve_call("infer", url, kserve_request(
        "labels", X, "FP64", binary_inputs=True, binary_outputs=True), model_name="labels")
    assert labels.outputs[0].datatype == "BYTES"
    assert labels.outputs[0].as_numpy().tolist() == ["down", "up"]  # decoded by kserve
    answer = kserve_call("infer", url, kserve_request(
        "model", series[:PAST + 1], "FP64", binary_inputs=True, sequence_id="k",
        sequence_start=True, sequence_end=True), model_name="model")
    expected = StreamingPredictor(window_pipeline, window_size_past=PAST).update_many(
        series[:PAST + 1])[PAST - 1:]
    np.testing.assert_allclose(answer.outputs[0].as_numpy(), np.stack(expected),
                               rtol=1e-12)
    assert answer.parameters["window_filled"] == PAST


def test_kserve_client_raises_the_servers_message(server, windows):
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("kserve")
    request = kserve_request("model", windows[:1, :4], "FP64", binary_inputs=True)
    with pytest.raises(httpx.HTTPStatusError) as caught:
        kserve_call("infer", f"http://{server}", request, model_name="model")
    assert caught.value.response.status_code == 400
    assert "has shape [1, 4, 2]; model 'model' takes shape [-1, 5, 2]" in str(caught.value)
