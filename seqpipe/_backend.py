"""Which Keras backend seqpipe runs on: the user's choice if there is one, else JAX.

Keras 3 reads its backend once, when it is first imported, from the ``KERAS_BACKEND``
environment variable, else from the ``"backend"`` of ``keras.json`` (in
``$KERAS_HOME``, default ``~/.keras``), else it takes TensorFlow. ``import seqpipe``
runs :func:`choose_backend` first, which keeps the user's choice and otherwise makes
JAX, the fastest of Keras' backends on CPU, the default:

1. Keras already imported: its backend, whatever it is. seqpipe never switches the
   backend of a process that has imported Keras (Keras cannot switch either).
2. ``KERAS_BACKEND`` set (and not empty): that backend.
3. ``keras.json`` naming a backend: that backend, unless the file is exactly the one
   Keras writes by itself on its first import where none exists (``"backend":
   "tensorflow"`` and Keras' defaults, written before Keras even reads
   ``KERAS_BACKEND``): that file records no one's choice. Set ``KERAS_BACKEND`` or
   edit the file to choose TensorFlow.
4. Otherwise JAX: ``KERAS_BACKEND`` is set to ``"jax"`` in ``os.environ``.

In every case ``KERAS_BACKEND`` is left naming the backend chosen, so that the
processes seqpipe starts (isolated search trials, joblib workers) run on the same one.
A chosen backend that is not installed is an ``ImportError`` naming the package to
install, raised by ``import seqpipe`` before Keras fails on it.

Nothing here imports Keras or a backend: ``import seqpipe`` stays light.

The choice made by ``import seqpipe`` is :data:`CHOICE`:

>>> import keras
>>> CHOICE.name == keras.config.backend() == os.environ["KERAS_BACKEND"]
True
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BACKEND_PACKAGES", "CHOICE", "BackendChoice", "choose_backend", "keras_config_path"]

DEFAULT = "jax"
# Keras' backends: the module each needs and the pip package that brings it
BACKEND_PACKAGES = {
    "jax": ("jax", "jax"),
    "tensorflow": ("tensorflow", "tensorflow"),
    "torch": ("torch", "torch"),
    "numpy": ("numpy", "numpy"),
    "openvino": ("openvino", "openvino"),
}
_EXTRAS = {"tensorflow": "seqpipe[tensorflow]", "torch": "seqpipe[torch]"}
# the keras.json Keras writes on its first import, byte for byte (keras/src/backend/config.py)
_KERAS_OWN_CONFIG = json.dumps({"floatx": "float32", "epsilon": 1e-07, "backend": "tensorflow",
                                "image_data_format": "channels_last"}, indent=4)


@dataclass(frozen=True)
class BackendChoice:
    """The Keras backend seqpipe runs on, and what chose it."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name} ({self.reason})"


def keras_config_path() -> Path:
    """Where Keras reads ``keras.json``: ``$KERAS_HOME`` or ``~/.keras`` (``/tmp/.keras``
    where the home directory is not writable), as Keras itself decides."""
    if "KERAS_HOME" in os.environ:
        return Path(os.environ["KERAS_HOME"], "keras.json")
    home = os.path.expanduser("~")
    return Path(home if os.access(home, os.W_OK) else "/tmp", ".keras", "keras.json")


def choose_backend() -> BackendChoice:
    """Choose the Keras backend as the module docstring says; set ``KERAS_BACKEND`` to it.

    Returns
    -------
    BackendChoice

    Raises
    ------
    ValueError
        If ``KERAS_BACKEND`` or ``keras.json`` names no backend of Keras.
    ImportError
        If the chosen backend is not installed (Keras not imported yet).
    """
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "config"):
        choice = BackendChoice(keras.config.backend(), "Keras was imported first")
    else:
        choice = _unimported_choice()
        _check_known(choice)
        _check_installed(choice)
    os.environ["KERAS_BACKEND"] = choice.name
    return choice


def _unimported_choice() -> BackendChoice:
    variable = os.environ.get("KERAS_BACKEND")
    if variable:
        return BackendChoice(variable, f"KERAS_BACKEND={variable}")
    path = keras_config_path()
    try:
        text = path.read_text()
        configured = json.loads(text).get("backend") if text != _KERAS_OWN_CONFIG else None
    except (OSError, ValueError, AttributeError):  # absent, unreadable or not a JSON object
        configured = None
    if configured:
        return BackendChoice(str(configured), f"set in {path}")
    return BackendChoice(DEFAULT, "seqpipe's default")


def _check_known(choice: BackendChoice) -> None:
    if choice.name not in BACKEND_PACKAGES:
        raise ValueError(f"Keras has no backend {choice.name!r} ({choice.reason}); choose "
                         f"one of {', '.join(map(repr, BACKEND_PACKAGES))}.")


def _check_installed(choice: BackendChoice) -> None:
    module, package = BACKEND_PACKAGES[choice.name]
    if importlib.util.find_spec(module) is not None:
        return
    install = f"pip install {package}"
    if choice.name in _EXTRAS:
        install += f" (or pip install '{_EXTRAS[choice.name]}')"
    raise ImportError(
        f"Keras' {choice.name!r} backend was chosen ({choice.reason}), but {package} is "
        f"not installed: {install}. Or choose another backend with KERAS_BACKEND, e.g. "
        f"KERAS_BACKEND={DEFAULT} (seqpipe's default).",
        name=module,
    )


CHOICE = choose_backend()  # made once, when seqpipe is imported, before Keras is
