"""Models to serve from ``NAME=PATH`` or ``PATH`` (named by the file's stem).

>>> parse_model_spec("prices=models/btc.seqpipe")
('prices', PosixPath('models/btc.seqpipe'))
>>> parse_model_spec("models/btc.seqpipe")
('btc', PosixPath('models/btc.seqpipe'))
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from seqpipe.persistence import load, read_header

__all__ = ["load_models", "parse_model_spec"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def parse_model_spec(spec: str) -> tuple[str, Path]:
    """``(name, path)`` of ``NAME=PATH`` or ``PATH``; the name must be URL-safe."""
    name, sep, path = spec.partition("=")
    if not sep:
        name, path = Path(spec).stem, spec
    if not path:
        raise ValueError(f"model {spec!r} has no path: write NAME=PATH or PATH")
    if not _NAME.fullmatch(name):
        raise ValueError(f"model name {name!r} (from {spec!r}) must start with a letter or "
                         f"digit and hold only letters, digits, '_', '.' and '-' (at most "
                         f"100); name it with NAME=PATH")
    return name, Path(path)


def load_models(specs: list[str], *, key: bytes | str | None = None
                ) -> tuple[dict[str, Any], dict[str, dict]]:
    """Load every model of ``specs``: ``(models, headers)`` by name.

    With a ``key``, :func:`seqpipe.load` refuses unsigned or tampered artifacts
    before unpickling them (:class:`seqpipe.persistence.ArtifactError`). Raises
    ValueError for a malformed spec or two models of one name.
    """
    models: dict[str, Any] = {}
    headers: dict[str, dict] = {}
    for spec in specs:
        name, path = parse_model_spec(spec)
        if name in models:
            raise ValueError(f"two models are named {name!r}; name them with NAME=PATH")
        headers[name] = read_header(path)
        models[name] = load(path, key=key)
    return models, headers
