"""A real server: ``python -m seqpipe serve`` in a subprocess, spoken to over HTTP."""

import asyncio
import contextlib
import importlib.util
import os
import queue
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import httpx
import keras
import numpy as np
import pytest
from slow_model import SlowSum

from seqpipe import StreamingPredictor, save
from seqpipe.cli.serve import main
from seqpipe.serving.server import _listen, limit_model_threads

HERE = os.path.dirname(os.path.abspath(__file__))

PAST = 5
START_TIMEOUT = 60  # seconds: imports on a loaded CI machine
ROOT = os.path.dirname(os.path.dirname(HERE))


def environment(key=None):
    """The server's environment: seqpipe and this directory (slow_model) importable."""
    env = {k: v for k, v in os.environ.items() if k != "SEQPIPE_KEY"}
    env["PYTHONPATH"] = os.pathsep.join([ROOT, HERE, env.get("PYTHONPATH", "")]
                                        ).rstrip(os.pathsep)
    if key is not None:
        env["SEQPIPE_KEY"] = key
    return env


def first_line(stream, timeout):
    """The first line of ``stream``, or None after ``timeout`` seconds."""
    lines = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return None


@contextlib.contextmanager
def running_server(path, *options, models=()):
    """(process, base URL) of a live server of ``path`` (and of the ``NAME=PATH`` specs
    in ``models``) on a free port; always stopped."""
    process = subprocess.Popen(
        [sys.executable, "-m", "seqpipe", "serve", str(path), *models, "--port", "0",
         *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment())
    names = ", ".join([path.stem, *(spec.partition("=")[0] for spec in models)])
    try:
        line = first_line(process.stdout, START_TIMEOUT)
        assert line and line.startswith(f"seqpipe serving {names} on "
                                        f"http://127.0.0.1:"), (line, process.poll())
        url = line.split()[-1]
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if httpx.get(f"{url}/v2/health/live", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "not live"
            time.sleep(0.05)
        yield process, url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


@pytest.fixture(scope="module")
def server(window_pipeline, tmp_path_factory):
    """The base URL of a server of model 'model' (port 0: the server picks a free one)."""
    path = tmp_path_factory.mktemp("served") / "model.seqpipe"
    save(StreamingPredictor(window_pipeline, window_size_past=PAST), path, key="k")
    with running_server(path, "--max-body-bytes", "50000") as (_, url):
        yield url


def test_a_real_server_answers_the_protocol(server, window_pipeline, windows):
    with httpx.Client(base_url=server, timeout=10) as client:
        assert client.get("/v2/health/live").json() == {"live": True}
        assert client.get("/v2/health/ready").json() == {"ready": True}
        assert client.get("/v2/models/model/ready").json() == {"name": "model", "ready": True}
        meta = client.get("/v2/models/model").json()
        assert meta["inputs"][0]["shape"] == [-1, PAST, 2]
        assert meta["parameters"]["library_versions"]["seqpipe"]
        bad = client.post("/v2/models/model/infer", content=b"{")
        assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]
        X = windows[:4].astype(np.float32)
        body = {"inputs": [{"name": "input", "shape": list(X.shape), "datatype": "FP32",
                            "data": X.ravel().tolist()}]}
        answer = client.post("/v2/models/model/infer", json=body)
        assert answer.status_code == 200, answer.text
        (output,) = answer.json()["outputs"]
        np.testing.assert_allclose(np.reshape(output["data"], output["shape"]),
                                   window_pipeline.predict(X), rtol=1e-5)


def tensor_body(array, datatype="FP64", **parameters):
    array = np.asarray(array)
    body = {"inputs": [{"name": "input", "shape": list(array.shape), "datatype": datatype,
                        "data": array.ravel().tolist()}]}
    if parameters:
        body["parameters"] = parameters
    return body


def test_a_real_server_streams_as_streaming_predictor(server, window_pipeline, series):
    reference = StreamingPredictor(window_pipeline, window_size_past=PAST)
    with httpx.Client(base_url=server, timeout=10) as client:
        start = 0
        for i, k in enumerate([3, 1, 2, 4]):
            block = series[start:start + k]
            start += k
            expected = [a for a in reference.update_many(block) if a is not None]
            answer = client.post("/v2/models/model/infer", json=tensor_body(
                block, sequence_id="s1", sequence_start=i == 0, sequence_end=i == 3))
            assert answer.status_code == 200, answer.text
            outputs = answer.json()["outputs"]
            if expected:
                (output,) = outputs
                np.testing.assert_allclose(np.reshape(output["data"], output["shape"]),
                                           np.stack(expected), rtol=1e-12)
            else:
                assert outputs == []
        ended = client.post("/v2/models/model/infer",
                            json=tensor_body(series[:1], sequence_id="s1"))
        assert ended.status_code == 404 and "unknown sequence 's1'" in ended.json()["error"]


REFUSED = [  # (url, request, status, part of the error message)
    ("model", {"content": b'{"inputs": [}'}, 400, "not valid JSON"),
    ("model", {"json": tensor_body(np.ones((1, 4, 2)))}, 400,
     "has shape [1, 4, 2]; model 'model' takes shape [-1, 5, 2]"),
    ("model", {"json": {"inputs": [{"name": "input", "shape": [1], "datatype": "BYTES",
                                    "data": ["a"]}]}}, 400,
     "input 'input' is BYTES; model 'model' takes FP32, FP64, INT32, INT64"),
    ("model", {"json": tensor_body(np.ones((1, PAST, 2)), "FP16")}, 400,
     'datatype "FP16" is not supported'),
    ("model", {"content": b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", '
                          b'"data": [Infinity]}]}'}, 400, "holds Infinity"),
    ("nope", {"json": tensor_body(np.ones((1, PAST, 2)))}, 404, "unknown model 'nope'"),
    ("model", {"json": tensor_body(np.ones((1, 2)), sequence_id=77)}, 404,
     "unknown sequence 77"),
    ("model", {"json": tensor_body(np.ones((1, 9000, 2)))}, 413,
     "over the limit of 50000 bytes"),
]


def test_a_real_server_refuses_bad_requests_in_json_and_keeps_serving(
        server, window_pipeline, windows):
    with httpx.Client(base_url=server, timeout=10) as client:
        for model, request, status, message in REFUSED:
            refused = client.post(f"/v2/models/{model}/infer", **request)
            assert refused.status_code == status, (message, refused.text)
            assert refused.headers["content-type"] == "application/json"
            assert message in refused.json()["error"]
            answer = client.post("/v2/models/model/infer", json=tensor_body(windows[:2]))
            assert answer.status_code == 200, answer.text
            np.testing.assert_allclose(answer.json()["outputs"][0]["data"],
                                       window_pipeline.predict(windows[:2]).ravel(),
                                       rtol=1e-12)


@pytest.mark.parametrize("signed_with, message", [
    (None, "is not signed but a key was given"),
    ("another key", "signature does not match"),
])
def test_an_unsigned_or_foreign_artifact_is_refused_at_start_up_when_a_key_is_set(
        window_pipeline, tmp_path, monkeypatch, signed_with, message):
    monkeypatch.delenv("SEQPIPE_KEY", raising=False)
    path = tmp_path / "model.seqpipe"
    save(window_pipeline, path, key=signed_with)
    done = subprocess.run(
        [sys.executable, "-m", "seqpipe", "serve", str(path), "--port", "0",
         "--key-env", "SERVE_TEST_KEY"],
        capture_output=True, text=True, timeout=START_TIMEOUT,
        env={**environment(), "SERVE_TEST_KEY": "secret"})
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("seqpipe serve: error: cannot load the models, nothing served:")
    assert message in lines[0]


def infer_in_flight(url, marker):
    """Send an infer request to the slow model in a thread; return once its prediction
    has started. The queue receives the answer (or the client's exception)."""
    answers = queue.Queue()

    def infer():
        body = {"inputs": [{"name": "input", "shape": [2, 2], "datatype": "FP64",
                            "data": [1.0, 2.0, 3.0, 4.0]}]}
        try:
            answers.put(httpx.post(f"{url}/v2/models/slow/infer", json=body, timeout=30))
        except Exception as error:  # noqa: BLE001 - reported by the test's assertions
            answers.put(error)

    thread = threading.Thread(target=infer, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not marker.exists():  # the prediction has started: the request is in flight
        assert time.monotonic() < deadline and thread.is_alive(), "never predicted"
        time.sleep(0.01)
    return answers


def test_sigterm_finishes_the_request_in_flight_then_exits_0(tmp_path):
    marker = tmp_path / "predicting"
    path = tmp_path / "slow.seqpipe"
    save(SlowSum(delay=1.5, marker=str(marker)).fit(np.zeros((1, 2))), path)
    with running_server(path, "--graceful-shutdown-seconds", "20") as (process, url):
        marker.unlink(missing_ok=True)
        answers = infer_in_flight(url, marker)
        process.send_signal(signal.SIGTERM)
        answer = answers.get(timeout=30)
        assert isinstance(answer, httpx.Response), answer
        assert answer.status_code == 200, answer.text
        assert answer.json()["outputs"][0]["data"] == [3.0, 7.0]
        assert process.wait(timeout=20) == 0
        errors = process.stderr.read()
        assert "Traceback" not in errors
        assert errors.startswith(f"seqpipe serve: Keras backend: {keras.config.backend()} (")
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/v2/health/live", timeout=5)


def test_sigterm_stops_waiting_after_the_graceful_shutdown_timeout(tmp_path):
    """A model call outliving --graceful-shutdown-seconds is cancelled; the process
    does not wait for its worker thread."""
    marker = tmp_path / "predicting"
    path = tmp_path / "slow.seqpipe"
    save(SlowSum(delay=10.0, marker=str(marker)).fit(np.zeros((1, 2))), path)
    with running_server(path, "--graceful-shutdown-seconds", "0.3") as (process, url):
        marker.unlink(missing_ok=True)
        answers = infer_in_flight(url, marker)
        start = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert time.monotonic() - start < 6  # not the model call's 10 s
        answer = answers.get(timeout=30)
        assert not isinstance(answer, httpx.Response) or answer.status_code >= 500


def nodelay_of_accepted_connection(sock):
    """TCP_NODELAY of a connection accepted by an asyncio server (as uvicorn's) on
    ``sock``."""
    async def scenario():
        accepted = asyncio.get_running_loop().create_future()

        def on_connect(reader, writer):
            accepted.set_result(writer.get_extra_info("socket").getsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            value = await asyncio.wait_for(accepted, 10)
            writer.close()
        return value

    return asyncio.run(scenario())


def test_connections_to_the_server_socket_send_without_nagle_delay():
    """Without TCP_NODELAY, an answer written in two parts (headers, then body) waits
    for the client's delayed ACK: ~40 ms per request."""
    assert nodelay_of_accepted_connection(_listen("127.0.0.1", 0)) != 0
    # what socket.create_server (protocol 0) would have given: asyncio leaves Nagle on
    assert nodelay_of_accepted_connection(socket.create_server(("127.0.0.1", 0))) == 0


ONE_XLA_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


@pytest.mark.skipif(keras.config.backend() != "jax", reason="JAX's pools")
def test_model_threads_size_xla_pools_unless_the_environment_already_does(monkeypatch):
    for name in ("PJRT_NPROC", "NPROC"):  # set first: restored afterwards
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/nowhere")
    limit_model_threads(1)
    assert os.environ["XLA_FLAGS"] == f"--xla_dump_to=/tmp/nowhere {ONE_XLA_THREAD}"
    assert os.environ["PJRT_NPROC"] == "1"
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true")
    monkeypatch.setenv("PJRT_NPROC", "4")
    limit_model_threads(1)
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_multi_thread_eigen=true"  # the user's wins
    assert os.environ["PJRT_NPROC"] == "4"  # so does the user's pool size
    monkeypatch.delenv("XLA_FLAGS")
    monkeypatch.delenv("PJRT_NPROC")
    limit_model_threads(0)  # XLA's own choice
    assert "PJRT_NPROC" not in os.environ
    limit_model_threads(3)  # a pool of 3; ops still split over it
    assert os.environ["PJRT_NPROC"] == "3" and "XLA_FLAGS" not in os.environ
    monkeypatch.delenv("PJRT_NPROC")
    monkeypatch.setenv("NPROC", "2")  # XLA's other name for it
    limit_model_threads(3)
    assert "PJRT_NPROC" not in os.environ


def threads_of_a_jax_process(model_threads):
    """Threads of a fresh JAX process that sized its pools with ``model_threads``, then
    ran a Keras model (JAX's CPU client started)."""
    code = f"""
        import os
        import seqpipe
        from seqpipe.serving.server import limit_model_threads
        limit_model_threads({model_threads})
        import keras, numpy as np
        model = keras.Sequential([keras.Input((8, 2)), keras.layers.GRU(4)])
        model.predict_on_batch(np.zeros((3, 8, 2), "float32"))
        print(len(os.listdir("/proc/self/task")))
    """
    env = {k: v for k, v in environment().items()
           if k not in ("PJRT_NPROC", "NPROC", "XLA_FLAGS")}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], text=True,
                            capture_output=True, timeout=120,
                            env={**env, "KERAS_BACKEND": "jax"})
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stdout.split()[-1])


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="threads read in /proc")
def test_model_threads_size_the_pools_of_jaxs_cpu_client():
    """XLA's pools (intra-op and the client's) each grow by a thread per thread asked
    for: N > 1 threads are honoured, not only 1."""
    one, three = threads_of_a_jax_process(1), threads_of_a_jax_process(3)
    assert three >= one + 2 * 2


def test_model_threads_size_tensorflow_pools_unless_the_environment_already_does():
    code = """
        import os
        os.environ.pop("TF_NUM_INTRAOP_THREADS", None)
        os.environ["TF_NUM_INTEROP_THREADS"] = "4"
        import seqpipe
        from seqpipe.serving.server import limit_model_threads
        limit_model_threads(1)
        print(os.environ["TF_NUM_INTRAOP_THREADS"], os.environ["TF_NUM_INTEROP_THREADS"])
        del os.environ["TF_NUM_INTRAOP_THREADS"]
        limit_model_threads(0)  # TensorFlow's own choice
        print("TF_NUM_INTRAOP_THREADS" in os.environ)
    """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], text=True,
                            capture_output=True, timeout=120,
                            env={**environment(), "KERAS_BACKEND": "tensorflow"})
    assert result.stdout.split() == ["1", "4", "False"], result.stderr  # the user's 4 wins


@pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                    reason="torch not installed (benchmarks/check_torch.sh)")
def test_model_threads_size_torch_pools():
    code = """
        import seqpipe, torch
        from seqpipe.serving.server import limit_model_threads
        limit_model_threads(2)
        print(torch.get_num_threads(), torch.get_num_interop_threads())
    """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], text=True,
                            capture_output=True, timeout=120,
                            env={**environment(), "KERAS_BACKEND": "torch"})
    assert result.stdout.split() == ["2", "2"], result.stderr


@pytest.mark.skipif(keras.config.backend() != "jax", reason="JAX's pools")
def test_the_command_sizes_the_backends_pools_before_it_loads_the_models(tmp_path,
                                                                        monkeypatch, capsys):
    for name in ("XLA_FLAGS", "PJRT_NPROC", "NPROC"):  # set first: restored afterwards
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    assert main([str(tmp_path / "missing.seqpipe"), "--model-threads", "1"]) == 1
    assert os.environ["XLA_FLAGS"] == ONE_XLA_THREAD  # set although loading failed
    assert os.environ["PJRT_NPROC"] == "1"
    assert capsys.readouterr().err.startswith("seqpipe serve: error: cannot load the models")
