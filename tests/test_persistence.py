"""Tests for seqpipe.persistence: round trips, corruption, signing, atomic writes, version
checks and the clean-up of temporary files left by killed saves."""

import errno
import hashlib
import io
import json
import os
import pickle
import platform
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import types
import warnings
from importlib import metadata
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.exceptions import InconsistentVersionWarning as SklearnVersionWarning
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import seqpipe
from seqpipe import _artifact_integrity, _atomic_write, _saved_environment, persistence
from seqpipe.persistence import (
    FORMAT_VERSION,
    MAGIC,
    ArtifactError,
    InconsistentBackendWarning,
    InconsistentVersionWarning,
    load,
    read_header,
    save,
)

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
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
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    save(1, tmp_path / "a.seqpipe")
    assert not {"keras", "tensorflow"} & set(read_header(tmp_path / "a.seqpipe")
                                             ["library_versions"])
    assert not {"keras", "tensorflow"} & set(sys.modules)
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
    {"library_versions": None}, {"library_versions": ["1.0"]},
    {"library_versions": {"scikit-learn": 1.6}},
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


@pytest.mark.parametrize("bad, exc, message", [
    ("", ValueError, "key must not be empty"), (b"", ValueError, "key must not be empty"),
    (123, TypeError, "key must be bytes or str, not int")])
def test_invalid_explicit_key(tmp_path, bad, exc, message):
    with pytest.raises(exc, match=f"^{re.escape(message)}$"):
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
    header["signature"] = _artifact_integrity._sign(b"attacker", header, payload)
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
    assert header["signature"] == _artifact_integrity._sign(b"k", header, payload)
    assert header["signature"] != _artifact_integrity._sign(b"k", {**header, field: value}, payload)
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
    monkeypatch.setattr(_atomic_write.tempfile, "NamedTemporaryFile", fake)


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


# --- library versions checked on load ---------------------------------------------------------

def _running(library):
    """The running version of a library, found independently of persistence."""
    if library == "seqpipe":
        return seqpipe.__version__
    if library == "scikit-learn":
        return sklearn.__version__
    for dist in (library, f"{library}-cpu"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    raise AssertionError(f"{library} is not installed")


def _rewrite_versions(path, changes, key=None):
    """Rewrite the library versions in the header of the artifact at ``path`` (a version
    None drops the library), recomputing the header checksum and, with ``key``, the
    signature: the file then looks exactly like one written under those versions."""
    header, payload = _split(path.read_bytes())
    versions = {**header["library_versions"], **changes}
    header["library_versions"] = {k: v for k, v in versions.items() if v is not None}
    if key is not None:
        header["signature"] = _artifact_integrity._sign(key, header, payload)
    path.write_bytes(_build(header, payload))


def _version_warnings(record):
    return [w.message for w in record if w.category is InconsistentVersionWarning]


@pytest.mark.parametrize("library", ["seqpipe", "scikit-learn", "keras", "tensorflow"])
def test_version_mismatch_warns_naming_library_and_both_versions(tmp_path, library):
    path = tmp_path / "m.seqpipe"
    save({"v": 1}, path)
    _rewrite_versions(path, {library: "0.0.1"})
    current = _running(library)
    expected = f"{path} was saved with {library} 0.0.1 and is loaded with {library} {current}"
    with pytest.warns(InconsistentVersionWarning, match=re.escape(expected)) as record:
        assert load(path) == {"v": 1}  # a warning, not an error: the object still loads
    [warning] = _version_warnings(record)
    assert (warning.library, warning.saved_version, warning.current_version, warning.path) == (
        library, "0.0.1", current, str(path))


def test_version_mismatch_warning_is_attributed_to_the_caller_of_load(tmp_path):
    # (left out of `make mutation`: mutmut's trampolines add frames to every call)
    path = tmp_path / "m.seqpipe"
    save({"v": 1}, path)
    _rewrite_versions(path, {"seqpipe": "0.0.1"})
    with pytest.warns(InconsistentVersionWarning) as record:
        load(path)
    [entry] = [w for w in record if w.category is InconsistentVersionWarning]
    assert entry.filename == __file__  # attributed to the caller of load, not to seqpipe


def test_one_warning_per_mismatching_library(tmp_path):
    path = tmp_path / "m.seqpipe"
    save({"v": 1}, path)
    _rewrite_versions(path, {"tensorflow": "0.0.4", "seqpipe": "0.0.1", "keras": "0.0.3",
                             "scikit-learn": "0.0.2", "numpy": "0.0.5", "python": "2.7.0"})
    with pytest.warns(InconsistentVersionWarning) as record:
        load(path)
    assert [(w.library, w.saved_version) for w in _version_warnings(record)] == [
        ("seqpipe", "0.0.1"), ("scikit-learn", "0.0.2"), ("keras", "0.0.3"),
        ("tensorflow", "0.0.4")]  # numpy, joblib and Python are recorded, not compared


@pytest.mark.parametrize("changes", [
    {},
    {"keras": None, "tensorflow": None},  # not recorded (not imported at save): not compared
    {"seqpipe": "unknown", "scikit-learn": "unknown"},
    {"numpy": "0.0.1", "joblib": "0.0.1", "python": "2.7.0"},
], ids=["as-saved", "keras-not-recorded", "unknown", "numpy-joblib-python"])
def test_matching_versions_load_without_warning(tmp_path, data, changes):
    X, y = data
    model = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    path = tmp_path / "m.seqpipe"
    save(model, path)
    _rewrite_versions(path, changes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = load(path)
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


def test_version_warning_only_after_verification(tmp_path):
    """Versions in a header that fails its checks are not trusted enough to warn about."""
    path = tmp_path / "m.seqpipe"
    save({"v": 1}, path, key="k")
    _rewrite_versions(path, {"scikit-learn": "0.0.1"})  # header edited without the key
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with pytest.raises(ArtifactError, match="signature does not match"):
            load(path, key="k")
        raw = bytearray(path.read_bytes())
        raw[-1] ^= 0xFF
        path.write_bytes(bytes(raw))
        with pytest.raises(ArtifactError, match="SHA-256 of the payload does not match"):
            load(path)
    assert _version_warnings(record) == []

    save({"v": 1}, path, key="k")
    _rewrite_versions(path, {"scikit-learn": "0.0.1"}, key=b"k")  # signed by the key holder
    with pytest.warns(InconsistentVersionWarning, match=re.escape("scikit-learn 0.0.1")):
        assert load(path, key="k") == {"v": 1}


def _refuse_to_unpickle():
    raise ModuleNotFoundError("No module named 'somewhere_else'")


class _Unloadable:
    def __reduce__(self):
        return (_refuse_to_unpickle, ())


def test_version_warning_comes_before_unpickling(tmp_path):
    """The warning explains the failure that follows when the old object cannot be rebuilt."""
    path = tmp_path / "m.seqpipe"
    save(_Unloadable(), path)
    _rewrite_versions(path, {"seqpipe": "0.0.1"})
    with pytest.warns(InconsistentVersionWarning, match=re.escape("seqpipe 0.0.1")):
        with pytest.raises(ModuleNotFoundError, match="somewhere_else"):
            load(path)


def test_inconsistent_version_warning_class():
    assert "InconsistentVersionWarning" in persistence.__all__
    assert issubclass(InconsistentVersionWarning, UserWarning)
    # a filter on scikit-learn's warning must not hide a Keras or seqpipe mismatch
    assert not issubclass(InconsistentVersionWarning, SklearnVersionWarning)
    warning = InconsistentVersionWarning("keras", "3.0.0", "3.5.0", "m.seqpipe")
    back = pickle.loads(pickle.dumps(warning))  # warnings cross process boundaries
    assert (back.library, back.saved_version, back.current_version, back.path) == (
        "keras", "3.0.0", "3.5.0", "m.seqpipe")
    assert str(back) == str(warning)
    assert str(warning).startswith(
        "m.seqpipe was saved with keras 3.0.0 and is loaded with keras 3.5.0.")


def test_keras_and_tensorflow_versions_recorded_and_checked_in_a_keras_process(tmp_path):
    """In a process that imported Keras (as any process holding a Keras model has), both
    versions are recorded, and a same-version load is silent."""
    path = tmp_path / "m.seqpipe"
    code = textwrap.dedent(f"""
        import warnings
        import keras, tensorflow
        from seqpipe import persistence
        persistence.save({{"a": 1}}, {str(path)!r})
        versions = persistence.read_header({str(path)!r})["library_versions"]
        assert versions["keras"] == keras.__version__, versions
        assert versions["tensorflow"] == tensorflow.__version__, versions
        warnings.simplefilter("error")
        assert persistence.load({str(path)!r}) == {{"a": 1}}
    """)
    proc = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    versions = read_header(path)["library_versions"]
    assert (versions["keras"], versions["tensorflow"]) == (_running("keras"),
                                                           _running("tensorflow"))


def test_version_check_imports_neither_keras_nor_tensorflow(tmp_path):
    path = tmp_path / "m.seqpipe"
    save({"a": 1}, path)
    _rewrite_versions(path, {"keras": "0.0.1", "tensorflow": "0.0.2"})
    code = textwrap.dedent(f"""
        import sys, warnings
        from seqpipe import persistence
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            assert persistence.load({str(path)!r}) == {{"a": 1}}
        assert [(w.message.library, w.message.saved_version) for w in record] == [
            ("keras", "0.0.1"), ("tensorflow", "0.0.2")], record
        assert not {{"keras", "tensorflow"}} & set(sys.modules)
    """)
    proc = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# --- temporary files of killed saves -----------------------------------------------------------

def _temp_files(directory, name="m.seqpipe"):
    return sorted(f for f in os.listdir(directory)
                  if re.fullmatch(rf"\.{re.escape(name)}\..+\.tmp", f))


def _dead_pid():
    """The PID of a process that has exited and been waited for."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# The child saves to argv[1] and stops right before the rename, its temp file complete:
# it prints the temp file's path, then waits until its stdin is closed or it is killed.
_PAUSED_SAVE = textwrap.dedent("""
    import os, sys
    from seqpipe import persistence

    def paused_replace(src, dst):
        print(src, flush=True)
        sys.stdin.read()
        os._exit(3)  # never renames

    persistence.os.replace = paused_replace
    persistence.save({"name": "child"}, sys.argv[1])
""")


def _start_paused_save(target):
    proc = subprocess.Popen([sys.executable, "-c", _PAUSED_SAVE, str(target)], env=ENV,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line:
        proc.kill()
        raise AssertionError(f"child failed: {proc.communicate()[1]}")
    return proc, Path(line)


def _stop(proc):
    """Kill ``proc`` if it still runs, reap it (a zombie's PID still exists), close pipes."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def test_temp_file_name_holds_host_tag_and_pid(tmp_path):
    target = tmp_path / "m.seqpipe"
    proc, tmp = _start_paused_save(target)
    try:
        assert tmp.parent == tmp_path
        assert re.fullmatch(re.escape(f".m.seqpipe.{_atomic_write._host_tag()}.{proc.pid}.")
                            + r"[a-z0-9_]+\.tmp", tmp.name), tmp.name
    finally:
        _stop(proc)


def test_next_save_removes_temp_file_of_killed_save(tmp_path):
    target = tmp_path / "m.seqpipe"
    save({"name": "first"}, target)
    proc, tmp = _start_paused_save(target)
    try:
        assert load(tmp) == {"name": "child"}  # its temp file is complete, not yet renamed
        save({"name": "old"}, target)  # a concurrent save: the child is alive, keeps its file
        assert tmp.exists() and load(tmp) == {"name": "child"}
        before = target.read_bytes()
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        _stop(proc)
    assert target.read_bytes() == before and load(target) == {"name": "old"}
    assert _temp_files(tmp_path) == [tmp.name]  # SIGKILL left it; loading removes nothing

    save({"name": "new"}, target)
    assert os.listdir(tmp_path) == ["m.seqpipe"]
    assert load(target) == {"name": "new"}


def test_temp_file_of_process_that_exited_is_removed(tmp_path):
    """Closing the child's stdin makes it exit (status 3) without renaming its temp file."""
    target = tmp_path / "m.seqpipe"
    proc, tmp = _start_paused_save(target)
    try:
        proc.stdin.close()
        assert proc.wait(timeout=30) == 3
    finally:
        _stop(proc)
    assert tmp.exists()
    save({"name": "new"}, target)
    assert os.listdir(tmp_path) == ["m.seqpipe"]


# The child saves a large array once, unpatched; the test SIGKILLs it mid-write.
_BIG_SAVE = textwrap.dedent("""
    import sys
    import numpy as np
    from seqpipe import persistence
    persistence.save({"name": "child", "data": np.ones(5_000_000)}, sys.argv[1])
""")


def _kill_once_writing(target, timeout=60.0):
    """Run _BIG_SAVE and SIGKILL it as soon as its temp file appears. Return the child's
    PID and the temp file left behind (None when the save finished before the kill)."""
    proc = subprocess.Popen([sys.executable, "-c", _BIG_SAVE, str(target)], env=ENV,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while not _temp_files(target.parent) and proc.poll() is None:
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(0.0005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        _stop(proc)
    left = _temp_files(target.parent)
    assert proc.returncode in (0, -signal.SIGKILL), proc.returncode
    return proc.pid, target.parent / left[0] if left else None


def test_save_sigkilled_mid_write_is_cleaned_up_by_next_save(tmp_path):
    """No injection: a real save of 40 MB, killed by SIGKILL while it writes."""
    target = tmp_path / "m.seqpipe"
    for _ in range(5):  # the kill may land after the rename; then try again
        save({"name": "old"}, target)
        before = target.read_bytes()
        pid, orphan = _kill_once_writing(target)
        if orphan is not None:
            break
    else:
        pytest.fail("could not kill the child while it was writing, in 5 attempts")
    assert target.read_bytes() == before
    assert load(target) == {"name": "old"}
    assert sorted(os.listdir(tmp_path)) == sorted(["m.seqpipe", orphan.name])
    assert f".{pid}." in orphan.name

    save({"name": "new"}, target)
    assert os.listdir(tmp_path) == ["m.seqpipe"]
    assert load(target) == {"name": "new"}


@pytest.mark.parametrize("owner", ["init", "this-process"])
def test_temp_files_of_live_processes_are_kept(tmp_path, owner):
    """PID 1 is alive (under another user unless the tests run as root: os.kill raises
    PermissionError); this process may be saving in another thread."""
    pid = 1 if owner == "init" else os.getpid()
    tmp = tmp_path / f".m.seqpipe.{_atomic_write._host_tag()}.{pid}.abcd_123.tmp"
    tmp.write_bytes(b"in progress")
    save({"v": 1}, tmp_path / "m.seqpipe")
    assert tmp.read_bytes() == b"in progress"


def test_files_not_named_like_our_temp_files_are_left_alone(tmp_path):
    host, dead = _atomic_write._host_tag(), _dead_pid()
    other_host = "0" * 8 if host != "0" * 8 else "1" * 8
    orphan = f".m.seqpipe.{host}.{dead}.abcd1234.tmp"
    kept = [
        ".m.seqpipe.abcd1234.tmp",  # written before PIDs were in the name: owner unknown
        f".other.seqpipe.{host}.{dead}.abcd1234.tmp",  # another target's
        f".m.seqpipe.{other_host}.{dead}.abcd1234.tmp",  # another host's (shared disk)
        f".m.seqpipe.{host}.0{dead}.abcd1234.tmp",  # not a PID as we write it
        f".m.seqpipe.{host}.{dead}.abcd.1234.tmp",
        f".m.seqpipe.{host}.{dead}.abcd1234.tmp.bak",
        f"m.seqpipe.{host}.{dead}.abcd1234.tmp",
        f".m.seqpipe.{host}.{dead}.abcd1234.tmp~",
        ".m.seqpipe.tmp", "m.seqpipe.bak", "notes.txt",
    ]
    for name in [orphan, *kept]:
        (tmp_path / name).write_text(name)
    (tmp_path / f".m.seqpipe.{host}.{dead}.dir_dir_.tmp").mkdir()  # not a regular file
    (tmp_path / f".m.seqpipe.{host}.{dead}.link_lnk.tmp").symlink_to(tmp_path / "notes.txt")
    before = set(os.listdir(tmp_path))

    save({"v": 1}, tmp_path / "m.seqpipe")

    assert set(os.listdir(tmp_path)) == before - {orphan} | {"m.seqpipe"}
    for name in kept:
        assert (tmp_path / name).read_text() == name


# --- edges found by mutation testing (benchmarks/MUTATION.md) ----------------------------------

def test_the_version_warning_message_in_full_and_its_args():
    warning = InconsistentVersionWarning("keras", "3.0.0", "3.5.0")
    assert str(warning) == (
        "the artifact was saved with keras 3.0.0 and is loaded with keras 3.5.0. This might "
        "lead to breaking code or invalid results; once it loads and predicts correctly, "
        "save it again to record the running versions.")
    assert warning.path == ""
    assert InconsistentVersionWarning("keras", "1", "2", "m.seqpipe").args == (
        "keras", "1", "2", "m.seqpipe")


def test_refusals_of_a_signed_load_in_full(tmp_path):
    path = tmp_path / "m.seqpipe"
    save({"v": 1}, path)
    with pytest.raises(ArtifactError, match=re.escape(
            f"{path} is not signed but a key was given; refusing to load it (re-save it with "
            f"the key if you trust it)")):
        load(path, key=b"k")
    save({"v": 1}, path, key=b"k")
    with pytest.raises(ArtifactError, match=re.escape(
            f"signature does not match for {path}: it was not signed with this key or was "
            f"modified after signing")):
        load(path, key=b"other")


def test_corrupted_header_messages_in_full(artifact):
    header, payload = _split(artifact.read_bytes())
    artifact.write_bytes(_build({k: v for k, v in header.items()
                                 if k not in ("created", "signature")}, payload))
    with pytest.raises(ArtifactError, match=re.escape(
            f"{artifact} has a corrupted header: missing created, signature")):
        load(artifact)
    artifact.write_bytes(_build({**header, "payload_size": -1}, payload))
    with pytest.raises(ArtifactError, match=re.escape(
            f"{artifact} has a corrupted header: malformed payload_size, payload_sha256 or "
            f"signature")):
        load(artifact)
    artifact.write_bytes(_build(header, payload).replace(b'"header_sha256": "',
                                                         b'"header_sha256": "0', 1))
    with pytest.raises(ArtifactError, match=re.escape(
            f"{artifact} has a corrupted header: its SHA-256 does not match")):
        load(artifact)


def test_the_signature_is_the_documented_hmac(tmp_path):
    """HMAC-SHA256 over the magic, the canonical header (signature and checksum left out)
    and a newline, then the payload: a file can be verified without seqpipe."""
    import hmac

    path = tmp_path / "m.seqpipe"
    save({"v": 1}, path, key=b"secret")
    header, payload = _split(path.read_bytes())
    fields = {k: v for k, v in header.items() if k not in ("signature", "header_sha256")}
    message = (MAGIC + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
               + b"\n" + payload)
    assert header["signature"] == hmac.new(b"secret", message, hashlib.sha256).hexdigest()


def test_versions_are_the_imported_modules_and_unknown_when_not_found(tmp_path,
                                                                      monkeypatch):
    monkeypatch.setitem(sys.modules, "joblib", types.SimpleNamespace(__version__="9.9.9"))
    monkeypatch.setitem(sys.modules, "tensorflow", types.SimpleNamespace(__version__="2.99"))
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    versions = _saved_environment._library_versions()
    assert versions["joblib"] == "9.9.9"  # the running module's, not the installed one's
    assert versions["tensorflow"] == "2.99" and "keras" not in versions  # each if imported
    monkeypatch.setattr(_saved_environment, "_running_version", lambda library: None)
    assert set(_saved_environment._library_versions().values()) == {"unknown",
                                                             platform.python_version()}


def test_the_umask_is_read_without_being_changed():
    old = os.umask(0o027)
    try:
        assert _atomic_write._umask() == 0o027
        assert os.umask(0o027) == 0o027  # still in force
    finally:
        os.umask(old)


def test_the_temporary_file_is_written_next_to_the_target(tmp_path, monkeypatch):
    renamed = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (renamed.append(Path(src)),
                                                         replace(src, dst)))
    save({"v": 1}, tmp_path / "m.seqpipe")
    [tmp] = renamed  # the name the clean-up of killed saves recognises
    assert tmp.parent == tmp_path
    assert re.fullmatch(re.escape(f".m.seqpipe.{_atomic_write._host_tag()}.{os.getpid()}.")
                        + r"[a-z0-9_]+\.tmp", tmp.name), tmp.name


def test_process_exists_for_this_process_and_is_unsure_off_posix(monkeypatch):
    assert _atomic_write._process_exists(os.getpid())
    assert _atomic_write._process_exists(9_999_999_999)  # too large to probe: kept
    monkeypatch.setattr(os, "name", "nt")
    assert _atomic_write._process_exists(2**22 + 12345)  # never probed: assumed alive


def test_header_errors_name_the_file_and_the_way_out(tmp_path):
    path = tmp_path / "plain.joblib"
    joblib.dump({"a": 1}, path)
    message = (f"{path} is not a seqpipe artifact (bad magic); if it was written with "
               f"joblib.dump use joblib.load")
    for read in (load, read_header):
        with pytest.raises(ArtifactError, match=f"^{re.escape(message)}$"):
            read(path)


def test_save_errors_in_full(tmp_path, monkeypatch):
    missing = tmp_path / "no" / "such"
    message = f"cannot save {missing / 'm.seqpipe'}: directory {missing} does not exist"
    with pytest.raises(FileNotFoundError, match=f"^{re.escape(message)}$"):
        save({"v": 1}, missing / "m.seqpipe")
    target = tmp_path / "m.seqpipe"
    _fail_replace(monkeypatch, OSError("no errno"))  # an OSError without an errno
    message = f"could not save to {target}: no errno"
    with pytest.raises(OSError, match=f"^{re.escape(message)}$"):
        save({"v": 1}, target)


def _other_backend():
    return "tensorflow" if seqpipe._backend.CHOICE.name != "tensorflow" else "jax"


def _saved_on_another_backend(path):
    """Save at ``path`` an artifact whose header says another Keras backend; its header
    and payload."""
    save({"v": 1}, path)
    header, payload = _split(path.read_bytes())
    path.write_bytes(_build({**header, "keras_backend": _other_backend()}, payload))
    return header, payload


def test_the_keras_backend_is_recorded_once_keras_is_imported(tmp_path, monkeypatch):
    import keras  # noqa: F401  (what the header records is Keras' backend)
    save({"v": 1}, tmp_path / "with.seqpipe")
    assert read_header(tmp_path / "with.seqpipe")["keras_backend"] == \
        seqpipe._backend.CHOICE.name
    monkeypatch.delitem(sys.modules, "keras")  # a process that never imported Keras
    save({"v": 1}, tmp_path / "without.seqpipe")
    assert "keras_backend" not in read_header(tmp_path / "without.seqpipe")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither warns where it is loaded
        assert load(tmp_path / "with.seqpipe") == load(tmp_path / "without.seqpipe")


def test_another_keras_backend_warns_naming_both_and_the_file(tmp_path):
    path = tmp_path / "m.seqpipe"
    header, payload = _saved_on_another_backend(path)
    with pytest.warns(InconsistentBackendWarning) as record:
        assert load(path) == {"v": 1}  # a warning, not an error
    [warning] = [w.message for w in record if w.category is InconsistentBackendWarning]
    current = seqpipe._backend.CHOICE.name
    assert (warning.saved_backend, warning.current_backend, warning.path) == (
        _other_backend(), current, str(path))
    assert str(warning) == (
        f"{path} was saved on Keras' {_other_backend()} backend and is loaded on its "
        f"{current} backend. Its models predict the same within float32 rounding, not "
        f"bitwise; run with KERAS_BACKEND={_other_backend()} for bitwise the same "
        f"predictions.")
    assert warning.args == (_other_backend(), current, str(path))  # its repr, its pickle
    assert str(pickle.loads(pickle.dumps(warning))) == str(warning)  # e.g. from a worker
    assert str(InconsistentBackendWarning("jax", "tensorflow")).startswith(
        "the artifact was saved on Keras' jax backend and is loaded on its tensorflow")
    path.write_bytes(_build({**header, "keras_backend": 5}, payload))
    with pytest.raises(ArtifactError, match=re.escape(
            f"{path} has a corrupted header: malformed keras_backend")):
        load(path)


def test_backend_warning_is_attributed_to_the_caller_of_load(tmp_path):
    # (left out of `make mutation`: mutmut's trampolines add frames to every call)
    path = tmp_path / "m.seqpipe"
    _saved_on_another_backend(path)
    with pytest.warns(InconsistentBackendWarning) as record:
        load(path)
    [entry] = [w for w in record if w.category is InconsistentBackendWarning]
    assert entry.filename == __file__
