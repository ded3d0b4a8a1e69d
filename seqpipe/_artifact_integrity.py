"""The integrity of a seqpipe artifact: its magic, the header's checksum, the signature.

The header's ``header_sha256`` is the SHA-256 of its other fields (in a canonical JSON
form), so a flipped bit anywhere in them is caught; ``signature``, with a key, is an
HMAC-SHA256 over the magic, those fields and the payload. The key is given or read from
the ``SEQPIPE_KEY`` environment variable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

MAGIC = b"SEQPIPE\n"
_KEY_ENV = "SEQPIPE_KEY"


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
