"""Save and load fitted objects (pipelines, estimators, arrays) as seqpipe artifacts.

An artifact is a small self-describing file::

    SEQPIPE\\n
    {"format_version": 1, "created": ..., "library_versions": {...},
     "payload_size": ..., "payload_sha256": ..., "signature": ...}\\n
    <payload: the bytes written by joblib.dump>

The header (one line of JSON) records the library versions that wrote the file, so a
version mismatch can be diagnosed with :func:`read_header` without unpickling anything.
:func:`load` checks the magic, the header, the payload size and its SHA-256 before
unpickling, so truncated or corrupted files fail with a clear :class:`ArtifactError`.
:func:`save` writes atomically: a crash never leaves a half-written artifact behind.

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
import platform
import re
import sys
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

import joblib

__all__ = ["FORMAT_VERSION", "ArtifactError", "load", "read_header", "save"]

FORMAT_VERSION = 1
MAGIC = b"SEQPIPE\n"
_KEY_ENV = "SEQPIPE_KEY"
_HEX64 = re.compile(r"[0-9a-f]{64}")
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # read once, at import: os.umask is not thread-safe
_FIELDS = ("format_version", "created", "library_versions", "payload_size",
           "payload_sha256", "signature", "header_sha256")


class ArtifactError(ValueError):
    """A file is not a readable seqpipe artifact (truncated, corrupted, written by a
    newer seqpipe, or with a missing or wrong signature)."""


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
    (``0o666`` less the process umask).
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
    if header["header_sha256"] != _header_sha256(header):
        raise ArtifactError(f"{name} has a corrupted header: its SHA-256 does not match")


def _resolve_key(key: bytes | str | None) -> bytes | None:
    """Return the key as bytes, falling back to $SEQPIPE_KEY; None means no key."""
    if key is None:
        key = os.environ.get(_KEY_ENV) or None
        if key is None:
            return None
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray)):
        raise TypeError(f"key must be bytes or str, not {type(key).__name__}")
    if not key:
        raise ValueError("key must not be empty")
    return bytes(key)


def _canonical(header: dict, *, leave_out: tuple[str, ...]) -> bytes:
    fields = {k: v for k, v in header.items() if k not in leave_out}
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _header_sha256(header: dict) -> str:
    """SHA-256 of every other header field: a flipped bit anywhere in them is caught."""
    return hashlib.sha256(_canonical(header, leave_out=("header_sha256",))).hexdigest()


def _sign(key: bytes, header: dict, payload: bytes) -> str:
    """HMAC-SHA256 over the magic, the header's fields (but the signature and the
    header checksum) and the payload."""
    mac = hmac.new(key, MAGIC, hashlib.sha256)
    mac.update(_canonical(header, leave_out=("signature", "header_sha256")) + b"\n")
    mac.update(payload)
    return mac.hexdigest()


def _library_versions() -> dict[str, str]:
    """Versions of the libraries involved, read from package metadata (imports nothing)."""
    try:
        from seqpipe import __version__ as seqpipe_version
    except ImportError:
        seqpipe_version = "unknown"
    versions = {"seqpipe": str(seqpipe_version), "python": platform.python_version()}
    dists = ["numpy", "scikit-learn", "joblib"] + (["keras"] if "keras" in sys.modules else [])
    for dist in dists:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "unknown"
    return versions


def _write_atomically(target: pathlib.Path, head: bytes, payload: bytes) -> None:
    """Write to a temp file next to ``target``, fsync it, rename it onto ``target``."""
    tmp = tempfile.NamedTemporaryFile(dir=target.parent, delete=False,
                                      prefix=f".{target.name}.", suffix=".tmp")
    try:
        with tmp:
            os.chmod(tmp.name, _FILE_MODE)
            tmp.write(head)
            tmp.write(payload)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, target)
    except BaseException:
        try:
            os.unlink(tmp.name)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable; not possible on every platform
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
