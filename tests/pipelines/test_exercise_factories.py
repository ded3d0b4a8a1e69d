"""Seed 003's exercise factories: the seq2seq GRU trained through seed 003's composition
(EpochRepeater / ValidationSplit / MetricsWrapper / MiniBatch); tiny versions beat
their naive baselines on later samples, record train and validation curves, keep the
command line's keywords and survive save/load."""

import numpy as np
import pytest
from sklearn.base import is_regressor

from seqpipe import load, save
from seqpipe.datasets import load_exercise
from seqpipe.models import seq2seq_gru
from seqpipe.pipelines import EXERCISE_SETTINGS, exercise_pipeline
from seqpipe.steps import (
    DataShuffler,
    EpochRepeater,
    KerasModelStep,
    MeanStdNormalizer,
    MetricsWrapper,
    MiniBatch,
    TrainOnly,
    ValidationSplit,
)


def mse(a, b):
    return float(np.mean((np.asarray(a, dtype=float) - b) ** 2))


def parts(pipeline):
    """The composition's steps, outside in."""
    split = pipeline.step
    epoch_metrics = split.step
    shuffle, minibatch = epoch_metrics.step.named_steps.values()
    batch_metrics = minibatch.step
    normalizer, _, keras_step = batch_metrics.step.named_steps.values()
    return split, epoch_metrics, shuffle, minibatch, batch_metrics, normalizer, keras_step


@pytest.mark.parametrize("number", sorted(EXERCISE_SETTINGS))
def test_exercise_pipelines_are_seed003s_composition_with_their_settings(number):
    pipeline = exercise_pipeline(number)
    settings = EXERCISE_SETTINGS[number]
    assert isinstance(pipeline, EpochRepeater) and is_regressor(pipeline)
    split, epoch_metrics, shuffle, minibatch, batch_metrics, normalizer, keras_step = (
        parts(pipeline))
    assert isinstance(split, ValidationSplit) and split.validation_size == 0.15
    assert not split.shuffle and split.gap == "auto"  # time-ordered, leak-free
    assert isinstance(epoch_metrics, MetricsWrapper) and epoch_metrics.name == "epoch_metrics"
    assert isinstance(shuffle, TrainOnly) and isinstance(shuffle.step, DataShuffler)
    assert isinstance(minibatch, MiniBatch) and minibatch.batch_size == settings["batch_size"]
    assert isinstance(batch_metrics, MetricsWrapper) and batch_metrics.name == "batch_metrics"
    assert isinstance(normalizer, MeanStdNormalizer)
    assert normalizer.per_sample == settings["per_sample"]
    assert isinstance(keras_step, KerasModelStep) and keras_step.build_fn is seq2seq_gru
    assert keras_step.batch_size is None  # one gradient step per minibatch
    assert pipeline.epochs == settings["epochs"]
    assert (keras_step.hidden_dim, keras_step.learning_rate) == (
        settings["hidden_dim"], settings["learning_rate"])
    assert split.patience == settings.get("patience")
    assert split.restore_best_weights == settings.get("restore_best_weights", False)


def test_the_command_lines_keywords_reach_the_right_steps():
    pipeline = exercise_pipeline(2, epochs=3, batch_size=16, hidden_dim=5,
                                 learning_rate=0.02, random_state=7)
    split, _, shuffle, minibatch, _, _, keras_step = parts(pipeline)
    assert pipeline.epochs == 3 and minibatch.batch_size == 16
    assert (keras_step.hidden_dim, keras_step.learning_rate) == (5, 0.02)
    assert keras_step.random_state == 7 and shuffle.step.random_state == 7
    # and every other keyword of the model's pipeline or of the composition
    pipeline = exercise_pipeline(1, lambda_loss_amount=0.0, clipnorm=0.5, patience=2,
                                 per_sample=True)
    split, _, _, _, _, normalizer, keras_step = parts(pipeline)
    assert keras_step.lambda_loss_amount == 0.0 and keras_step.optimizer.clipnorm == 0.5
    assert split.patience == 2 and normalizer.per_sample is True
    with pytest.raises(TypeError, match="units"):
        exercise_pipeline(1, units=3)


@pytest.mark.parametrize("name", ["exercise1", "exercise2", "exercise3", "exercise4"])
def test_seqpipe_runs_options_reach_the_exercise_pipelines(name):
    from seqpipe.cli.exercises import EXERCISES, build_pipeline

    pipeline = build_pipeline(EXERCISES[name], epochs=2, batch_size=8, hidden_dim=3,
                              learning_rate=0.5, random_state=11)
    _, _, shuffle, minibatch, _, _, keras_step = parts(pipeline)
    assert (pipeline.epochs, minibatch.batch_size) == (2, 8)
    assert (keras_step.hidden_dim, keras_step.learning_rate) == (3, 0.5)
    assert keras_step.random_state == shuffle.step.random_state == 11


def test_tiny_exercise1_beats_its_baselines_and_records_its_curves(tmp_path):
    X, y = load_exercise(1, n_samples=400, random_state=0)
    train, test = slice(0, 330), slice(340, 400)  # in time, a gap of one future window
    pipeline = exercise_pipeline(1, epochs=6, batch_size=25).fit(X[train], y[train])

    history = pipeline.history_["epoch_metrics"]
    assert len(history["train"]["mse"]) == len(history["validation"]["mse"]) == 6
    assert history["validation"]["mse"][-1] < 0.5 * history["validation"]["mse"][0]
    assert len(pipeline.history_["batch_metrics"]["train"]["mse"]) > 6  # every minibatch

    y_pred = pipeline.predict(X[test])
    assert y_pred.shape == y[test].shape
    zero = mse(y[test], 0.0)
    last_value = mse(y[test], X[test][:, -1:, :])
    assert mse(y[test], y_pred) < 0.2 * min(zero, last_value)
    assert pipeline.score(X[test], y[test]) > 0.8  # R^2

    save(pipeline, tmp_path / "exercise1.seqpipe")
    np.testing.assert_array_equal(load(tmp_path / "exercise1.seqpipe").predict(X[test]), y_pred)


def test_early_stopping_puts_back_the_best_epochs_weights():
    X, y = load_exercise(2, n_samples=300, random_state=0)
    pipeline = exercise_pipeline(2, epochs=6, hidden_dim=6, batch_size=50,
                                 learning_rate=0.05, patience=1, restore_best_weights=True)
    pipeline.fit(X, y)
    split = pipeline.step_
    curve = pipeline.history_["epoch_metrics"]["validation"]["mse"]
    assert len(curve) == pipeline.n_epochs_ <= 6
    validation = split.validation_indices_
    # what the model predicts now is the best epoch's, not the last one's
    best = int(np.argmin(curve))
    assert split.best_epoch_ == best
    assert mse(y[validation], pipeline.predict(X[validation])) == pytest.approx(
        curve[best], rel=1e-5)

