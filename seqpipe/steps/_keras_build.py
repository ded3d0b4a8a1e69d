"""From KerasModelStep's parameters to a compiled Keras model and its traced functions.

Four things, in the order ``KerasModelStep`` does them when it builds a model:

- **routing**: :func:`check_model_params` refuses model params ``build_fn`` does not
  accept; :func:`builder_kwargs` picks, from the shapes of the data, the arguments
  ``build_fn`` names (``input_dim``, ``output_dim``, ``window_size_past``, ...);
- **the optimizer**: :func:`check_optimizer` validates the ``optimizer`` parameter
  (a name, a class or an instance); :func:`make_optimizer` builds a fresh optimizer
  from it, never sharing an instance; :func:`set_learning_rate` changes the learning
  rate of a built one in place;
- **compiling**: :func:`compile_model` compiles and builds the optimizer's variables;
- **tracing**: :func:`trace` returns the train step and forward pass traced once by
  TensorFlow for batches of any size.

>>> import keras
>>> optimizer, own = make_optimizer(keras.optimizers.Adam(clipnorm=1.0), learning_rate=0.01)
>>> type(optimizer).__name__, optimizer.clipnorm, round(float(optimizer.learning_rate), 6)
('Adam', 1.0, 0.01)
>>> round(own, 6)  # Adam's default, which learning_rate=None would have kept
0.001
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from typing import Any

import keras

from seqpipe import _backends as backends

__all__ = [
    "builder_kwargs",
    "check_learning_rate",
    "check_model_params",
    "check_optimizer",
    "compile_model",
    "make_optimizer",
    "set_learning_rate",
    "trace",
]

_OPTIMIZER_EXPECTED = ("a str naming a Keras optimizer (e.g. 'adam'), a "
                       "keras.optimizers.Optimizer subclass or an instance of one")


# ---------------------------------------------------------------------- routing
def accepted_names(build_fn: Callable[..., Any]) -> set[str] | None:
    """Keyword names ``build_fn`` accepts, or None when it takes ``**kwargs``."""
    try:
        parameters = inspect.signature(build_fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.kind is not inspect.Parameter.VAR_POSITIONAL}


def check_model_params(build_fn: Callable[..., Any], names: list[str]) -> None:
    """Refuse model params that ``build_fn`` does not accept, before anything is built."""
    if not callable(build_fn):
        raise TypeError(f"The 'build_fn' parameter of KerasModelStep must be a callable "
                        f"returning a keras.Model. Got {build_fn!r} instead.")
    accepted = accepted_names(build_fn)
    if accepted is None:
        return
    unknown = sorted(set(names) - accepted)
    if unknown:
        raise ValueError(
            f"build_fn {getattr(build_fn, '__name__', build_fn)!r} does not accept the "
            f"model parameter(s) {unknown}; it accepts {sorted(accepted)}."
        )


def builder_kwargs(build_fn: Callable[..., Any], X_shape: tuple[int, ...],
                   y_shape: tuple[int, ...]) -> dict[str, Any]:
    """The shape arguments ``build_fn`` names, from one sample's shapes of X and y."""
    kwargs = {
        "input_dim": X_shape[-1],
        "output_dim": y_shape[-1] if y_shape else 1,
        "window_size_past": X_shape[0] if len(X_shape) > 1 else None,
        "window_size_future": y_shape[0] if len(y_shape) > 1 else None,
        "input_shape": X_shape,
        "output_shape": y_shape,
    }
    accepted = accepted_names(build_fn)
    return kwargs if accepted is None else {k: v for k, v in kwargs.items() if k in accepted}


# ---------------------------------------------------------------------- optimizer
def check_optimizer(optimizer: Any) -> None:
    """Raise a ValueError unless ``optimizer`` names, is, or is the class of a Keras
    optimizer."""
    _optimizer_class_and_config(optimizer)


def check_learning_rate(learning_rate: Any) -> None:
    """Raise a ValueError unless ``learning_rate`` is None or a float > 0."""
    if learning_rate is None:
        return
    if (isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real)
            or not learning_rate > 0):
        raise ValueError(f"The 'learning_rate' parameter of KerasModelStep must be a float "
                         f"in the range (0, inf) or None. Got {learning_rate!r} instead.")


def make_optimizer(optimizer: Any,
                   learning_rate: float | None) -> tuple[keras.optimizers.Optimizer, Any]:
    """A fresh optimizer from ``optimizer`` (name, class or instance: its config is copied,
    the instance itself is never used), with ``learning_rate`` if it is not None; and the
    learning rate ``optimizer`` has on its own (a float, or a serialized schedule)."""
    cls, config = _optimizer_class_and_config(optimizer)
    own_learning_rate = config["learning_rate"]
    if learning_rate is not None:
        config["learning_rate"] = float(learning_rate)
    return cls.from_config(config), own_learning_rate


def set_learning_rate(optimizer: keras.optimizers.Optimizer, learning_rate: Any) -> None:
    """Assign ``learning_rate`` to a built optimizer, in place (traced steps see it)."""
    current = optimizer.learning_rate
    if not isinstance(current, keras.Variable) or not isinstance(learning_rate, float):
        raise ValueError(
            f"Cannot change the learning rate of a built model between a float and a "
            f"LearningRateSchedule (from {current!r} to {learning_rate!r}); call fit or "
            f"adapt to build the model again with it."
        )
    current.assign(learning_rate)


def _optimizer_class_and_config(optimizer: Any) -> tuple[type, dict[str, Any]]:
    if isinstance(optimizer, keras.optimizers.Optimizer):
        instance = optimizer
    elif isinstance(optimizer, type) and issubclass(optimizer, keras.optimizers.Optimizer):
        instance = optimizer()
    elif isinstance(optimizer, str):
        try:
            instance = keras.optimizers.get(optimizer)
        except ValueError:
            instance = None
    else:
        instance = None
    if instance is None:
        raise ValueError(f"The 'optimizer' parameter of KerasModelStep must be "
                         f"{_OPTIMIZER_EXPECTED}. Got {optimizer!r} instead.")
    return type(instance), instance.get_config()


# ---------------------------------------------------------------------- compiling
def compile_model(model: Any, optimizer: keras.optimizers.Optimizer, loss: Any) -> None:
    """Compile ``model`` and create its optimizer's variables (moments, iteration count),
    so that the training state is complete before the first update."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"build_fn must return a keras.Model, got {type(model).__name__}.")
    model.compile(optimizer=optimizer, loss=loss)
    optimizer.build(model.trainable_variables)


# ---------------------------------------------------------------------- tracing
def trace(model: keras.Model, x_ndim: int, y_ndim: int) -> tuple[Callable[..., Any],
                                                                 Callable[..., Any]]:
    """``(train, predict)``: one gradient step on ``(x, y)`` (weighted per sample by an
    optional ``sample_weight``, as in ``model.fit``) returning the loss (Keras' running
    mean since the metrics were last reset), and the forward pass on ``x``.

    Compiled by the backend Keras runs on (see :mod:`seqpipe._backends`): traced once by
    TensorFlow for batches of any size, jit-compiled stateless steps on JAX.
    """
    return backends.current().compile_steps(model, x_ndim, y_ndim)
