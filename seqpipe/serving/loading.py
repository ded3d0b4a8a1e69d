"""Models to serve from ``NAME=PATH`` or ``PATH`` (named by the file's stem), where a
path may also be an MLflow model URI (``models:/NAME/VERSION``, ``models:/NAME@alias``,
``runs:/RUN_ID/NAME``; named by the registered model, or the run's model name), read
from the tracking server of ``MLFLOW_TRACKING_URI`` (:mod:`seqpipe.mlflow`).

>>> parse_model_spec("prices=models/btc.seqpipe")
('prices', PosixPath('models/btc.seqpipe'))
>>> parse_model_spec("models/btc.seqpipe")
('btc', PosixPath('models/btc.seqpipe'))
>>> parse_model_spec("models:/prices/3")
('prices', 'models:/prices/3')
>>> parse_model_spec("models:/prices@champion"), parse_model_spec("runs:/0a1b/model")
(('prices', 'models:/prices@champion'), ('model', 'runs:/0a1b/model'))
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from seqpipe.persistence import load, read_header

__all__ = ["load_models", "parse_model_spec"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_MLFLOW_SCHEMES = ("models:/", "runs:/")


def _mlflow_name(uri: str) -> str:
    """The registered model's name (``models:/NAME/...``, ``models:/NAME@alias``), or
    the last part of a run's model path."""
    rest = uri.split(":/", 1)[1].strip("/")
    if uri.startswith("models:/"):
        return re.split(r"[/@]", rest, maxsplit=1)[0]
    return rest.rsplit("/", 1)[-1]


def parse_model_spec(spec: str) -> tuple[str, Path | str]:
    """``(name, path)`` of ``NAME=PATH`` or ``PATH``; the name must be URL-safe. An
    MLflow model URI stays a str.

    Examples
    --------
    >>> from seqpipe.serving import parse_model_spec
    >>> parse_model_spec("runs/stock/pipeline.seqpipe")
    ('pipeline', PosixPath('runs/stock/pipeline.seqpipe'))
    >>> parse_model_spec("stock=runs/stock/pipeline.seqpipe")
    ('stock', PosixPath('runs/stock/pipeline.seqpipe'))
    """
    name, sep, path = spec.partition("=")
    if not sep:
        name, path = Path(spec).stem, spec
        if spec.startswith(_MLFLOW_SCHEMES):
            name = _mlflow_name(spec)
    if not path:
        raise ValueError(f"model {spec!r} has no path: write NAME=PATH or PATH")
    if not _NAME.fullmatch(name):
        raise ValueError(f"model name {name!r} (from {spec!r}) must start with a letter or "
                         f"digit and hold only letters, digits, '_', '.' and '-' (at most "
                         f"100); name it with NAME=PATH")
    return name, path if path.startswith(_MLFLOW_SCHEMES) else Path(path)


def load_models(specs: list[str], *, key: bytes | str | None = None
                ) -> tuple[dict[str, Any], dict[str, dict]]:
    """Load every model of ``specs``: ``(models, headers)`` by name.

    With a ``key``, :func:`seqpipe.load` refuses unsigned or tampered artifacts
    before unpickling them (:class:`seqpipe.persistence.ArtifactError`). Raises
    ValueError for a malformed spec or two models of one name.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe import save
    >>> from seqpipe.serving import load_models
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save(Ridge().fit(X, X[:, 0]), Path(tmp) / "ridge.seqpipe")
    ...     models, headers = load_models([str(path), f"other={path}"])
    >>> sorted(models), headers["ridge"]["format_version"]
    (['other', 'ridge'], 1)
    """
    models: dict[str, Any] = {}
    headers: dict[str, dict] = {}
    for spec in specs:
        name, path = parse_model_spec(spec)
        if name in models:
            raise ValueError(f"two models are named {name!r}; name them with NAME=PATH")
        if isinstance(path, str):
            path = _from_mlflow(path)
        headers[name] = read_header(path)
        models[name] = load(path, key=key)
    return models, headers


def _from_mlflow(uri: str) -> Path:
    """The local ``model.seqpipe`` of an MLflow model URI, downloaded from the tracking
    server; ValueError naming the URI if MLflow is missing or cannot give it."""
    try:
        from mlflow.exceptions import MlflowException

        import seqpipe.mlflow  # MLflow: an optional extra, imported when asked for
    except ImportError as error:
        raise ValueError(f"model {uri!r} is an MLflow model URI, and MLflow is not "
                         f"installed ({error}): pip install 'seqpipe[mlflow]'") from None
    try:
        return seqpipe.mlflow.local_artifact(uri)
    except MlflowException as error:
        raise ValueError(f"cannot read the MLflow model {uri!r}: {error.message}") from None
