"""What every command of the command line shares: its argument parser, argument types,
and errors as one line."""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
from typing import NoReturn

from seqpipe._backend import CHOICE

__all__ = ["Parser", "backend_line", "one_line", "positive_float", "positive_int",
           "quiet_tensorflow"]


class Parser(argparse.ArgumentParser):
    """Bad arguments exit with status 2 and one line, ``prog: error: message``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    """An argparse type: an int >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def one_line(error: BaseException) -> str:
    """An exception as one line: its message (a file error's path and reason)."""
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return " ".join(str(error).split()).rstrip(".")


def backend_line() -> str:
    """The line the commands that train or serve print: the Keras backend they run on
    and what chose it, e.g. ``Keras backend: jax (seqpipe's default)``."""
    return f"Keras backend: {CHOICE}"


def quiet_tensorflow() -> None:
    """No TensorFlow log lines on a command line, in this process and the ones it
    starts, when Keras runs on TensorFlow (nothing to do on another backend: TensorFlow
    is not imported there).

    ``TF_CPP_MIN_LOG_LEVEL=3`` (unless the user set it) hides TensorFlow's C++ log lines
    (info, warnings, and errors such as oneDNN's "supports DT_INT32 only on platforms
    with AVX-512", which never reach Python as exceptions), but not those its runtime
    writes while it loads (absl's "All log messages before absl::InitializeLog()",
    oneDNN's notice): TensorFlow is imported here with the process's stderr (file
    descriptor 2) pointed at /dev/null, before anything else imports it. Python errors
    of the import are raised as usual.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if (CHOICE.name != "tensorflow" or "tensorflow" in sys.modules
            or importlib.util.find_spec("tensorflow") is None):
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                import tensorflow  # noqa: F401
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)
