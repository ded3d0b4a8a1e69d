"""Tests for seqpipe.persistence: round trips, corruption, signing, atomic writes."""

import errno
import hashlib
import io
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import textwrap
import types
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from seqpipe import persistence
from seqpipe.persistence import FORMAT_VERSION, MAGIC, ArtifactError, load, read_header, save

REPO = Path(__file__).resolve().parents[1]
UNPICKLED = []  # filled by _record() when a _Booby object is unpickled


def _record(tag):
    UNPICKLED.append(tag)
    return tag


class _Booby:
    """Unpickling this calls _record(): it shows whether load() unpickled anything."""

    def __reduce__(self):
        return (_record, ("unpickled!",))


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv("SEQPIPE_KEY", raising=False)
    UNPICKLED.clear()


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + rng.normal(scale=0.1, size=60)
    return X, y


def _split(raw):
    """Split an artifact's bytes into (header dict, payload bytes)."""
    end = raw.index(b"\n", len(MAGIC))
    return json.loads(raw[len(MAGIC):end]), raw[end + 1:]


def _build(header, payload):
    """An artifact from a header and a payload, its header checksum recomputed (anyone can)."""
    header = {k: v for k, v in header.items() if k != "header_sha256"}
    header["header_sha256"] = hashlib.sha256(
        json.dumps(header, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return MAGIC + json.dumps(header).encode() + b"\n" + payload


def _pickled(obj):
    buf = io.BytesIO()
    joblib.dump(obj, buf)
    return buf.getvalue()


def _forge(path, obj, signature="keep"):
    """Replace the payload of the artifact at ``path`` by ``obj``, recomputing the size and
    SHA-256 as an attacker would; keep, drop (None) or replace the signature."""
    header, _ = _split(path.read_bytes())
    payload = _pickled(obj)
    header["payload_size"] = len(payload)
    header["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    if signature != "keep":
        header["signature"] = signature
    path.write_bytes(_build(header, payload))


# --- round trips ---------------------------------------------------------------------------

def test_round_trip_dict_of_arrays(tmp_path):
    obj = {"a": np.arange(10.0), "b": np.eye(3, dtype=np.float32), "name": "x", "n": [1, 2]}
    out = save(obj, str(tmp_path / "d.seqpipe"))
    assert out == (tmp_path / "d.seqpipe").resolve()
    back = load(tmp_path / "d.seqpipe")
    assert back.keys() == obj.keys()
    np.testing.assert_array_equal(back["a"], obj["a"])
    np.testing.assert_array_equal(back["b"], obj["b"])
    assert back["b"].dtype == np.float32
    assert (back["name"], back["n"]) == ("x", [1, 2])


@pytest.mark.parametrize("make", [lambda: Ridge(alpha=0.3),
                                  lambda: make_pipeline(StandardScaler(), Ridge())],
                         ids=["ridge", "pipeline"])
def test_round_trip_fitted_estimator(tmp_path, data, make):
    X, y = data
    est = make().fit(X, y)
    save(est, tmp_path / "m.seqpipe")
    back = load(tmp_path / "m.seqpipe")
    assert type(back) is type(est)
    np.testing.assert_array_equal(back.predict(X), est.predict(X))


def test_plain_joblib_round_trip_still_works(tmp_path, data):
    X, y = data
    est = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    joblib.dump(est, tmp_path / "plain.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "plain.joblib").predict(X),
                                  est.predict(X))


def test_overwrite_leaves_no_temp_files(tmp_path):
    target = tmp_path / "m.seqpipe"
    save({"v": 1}, target)
    save({"v": 2}, target)
    assert load(target) == {"v": 2}
    assert os.listdir(tmp_path) == ["m.seqpipe"]


def test_missing_parent_directory(tmp_path):
    missing = tmp_path / "no" / "such"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        save({"v": 1}, missing / "m.seqpipe")
    assert os.listdir(tmp_path) == []


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.seqpipe")


# --- header ----------------------------------------------------------------------------------

def test_read_header(tmp_path):
    save({"v": 1}, tmp_path / "m.seqpipe")
    header = read_header(tmp_path / "m.seqpipe")
    assert header["format_version"] == FORMAT_VERSION == 1
    versions = header["library_versions"]
    assert versions["numpy"] == np.__version__
    assert versions["scikit-learn"] == sklearn.__version__
    assert versions["joblib"] == joblib.__version__
    assert versions["python"] == platform.python_version()
    assert "seqpipe" in versions
    assert header["signature"] is None
    assert header["payload_size"] == len(_split((tmp_path / "m.seqpipe").read_bytes())[1])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", header["created"])


def test_keras_version_recorded_only_if_already_imported(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    save(1, tmp_path / "a.seqpipe")
    assert "keras" not in read_header(tmp_path / "a.seqpipe")["library_versions"]
    assert "keras" not in sys.modules
    monkeypatch.setitem(sys.modules, "keras", types.ModuleType("keras"))
    save(1, tmp_path / "b.seqpipe")
    from importlib.metadata import version
    assert read_header(tmp_path / "b.seqpipe")["library_versions"]["keras"] == version("keras")


def test_save_and_load_import_neither_keras_nor_tensorflow(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from seqpipe import persistence
        before = set(sys.modules)
        persistence.save({{"a": 1}}, {str(tmp_path / "m.seqpipe")!r})
        persistence.read_header({str(tmp_path / "m.seqpipe")!r})
        persistence.load({str(tmp_path / "m.seqpipe")!r})
        new = {{m.split(".")[0] for m in set(sys.modules) - before}}
        assert not new & {{"keras", "tensorflow"}}, new
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# --- corruption ------------------------------------------------------------------------------

@pytest.fixture
def artifact(tmp_path):
    path = tmp_path / "m.seqpipe"
    save({"a": np.arange(1000.0)}, path)
    return path


@pytest.mark.parametrize("where, message", [
    (lambda raw: 0, "is truncated: the file ends before the header"),
    (lambda raw: 3, "is truncated: the file ends before the header"),
    (lambda raw: len(MAGIC) + 5, "is truncated: the file ends inside the header"),
    (lambda raw: raw.index(b"\n", len(MAGIC)), "is truncated: the file ends inside the header"),
    (lambda raw: raw.index(b"\n", len(MAGIC)) + 1, "is truncated: expected"),
    (lambda raw: raw.index(b"\n", len(MAGIC)) + 100, "is truncated: expected"),
    (lambda raw: len(raw) - 1, "is truncated: expected"),
], ids=["empty", "in-magic", "in-header", "before-newline", "no-payload", "in-payload",
        "last-byte"])
def test_truncated(artifact, where, message):
    raw = artifact.read_bytes()
    cut = where(raw)
    artifact.write_bytes(raw[:cut])
    with pytest.raises(ArtifactError, match=re.escape(message)) as info:
        load(artifact)
    assert str(artifact) in str(info.value)


def test_truncated_message_gives_byte_counts(artifact):
    raw = artifact.read_bytes()
    header, payload = _split(raw)
    artifact.write_bytes(raw[:-10])
    expected = f"is truncated: expected {len(payload)} payload bytes, found {len(payload) - 10}"
    with pytest.raises(ArtifactError, match=re.escape(expected)):
        load(artifact)


def test_trailing_data(artifact):
    artifact.write_bytes(artifact.read_bytes() + b"junk")
    with pytest.raises(ArtifactError, match="has trailing data"):
        load(artifact)


@pytest.mark.parametrize("position", [0, 1, 0.5, -2, -1], ids=lambda p: f"pos={p}")
def test_flipped_payload_byte(artifact, position):
    raw = bytearray(artifact.read_bytes())
    start = raw.index(b"\n", len(MAGIC)) + 1
    size = len(raw) - start
    offset = start + (int(position * size) if isinstance(position, float) else position % size)
    raw[offset] ^= 0xFF
    artifact.write_bytes(bytes(raw))
    with pytest.raises(ArtifactError, match=re.escape(
            f"{artifact} is corrupted: SHA-256 of the payload does not match the header")):
        load(artifact)


@pytest.mark.parametrize("find", [b"{", b'"format_version"', b'"payload_sha256"', b"}"])
def test_flipped_header_byte(artifact, find):
    raw = bytearray(artifact.read_bytes())
    raw[raw.index(find, len(MAGIC))] ^= 0x01  # '{'->'z', '"'->'#', '}'->'|'
    artifact.write_bytes(bytes(raw))
    with pytest.raises(ArtifactError, match="has a corrupted header"):
        load(artifact)
    with pytest.raises(ArtifactError, match="has a corrupted header"):
        read_header(artifact)


@pytest.mark.parametrize("change", [
    {"payload_size": "12"}, {"payload_size": -1}, {"payload_sha256": "abc"},
    {"payload_sha256": None}, {"signature": 5}, {"format_version": "1"}, {"format_version": 0},
])
def test_malformed_header_fields(artifact, change):
    header, payload = _split(artifact.read_bytes())
    artifact.write_bytes(_build({**header, **change}, payload))
    with pytest.raises(ArtifactError, match="has a corrupted header"):
        load(artifact)


@pytest.mark.parametrize("drop", ["format_version", "created", "library_versions",
                                  "payload_size", "payload_sha256", "signature"])
def test_missing_header_field(artifact, drop):
    header, payload = _split(artifact.read_bytes())
    del header[drop]
    artifact.write_bytes(_build(header, payload))
    with pytest.raises(ArtifactError, match="has a corrupted header") as info:
        load(artifact)
    assert drop in str(info.value)


def test_header_not_an_object(artifact):
    _, payload = _split(artifact.read_bytes())
    artifact.write_bytes(MAGIC + b"[1, 2]\n" + payload)
    with pytest.raises(ArtifactError, match="has a corrupted header"):
        load(artifact)


def test_newer_format_version(artifact):
    header, payload = _split(artifact.read_bytes())
    header["format_version"] = FORMAT_VERSION + 1
    artifact.write_bytes(_build(header, payload))
    expected = (f"{artifact} was written by a newer seqpipe (format {FORMAT_VERSION + 1}, "
                f"this version reads up to {FORMAT_VERSION}); upgrade seqpipe")
    with pytest.raises(ArtifactError, match=re.escape(expected)):
        load(artifact)
    assert read_header(artifact)["format_version"] == FORMAT_VERSION + 1


def test_plain_joblib_file_is_not_an_artifact(tmp_path):
    path = tmp_path / "plain.joblib"
    joblib.dump({"a": 1}, path)
    with pytest.raises(ArtifactError, match=r"is not a seqpipe artifact \(bad magic\).*"
                                            r"joblib\.load"):
        load(path)
    with pytest.raises(ArtifactError, match="bad magic"):
        read_header(path)


def test_artifact_error_is_a_value_error():
    assert issubclass(ArtifactError, ValueError)


# --- signing ---------------------------------------------------------------------------------

def test_signed_round_trip_and_key_types(tmp_path):
    path = tmp_path / "m.seqpipe"
    save({"v": 1}, path, key="s3cret")
    assert re.fullmatch(r"[0-9a-f]{64}", read_header(path)["signature"])
    assert load(path, key="s3cret") == {"v": 1}
    assert load(path, key=b"s3cret") == {"v": 1}  # str keys are UTF-8 encoded
    assert load(path) == {"v": 1}  # without a key the signature is ignored


def test_wrong_key_is_refused(tmp_path):
    path = tmp_path / "m.seqpipe"
    save(_Booby(), path, key=b"right")
    with pytest.raises(ArtifactError, match=re.escape(f"signature does not match for {path}")):
        load(path, key=b"wrong")
    assert UNPICKLED == []


def test_unsigned_file_with_key_is_refused(tmp_path):
    path = tmp_path / "m.seqpipe"
    save(_Booby(), path)
    with pytest.raises(ArtifactError, match=re.escape(f"{path} is not signed but a key was "
                                                      "given")):
        load(path, key="k")
    assert UNPICKLED == []


def test_key_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "m.seqpipe"
    monkeypatch.setenv("SEQPIPE_KEY", "env-key")
    save({"v": 1}, path)
    assert read_header(path)["signature"] is not None
    assert load(path) == {"v": 1}
    assert load(path, key="env-key") == {"v": 1}
    monkeypatch.setenv("SEQPIPE_KEY", "other")
    with pytest.raises(ArtifactError, match="signature does not match"):
        load(path)
    assert load(path, key="env-key") == {"v": 1}  # an explicit key wins over the env


def test_unsigned_file_refused_when_env_key_set(tmp_path, monkeypatch):
    path = tmp_path / "m.seqpipe"
    save({"v": 1}, path)
    monkeypatch.setenv("SEQPIPE_KEY", "env-key")
    with pytest.raises(ArtifactError, match="is not signed but a key was given"):
        load(path)


def test_empty_env_key_means_no_key(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQPIPE_KEY", "")
    save({"v": 1}, tmp_path / "m.seqpipe")
    assert read_header(tmp_path / "m.seqpipe")["signature"] is None
    assert load(tmp_path / "m.seqpipe") == {"v": 1}


@pytest.mark.parametrize("bad, exc", [("", ValueError), (b"", ValueError), (123, TypeError)])
def test_invalid_explicit_key(tmp_path, bad, exc):
    with pytest.raises(exc, match="key"):
        save({"v": 1}, tmp_path / "m.seqpipe", key=bad)
    assert os.listdir(tmp_path) == []


def test_forged_payload_runs_code_without_key(tmp_path):
    """Control for the tests below: the forged file passes the SHA-256 check and really
    does run code when loaded without a key, so UNPICKLED == [] there means something."""
    path = tmp_path / "m.seqpipe"
    save({"v": 1}, path, key="k")
    _forge(path, _Booby())
    assert load(path) == "unpickled!"
    assert UNPICKLED == ["unpickled!"]


@pytest.mark.parametrize("signature, message", [
    ("keep", "signature does not match"),
    ("0" * 64, "signature does not match"),
    (None, "is not signed but a key was given"),
], ids=["old-signature", "made-up-signature", "signature-removed"])
def test_forged_payload_refused_with_key(tmp_path, signature, message):
    path = tmp_path / "m.seqpipe"
    save({"v": 1}, path, key="k")
    _forge(path, _Booby(), signature)
    with pytest.raises(ArtifactError, match=re.escape(message)):
        load(path, key="k")
    assert UNPICKLED == []


def test_forged_payload_signed_with_other_key_refused(tmp_path):
    path = tmp_path / "m.seqpipe"
    save({"v": 1}, path, key="k")
    _forge(path, _Booby())
    header, payload = _split(path.read_bytes())
    header["signature"] = persistence._sign(b"attacker", header, payload)
    path.write_bytes(_build(header, payload))
    with pytest.raises(ArtifactError, match="signature does not match"):
        load(path, key="k")
    assert UNPICKLED == []


@pytest.mark.parametrize("field, value", [
    ("format_version", FORMAT_VERSION + 1), ("created", "1999-01-01T00:00:00+00:00"),
    ("library_versions", {"seqpipe": "0.0.0"}),
])
def test_signature_binds_every_header_field(tmp_path, field, value):
    """The HMAC covers the header's fields, not only the payload bytes."""
    path = tmp_path / "m.seqpipe"
    save({"v": 1}, path, key="k")
    header, payload = _split(path.read_bytes())
    assert header["signature"] == persistence._sign(b"k", header, payload)
    assert header["signature"] != persistence._sign(b"k", {**header, field: value}, payload)
    if field != "format_version":  # a newer format is refused before any signature check
        path.write_bytes(_build({**header, field: value}, payload))
        with pytest.raises(ArtifactError, match="signature does not match"):
            load(path, key="k")


# --- atomic writes ---------------------------------------------------------------------------

def _fail_write(monkeypatch, exc):
    real = tempfile.NamedTemporaryFile

    def fake(*args, **kwargs):
        f = real(*args, **kwargs)
        f.write(b"partial")

        def write(data):
            raise exc
        f.write = write
        return f
    monkeypatch.setattr(persistence.tempfile, "NamedTemporaryFile", fake)


def _fail_fsync(monkeypatch, exc):
    def fsync(fd):
        raise exc
    monkeypatch.setattr(persistence.os, "fsync", fsync)


def _fail_replace(monkeypatch, exc):
    def replace(src, dst):
        raise exc
    monkeypatch.setattr(persistence.os, "replace", replace)


@pytest.mark.parametrize("fail", [_fail_write, _fail_fsync, _fail_replace],
                         ids=["write", "fsync", "replace"])
def test_failed_save_keeps_old_artifact(tmp_path, monkeypatch, fail):
    target = tmp_path / "m.seqpipe"
    save({"v": "old"}, target)
    fail(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(OSError, match=re.escape(f"could not save to {target}: "
                                                "No space left on device")) as info:
        save({"v": "new"}, target)
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert load(target) == {"v": "old"}
    assert os.listdir(tmp_path) == ["m.seqpipe"]


def test_failed_first_save_creates_nothing(tmp_path, monkeypatch):
    _fail_replace(monkeypatch, PermissionError(errno.EACCES, "Permission denied"))
    with pytest.raises(PermissionError, match="could not save to"):
        save({"v": 1}, tmp_path / "m.seqpipe")
    assert os.listdir(tmp_path) == []


def test_non_os_error_is_reraised_unchanged_and_cleaned_up(tmp_path, monkeypatch):
    target = tmp_path / "m.seqpipe"
    save({"v": "old"}, target)
    _fail_fsync(monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        save({"v": "new"}, target)
    monkeypatch.undo()
    assert load(target) == {"v": "old"}
    assert os.listdir(tmp_path) == ["m.seqpipe"]


def test_unpicklable_object_touches_nothing(tmp_path):
    target = tmp_path / "m.seqpipe"
    save({"v": "old"}, target)
    with pytest.raises(Exception):  # noqa: B017 - pickle's exact error type varies
        save(lambda x: x, target)
    assert load(target) == {"v": "old"}
    assert os.listdir(tmp_path) == ["m.seqpipe"]
