"""JAX: jit-compiled stateless train and predict steps, as Keras' own JAX trainer runs
``model.fit``; XLA's CPU thread pools. See :mod:`seqpipe._backends` for the interface.

Keras' ``train_on_batch`` and ``predict_on_batch`` run the same compiled functions, but
around each call they rebuild the function's inputs from the model (data adapters,
symbolic build checks, callbacks' bookkeeping): more than the step itself costs for a
small model. Here each step reads the variables' values, runs the compiled stateless
step (``model.train_step`` on JAX takes and returns the whole state;
``model.stateless_call`` for the forward pass) and assigns the new values back, so the
Keras variables stay the one source of truth (snapshots, pickling, ``model.predict``
see every update).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import jax
import keras
import numpy as np

__all__ = ["compile_steps", "limit_threads", "reader", "seed_framework"]


def compile_steps(model: keras.Model, x_ndim: int,
                  y_ndim: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``(train, predict)`` jit-compiled by JAX, which compiles once per batch shape.

    Fewer shapes, fewer compilations (each costs a second or more for an RNN):
    ``predict`` pads its batch to the next power of two rows (inference treats rows
    independently; the padding rows repeat the last one and are cut from the answer);
    ``train`` always passes sample weights (1 when none are given), and pads a batch
    smaller than the largest it has seen (an epoch's last) to that size with copies of
    its first row weighted 0, the real rows weighted ``padded / real`` (times their
    ``sample_weight``): Keras' own treatment of masked entries, which leaves a
    mean-reduced loss and its gradients as they were (within float rounding). Not for
    models with BatchNormalization (rows mix in training) or losses not reduced by
    their mean: those compile the smaller batch.
    """
    groups = (model.trainable_variables, model.non_trainable_variables,
              model.optimizer.variables, model.metrics_variables)
    train_step = jax.jit(model.train_step)
    kwargs = {"training": False} if model._call_has_training_arg else {}
    pads_training = _can_pad_training(model)
    largest: dict[tuple[int, ...], int] = {}  # rows of the largest batch, by sample shape

    @jax.jit
    def forward(trainable: Any, non_trainable: Any, x: Any) -> Any:
        return model.stateless_call(trainable, non_trainable, x, **kwargs)[0]

    def train(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> Any:
        rows = largest.setdefault(x.shape[1:] + y.shape[1:], len(x))
        if len(x) > rows:
            largest[x.shape[1:] + y.shape[1:]] = rows = len(x)
        if pads_training and len(x):  # always weighted: one compilation, padded or not
            x, y, sample_weight = _pad_weighted(x, y, sample_weight, rows)
        state = tuple([variable.value for variable in group] for group in groups)
        data = (x, y) if sample_weight is None else (x, y, sample_weight)
        logs, state = train_step(state, data)
        for group, values in zip(groups, state):
            for variable, value in zip(group, values):
                variable.assign(value)
        return logs["loss"]

    def predict(x: np.ndarray) -> Any:
        n = len(x)
        bucket = 1 << max(n - 1, 0).bit_length()
        if bucket != n:
            x = np.concatenate([x, np.repeat(x[-1:], bucket - n, axis=0)])
        y = forward([v.value for v in groups[0]], [v.value for v in groups[1]], x)
        return y if bucket == n else np.asarray(y)[:n]

    return train, predict


def _can_pad_training(model: keras.Model) -> bool:
    """Whether zero-weighted padding rows leave a training step as it was: no layer
    mixes rows in training (BatchNormalization), and the loss is reduced by its mean."""
    if any(isinstance(layer, keras.layers.BatchNormalization)
           for layer in model._flatten_layers()):
        return False
    loss = model.loss
    if isinstance(loss, keras.losses.Loss):
        return loss.reduction in ("sum_over_batch_size", "mean")
    return isinstance(loss, str) or callable(loss)  # wrapped with Keras' mean reduction


def _pad_weighted(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None,
                  rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, y, sample_weight)`` padded to ``rows`` rows (see :func:`compile_steps`)."""
    n, pad = len(x), rows - len(x)
    if sample_weight is None:  # one weight per loss value's row, as KerasModelStep shapes them
        sample_weight = np.ones((n,) + (1,) * max(y.ndim - 2, 0), np.float32)
    weight = np.asarray(sample_weight, np.float32)
    if not pad:  # weights of exactly 1 leave Keras' losses bitwise as they were
        return x, y, weight
    weight = weight * np.float32(rows / n)
    return (np.concatenate([x, np.repeat(x[:1], pad, axis=0)]),
            np.concatenate([y, np.repeat(y[:1], pad, axis=0)]),
            np.concatenate([weight, np.zeros((pad,) + weight.shape[1:], np.float32)]))


def reader(variables: list[Any]) -> Callable[[], list[np.ndarray]]:
    """Copies of the variables' values (device arrays: one transfer each)."""
    return lambda: [np.array(value) for value in jax.device_get([v.value for v in variables])]


def seed_framework(seed: int) -> Callable[[], None]:
    """Nothing to seed: JAX has no global generator (Keras' seed generators are all
    there is)."""
    return lambda: None


def limit_threads(threads: int) -> None:
    """Size XLA's CPU thread pools (read once, when JAX's CPU client starts).

    ``PJRT_NPROC`` is set to ``threads``: XLA sizes its CPU client's pools by it (the
    Eigen intra-op pool that splits one op over threads, and the pool running
    computations), ``NPROC`` being its fallback. With one thread, XLA is also told
    not to split ops over Eigen's pool (``--xla_cpu_multi_thread_eigen=false
    intra_op_parallelism_threads=1`` added to ``XLA_FLAGS``): each op runs on the
    thread that calls it. Settings already in the environment win: ``PJRT_NPROC`` or
    ``NPROC`` set leaves the pools alone, and ``--xla_cpu_multi_thread_eigen`` in
    ``XLA_FLAGS`` the flags. Once JAX's CPU client has started (a computation ran in
    this process), nothing here changes it.
    """
    if "PJRT_NPROC" not in os.environ and "NPROC" not in os.environ:
        os.environ["PJRT_NPROC"] = str(threads)
    flags = os.environ.get("XLA_FLAGS", "")
    if threads == 1 and "--xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = " ".join(
            [*flags.split(), "--xla_cpu_multi_thread_eigen=false",
             "intra_op_parallelism_threads=1"])
