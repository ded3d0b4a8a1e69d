"""Fault injection: killed saves, a full disk, flipped bits, determinism across processes."""

import errno
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import seqpipe
from seqpipe import _atomic_write
from seqpipe.persistence import MAGIC, ArtifactError

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv("SEQPIPE_KEY", raising=False)


def _tmp_files(directory, name):
    return sorted(f for f in os.listdir(directory)
                  if re.fullmatch(rf"\.{re.escape(name)}\..+\.tmp", f))


# --- SIGKILL in the middle of a save ---------------------------------------------------------

# The child saves B over A and SIGKILLs itself at a chosen point of _write_atomically.
_KILLED_SAVE = textwrap.dedent("""
    import os, signal, sys, tempfile
    import numpy as np
    from seqpipe import _atomic_write, persistence

    point, path = sys.argv[1], sys.argv[2]

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    real_tmp = tempfile.NamedTemporaryFile

    def killing_tmp(*args, **kwargs):
        tmp = real_tmp(*args, **kwargs)
        real_write = tmp.write
        calls = []

        def write(data):
            calls.append(len(data))
            if point == "before-write":
                die()
            if point == "mid-write" and len(calls) == 2:  # the header is written, flushed
                tmp.flush()
                os.fsync(tmp.fileno())
                die()
            if point == "mid-payload" and len(calls) == 2:  # half of the payload is on disk
                real_write(data[:len(data) // 2])
                tmp.flush()
                os.fsync(tmp.fileno())
                die()
            return real_write(data)

        tmp.write = write
        return tmp

    _atomic_write.tempfile.NamedTemporaryFile = killing_tmp
    if point == "before-fsync":
        persistence.os.fsync = die
    if point == "before-replace":
        persistence.os.replace = die
    persistence.save({"name": "B", "data": np.ones(5 * 2**20 // 8)}, path)
    print("not killed")
""")


@pytest.mark.parametrize("point", ["before-write", "mid-write", "mid-payload", "before-fsync",
                                   "before-replace"])
def test_sigkill_mid_save_keeps_previous_artifact(tmp_path, point):
    path = tmp_path / "model.seqpipe"
    data = np.random.default_rng(0).normal(size=5 * 2**20 // 8)  # 5 MB
    seqpipe.save({"name": "A", "data": data}, path)
    before = path.read_bytes()

    proc = subprocess.run([sys.executable, "-c", _KILLED_SAVE, point, str(path)], env=ENV,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr)

    assert path.read_bytes() == before
    back = seqpipe.load(path)
    assert back["name"] == "A"
    np.testing.assert_array_equal(back["data"], data)

    # SIGKILL leaves the temporary file behind (nothing can clean it up); it is hidden,
    # named after the target, and neither load nor the next save is disturbed by it.
    stray = _tmp_files(tmp_path, path.name)
    assert len(stray) == 1, os.listdir(tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted([path.name, *stray])
    size = (tmp_path / stray[0]).stat().st_size
    if point == "before-write":
        assert size == 0
    elif point in ("before-fsync", "before-replace"):  # all of B was written (and flushed)
        assert seqpipe.load(tmp_path / stray[0])["name"] == "B"
    else:
        assert 0 < size < len(before)
        with pytest.raises(ArtifactError):
            seqpipe.load(tmp_path / stray[0])

    seqpipe.save({"name": "C"}, path)
    assert seqpipe.load(path) == {"name": "C"}
    assert _tmp_files(tmp_path, path.name) == []  # the next save removes a dead writer's file


# --- a full disk (/dev/full) -----------------------------------------------------------------

class _DevFullTempFile:
    """Stands for the NamedTemporaryFile of _write_atomically: the temp file is really
    created next to the target (so its name exists and can be removed), but the bytes go to
    /dev/full, where the kernel fails every write with ENOSPC."""

    def __init__(self, real):
        self.name = real.name
        real.close()  # delete=False: the empty temp file stays, as a real one would
        self._file = open("/dev/full", "wb")  # closed by __exit__

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.__exit__(*exc)

    def write(self, data):
        return self._file.write(data)

    def flush(self):
        self._file.flush()

    def fileno(self):
        return self._file.fileno()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_full_disk_fails_cleanly(tmp_path, monkeypatch):
    target = tmp_path / "m.seqpipe"
    seqpipe.save({"v": "old", "a": np.arange(10.0)}, target)
    real = tempfile.NamedTemporaryFile
    created = []

    def dev_full_tmp(*args, **kwargs):
        tmp = _DevFullTempFile(real(*args, **kwargs))
        created.append(tmp.name)
        return tmp

    monkeypatch.setattr(_atomic_write.tempfile, "NamedTemporaryFile", dev_full_tmp)
    with pytest.raises(OSError) as info:
        seqpipe.save({"v": "new", "a": np.zeros(100_000)}, target)  # > any write buffer
    monkeypatch.undo()

    assert info.value.errno == errno.ENOSPC
    assert str(target) in str(info.value)
    assert "No space left on device" in str(info.value)
    assert len(created) == 1 and created[0].startswith(str(tmp_path))
    assert os.listdir(tmp_path) == ["m.seqpipe"]  # the temp file was removed
    back = seqpipe.load(target)
    assert back["v"] == "old"
    np.testing.assert_array_equal(back["a"], np.arange(10.0))


# --- one flipped bit anywhere ----------------------------------------------------------------

def _offsets(raw, payload_start):
    if len(raw) <= 4096:
        return list(range(len(raw)))
    payload = np.linspace(payload_start, len(raw) - 1, 300).astype(int).tolist()
    return sorted(set(range(payload_start)) | set(payload) | {len(raw) - 1})


def test_every_flipped_bit_is_detected(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    model = make_pipeline(StandardScaler(), Ridge()).fit(X, X @ [1.0, 2.0, 3.0])
    path = tmp_path / "m.seqpipe"
    seqpipe.save(model, path)
    raw = path.read_bytes()
    payload_start = raw.index(b"\n", len(MAGIC)) + 1

    undetected = []
    flipped = tmp_path / "flipped.seqpipe"
    for offset in _offsets(raw, payload_start):
        corrupt = bytearray(raw)
        corrupt[offset] ^= 0x01
        flipped.write_bytes(bytes(corrupt))
        try:
            seqpipe.load(flipped)
        except ArtifactError:
            continue
        undetected.append(offset)

    assert undetected == []  # payload, magic and every header field are checksummed
    assert len(raw) <= 4096  # every offset of this small artifact was tried


# --- determinism in fresh processes ----------------------------------------------------------

_FIT_AND_PREDICT = textwrap.dedent("""
    import sys
    import numpy as np
    from seqpipe import Pipeline
    from seqpipe.datasets import load_exercise
    from seqpipe.models import seq2seq_gru
    from seqpipe.pipelines import seed003_training
    from seqpipe.steps import KerasModelStep, MeanStdNormalizer, ToNumpy

    kind, out = sys.argv[1], sys.argv[2]
    X, y = load_exercise(1, n_samples=200, random_state=0)
    keras_step = KerasModelStep(seq2seq_gru, hidden_dim=4, layers_stacked_count=1,
                                learning_rate=1e-2, random_state=0)
    if kind == "seed003":
        model = seed003_training(Pipeline([MeanStdNormalizer(), ToNumpy(), keras_step]),
                                 epochs=2, batch_size=50)
    else:
        model = keras_step.set_params(epochs=2, batch_size=50)
    np.save(out, model.fit(X, y).predict(X))
""")


@pytest.mark.parametrize("kind", ["seed003", "keras_step"])
def test_training_is_deterministic_across_processes(tmp_path, kind):
    outs = [tmp_path / f"run{i}.npy" for i in range(2)]
    procs = [subprocess.Popen([sys.executable, "-c", _FIT_AND_PREDICT, kind, str(out)],
                              env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for out in outs]
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr[-3000:]
    first, second = (np.load(out) for out in outs)
    assert first.shape == (200, 10, 2)
    assert np.isfinite(first).all()
    assert np.array_equal(first, second)
