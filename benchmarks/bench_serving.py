"""Benchmark: ``seqpipe serve`` against a bare FastAPI endpoint calling the same Keras model.

In a temporary directory it trains and saves a small pipeline (MeanStdNormalizer, then
an LSTM regressor reading windows of ``--window`` time steps, a few epochs on a noisy
sine), by default of the size seed 002 deploys (3 stacked LSTMs of 100 units reading
30-step windows, its S&P 500 scoring engine), then starts three servers, each a
uvicorn process on 127.0.0.1 (port 0):

* ``seqpipe``          -- ``seqpipe serve`` with its default dynamic
                          batching (``--max-batch-size 32 --max-queue-delay-ms 2``);
* ``seqpipe no batch`` -- the same with ``--max-batch-size 1`` (batching off);
* ``bare FastAPI``     -- a minimal app defined here (``--bare``): one POST endpoint that
                          parses the same Open Inference Protocol body, calls the Keras
                          model of the saved pipeline directly, compiled as the backend
                          compiles it best (JAX: a jit-compiled ``model.stateless_call``;
                          TensorFlow: a traced ``model(x, training=False)``; PyTorch:
                          ``model(x, training=False)`` under ``torch.no_grad()``; no
                          normalization, no checks) in a worker thread and answers the
                          output tensor: plain Keras.

For 1 and for 32 concurrent clients (each client sends one window per request, one
request at a time), it measures every server in turn, interleaved over
``--rounds`` rounds: p50 and p99 latency (per request, seen by the client), throughput
(answered requests per second of wall time), and the CPU time per request of the
server and of the client (psutil). Each measure is bounded by ``--requests`` requests
and ``--seconds`` seconds. The answers are checked against the pipeline's ``predict``
in this process before timing (float32 tolerance). Every model call uses
``--model-threads`` threads of the backend's pools (``seqpipe serve``'s default, 1, in
every server).

Keras backends (``--backends``, default: every one installed of JAX, TensorFlow and
PyTorch, the default backend first): the three servers run on each backend in turn
(``KERAS_BACKEND`` set in their environment; the pipeline is trained and saved once, on
this process's backend, and loaded by each), and a last table puts each backend's
plain Keras (the bare endpoint) and seqpipe figures side by side: 1 client's p50
latency, and the throughput of 32 clients with and without batching.

The load generator (``--load``): 1 client is always httpx (asyncio), for latency; 32
clients are driven by ``wrk`` (Debian's package ``wrk``: a C load generator, 32
connections on one thread per client CPU, a Lua script posting the same bodies;
``--seconds`` per measure, ``--requests`` does not bound it) when it is installed
(``auto``, the default), else by httpx. wrk spends ~0.1 ms of CPU per request where
httpx spends 1-2 ms: on 2 CPUs, httpx's own cost bounded the throughput it measured.

It measures two layouts of the CPUs in turn (``--layout``):

* ``isolated`` -- the servers run on the first half of the CPUs, the client on the
  other half, as when the clients run on other machines: a server's throughput is then
  its own, not what the load generator leaves it;
* ``shared``   -- servers and client share every CPU.

Targets (PASS/FAIL, judged on the default backend and the first layout: isolated when
there are 2 CPUs or more; exit code 0 either way):

* 1 client: seqpipe's p50 latency <= 1.2x the bare endpoint's;
* 32 clients: seqpipe's throughput with batching >= 3x seqpipe's without batching.

Every server is stopped at the end, also on error or Ctrl-C.

Batching can only save model time: the gain depends on what one call of the model
costs next to HTTP and JSON. Measured on this project's machine (2 CPUs, busy with other
work: load average 5-7), seed 002's model (the default), 32 clients driven by wrk, over
three runs: throughput with batching / without 4.0-5.1x isolated (1186 vs 299 req/s in
the last), 3.1-4.3x shared; the server's CPU per request falls 4.1-5.8x; 1 client's
p50 latency 0.93-1.12x the bare endpoint's. wrk spends 0.03-0.05 ms of CPU per request;
with httpx driving the 32 clients (``--load httpx``: 1.0-1.9 ms of CPU per request, as
much as the batching server) the gain measured was 2.1-2.7x isolated, 1.8-2.2x shared.
With 4 CPUs or more, the isolated layout runs one client process (or wrk thread) per
client CPU.

Per backend (``--layout isolated``, one run, the machine busy: load average 3-10), plain
Keras / seqpipe 1-client p50 and 32 clients' throughput with batching (without): JAX
2.67 / 2.28 ms, 1845 (1062) req/s; TensorFlow 6.94 / 7.65 ms, 1388 (228) req/s; PyTorch
8.79 / 11.61 ms, 1023 (141) req/s. On JAX one window costs ~0.45 ms next to ~0.45 ms of
HTTP and JSON per request, which batching cannot save: its gain there (1.74x) stays
below the 3x target, set on TensorFlow, while its throughput is the highest.

Run:  python benchmarks/bench_serving.py [--requests 1500] [--seconds 6] [--rounds 3]
      [--window 30] [--units 100] [--layers 3] [--model-threads 1]
      [--layout isolated|shared|both] [--load auto|wrk|httpx] [--backends jax,tensorflow]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import queue
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import numpy as np
import psutil
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

import seqpipe  # before Keras, in every process: the backend seqpipe chooses

LATENCY_TARGET, THROUGHPUT_TARGET = 1.2, 3.0
START_TIMEOUT = 120.0  # seconds: TensorFlow's import on a loaded machine
ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- the model
def train_and_save(path: Path, window: int, units: int, layers: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Save a fitted window pipeline at ``path``: (some windows, the pipeline's
    predictions, its Keras model's outputs on the raw windows)."""
    import seqpipe
    from seqpipe.models import lstm_regressor
    from seqpipe.steps import KerasModelStep, MeanStdNormalizer, Windower

    t = np.arange(600.0)
    noise = np.random.default_rng(0).normal(scale=0.05, size=t.shape)
    series = (np.sin(0.1 * t) + noise)[:, None]
    X, y = Windower(window, 1).fit_resample(series)
    pipeline = seqpipe.Pipeline([
        MeanStdNormalizer(),
        KerasModelStep(lstm_regressor, units=units, layers_stacked_count=layers,
                       epochs=3, batch_size=32, random_state=0),
    ]).fit(X, y[:, 0])
    seqpipe.save(pipeline, path)
    probe = X[:64].astype(np.float32)
    keras_model = pipeline.steps[-1].model_
    return probe, pipeline.predict(probe), np.asarray(keras_model(probe, training=False))


# ---------------------------------------------------------------- the bare endpoint
def plain_forward(keras_model: Any) -> Any:
    """The Keras model's forward pass as a plain Keras user compiles it on the backend
    Keras runs on: numpy in, numpy out."""
    import keras

    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        traced = tf.function(lambda x: keras_model(x, training=False),
                             input_signature=[tf.TensorSpec([None, None, None], tf.float32)])
        return lambda x: np.asarray(traced(x))
    if backend == "jax":
        import jax

        compiled = jax.jit(lambda trainable, non_trainable, x: keras_model.stateless_call(
            trainable, non_trainable, x, training=False)[0])
        return lambda x: np.asarray(compiled(
            [v.value for v in keras_model.trainable_variables],
            [v.value for v in keras_model.non_trainable_variables], x))
    if backend == "torch":
        import torch

        def forward(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return keras.ops.convert_to_numpy(keras_model(x, training=False))

        return forward
    return keras_model.predict_on_batch


def bare_app(path: str):
    """A minimal FastAPI app: POST /infer calls the saved pipeline's Keras model."""
    import warnings

    from seqpipe.persistence import InconsistentBackendWarning

    with warnings.catch_warnings():  # saved on another backend: expected here
        warnings.simplefilter("ignore", InconsistentBackendWarning)
        keras_model = seqpipe.load(path).steps[-1].model_
    predict = plain_forward(keras_model)
    app = FastAPI()

    @app.post("/infer")
    async def infer(request: Request) -> JSONResponse:
        (tensor,) = json.loads(await request.body())["inputs"]
        x = np.asarray(tensor["data"], dtype=np.float32).reshape(tensor["shape"])
        y = await run_in_threadpool(predict, x)
        return JSONResponse({"outputs": [{"name": "output", "shape": list(y.shape),
                                          "datatype": "FP32",
                                          "data": y.ravel().tolist()}]})

    return app


def serve_bare(path: str, model_threads: int) -> None:
    """Run the bare app on 127.0.0.1, a free port; print its URL like seqpipe serve.
    The backend's threads are set as ``seqpipe serve --model-threads`` sets them."""
    import socket

    import uvicorn

    from seqpipe.serving.server import limit_model_threads

    limit_model_threads(model_threads)
    app = bare_app(path)
    # protocol IPPROTO_TCP: asyncio then sets TCP_NODELAY on each connection, as on
    # seqpipe's (without it, Nagle's algorithm adds ~40 ms to each answer)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(socket.SOMAXCONN)
    print(f"bare serving on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(
        sockets=[sock])


# ---------------------------------------------------------------- servers
def _first_line(stream, timeout: float) -> str | None:
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return None


@contextlib.contextmanager
def server(command: list[str], cpus: set[int] | None = None, backend: str | None = None):
    """(base URL, psutil.Process) of a server process started with ``command``, on the
    CPUs ``cpus`` (all when None) and the Keras backend ``backend`` (this process's when
    None); always stopped. Its standard error goes to a temporary file (read if it
    fails to start): a pipe nobody reads could fill and block it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "TF_CPP_MIN_LOG_LEVEL": "3"}
    if backend:
        env["KERAS_BACKEND"] = backend
    pin = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
    errors = tempfile.TemporaryFile("w+")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors,
                               text=True, env=env, preexec_fn=pin)
    try:
        line = _first_line(process.stdout, START_TIMEOUT)
        if not line or " on http://" not in line:
            if process.poll() is not None:
                errors.seek(0)
                line = errors.read()[-2000:]
            raise RuntimeError(f"{' '.join(command)} did not start: {line}")
        url = line.split()[-1]
        _wait_live(url, process)
        yield url, psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        errors.close()


def _wait_live(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.post(f"{url}/", timeout=2)  # any answer: the server is up
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} never answered")


# ---------------------------------------------------------------- clients
JSON_HEADERS = {"content-type": "application/json"}


def body_of(x: np.ndarray) -> dict:
    return {"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32",
                        "data": x.ravel().tolist()}]}


def output_of(answer: httpx.Response) -> np.ndarray:
    answer.raise_for_status()
    (output,) = answer.json()["outputs"]
    return np.reshape(output["data"], output["shape"])


def cpu_seconds(process: psutil.Process) -> float:
    """CPU time used so far by ``process`` and its threads (user + system)."""
    times = process.cpu_times()
    return times.user + times.system


async def load_test(url: str, bodies: list[bytes], clients: int, requests: int,
                    seconds: float, barrier: Any) -> tuple[list[float], float, float]:
    """(latencies in seconds, wall time, this process's CPU time) of ``clients``
    clients sharing ``requests``, after a warm-up of the same size; ``barrier.wait()``
    is called after the warm-up and after the measure (the other client processes and
    the parent, which reads the server's CPU time, meet there). Each client has its own
    connection (an httpx.AsyncClient each: one shared pool of many connections costs
    the client far more CPU per request) and sends requests built before the timing
    (JSON bodies encoded, headers merged: a fifth less of the client's CPU)."""
    latencies: list[float] = []
    sent = 0
    stop_at = 0.0

    async def client(http: httpx.AsyncClient, k: int) -> None:
        nonlocal sent
        built = [http.build_request("POST", url, content=body, headers=JSON_HEADERS)
                 for body in bodies]
        while sent < requests and time.perf_counter() < stop_at:
            request = built[(sent + k) % len(built)]
            sent += 1
            start = time.perf_counter()
            answer = await http.send(request)
            latencies.append(time.perf_counter() - start)
            answer.raise_for_status()

    async with contextlib.AsyncExitStack() as stack:
        https = [await stack.enter_async_context(httpx.AsyncClient(timeout=60))
                 for _ in range(clients)]
        wall = cpu = 0.0
        for _ in ("warm-up", "measure"):
            latencies.clear()
            sent = 0
            start, cpu_start = time.perf_counter(), time.process_time()
            stop_at = start + seconds
            await asyncio.gather(*(client(http, k) for k, http in enumerate(https)))
            wall = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            barrier.wait()
    return latencies, wall, cpu


def client_process(url: str, bodies: list[bytes], clients: int, requests: int,
                   seconds: float, barrier: Any, cpus: set[int] | None
                   ) -> tuple[list[float], float, float]:
    """:func:`load_test` in a client process of its own, on the CPUs ``cpus``."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    return asyncio.run(load_test(url, bodies, clients, requests, seconds, barrier))


def run_clients(pool: ProcessPoolExecutor, manager: Any, processes: int,
                client_cpus: set[int] | None, url: str, server_process: psutil.Process,
                bodies: list[bytes], clients: int, requests: int, seconds: float
                ) -> Measure:
    """The measure of ``clients`` httpx clients spread over ``processes`` client
    processes (one asyncio client process uses one CPU at most)."""
    processes = min(processes, clients)
    timeout = 2 * seconds + START_TIMEOUT
    barrier = manager.Barrier(processes + 1, timeout=timeout)
    futures = [pool.submit(client_process, url, bodies, len(range(k, clients, processes)),
                           len(range(k, requests, processes)), seconds, barrier,
                           client_cpus) for k in range(processes)]
    try:
        barrier.wait()  # the warm-ups are over
        server_start = cpu_seconds(server_process)
        barrier.wait()  # the measures are over
        server_cpu = cpu_seconds(server_process) - server_start
    except threading.BrokenBarrierError:
        for future in futures:
            future.result(timeout=timeout)  # a client's error, if one failed
        raise
    parts = [future.result() for future in futures]
    return httpx_measure([latency for part in parts for latency in part[0]],
                         max(part[1] for part in parts), sum(part[2] for part in parts),
                         server_cpu)


class Measure(NamedTuple):
    """One measure of one server: latency percentiles (seconds), requests answered,
    wall time, and the CPU time of the client(s) and of the server (seconds)."""

    p50: float
    p99: float
    count: int
    wall: float
    client_cpu: float
    server_cpu: float


def httpx_measure(latencies: list[float], wall: float, client_cpu: float,
                  server_cpu: float) -> Measure:
    return Measure(percentile(latencies, 50), percentile(latencies, 99), len(latencies),
                   wall, client_cpu, server_cpu)


WRK_SCRIPT = """
local bodies, n = {}, 0
function init(args)
  local file = io.open(args[1], "rb")
  for line in file:lines() do
    bodies[#bodies + 1] = wrk.format("POST", nil, {["Content-Type"] = "application/json"},
                                     line)
  end
  file:close()
end
function request()
  n = n + 1
  return bodies[n % #bodies + 1]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("SEQPIPE_WRK %d %d %d %d %d %d\\n", summary.requests,
                         summary.duration, latency:percentile(50), latency:percentile(99),
                         e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def run_wrk(url: str, folder: Path, clients: int, seconds: float,
            client_cpus: set[int] | None, server_process: psutil.Process) -> Measure:
    """A warm-up, then a measure of ``seconds``, by wrk: ``clients`` connections on one
    thread per client CPU (``folder`` holds its script and the bodies, one per line).
    The client's CPU time is wrk's own (the rusage of this process's reaped children)."""
    threads = max(1, min(len(client_cpus) if client_cpus else 1, clients))
    command = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{max(seconds, 1.0):g}s",
               "--timeout", "60s", "-s", str(folder / "post.lua"), url, "--",
               str(folder / "bodies.txt")]
    pin = (lambda: os.sched_setaffinity(0, client_cpus)) if client_cpus else None
    for step in ("warm-up", "measure"):
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_start = cpu_seconds(server_process)
        done = subprocess.run(command, capture_output=True, text=True, preexec_fn=pin,
                              timeout=seconds + START_TIMEOUT)
        server_cpu = cpu_seconds(server_process) - server_start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        lines = [line.split()[1:] for line in done.stdout.splitlines()
                 if line.startswith("SEQPIPE_WRK ")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"wrk failed ({step}): {done.stderr.strip()[:300]}")
        count, duration_us, p50_us, p99_us, bad_status, socket_errors = map(int, lines[0])
        if bad_status or socket_errors:
            raise RuntimeError(f"wrk ({step}) got {bad_status} answers other than 2xx and "
                               f"{socket_errors} socket errors from {url}")
    client_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime
                                                       + children.ru_stime)
    return Measure(p50_us / 1e6, p99_us / 1e6, count, duration_us / 1e6, client_cpu,
                   server_cpu)


def check_answers(url: str, probe: np.ndarray, expected: np.ndarray) -> None:
    with httpx.Client(timeout=60) as http:
        for i in range(0, 8):
            got = output_of(http.post(url, json=body_of(probe[i:i + 1])))
            np.testing.assert_allclose(got.ravel(), np.ravel(expected[i]), rtol=1e-4,
                                       atol=1e-5, err_msg=url)


def model_calls(url: str) -> tuple[float, float]:
    """(model calls, rows) so far from a seqpipe server's batch-size histogram; NaN for
    the bare endpoint."""
    if "/v2/models/" not in url:
        return float("nan"), float("nan")
    base, name = url.split("/v2/models/")[0], url.split("/v2/models/")[1].split("/")[0]
    found = {}
    for line in httpx.get(f"{base}/metrics", timeout=30).text.splitlines():
        for kind in ("count", "sum"):
            if line.startswith(f'seqpipe_batch_size_{kind}{{model="{name}"}}'):
                found[kind] = float(line.split()[-1])
    return found.get("count", 0.0), found.get("sum", 0.0)


# ---------------------------------------------------------------- report
def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def cpu_layouts(which: str) -> dict[str, tuple[set[int] | None, set[int] | None]]:
    """(servers' CPUs, client's CPUs) by layout name: 'isolated' gives the servers the
    first half of this process's CPUs and the client the rest (as when the clients run
    on other machines); 'shared' lets all share all."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    layouts: dict[str, tuple[set[int] | None, set[int] | None]] = {}
    if which in ("isolated", "both") and len(cpus) >= 2:
        half = len(cpus) // 2
        layouts["isolated"] = set(cpus[:half]), set(cpus[half:])
    if which in ("shared", "both") or not layouts:
        layouts["shared"] = None, None
    return layouts


def measure(commands: dict[str, list[str]], cpus: tuple[set[int] | None, set[int] | None],
            probe: np.ndarray, expected: np.ndarray, expected_bare: np.ndarray,
            args: argparse.Namespace, backend: str | None = None) -> tuple[dict, dict]:
    """Start the servers on their CPUs (and Keras backend), check their answers, then
    measure them all,
    interleaved over ``args.rounds`` rounds, from a client on its CPUs:
    (results, rows per call) by (server, clients)."""
    server_cpus, client_cpus = cpus
    results: dict[tuple[str, int], list[Measure]] = {}
    rows_per_call: dict[tuple[str, int], list[float]] = {}
    # isolated: one client process per client CPU; shared: one, as a lone load generator
    processes = len(client_cpus) if client_cpus else 1
    spawn = multiprocessing.get_context("spawn")  # clients start clean, in every layout
    with contextlib.ExitStack() as stack:
        urls, servers = {}, {}
        for name, command in commands.items():
            base, servers[name] = stack.enter_context(server(command, server_cpus, backend))
            urls[name] = f"{base}/infer" if name == "bare FastAPI" else \
                f"{base}/v2/models/sine/infer"
            check_answers(urls[name], probe,
                          expected_bare if name == "bare FastAPI" else expected)
        bodies = [json.dumps(body_of(probe[i:i + 1])).encode() for i in range(len(probe))]
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        (folder / "post.lua").write_text(WRK_SCRIPT)
        (folder / "bodies.txt").write_bytes(b"\n".join(bodies) + b"\n")
        manager = stack.enter_context(spawn.Manager())
        pool = stack.enter_context(ProcessPoolExecutor(processes, mp_context=spawn))
        for _ in range(args.rounds):
            for clients in (1, 32):
                for name, url in urls.items():
                    before = model_calls(url)
                    if clients > 1 and args.load == "wrk":
                        measured = run_wrk(url, folder, clients, args.seconds, client_cpus,
                                           servers[name])
                    else:
                        measured = run_clients(pool, manager, processes, client_cpus, url,
                                               servers[name], bodies, clients,
                                               args.requests, args.seconds)
                    results.setdefault((name, clients), []).append(measured)
                    calls, rows = np.subtract(model_calls(url), before)
                    rows_per_call.setdefault((name, clients), []).append(
                        rows / calls if calls else float("nan"))
    return results, rows_per_call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500,
                        help="requests per measure (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=6.0,
                        help="longest measure, in seconds (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds; the report takes the median")
    parser.add_argument("--window", type=int, default=30,
                        help="time steps per window (default: %(default)s)")
    parser.add_argument("--units", type=int, default=100,
                        help="units of each LSTM (default: %(default)s)")
    parser.add_argument("--layers", type=int, default=3,
                        help="stacked LSTMs (default: %(default)s)")
    parser.add_argument("--model-threads", type=int, default=1,
                        help="threads of the backend's pools per model call, in every "
                             "server (seqpipe serve's default: %(default)s)")
    parser.add_argument("--backends", metavar="NAMES", default=None,
                        help="Keras backends to serve on, in turn, e.g. jax,tensorflow "
                             "(default: those installed of jax, tensorflow and torch, the "
                             "default backend first; the targets are judged on the first)")
    parser.add_argument("--layout", choices=("isolated", "shared", "both"), default="both",
                        help="CPUs of servers and client: isolated (servers on half the "
                             "CPUs, the client on the rest), shared, or both in turn "
                             "(default: %(default)s)")
    parser.add_argument("--load", choices=("auto", "wrk", "httpx"), default="auto",
                        help="load generator of the 32 clients: wrk, httpx, or wrk when "
                             "installed (default: %(default)s); 1 client: httpx")
    parser.add_argument("--bare", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:  # the bare endpoint's own process
        serve_bare(args.bare, args.model_threads)
        return 0
    backends = args.backends.split(",") if args.backends else installed_backends()
    unknown = [name for name in backends if name not in BACKEND_MODULES]
    if unknown:
        parser.error(f"argument --backends: {', '.join(unknown)} is not one of "
                     f"{', '.join(BACKEND_MODULES)}")
    if args.load == "auto":
        args.load = "wrk" if shutil.which("wrk") else "httpx"
    elif args.load == "wrk" and not shutil.which("wrk"):
        parser.error("argument --load: wrk is not installed (Debian: apt-get install wrk)")
    print(f"32 clients driven by {args.load}"
          + ("" if args.load == "wrk" else " (apt-get install wrk for a cheaper load "
                                           "generator)"), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sine.seqpipe"
        print(f"training {args.layers} stacked LSTM(s) of {args.units} units on windows of "
              f"{args.window} time steps of a noisy sine ...", flush=True)
        # in a process of its own: this one starts the servers and clients (fork, then
        # exec) and is better without the backend's threads
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=spawn) as trainer:
            probe, expected, expected_bare = trainer.submit(
                train_and_save, path, args.window, args.units, args.layers).result()
        threads = ["--model-threads", str(args.model_threads)]
        seqpipe_cmd = [sys.executable, "-m", "seqpipe", "serve", f"sine={path}", "--port",
                       "0", *threads]
        commands = {
            "seqpipe": seqpipe_cmd,
            "seqpipe no batch": [*seqpipe_cmd, "--max-batch-size", "1"],
            "bare FastAPI": [sys.executable, __file__, "--bare", str(path), *threads],
        }
        layouts = cpu_layouts(args.layout)
        judged_rows = {}
        for b, backend in enumerate(backends):
            for k, (layout, cpus) in enumerate(layouts.items()):
                results, rows_per_call = measure(commands, cpus, probe, expected,
                                                 expected_bare, args, backend)
                rows = report(f"{backend}, {layout}", cpus, results, rows_per_call,
                              args.rounds, judged=b == 0 and k == 0)
                if k == 0:
                    judged_rows[backend] = rows
        side_by_side(judged_rows, next(iter(layouts)))
    return 0


BACKEND_MODULES = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}


def installed_backends() -> list[str]:
    """Keras' backends installed here of JAX, TensorFlow and PyTorch, the one this
    process runs on (seqpipe's choice) first."""
    import importlib.util

    import keras

    running = keras.config.backend()
    others = [name for name, module in BACKEND_MODULES.items()
              if name != running and importlib.util.find_spec(module) is not None]
    return [running, *others]


def side_by_side(rows_by_backend: dict[str, dict], layout: str) -> None:
    """Each backend's plain Keras (the bare endpoint) and seqpipe figures, one line per
    backend: 1 client's p50 latency; 32 clients' throughput, with and without batching."""
    print(f"\n== backends side by side ({layout}): plain Keras = the bare FastAPI endpoint")
    print(f"{'backend':<12}{'1 client p50 ms: plain':>24}{'seqpipe':>9}{'ratio':>7}"
          f"{'32 clients req/s: plain':>26}{'seqpipe':>9}{'no batch':>10}"
          f"{'batching/no batch':>19}")
    for backend, rows in rows_by_backend.items():
        bare1, ours1 = rows["bare FastAPI", 1][0], rows["seqpipe", 1][0]
        bare32, ours32 = rows["bare FastAPI", 32][2], rows["seqpipe", 32][2]
        unbatched32 = rows["seqpipe no batch", 32][2]
        print(f"{backend:<12}{bare1:>24.2f}{ours1:>9.2f}{ours1 / bare1:>7.2f}"
              f"{bare32:>26.1f}{ours32:>9.1f}{unbatched32:>10.1f}"
              f"{ours32 / unbatched32:>19.2f}")


def report(layout: str, cpus: tuple[set[int] | None, set[int] | None], results: dict,
           rows_per_call: dict, rounds: int, judged: bool) -> dict:
    """Print one layout's table and return its rows; the targets are judged on the
    first backend's first layout measured (isolated when the machine has 2 CPUs or
    more)."""
    server_cpus, client_cpus = cpus
    where = (f"servers on CPU(s) {sorted(server_cpus)}, client on {sorted(client_cpus)}"
             if server_cpus else f"servers and client sharing all {os.cpu_count()} CPUs")
    print(f"\n== {layout}: {where} (medians over {rounds} interleaved rounds)")
    rows = {}
    print(f"{'server':<18}{'clients':>8}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}"
          f"{'requests':>10}{'rows/call':>11}{'CPU ms/req: server':>20}{'client':>8}")
    for (name, clients), measures in results.items():
        p50 = statistics.median(m.p50 for m in measures) * 1e3
        p99 = statistics.median(m.p99 for m in measures) * 1e3
        rate = statistics.median(m.count / m.wall for m in measures)
        client_cpu = statistics.median(m.client_cpu / max(m.count, 1) for m in measures) * 1e3
        server_cpu = statistics.median(m.server_cpu / max(m.count, 1) for m in measures) * 1e3
        rows[name, clients] = (p50, p99, rate, server_cpu, client_cpu)
        count = sum(m.count for m in measures)
        per_call = statistics.median(rows_per_call[name, clients])
        per_call_text = "-" if per_call != per_call else f"{per_call:.1f}"
        print(f"{name:<18}{clients:>8}{p50:>9.2f}{p99:>9.2f}{rate:>9.1f}{count:>10}"
              f"{per_call_text:>11}{server_cpu:>20.2f}{client_cpu:>8.2f}")
    latency_ratio = rows["seqpipe", 1][0] / rows["bare FastAPI", 1][0]
    batched, unbatched = rows["seqpipe", 32], rows["seqpipe no batch", 32]
    speedup = batched[2] / unbatched[2]
    verdict = (lambda ok: "PASS" if ok else "FAIL") if judged else (lambda ok: "(not judged)")
    print(f"1 client, p50 latency seqpipe / bare FastAPI: {latency_ratio:.2f}x "
          f"(target <= {LATENCY_TARGET}x) {verdict(latency_ratio <= LATENCY_TARGET)}")
    print(f"32 clients, throughput seqpipe batching / no batching: {speedup:.2f}x "
          f"(target >= {THROUGHPUT_TARGET}x) {verdict(speedup >= THROUGHPUT_TARGET)}")
    print(f"32 clients, throughput seqpipe batching / bare FastAPI: "
          f"{batched[2] / rows['bare FastAPI', 32][2]:.2f}x; server CPU per request, no "
          f"batching / batching: {unbatched[3] / batched[3]:.2f}x")
    if not server_cpus:
        print(f"(the client's CPU per request counts here: (server + client) CPU bounds "
              f"batching / no batching at {sum(unbatched[3:]) / sum(batched[3:]):.2f}x)")
    return rows


if __name__ == "__main__":
    sys.exit(main())
