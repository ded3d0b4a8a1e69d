"""TensorFlow: traced ``tf.function`` steps, one traced read of the training state,
TensorFlow's global seed and thread pools. See :mod:`seqpipe._backends` for the
interface."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

__all__ = ["compile_steps", "limit_threads", "reader", "seed_framework"]


def compile_steps(model: keras.Model, x_ndim: int,
                  y_ndim: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``(train, predict)`` traced once for batches of any size (and length).

    Keras' ``train_on_batch``/``predict_on_batch`` retrace for every new batch shape
    (the last, smaller batch of an epoch costs a full retrace: seconds for an RNN);
    ``model.fit`` avoids it the same way.
    """
    def signature(*ndims: int) -> list[Any]:
        return [tf.TensorSpec([None] * ndim, tf.float32) for ndim in ndims]

    unweighted = tf.function(lambda x, y: model.train_step((x, y))["loss"],
                             input_signature=signature(x_ndim, y_ndim))
    weighted = tf.function(lambda x, y, w: model.train_step((x, y, w))["loss"],  # traced once used
                           input_signature=signature(x_ndim, y_ndim, max(y_ndim - 1, 1)))

    def train(x: Any, y: Any, sample_weight: Any = None) -> Any:
        return unweighted(x, y) if sample_weight is None else weighted(x, y, sample_weight)

    predict = tf.function(lambda x: model(x, training=False), input_signature=signature(x_ndim))
    return train, predict


def reader(variables: list[Any]) -> Callable[[], list[np.ndarray]]:
    """One traced call reads them all: several times faster than reading each variable
    eagerly (a checkpoint is taken every epoch)."""
    values = [variable.value for variable in variables]
    read_all = tf.function(lambda: [tf.identity(value) for value in values])
    return lambda: [np.array(value) for value in read_all()]


def seed_framework(seed: int) -> Callable[[], None]:
    """Seed TensorFlow's global generator (``model.fit`` shuffles with it); the returned
    function puts back its eager global seed and the generator deriving unseeded ops'
    seeds, which ``tf.random.set_seed`` replaces. (It also clears TensorFlow's eager
    kernel cache, which restarts the sequence of eager random ops given an explicit
    op seed: that is not restored.)"""
    from tensorflow.python.eager import context

    eager = context.context()
    saved = getattr(eager, "_seed", None), getattr(eager, "_rng", None)
    tf.random.set_seed(seed)

    def restore() -> None:
        eager._seed, eager._rng = saved

    return restore


def limit_threads(threads: int) -> None:
    """Size TensorFlow's intra- and inter-op pools (``TF_NUM_INTRAOP_THREADS``,
    ``TF_NUM_INTEROP_THREADS``, read when its runtime starts), unless the environment
    already does."""
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ.setdefault(name, str(threads))
