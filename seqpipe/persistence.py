"""Save and load fitted objects (pipelines, estimators, arrays) as seqpipe artifacts.

An artifact is a small self-describing file::

    SEQPIPE\\n
    {"format_version": 1, "created": ..., "library_versions": {...},
     "payload_size": ..., "payload_sha256": ..., "signature": ...}\\n
    <payload: the bytes written by joblib.dump>

The header (one line of JSON) records the library versions that wrote the file:
seqpipe, Python, NumPy, scikit-learn and joblib always, Keras and its backend's library
(TensorFlow, JAX, PyTorch) when they are imported at save time (an object holding a
Keras model can only exist once Keras is imported, and saving a pure-NumPy pipeline must
not import them), with Keras' backend (``keras_backend``).
:func:`read_header` shows them without unpickling anything. :func:`load` checks the
magic, the header, the payload size, its SHA-256 and, with a key, its signature before
unpickling, so truncated, corrupted or forged files fail with a clear
:class:`ArtifactError`. Once the file is verified, and still before unpickling, it emits
one :class:`InconsistentVersionWarning` per library among seqpipe, scikit-learn, Keras,
TensorFlow, JAX and PyTorch whose recorded version differs from the running one
(libraries the header does not record are not compared), and one
:class:`InconsistentBackendWarning` if it was saved on another Keras backend (its
models then predict the same within float32 rounding, not bitwise).

:func:`save` writes atomically: a crash never leaves a half-written artifact behind. A
save killed mid-write (SIGKILL, OOM killer) leaves its hidden temporary file
``.<name>.<host>.<pid>.<random>.tmp`` next to the target; the next save to the same path
removes those whose writing process no longer exists on this host (``<host>`` hashes the
host name and PID namespace, so a save running elsewhere on a shared file system is never
mistaken for a dead one). Files whose name does not follow that pattern are left alone.

Threat model
------------
The payload is a pickle, and **unpickling runs arbitrary code**. The SHA-256 only
detects accidents (truncation, bit rot); anyone who can write the file can also
recompute it. Load only files you trust, or files signed with your own key: with a
``key`` (or the ``SEQPIPE_KEY`` environment variable), :func:`save` stores an
HMAC-SHA256 signature and :func:`load` refuses, before unpickling anything, a file that
is unsigned or whose signature does not match. Keep the key secret; anyone who has it
can sign files that you will load.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import pathlib
import re
import sys
import warnings
from datetime import datetime, timezone
from typing import Any

import joblib

from seqpipe._artifact_integrity import MAGIC, _header_sha256, _resolve_key, _sign
from seqpipe._atomic_write import _write_atomically
from seqpipe._backend import CHOICE
from seqpipe._saved_environment import (
    InconsistentBackendWarning,
    InconsistentVersionWarning,
    _library_versions,
    _warn_on_version_mismatch,
)

__all__ = ["FORMAT_VERSION", "ArtifactError", "InconsistentBackendWarning",
           "InconsistentVersionWarning", "load", "read_header", "save"]

FORMAT_VERSION = 1
_HEX64 = re.compile(r"[0-9a-f]{64}")
_FIELDS = ("format_version", "created", "library_versions", "payload_size",
           "payload_sha256", "signature", "header_sha256")


class ArtifactError(ValueError):
    """A file is not a readable seqpipe artifact (truncated, corrupted, written by a
    newer seqpipe, or with a missing or wrong signature).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from seqpipe import load
    >>> from seqpipe.persistence import ArtifactError
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "notes.txt"
    ...     _ = path.write_text("not an artifact")
    ...     try:
    ...         load(path)
    ...     except ArtifactError as error:
    ...         print(type(error).__name__, isinstance(error, ValueError))
    ArtifactError True
    """


def save(obj: Any, path: str | os.PathLike, *, key: bytes | str | None = None) -> pathlib.Path:
    """Save ``obj`` to ``path`` as a seqpipe artifact, atomically.

    Parameters
    ----------
    obj : object
        Anything :func:`joblib.dump` can pickle, e.g. a fitted pipeline.
    path : str or os.PathLike
        Target file. Its directory must exist; an existing file is replaced.
    key : bytes or str, optional
        Secret used to sign the artifact (a str is UTF-8 encoded). Defaults to the
        ``SEQPIPE_KEY`` environment variable when it is set and non-empty. The
        HMAC-SHA256 signature covers the magic, every header field and the payload.

    Returns
    -------
    pathlib.Path
        The resolved path of the artifact.

    Raises
    ------
    FileNotFoundError
        If the directory of ``path`` does not exist.
    OSError
        If writing fails (e.g. disk full); the message names ``path``. An existing
        artifact at ``path`` is left untouched and no temporary file remains.

    Notes
    -----
    The data is written to a temporary file in the same directory, flushed to disk, then
    renamed onto ``path``. The artifact gets the usual permissions of a new file
    (``0o666`` less the process umask). The temporary file's name holds the writer's PID;
    temporary files of earlier saves to ``path`` whose process no longer exists (a save
    killed mid-write) are removed, those of live processes are kept.

    The header records the versions of seqpipe, Python, NumPy, scikit-learn, joblib and,
    if already imported, Keras and TensorFlow (saving never imports them): :func:`load`
    warns when seqpipe, scikit-learn, Keras or TensorFlow differ.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn.linear_model import LinearRegression
    >>> from seqpipe import load, save
    >>> model = LinearRegression().fit([[0.0], [1.0]], [0.0, 2.0])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save(model, Path(tmp) / "model.seqpipe", key="secret")
    ...     load(path, key="secret").predict([[2.0]]).round(2).tolist()
    [4.0]
    """
    target = pathlib.Path(path).resolve()
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot save {os.fspath(path)}: directory {target.parent} "
                                "does not exist")
    key_bytes = _resolve_key(key)
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    payload = buffer.getvalue()
    header = {
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "library_versions": _library_versions(),
        **({"keras_backend": CHOICE.name} if "keras" in sys.modules else {}),
        "payload_size": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }
    header["signature"] = None if key_bytes is None else _sign(key_bytes, header, payload)
    header["header_sha256"] = _header_sha256(header)
    head = MAGIC + json.dumps(header).encode("utf-8") + b"\n"
    try:
        _write_atomically(target, head, payload)
    except OSError as exc:
        if exc.errno is None:
            raise OSError(f"could not save to {os.fspath(path)}: {exc}") from exc
        raise OSError(exc.errno, f"could not save to {os.fspath(path)}: {exc.strerror}") from exc
    return target


def load(path: str | os.PathLike, *, key: bytes | str | None = None) -> Any:
    """Load an object saved with :func:`save`, verifying the file before unpickling.

    Parameters
    ----------
    path : str or os.PathLike
        The artifact to read.
    key : bytes or str, optional
        Secret the artifact must be signed with (a str is UTF-8 encoded). Defaults to
        the ``SEQPIPE_KEY`` environment variable when it is set and non-empty. Without a
        key the signature is ignored and only the SHA-256 is checked, which does
        **not** protect against a malicious file: see the module docstring.

    Returns
    -------
    object
        The unpickled object.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ArtifactError
        If the file is not an artifact, is truncated or corrupted, was written by a
        newer seqpipe, or, when a key is given, is unsigned or its signature does not
        match. Nothing is unpickled in these cases.

    Warns
    -----
    InconsistentVersionWarning
        One per library among seqpipe, scikit-learn, Keras and TensorFlow that the header
        records with another version than the running one; emitted once the file is
        verified, before unpickling (so it also precedes an unpickling error).

    Examples
    --------
    A truncated or altered file is refused before anything is unpickled:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from seqpipe import load, save
    >>> from seqpipe.persistence import ArtifactError
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save({"weights": [1, 2, 3]}, Path(tmp) / "obj.seqpipe")
    ...     print(load(path))
    ...     _ = path.write_bytes(path.read_bytes()[:-3])
    ...     try:
    ...         load(path)
    ...     except ArtifactError as error:
    ...         print(str(error).split(" is ")[1])
    {'weights': [1, 2, 3]}
    truncated: expected ... payload bytes, found ...
    """
    with open(path, "rb") as f:
        data = f.read()
    name = os.fspath(path)
    header, offset = _parse_header(name, data)
    _check_header(name, header)
    payload = data[offset:]
    expected = header["payload_size"]
    if len(payload) < expected:
        raise ArtifactError(f"{name} is truncated: expected {expected} payload bytes, "
                            f"found {len(payload)}")
    if len(payload) > expected:
        raise ArtifactError(f"{name} has trailing data: expected {expected} payload bytes, "
                            f"found {len(payload)}")
    if hashlib.sha256(payload).hexdigest() != header["payload_sha256"]:
        raise ArtifactError(f"{name} is corrupted: SHA-256 of the payload does not match "
                            "the header")
    key_bytes = _resolve_key(key)
    if key_bytes is not None:
        signature = header["signature"]
        if signature is None:
            raise ArtifactError(f"{name} is not signed but a key was given; refusing to load "
                                "it (re-save it with the key if you trust it)")
        expected_sig = _sign(key_bytes, header, payload)
        if not hmac.compare_digest(signature, expected_sig):
            raise ArtifactError(f"signature does not match for {name}: it was not signed "
                                "with this key or was modified after signing")
    _warn_on_version_mismatch(name, header["library_versions"])
    if header.get("keras_backend", CHOICE.name) != CHOICE.name:
        warnings.warn(InconsistentBackendWarning(header["keras_backend"], CHOICE.name, name),
                      stacklevel=2)
    return joblib.load(io.BytesIO(payload))


def read_header(path: str | os.PathLike) -> dict:
    """Return the parsed JSON header of an artifact, without unpickling anything.

    Parameters
    ----------
    path : str or os.PathLike
        The artifact to inspect. Only the magic and the header line are read.

    Returns
    -------
    dict
        The header: ``format_version``, ``created``, ``library_versions``,
        ``payload_size``, ``payload_sha256`` and ``signature``. Only the magic, the JSON
        and ``format_version`` are validated (so headers of newer formats can be read);
        the payload is not checked, use :func:`load` for that.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ArtifactError
        If the file is not an artifact or its header is truncated or corrupted.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from seqpipe import save
    >>> from seqpipe.persistence import read_header
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     header = read_header(save([1, 2], Path(tmp) / "list.seqpipe"))
    >>> header["format_version"], header["signature"]
    (1, None)
    >>> "numpy" in header["library_versions"]
    True
    """
    with open(path, "rb") as f:
        head = f.read(len(MAGIC)) + f.readline()
    return _parse_header(os.fspath(path), head)[0]


def _parse_header(name: str, data: bytes) -> tuple[dict, int]:
    """Check the magic and parse the header line; return it and the payload offset."""
    if not data.startswith(MAGIC):
        if MAGIC.startswith(data):
            raise ArtifactError(f"{name} is truncated: the file ends before the header")
        raise ArtifactError(f"{name} is not a seqpipe artifact (bad magic); if it was "
                            "written with joblib.dump use joblib.load")
    end = data.find(b"\n", len(MAGIC))
    if end < 0:
        raise ArtifactError(f"{name} is truncated: the file ends inside the header")
    try:
        header = json.loads(data[len(MAGIC):end].decode("utf-8"))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ArtifactError(f"{name} has a corrupted header: {exc}") from None
    version = header.get("format_version") if isinstance(header, dict) else None
    if type(version) is not int or version < 1:
        raise ArtifactError(f"{name} has a corrupted header: no valid format_version")
    return header, end + 1


def _check_header(name: str, header: dict) -> None:
    """Refuse newer formats and headers whose fields are missing or malformed."""
    version = header["format_version"]
    if version > FORMAT_VERSION:
        raise ArtifactError(f"{name} was written by a newer seqpipe (format {version}, this "
                            f"version reads up to {FORMAT_VERSION}); upgrade seqpipe")
    missing = [field for field in _FIELDS if field not in header]
    if missing:
        raise ArtifactError(f"{name} has a corrupted header: missing {', '.join(missing)}")
    size, sha, sig = header["payload_size"], header["payload_sha256"], header["signature"]
    if not (type(size) is int and size >= 0 and isinstance(sha, str) and _HEX64.fullmatch(sha)
            and (sig is None or isinstance(sig, str) and _HEX64.fullmatch(sig))):
        raise ArtifactError(f"{name} has a corrupted header: malformed payload_size, "
                            "payload_sha256 or signature")
    versions = header["library_versions"]
    if not (isinstance(versions, dict)
            and all(isinstance(v, str) for v in versions.values())):
        raise ArtifactError(f"{name} has a corrupted header: malformed library_versions")
    if not isinstance(header.get("keras_backend", ""), str):
        raise ArtifactError(f"{name} has a corrupted header: malformed keras_backend")
    if header["header_sha256"] != _header_sha256(header):
        raise ArtifactError(f"{name} has a corrupted header: its SHA-256 does not match")
