"""Seed 003's composition with a real Keras model."""

import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

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


@pytest.fixture(scope="module")
def small():
    X, y = load_exercise(1, n_samples=200, random_state=0)
    model = seed003_training(signal_prediction(hidden_dim=4, layers_stacked_count=1),
                             epochs=2, batch_size=50)
    return X, y, model.fit(X, y)


def test_composition_pickles_and_reloads_identically(small):
    X, y, model = small
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict(X), model.predict(X))
    assert np.isfinite(model.score(X, y))


def test_deep_params_reach_the_keras_step(small):
    _, _, model = small
    key = "step__step__step__minibatch__step__step__plotpredictions__step__hidden_dim"
    assert model.get_params()[key] == 4
    model.set_params(**{key: 3})
    keras_steps = [s for s in iter_steps(model) if isinstance(s, KerasModelStep)]
    assert len(keras_steps) == 1 and keras_steps[0].hidden_dim == 3


def test_grid_search_over_epochs():
    X, y = load_exercise(1, n_samples=120, random_state=0)
    model = seed003_training(signal_prediction(hidden_dim=3, layers_stacked_count=1),
                             epochs=1, batch_size=40, metrics=False)
    search = GridSearchCV(model, {"epochs": [1, 2]}, cv=2).fit(X, y)
    assert search.best_params_["epochs"] in (1, 2)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


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
