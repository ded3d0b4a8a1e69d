"""The memory one request takes in a real server is bounded: a long series posted to a
model taking a series is predicted in slices of ``--max-call-windows`` windows, not
all its windows at once (a 0.2 MB request used to make the model allocate 0.6 GB)."""

import sys

import httpx
import numpy as np
import pytest
from served_models import Activations
from test_server import running_server

from seqpipe import Pipeline, save
from seqpipe.steps import MeanStdNormalizer, Windower

PAST = 30
CLEAR_REFS = "/proc/self/clear_refs"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads the server's peak memory in /proc")


def memory_kib(pid):
    """(current, peak) resident memory of process ``pid``, in KiB."""
    fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def reset_peak(pid):
    """Start counting the peak resident memory (VmHWM) of ``pid`` from now on."""
    with open(f"/proc/{pid}/clear_refs", "w") as handle:
        handle.write("5")


def body_of(series):
    return {"inputs": [{"name": "input", "shape": list(series.shape), "datatype": "FP64",
                        "data": series.ravel().tolist()}]}


def test_a_long_series_takes_bounded_memory_in_a_real_server(tmp_path):
    series = np.sin(np.arange(10_000.0) / 7.0)[:, None]  # 9,971 windows of 30 steps
    pipeline = Pipeline([MeanStdNormalizer(), Windower(PAST, 1), Activations(units=128)])
    path = tmp_path / "series.seqpipe"
    save(pipeline.fit(series[:200]), path)
    # all windows in one call: 9,971 x 30 x 128 float64 = 306 MB of activations, twice
    whole = 2 * len(series) * PAST * 128 * 8 / 2 ** 20
    with running_server(path) as (process, url), httpx.Client(base_url=url,
                                                              timeout=60) as client:
        warm_up = client.post("/v2/models/series/infer", json=body_of(series[:500]))
        assert warm_up.status_code == 200, warm_up.text
        before, _ = memory_kib(process.pid)
        reset_peak(process.pid)
        answer = client.post("/v2/models/series/infer", json=body_of(series))
        assert answer.status_code == 200, answer.text
        _, peak = memory_kib(process.pid)
    assert answer.json()["outputs"][0]["shape"] == [len(series) - PAST + 1]
    np.testing.assert_allclose(answer.json()["outputs"][0]["data"],
                               pipeline.predict(series), rtol=1e-12)
    grown = (peak - before) / 1024
    # slices of 256 windows: 2 x 7.5 MB of activations, plus the request and answer
    assert grown < 60, f"the request took {grown:.0f} MiB (all at once: ~{whole:.0f} MiB)"
