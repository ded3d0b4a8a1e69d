"""The exercises ``seqpipe run`` knows: for each name, its data, its pipeline and its kind.

Three kinds of exercise:

- ``"seq2seq"`` (seed 003, ``exercise1`` to ``exercise4``): windows of the past, y the
  future windows ``(n, future, d)``;
- ``"next"`` (seeds 000 and 001): windows of the past, y the next value ``(n, d)``;
- ``"classify"`` (seed 004, ``echo``): one-hot sequences, y integer classes ``(n,)``.

The command line's options map onto each factory's keywords here: ``--hidden-dim`` is
``hidden_dim`` for the seq2seq GRU and ``units`` for the LSTMs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from seqpipe.datasets import (
    load_exercise,
    make_echo_sequences,
    make_noisy_sine,
    make_sin,
    make_sin_cos,
    make_x_sin,
)

__all__ = ["EXERCISES", "Exercise", "build_pipeline"]


@dataclass(frozen=True)
class Exercise:
    """One runnable exercise.

    ``load(n_samples, random_state)`` returns ``(X, y)`` (``n_samples=None``: the seed's
    size); ``factory`` names a function of :mod:`seqpipe.pipelines`, called with
    ``factory_args`` then the keywords; ``hidden`` is the factory's keyword for
    ``--hidden-dim``.
    """

    description: str
    kind: str
    load: Callable[[int | None, int], tuple[np.ndarray, np.ndarray]]
    factory: str
    factory_args: tuple[Any, ...] = ()
    hidden: str = "units"


def _exercise(number: int) -> Callable[[int | None, int], tuple[np.ndarray, np.ndarray]]:
    return lambda n, seed: load_exercise(number, n_samples=n, random_state=seed)


def _generated(make: Callable[..., tuple[np.ndarray, np.ndarray]]
               ) -> Callable[[int | None, int], tuple[np.ndarray, np.ndarray]]:
    return lambda n, seed: make(random_state=seed) if n is None else make(
        n, random_state=seed)


EXERCISES: dict[str, Exercise] = {
    "exercise1": Exercise("seed 003: seq2seq GRU, sine and cosine of the same phase",
                          "seq2seq", _exercise(1), "exercise_pipeline", (1,), "hidden_dim"),
    "exercise2": Exercise("seed 003: seq2seq GRU, sum of two waves of random frequencies",
                          "seq2seq", _exercise(2), "exercise_pipeline", (2,), "hidden_dim"),
    "exercise3": Exercise("seed 003: seq2seq GRU, exercise 2 with noise on the input",
                          "seq2seq", _exercise(3), "exercise_pipeline", (3,), "hidden_dim"),
    "exercise4": Exercise("seed 003: seq2seq GRU, daily Bitcoin closes in USD and EUR",
                          "seq2seq", _exercise(4), "exercise_pipeline", (4,), "hidden_dim"),
    "noisy-sine": Exercise("seed 000: LSTM, next value of a noisy sine (window 10)",
                           "next", _generated(make_noisy_sine), "noisy_sine_pipeline"),
    "sin": Exercise("seed 001: LSTM, next value of sin(x) (window 5)",
                    "next", _generated(make_sin), "sin_pipeline"),
    "sin-cos": Exercise("seed 001: LSTM, next (sin(x), cos(x)) pair (window 5)",
                        "next", _generated(make_sin_cos), "sin_cos_pipeline"),
    "x-sin": Exercise("seed 001: LSTM, next value of x sin(x) (window 5)",
                      "next", _generated(make_x_sin), "x_sin_pipeline"),
    "echo": Exercise("seed 004: LSTM classifier, echo the value at position 7 of a "
                     "one-hot sequence", "classify", _generated(make_echo_sequences),
                     "echo_pipeline"),
}


def build_pipeline(exercise: Exercise, *, epochs: int | None, batch_size: int | None,
                   hidden_dim: int | None, learning_rate: float | None,
                   random_state: int) -> Any:
    """The exercise's unfitted pipeline, with the options given (``None``: the default)."""
    import seqpipe.pipelines as pipelines  # Keras

    options = {"epochs": epochs, "batch_size": batch_size, exercise.hidden: hidden_dim,
               "learning_rate": learning_rate}
    overrides = {key: value for key, value in options.items() if value is not None}
    factory = getattr(pipelines, exercise.factory)
    return factory(*exercise.factory_args, random_state=random_state, **overrides)
