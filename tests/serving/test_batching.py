"""Dynamic batching: concurrent requests stacked into one model call, answers equal to
the unbatched ones, shapes and datatypes never mixed, failures kept to their request;
settings checked; against a real server, 100 parallel requests."""

import asyncio
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sklearn.base import BaseEstimator, RegressorMixin
from test_server import START_TIMEOUT, environment, running_server

from seqpipe import Pipeline, StreamingPredictor, save
from seqpipe.cli.serve import main
from seqpipe.serving import Settings, create_app
from seqpipe.serving.batching import Batcher
from seqpipe.steps import MeanStdNormalizer, Windower

PAST = 5


def body_of(array, datatype="FP64"):
    array = np.asarray(array)
    return {"inputs": [{"name": "input", "shape": list(array.shape), "datatype": datatype,
                        "data": array.ravel().tolist()}]}


def output_of(response):
    assert response.status_code == 200, response.text
    (output,) = response.json()["outputs"]
    return np.reshape(output["data"], output["shape"])


class RecordingSum(RegressorMixin, BaseEstimator):
    """Each row's sum; records the shape and dtype of every call; with
    ``refuse_negative``, refuses a negative value (ValueError: the server answers 400)."""

    def __init__(self, refuse_negative=True):
        self.refuse_negative = refuse_negative

    def fit(self, X, y=None):
        self.calls_ = []
        self.lock_ = threading.Lock()
        return self

    def predict(self, X):
        X = np.asarray(X)
        with self.lock_:
            self.calls_.append((X.shape, X.dtype))
        if self.refuse_negative and (X < 0).any():
            raise ValueError("negative values are not allowed")
        return X.reshape(len(X), -1).sum(axis=1)


async def post_all(app, bodies):
    """Post every body at once to the app's infer endpoint of model 'm' (answered within
    10 s: a batcher that holds requests fails the test rather than hanging it)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await asyncio.wait_for(asyncio.gather(
            *(client.post("/v2/models/m/infer", json=body) for body in bodies)), timeout=10)


def batch_sizes(text, model):
    """(count, sum, count of calls of one row) of the batch-size histogram."""
    found = {(s.name, tuple(sorted(s.labels.items()))): s.value
             for family in text_string_to_metric_families(text) for s in family.samples}
    count = found[("seqpipe_batch_size_count", (("model", model),))]
    total = found[("seqpipe_batch_size_sum", (("model", model),))]
    ones = found[("seqpipe_batch_size_bucket", (("le", "1.0"), ("model", model)))]
    return count, total, ones


# ---------------------------------------------------------------- in process
def test_concurrent_requests_share_calls_and_answer_as_unbatched(window_pipeline, windows):
    app = create_app({"m": window_pipeline},
                     settings=Settings(max_batch_size=8, max_queue_delay_ms=200))
    sizes = [1, 2, 1, 3, 1, 1, 2, 1, 1, 1]
    starts = np.cumsum([0, *sizes[:-1]])
    parts = [windows[s:s + n] for s, n in zip(starts, sizes)]
    answers = asyncio.run(post_all(app, [body_of(X) for X in parts]))
    for X, answer in zip(parts, answers):
        np.testing.assert_allclose(output_of(answer), window_pipeline.predict(X),
                                   rtol=1e-12)
    text = asyncio.run(_metrics_text(app))
    count, total, _ = batch_sizes(text, "m")
    assert total == sum(sizes) and count < len(sizes)  # some calls held several requests


async def _metrics_text(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return (await client.get("/metrics")).text


def test_batches_respect_max_batch_size_and_run_a_larger_request_alone():
    model = RecordingSum().fit(None)
    app = create_app({"m": model}, settings=Settings(max_batch_size=4,
                                                     max_queue_delay_ms=200))
    parts = [np.full((n, 3), float(i)) for i, n in enumerate([1, 2, 1, 6, 2, 1, 1])]
    answers = asyncio.run(post_all(app, [body_of(X) for X in parts]))
    for X, answer in zip(parts, answers):
        np.testing.assert_array_equal(output_of(answer), X.sum(axis=1))
    rows = [shape[0] for shape, _ in model.calls_]
    assert sum(rows) == 14 and 6 in rows
    assert all(n <= 4 for n in rows if n != 6)
    assert len(rows) < len(parts)


def test_requests_of_other_shapes_or_datatypes_are_never_stacked_together():
    model = RecordingSum().fit(None)
    app = create_app({"m": model}, settings=Settings(max_batch_size=64,
                                                     max_queue_delay_ms=200))
    parts = [(np.ones((1, 4, 2)), "FP64"), (np.ones((2, 3, 2)), "FP64"),
             (np.ones((1, 4, 2)), "FP32"), (np.ones((3, 4, 2)), "FP64"),
             (np.ones((1, 3, 2)), "FP64"), (np.ones((2, 4, 2)), "FP32")]
    answers = asyncio.run(post_all(app, [body_of(X, t) for X, t in parts]))
    for (X, _), answer in zip(parts, answers):
        np.testing.assert_array_equal(output_of(answer), X.reshape(len(X), -1).sum(axis=1))
    calls = {(shape[1:], dtype.name): shape[0] for shape, dtype in model.calls_}
    assert len(model.calls_) == 3  # one call per (window shape, datatype)
    assert calls == {((4, 2), "float64"): 4, ((3, 2), "float64"): 3,
                     ((4, 2), "float32"): 3}


def test_a_failing_request_does_not_fail_the_requests_batched_with_it():
    model = RecordingSum().fit(None)
    app = create_app({"m": model}, settings=Settings(max_queue_delay_ms=200))
    parts = [np.ones((1, 2)), -np.ones((1, 2)), 2 * np.ones((2, 2))]
    good, bad, other = asyncio.run(post_all(app, [body_of(X) for X in parts]))
    assert output_of(good).tolist() == [2.0]
    assert output_of(other).tolist() == [4.0, 4.0]
    assert bad.status_code == 400
    assert "model 'm' cannot predict from this input: negative values are not allowed" \
        in bad.json()["error"]
    assert [shape[0] for shape, _ in model.calls_] == [4, 1, 1, 2]  # batch, then alone


def test_batching_off_and_series_models_call_the_model_once_per_request(series):
    model = RecordingSum().fit(None)
    app = create_app({"m": model}, settings=Settings(max_batch_size=1))
    assert app.state.batchers == {"m": None}
    parts = [np.ones((n, 2)) for n in (1, 2, 3)]
    answers = asyncio.run(post_all(app, [body_of(X) for X in parts]))
    assert [len(output_of(a)) for a in answers] == [1, 2, 3]
    assert sorted(shape[0] for shape, _ in model.calls_) == [1, 2, 3]
    # a pipeline taking a series: its rows are time steps, never stacked
    pipeline = Pipeline([MeanStdNormalizer(), Windower(PAST, 1),
                         RecordingSum(refuse_negative=False)]).fit(series)
    app = create_app({"m": pipeline})
    assert app.state.batchers == {"m": None}
    answers = asyncio.run(post_all(app, [body_of(series[:8]), body_of(series[8:14])]))
    for X, answer in zip([series[:8], series[8:14]], answers):
        np.testing.assert_allclose(output_of(answer), pipeline.predict(X), rtol=1e-12)


def test_a_lone_request_is_not_held_for_the_queue_delay():
    calls = []
    batcher = Batcher(lambda X: X[:, 0], max_batch_size=32,
                      max_queue_delay_ms=10_000, on_call=calls.append)

    async def one():
        return await asyncio.wait_for(batcher.predict(np.ones((2, 1))), timeout=5)

    assert asyncio.run(one()).tolist() == [1.0, 1.0]
    assert calls == [2]


def test_close_ends_the_model_thread_and_a_new_event_loop_starts_a_new_one():
    threads = []

    def first_column(X):
        threads.append(threading.current_thread())
        return X[:, 0]

    batcher = Batcher(first_column, max_batch_size=4, max_queue_delay_ms=0)

    async def one():
        return await asyncio.wait_for(batcher.predict(np.full((1, 1), 3.0)), timeout=5)

    assert asyncio.run(one()).tolist() == [3.0]
    batcher.close()
    threads[0].join(timeout=5)
    assert not threads[0].is_alive()
    assert asyncio.run(one()).tolist() == [3.0]  # as after a server's restart
    assert threads[1] is not threads[0] and threads[1].is_alive()
    batcher.close()


def test_batching_settings_are_checked():
    for value in (0, -1, 1.5, True, "8"):
        with pytest.raises(ValueError, match=r"The 'max_batch_size' setting must be an "
                                             r"int in the range \[1, inf\)"):
            Settings(max_batch_size=value)
    for value in (-0.5, float("nan"), float("inf"), 10_001, None):
        with pytest.raises(ValueError, match=r"The 'max_queue_delay_ms' setting must be a "
                                             r"number in the range \[0, 10000\]"):
            Settings(max_queue_delay_ms=value)
    assert Settings(max_batch_size=1, max_queue_delay_ms=0).max_batch_size == 1
    assert (Settings().max_batch_size, Settings().max_queue_delay_ms) == (32, 2.0)


@pytest.mark.parametrize("flag, value, message", [
    ("--max-batch-size", "0", "argument --max-batch-size: must be an int in the range "
                              "[1, inf). Got 0 instead."),
    ("--max-queue-delay-ms", "-1", "argument --max-queue-delay-ms: must be a number in "
                                   "the range [0, 10000]. Got -1.0 instead."),
    ("--max-batch-size", "many", "argument --max-batch-size: invalid int value: 'many'"),
    ("--model-threads", "-1", "argument --model-threads: must be an int in the range "
                              "[0, inf). Got -1 instead."),
])
def test_bad_batching_flags_exit_2_naming_the_flag(tmp_path, capsys, flag, value, message):
    with pytest.raises(SystemExit) as stopped:
        main([str(tmp_path / "m.seqpipe"), flag, value], prog="seqpipe serve")
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines()[-1] == f"seqpipe serve: error: {message}"


def test_the_seqpipe_command_refuses_a_bad_batching_flag_with_status_2(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "seqpipe", "serve", str(tmp_path / "m.seqpipe"),
         "--max-queue-delay-ms", "nan"],
        capture_output=True, text=True, timeout=START_TIMEOUT, env=environment())
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        "seqpipe serve: error: argument --max-queue-delay-ms: must be a number in the "
        "range [0, 10000]. Got nan instead.")


# ---------------------------------------------------------------- a real server
def test_100_parallel_requests_to_a_real_server_are_batched_and_exact(
        window_pipeline, windows, tmp_path):
    path = tmp_path / "model.seqpipe"
    save(StreamingPredictor(window_pipeline, window_size_past=PAST), path)
    X = np.concatenate([windows, windows[::-1] + 0.5])[:100].astype(np.float32)
    expected = window_pipeline.predict(X)

    async def all_at_once(url):
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
            answers = await asyncio.gather(*(
                client.post("/v2/models/model/infer", json=body_of(X[i:i + 1], "FP32"))
                for i in range(100)))
            return answers, (await client.get("/metrics")).text

    with running_server(path, "--max-batch-size", "16", "--max-queue-delay-ms", "20") \
            as (_, url):
        answers, metrics = asyncio.run(all_at_once(url))
    for i, answer in enumerate(answers):
        np.testing.assert_allclose(output_of(answer), expected[i:i + 1], rtol=1e-5,
                                   atol=1e-6)
    count, total, ones = batch_sizes(metrics, "model")
    assert total == 100  # every request in exactly one model call
    assert count < 100 and ones < count  # some calls held more than one request


# ---------------------------------------------------------------- the Batcher's rules
def test_a_full_batch_runs_at_once_even_while_another_request_is_on_its_way():
    sizes = []
    batcher = Batcher(lambda X: X[:, 0], max_batch_size=4, max_queue_delay_ms=10_000,
                      on_call=sizes.append)

    async def four_rows():
        with batcher.receiving():  # never arrives: only a full batch ends the wait
            return await asyncio.wait_for(asyncio.gather(
                *(batcher.predict(np.full((1, 1), float(i))) for i in range(4))), timeout=5)

    assert [y.tolist() for y in asyncio.run(four_rows())] == [[0.0], [1.0], [2.0], [3.0]]
    assert sizes == [4]  # exactly max_batch_size rows in one call
    batcher.close()


def test_a_request_waits_for_one_on_its_way_the_queue_delay_and_no_less():
    called = []
    batcher = Batcher(lambda X: called.append(time.monotonic()) or X[:, 0],
                      max_batch_size=8, max_queue_delay_ms=2_000)

    async def two_shapes():
        with batcher.receiving():  # announced, never sent
            start = time.monotonic()
            first = asyncio.ensure_future(batcher.predict(np.ones((1, 1))))
            await asyncio.sleep(1.5)  # then one that cannot be stacked with it: wait on
            second = asyncio.ensure_future(batcher.predict(np.full((1, 2), 2.0)))
            answers = await asyncio.wait_for(asyncio.gather(first, second), timeout=10)
            return answers, start

    (first, second), start = asyncio.run(two_shapes())
    assert first.tolist() == [1.0] and second.tolist() == [2.0]
    assert 2.0 <= called[0] - start < 3.0  # 2 s after the first, 3.5 s after the second
    assert 3.5 <= called[1] - start < 5.0
    batcher.close()


def test_a_batch_answered_with_other_rows_is_run_again_request_by_request():
    calls = []

    def one_row_only(X):  # a model answering one row, whatever it is given
        calls.append(len(X))
        return X[:1, 0] if len(X) > 2 else (X[0, 0] if len(X) == 2 else X[:, 0])

    batcher = Batcher(one_row_only, max_batch_size=8, max_queue_delay_ms=0)

    async def requests():
        return await asyncio.wait_for(asyncio.gather(
            batcher.predict(np.full((1, 1), 1.0)), batcher.predict(np.full((1, 1), 2.0)),
            batcher.predict(np.full((1, 1), 3.0))), timeout=5)

    assert [y.tolist() for y in asyncio.run(requests())] == [[1.0], [2.0], [3.0]]
    assert calls == [3, 1, 1, 1]
    calls.clear()  # a scalar for a batch of two cannot be split either

    async def two():
        return await asyncio.wait_for(asyncio.gather(
            batcher.predict(np.full((1, 1), 4.0)), batcher.predict(np.full((1, 1), 5.0))),
            timeout=5)

    assert [y.tolist() for y in asyncio.run(two())] == [[4.0], [5.0]]
    assert calls == [2, 1, 1]
    batcher.close()


def test_a_request_whose_client_went_away_is_skipped_not_the_ones_after_it():
    sizes = []
    batcher = Batcher(lambda X: X[:, 0], max_batch_size=8, max_queue_delay_ms=0,
                      on_call=sizes.append)

    async def one_leaves():
        first = asyncio.ensure_future(batcher.predict(np.full((1, 1), 1.0)))
        others = [asyncio.ensure_future(batcher.predict(np.full((n, 1), 2.0)))
                  for n in (2, 3)]
        await asyncio.sleep(0)  # all three queued, none taken yet
        first.cancel()
        return await asyncio.wait_for(asyncio.gather(*others), timeout=5)

    assert [y.tolist() for y in asyncio.run(one_leaves())] == [[2.0] * 2, [2.0] * 3]
    assert sizes == [5]
    batcher.close()


def test_close_cancels_the_requests_waiting_and_returns_during_a_call():
    release, started, calls = threading.Event(), threading.Event(), []

    def slow(X):
        calls.append(len(X))
        started.set()
        release.wait(10)
        return X[:, 0]

    batcher = Batcher(slow, max_batch_size=8, max_queue_delay_ms=0)
    assert batcher.close() is None  # never used: nothing to stop

    async def closed_mid_call():
        running = asyncio.ensure_future(batcher.predict(np.ones((1, 1))))
        while not started.is_set():
            await asyncio.sleep(0.01)
        waiting = asyncio.ensure_future(batcher.predict(np.ones((1, 2))))  # not stackable
        await asyncio.sleep(0.05)
        threading.Timer(1.5, release.set).start()  # the call ends 1.5 s from now
        begin = time.monotonic()
        batcher.close()
        returned_after = time.monotonic() - begin
        outcomes = await asyncio.wait_for(
            asyncio.gather(running, waiting, return_exceptions=True), timeout=5)
        return returned_after, outcomes

    returned_after, outcomes = asyncio.run(closed_mid_call())
    assert returned_after < 1.0  # does not wait for the model's call to end
    batcher.close()  # twice: nothing more to stop
    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    release.wait(10)
    time.sleep(0.2)
    assert calls == [1]  # the waiting request never reached the model


def test_every_call_runs_in_the_batchers_one_named_thread():
    threads = []

    def record(X):
        threads.append(threading.current_thread())
        return X[:, 0]

    batcher = Batcher(record, max_batch_size=2, max_queue_delay_ms=0)

    async def many():
        for _ in range(30):
            await asyncio.wait_for(asyncio.gather(*(batcher.predict(np.ones((n, 1)))
                                                    for n in (1, 2, 1))), timeout=5)

    asyncio.run(many())
    assert len(set(threads)) == 1 and threads[0].name.startswith("seqpipe-batcher")
    batcher.close()
