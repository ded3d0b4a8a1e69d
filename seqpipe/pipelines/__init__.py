"""Ready-made, unfitted pipelines for the exercises of seed 003.

>>> from seqpipe.pipelines import exercise_pipeline
>>> pipe = exercise_pipeline(1, epochs=3)
>>> type(pipe).__name__, pipe.epochs
('EpochRepeater', 3)
>>> [v for k, v in pipe.get_params().items() if k.endswith("kerasmodelstep__hidden_dim")]
[12]
"""

from __future__ import annotations

from typing import Any

import keras

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
from seqpipe.pipelines.spaces import default_space
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
    "default_space",
]

#: Settings per exercise: normalization, model, optimizer and training composition.
#: Measured by ``benchmarks/bench_quality.py`` (the seed's data, the last 15 % held
#: out after a gap of one future window):
#:
#: - exercise 1: learning rate 1e-2, L2 1e-5, batches of 50: validation MSE 1.0e-4
#:   in 15 epochs (the seed's 1e-3 / 3e-4 / 100 give about 7e-3);
#: - exercises 2 and 3 (sums of two waves of random frequencies, 10,000 windows): a
#:   GRU of 64 units, no L2, Adam with gradients clipped to norm 1; the inner
#:   time-ordered validation part stops training after 6 epochs without progress
#:   and puts back the best epoch's weights. Exercise 2 (30 epochs of batches of 100,
#:   learning rate 6e-3) reaches 0.146x the predict-zero MSE (the seed's settings
#:   about 0.9x); exercise 3 (noisy inputs, windows of 30: twice the cost per epoch;
#:   18 epochs of batches of 50 at 3e-3) 0.487x (30 epochs: 0.465x in 2.3 times the
#:   time; batches of 100 at 6e-3 stay at 0.51x);
#: - exercise 4 (prices): each window normalized by its own statistics, stopped
#:   after 10 epochs without progress: 1.046x the last-value MSE (prices are close
#:   to a random walk).
EXERCISE_SETTINGS: dict[int, dict[str, Any]] = {
    1: {"per_sample": False, "hidden_dim": 12, "learning_rate": 1e-2,
        "lambda_loss_amount": 1e-5, "batch_size": 50, "epochs": 15},
    2: {"per_sample": False, "hidden_dim": 64, "learning_rate": 6e-3,
        "lambda_loss_amount": 0.0, "clipnorm": 1.0, "batch_size": 100, "epochs": 30,
        "patience": 6, "restore_best_weights": True},
    3: {"per_sample": False, "hidden_dim": 64, "learning_rate": 3e-3,
        "lambda_loss_amount": 0.0, "clipnorm": 1.0, "batch_size": 50, "epochs": 18,
        "patience": 6, "restore_best_weights": True},
    4: {"per_sample": True, "hidden_dim": 35, "learning_rate": 1e-3,
        "lambda_loss_amount": 1e-5, "batch_size": 50, "epochs": 50,
        "patience": 10, "restore_best_weights": True},
}

#: Keywords of :func:`exercise_pipeline` that configure the training composition
#: (:func:`seed003_training`) rather than the signal-prediction pipeline.
_TRAINING_KEYWORDS = ("epochs", "batch_size", "validation_size", "patience",
                      "restore_best_weights", "metrics", "verbose")


def signal_prediction_pipeline(
    *,
    per_sample: bool = False,
    hidden_dim: int = 12,
    layers_stacked_count: int = 2,
    lambda_loss_amount: float = 3e-4,
    learning_rate: float = 1e-3,
    clipnorm: float | None = None,
    batch_size: int | None = 100,
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
        Passed to :class:`seqpipe.steps.KerasModelStep` (``batch_size`` and
        ``epochs`` are those of its own ``fit``; inside a MiniBatch, set
        ``batch_size=None``: one gradient step per minibatch).
    clipnorm : float or None, default=None
        Clip each gradient to this norm (``keras.optimizers.Adam(clipnorm=...)``);
        ``None``: plain Adam.

    Returns
    -------
    Pipeline
        Unfitted; ``fit(X, y)`` with X (n, past, d) and y (n, future, d).

    Examples
    --------
    >>> from seqpipe.pipelines import signal_prediction_pipeline
    >>> pipeline = signal_prediction_pipeline(hidden_dim=8, epochs=2)
    >>> list(pipeline.named_steps)
    ['meanstdnormalizer', 'tonumpy', 'kerasmodelstep']
    >>> pipeline.get_params()["kerasmodelstep__hidden_dim"]
    8
    """
    optimizer = "adam" if clipnorm is None else keras.optimizers.Adam(clipnorm=clipnorm)
    return Pipeline([
        MeanStdNormalizer(per_sample=per_sample),
        ToNumpy(),
        KerasModelStep(
            seq2seq_gru, hidden_dim=hidden_dim, layers_stacked_count=layers_stacked_count,
            lambda_loss_amount=lambda_loss_amount, optimizer=optimizer,
            learning_rate=learning_rate, batch_size=batch_size, epochs=epochs,
            random_state=random_state,
        ),
    ])


def exercise_pipeline(number: int, **overrides: Any) -> EpochRepeater:
    """Exercise ``number`` (1-4) of seed 003: the seq2seq GRU trained through seed
    003's composition, with the settings of :data:`EXERCISE_SETTINGS`.

    ``seed003_training(signal_prediction_pipeline(...))``: an
    ``EpochRepeater(ValidationSplit(MetricsWrapper(Pipeline([TrainOnly(DataShuffler()),
    MiniBatch(MetricsWrapper(signal_prediction))]))))``. The last 15 % of the samples
    given to ``fit`` (after the gap of :func:`seqpipe._time_split.resolve_gap`)
    validate every epoch; ``history_["epoch_metrics"]`` holds the train and validation
    MSE curves, ``history_["batch_metrics"]`` the MSE of every minibatch.

    Parameters
    ----------
    number : int
        Exercise number, as in :func:`seqpipe.datasets.load_exercise`.
    **overrides
        ``epochs``, ``batch_size``, ``validation_size``, ``patience``,
        ``restore_best_weights``, ``metrics`` and ``verbose`` go to
        :func:`seed003_training`; any other keyword of
        :func:`signal_prediction_pipeline` (``hidden_dim``, ``learning_rate``,
        ``clipnorm``, ``lambda_loss_amount``, ``per_sample``...) to the model's
        pipeline; ``random_state`` seeds both (the model and the shuffling).

    Returns
    -------
    EpochRepeater
        Unfitted; a scikit-learn regressor (``fit``, ``predict``, ``score``,
        ``get_params``/``set_params``), savable with :func:`seqpipe.save`.

    Examples
    --------
    >>> from seqpipe.pipelines import exercise_pipeline
    >>> pipeline = exercise_pipeline(2, epochs=5)          # keyword arguments override
    >>> type(pipeline).__name__, pipeline.epochs
    ('EpochRepeater', 5)
    """
    if number not in EXERCISE_SETTINGS:
        raise ValueError(f"The 'number' parameter of exercise_pipeline must be one of "
                         f"{sorted(EXERCISE_SETTINGS)}. Got {number!r} instead.")
    settings = {**EXERCISE_SETTINGS[number], **overrides}
    training = {key: settings.pop(key) for key in _TRAINING_KEYWORDS if key in settings}
    random_state = settings.pop("random_state", 0)
    signal_prediction = signal_prediction_pipeline(
        **settings, batch_size=None, epochs=1, random_state=random_state)
    return seed003_training(signal_prediction, random_state=random_state, **training)


def seed003_training(
    signal_prediction: Any,
    *,
    epochs: int = 15,
    batch_size: int = 100,
    validation_size: float = 0.15,
    patience: int | None = None,
    restore_best_weights: bool = False,
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
    patience, restore_best_weights
        Passed to ValidationSplit: stop after ``patience`` epochs without a better
        validation MSE; put back the best epoch's weights at the end.
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

    Examples
    --------
    >>> from sklearn.linear_model import SGDRegressor
    >>> from seqpipe.pipelines import seed003_training
    >>> training = seed003_training(SGDRegressor(), epochs=3, batch_size=50)
    >>> type(training).__name__, training.epochs, training.step.validation_size
    ('EpochRepeater', 3, 0.15)
    """

    def measured(step: Any, name: str, verbose: int = 0) -> Any:
        return MetricsWrapper(step, name=name, verbose=verbose) if metrics else step

    return EpochRepeater(
        ValidationSplit(
            measured(Pipeline([
                TrainOnly(DataShuffler(random_state=random_state)),
                MiniBatch(measured(signal_prediction, "batch_metrics"), batch_size=batch_size),
            ]), "epoch_metrics", verbose),
            validation_size=validation_size, patience=patience,
            restore_best_weights=restore_best_weights),
        epochs=epochs, verbose=verbose)
