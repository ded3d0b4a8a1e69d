"""Keras' generic batch methods, for backends without a fast path of their own (NumPy,
OpenVINO; inference only on both). See :mod:`seqpipe._backends` for the interface."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

__all__ = ["compile_steps", "limit_threads", "reader", "seed_framework"]


def compile_steps(model: keras.Model, x_ndim: int,
                  y_ndim: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``(train, predict)`` with ``train_on_batch`` and ``predict_on_batch``."""
    def train(x: Any, y: Any, sample_weight: Any = None) -> Any:
        return model.train_on_batch(x, y, sample_weight=sample_weight)

    return train, model.predict_on_batch


def reader(variables: list[Any]) -> Callable[[], list[np.ndarray]]:
    """Read each variable."""
    return lambda: [np.array(keras.ops.convert_to_numpy(v.value)) for v in variables]


def seed_framework(seed: int) -> Callable[[], None]:
    """Nothing to seed: Keras' own generators are all there is."""
    return lambda: None


def limit_threads(threads: int) -> None:
    """Nothing to size."""
