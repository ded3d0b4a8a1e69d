"""A real server: ``python -m seqpipe.serving`` in a subprocess, spoken to over HTTP."""

import os
import queue
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import pytest

from seqpipe import StreamingPredictor, save

PAST = 5
START_TIMEOUT = 60  # seconds: imports on a loaded CI machine
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def environment(key=None):
    env = {k: v for k, v in os.environ.items() if k != "SEQPIPE_KEY"}
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
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


@pytest.fixture(scope="module")
def server(window_pipeline, tmp_path_factory):
    """The base URL of a server of model 'model' (port 0: the server picks a free one)."""
    path = tmp_path_factory.mktemp("served") / "model.seqpipe"
    save(StreamingPredictor(window_pipeline, window_size_past=PAST), path, key="k")
    process = subprocess.Popen(
        [sys.executable, "-m", "seqpipe.serving", str(path), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment())
    try:
        line = first_line(process.stdout, START_TIMEOUT)
        assert line and line.startswith("seqpipe serving model on http://127.0.0.1:"), (
            line, process.poll())
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
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


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
        [sys.executable, "-m", "seqpipe.serving", str(path), "--port", "0",
         "--key-env", "SERVE_TEST_KEY"],
        capture_output=True, text=True, timeout=START_TIMEOUT,
        env={**environment(), "SERVE_TEST_KEY": "secret"})
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("seqpipe serve: error: cannot load the models, nothing served:")
    assert message in lines[0]
