"""Snapshots of a compiled Keras model's training state, and putting them back.

Training changes more than a model's weights: the optimizer's variables (Adam's
iteration count and moments), the states of the model's random-seed generators
(dropout) and the running loss that Keras' train step reports. :func:`snapshot`
copies all of it into a :class:`TrainingState`; :func:`restore` assigns it back in
place, so traced functions that captured the variables keep working. The optimizer's
learning rate is a setting, not training state: it is neither saved nor restored.

One implementation serves ``KerasModelStep.get_training_state``/``set_training_state``
(the meta-steps' checkpoints), its pickling, and :class:`NonFiniteGuard` (``fit``'s
return to the last finite epoch).

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> model.compile(optimizer="adam", loss="mse")
>>> model.optimizer.build(model.trainable_variables)
>>> state = snapshot(model)
>>> _ = model.train_on_batch(np.ones((4, 2)), np.ones((4, 1)))
>>> restore(model, state)
>>> int(model.optimizer.iterations)
0
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from seqpipe import _backends as backends
from seqpipe.base import DivergedError

__all__ = ["NonFiniteGuard", "TrainingState", "restore", "snapshot"]


@dataclass(frozen=True, eq=False, repr=False)
class TrainingState:
    """Copies of the values of a model's training variables (see :func:`snapshot`)."""

    values: tuple[np.ndarray, ...]

    def __repr__(self) -> str:
        size = sum(value.nbytes for value in self.values)
        return f"TrainingState({len(self.values)} variables, {size} bytes)"


def training_variables(model: keras.Model) -> list[Any]:
    """Every variable training changes: the model's (weights and random-seed states),
    the optimizer's but its learning rate, and the compiled metrics' (running loss)."""
    optimizer = model.optimizer
    learning_rate = optimizer.learning_rate
    return [*model.variables,
            *(variable for variable in optimizer.variables if variable is not learning_rate),
            *model.metrics_variables]


def snapshot(model: keras.Model) -> TrainingState:
    """Copies of the training state of a compiled ``model``."""
    return TrainingState(tuple(_reader(model)()))


_READERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _reader(model: keras.Model) -> Callable[[], list[np.ndarray]]:
    """A function returning copies of the values of ``model``'s training variables.

    The backend's reader (on TensorFlow, one traced call reads them all: several times
    faster than reading each variable eagerly; a checkpoint is taken every epoch).
    Cached per model, and made anew if its variables change (e.g. the optimizer is
    built later).
    """
    variables = training_variables(model)
    key = tuple(map(id, variables))
    cached = _READERS.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    read = backends.current().reader(variables)
    _READERS[model] = key, read
    return read


def restore(model: keras.Model, state: TrainingState) -> None:
    """Assign ``state`` (from :func:`snapshot` of a model of the same architecture) to
    ``model``'s variables, in place."""
    if not isinstance(state, TrainingState):
        raise TypeError(f"Expected a training state from get_training_state(), got "
                        f"{type(state).__name__}.")
    variables = training_variables(model)
    shapes = [tuple(variable.shape) for variable in variables]
    if shapes != [value.shape for value in state.values]:
        raise ValueError(f"The training state does not match this model: it holds "
                         f"{len(state.values)} variables, the model has {len(variables)} "
                         f"(or their shapes differ). Was it taken from another model?")
    for variable, value in zip(variables, state.values):
        variable.assign(value)


class NonFiniteGuard(keras.callbacks.Callback):
    """Stop ``model.fit`` on a non-finite loss; :meth:`raise_if_diverged` then restores
    the training state of the end of the last finite epoch and raises a DivergedError."""

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.epoch, self.diverged_at, self.saved = 0, None, snapshot(self.model)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self.epoch, batch, float(loss))
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.diverged_at is None:
            self.saved = snapshot(self.model)

    def raise_if_diverged(self, model: keras.Model) -> None:
        """Restore the last finite state and raise, if training diverged."""
        if self.diverged_at is None:
            return
        epoch, batch, loss = self.diverged_at
        restore(model, self.saved)
        raise DivergedError(loss, epoch=epoch, batch=batch,
                            restored="the end of the last finite epoch")
