"""Ready-made, unfitted pipelines for the exercises of seed 003.

>>> from seqpipe.pipelines import exercise_pipeline
>>> pipe = exercise_pipeline(1)
>>> pipe.get_params()["kerasmodelstep__hidden_dim"]
12
"""

from __future__ import annotations

from typing import Any

from seqpipe.models import seq2seq_gru
from seqpipe.pipeline import Pipeline
from seqpipe.pipelines._classifier import OneHotClassifier
from seqpipe.pipelines.seeds import (
    SEED001_SETTINGS,
    echo_pipeline,
    noisy_sine_pipeline,
    sin_cos_pipeline,
    sin_pipeline,
    window_regressor_pipeline,
    x_sin_pipeline,
)
from seqpipe.pipelines.stock import stock_pipeline
from seqpipe.steps import (
    DataShuffler,
    EpochRepeater,
    KerasModelStep,
    MeanStdNormalizer,
    MetricsWrapper,
    MiniBatch,
    ToNumpy,
    TrainOnly,
    ValidationSplit,
)

__all__ = [
    "EXERCISE_SETTINGS",
    "SEED001_SETTINGS",
    "OneHotClassifier",
    "echo_pipeline",
    "exercise_pipeline",
    "noisy_sine_pipeline",
    "seed003_training",
    "signal_prediction_pipeline",
    "sin_cos_pipeline",
    "sin_pipeline",
    "stock_pipeline",
    "window_regressor_pipeline",
    "x_sin_pipeline",
]

#: Settings per exercise: normalization and KerasModelStep parameters. Exercise 1
#: uses per-feature statistics, learning rate 1e-2 and L2 1e-5, which reach a
#: validation MSE of about 3e-4 in 15 epochs (the seed's 1e-3 / 3e-4 give about 7e-3);
#: exercise 4 (prices) normalizes each window by its own statistics.
EXERCISE_SETTINGS: dict[int, dict[str, Any]] = {
    1: {"per_sample": False, "hidden_dim": 12, "learning_rate": 1e-2,
        "lambda_loss_amount": 1e-5, "batch_size": 100, "epochs": 15},
    2: {"per_sample": False, "hidden_dim": 35, "learning_rate": 1e-2,
        "lambda_loss_amount": 1e-5, "batch_size": 50, "epochs": 1},
    3: {"per_sample": False, "hidden_dim": 35, "learning_rate": 1e-2,
        "lambda_loss_amount": 1e-5, "batch_size": 50, "epochs": 1},
    4: {"per_sample": True, "hidden_dim": 35, "learning_rate": 1e-3,
        "lambda_loss_amount": 1e-5, "batch_size": 50, "epochs": 50},
}


def signal_prediction_pipeline(
    *,
    per_sample: bool = False,
    hidden_dim: int = 12,
    layers_stacked_count: int = 2,
    lambda_loss_amount: float = 3e-4,
    learning_rate: float = 1e-3,
    batch_size: int = 100,
    epochs: int = 15,
    random_state: int | None = 0,
) -> Pipeline:
    """The signal-prediction pipeline of seed 003: normalize, to numpy, seq2seq GRU.

    Parameters
    ----------
    per_sample : bool, default=False
        Normalize each window by its own statistics instead of learned ones.
    hidden_dim, layers_stacked_count, lambda_loss_amount
        Passed to :func:`seqpipe.models.seq2seq_gru`.
    learning_rate, batch_size, epochs, random_state
        Passed to :class:`seqpipe.steps.KerasModelStep`.

    Returns
    -------
    Pipeline
        Unfitted; ``fit(X, y)`` with X (n, past, d) and y (n, future, d).
    """
    return Pipeline([
        MeanStdNormalizer(per_sample=per_sample),
        ToNumpy(),
        KerasModelStep(
            seq2seq_gru, hidden_dim=hidden_dim, layers_stacked_count=layers_stacked_count,
            lambda_loss_amount=lambda_loss_amount, learning_rate=learning_rate,
            batch_size=batch_size, epochs=epochs, random_state=random_state,
        ),
    ])


def exercise_pipeline(number: int, **overrides: Any) -> Pipeline:
    """The signal-prediction pipeline with the settings of exercise ``number`` (1-4).

    Parameters
    ----------
    number : int
        Exercise number, as in :func:`seqpipe.datasets.load_exercise`.
    **overrides
        Any keyword of :func:`signal_prediction_pipeline`.
    """
    if number not in EXERCISE_SETTINGS:
        raise ValueError(f"The 'number' parameter of exercise_pipeline must be one of "
                         f"{sorted(EXERCISE_SETTINGS)}. Got {number!r} instead.")
    return signal_prediction_pipeline(**{**EXERCISE_SETTINGS[number], **overrides})


def seed003_training(
    signal_prediction: Any,
    *,
    epochs: int = 15,
    batch_size: int = 100,
    validation_size: float = 0.15,
    metrics: bool = True,
    random_state: int | None = 0,
    verbose: int = 0,
) -> EpochRepeater:
    """Seed 003's training composition around a signal-prediction pipeline.

    ``EpochRepeater(ValidationSplit(MetricsWrapper(Pipeline([TrainOnly(DataShuffler()),
    MiniBatch(MetricsWrapper(signal_prediction), batch_size)])), validation_size),
    epochs)``, as in the Neuraxle notebook, with seqpipe's names.

    Parameters
    ----------
    signal_prediction : step
        What is trained batch by batch, e.g. ``Pipeline([MeanStdNormalizer(),
        ToNumpy(), PlotPredictions(KerasModelStep(seq2seq_gru, ...))])``.
    epochs, batch_size, validation_size
        Passed to EpochRepeater, MiniBatch and ValidationSplit.
    metrics : bool, default=True
        Record MSE per batch (``"batch_metrics"``) and per epoch (``"epoch_metrics"``).
    random_state : int or None, default=0
        Seed of the DataShuffler.
    verbose : int, default=0
        Print the epoch metrics and show a progress bar.

    Returns
    -------
    EpochRepeater
        Unfitted.
    """

    def measured(step: Any, name: str, verbose: int = 0) -> Any:
        return MetricsWrapper(step, name=name, verbose=verbose) if metrics else step

    return EpochRepeater(
        ValidationSplit(
            measured(Pipeline([
                TrainOnly(DataShuffler(random_state=random_state)),
                MiniBatch(measured(signal_prediction, "batch_metrics"), batch_size=batch_size),
            ]), "epoch_metrics", verbose),
            validation_size=validation_size),
        epochs=epochs, verbose=verbose)
