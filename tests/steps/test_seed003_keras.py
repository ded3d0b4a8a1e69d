"""Seed 003's composition with a real Keras model: the exercise-1 target, divergence."""

import numpy as np
import pytest

from seqpipe import Pipeline
from seqpipe.base import DivergedError, iter_steps
from seqpipe.datasets import load_exercise
from seqpipe.models import seq2seq_gru
from seqpipe.pipelines import seed003_training
from seqpipe.steps import KerasModelStep, MeanStdNormalizer, PlotPredictions, ToNumpy


def signal_prediction(**model_params):
    params = {"hidden_dim": 12, "layers_stacked_count": 2, "lambda_loss_amount": 1e-5,
              "learning_rate": 1e-2, "random_state": 0, **model_params}
    return Pipeline([MeanStdNormalizer(), ToNumpy(),
                     PlotPredictions(KerasModelStep(seq2seq_gru, **params))])


def test_exercise1_reaches_the_target_validation_mse():
    X, y = load_exercise(1, random_state=0)
    model = seed003_training(signal_prediction(), epochs=15, batch_size=100).fit(X, y)
    validation_mse = model.history_["epoch_metrics"]["validation"]["mse"]
    assert len(validation_mse) == 15
    assert validation_mse[-1] <= 5e-4
    assert model.predict(X[:5]).shape == (5, 10, 2)


def test_nan_loss_mid_training_names_epoch_and_batch_and_keeps_finite_weights():
    X, y = load_exercise(1, n_samples=200, random_state=0)
    y = y.copy()
    y[60] = 1e25  # its squared error overflows float32: the loss becomes inf in one batch
    model = seed003_training(signal_prediction(hidden_dim=4, layers_stacked_count=1),
                             epochs=2, batch_size=50)
    with pytest.raises(DivergedError, match=r"at epoch 0, batch [0-3]\. Weights were "
                                            r"restored to their values before the first epoch"):
        model.fit(X, y)
    keras_step = [s for s in iter_steps(model) if isinstance(s, KerasModelStep)][0]
    assert all(np.isfinite(w).all() for w in keras_step.get_weights())
    assert np.isfinite(model.predict(X[:5])).all()
