"""The composition of DESIGN.md §1 (seed 003), built step by step, with a tiny Keras model.

Kept small: 200 samples of exercise 1, hidden_dim=4, one GRU layer, 2 epochs.
"""

import io
import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV

from seqpipe import Pipeline
from seqpipe.base import iter_steps
from seqpipe.datasets import load_exercise
from seqpipe.models import seq2seq_gru
from seqpipe.steps import (
    DataShuffler,
    EpochRepeater,
    KerasModelStep,
    MeanStdNormalizer,
    MetricsWrapper,
    MiniBatch,
    PlotPredictions,
    ToNumpy,
    TrainOnly,
    ValidationSplit,
)

EPOCHS = 2
BATCH_SIZE = 100
MINIBATCH = "step__step__step__minibatch"  # EpochRepeater > ValidationSplit > MetricsWrapper
KERAS = f"{MINIBATCH}__step__step__plotpredictions__step"  # > MetricsWrapper > Pipeline
HIDDEN_DIM_KEY = f"{KERAS}__hidden_dim"
BATCH_SIZE_KEY = f"{MINIBATCH}__batch_size"


def composition(epochs=EPOCHS, batch_size=BATCH_SIZE):
    """DESIGN.md §1, with tiny sizes and a seeded Keras step."""
    signal_prediction = Pipeline([
        MeanStdNormalizer(),
        ToNumpy(),
        PlotPredictions(KerasModelStep(seq2seq_gru, hidden_dim=4, layers_stacked_count=1,
                                       lambda_loss_amount=3e-4, learning_rate=1e-3,
                                       random_state=0)),
    ])
    return EpochRepeater(
        ValidationSplit(
            MetricsWrapper(Pipeline([
                TrainOnly(DataShuffler(random_state=0)),
                MiniBatch(MetricsWrapper(signal_prediction, name="batch_metrics"),
                          batch_size=batch_size),
            ]), name="epoch_metrics", verbose=1),
            validation_size=0.15),
        epochs=epochs)


def find(model, cls):
    found = [step for step in iter_steps(model) if isinstance(step, cls)]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def data():
    return load_exercise(1, n_samples=200, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    model = composition()
    assert model.fit(X, y) is model
    return model


def test_fits_and_predicts_in_y_units(data, fitted):
    X, y = data
    y_pred = fitted.predict(X)
    assert y_pred.shape == y.shape == (200, 10, 2)
    assert np.isfinite(y_pred).all()
    # the Keras model works in normalized units; predictions come back in y's units
    normalizer, keras_step = find(fitted, MeanStdNormalizer), find(fitted, KerasModelStep)
    raw = keras_step.predict(normalizer.transform(X).astype(np.float32))
    np.testing.assert_allclose(y_pred, raw * normalizer.std_ + normalizer.mean_,
                               rtol=1e-4, atol=2e-5)
    assert not np.allclose(normalizer.mean_, 0.0) or not np.allclose(normalizer.std_, 1.0)
    assert fitted.n_epochs_ == EPOCHS


def test_history_has_epoch_and_batch_metrics(fitted):
    history = fitted.history_
    assert set(history) == {"epoch_metrics", "batch_metrics"}
    epoch = history["epoch_metrics"]
    assert len(epoch["train"]["mse"]) == len(epoch["validation"]["mse"]) == EPOCHS
    # 160 training rows (the last 30 validate, the 10 before them are the gap): 100 and 60
    batches = history["batch_metrics"]
    assert len(batches["train"]["mse"]) == 2 * EPOCHS
    assert batches["validation"]["mse"] == []
    split = fitted.step_
    np.testing.assert_allclose(epoch["validation"]["mse"],
                               [-score for score in split.validation_scores_])
    values = [v for h in history.values() for s in h.values() for vs in s.values() for v in vs]
    assert np.isfinite(values).all()


def test_normalizer_sees_the_training_rows_only(data, fitted):
    X, y = data
    split = fitted.step_
    np.testing.assert_array_equal(split.validation_indices_, np.arange(170, 200))
    # windows of 10 future steps: the 10 windows before the validation part are left out
    assert split.gap_ == y.shape[1] == 10
    np.testing.assert_array_equal(split.train_indices_, np.arange(160))
    normalizer = find(fitted, MeanStdNormalizer)
    np.testing.assert_allclose(normalizer.mean_, X[:160].mean(axis=(0, 1)), rtol=1e-6)
    np.testing.assert_allclose(normalizer.std_, X[:160].std(axis=(0, 1)), rtol=1e-6)


def test_clone_and_deep_params_reach_the_keras_step(fitted):
    params = fitted.get_params()
    assert params[HIDDEN_DIM_KEY] == 4
    assert params[BATCH_SIZE_KEY] == BATCH_SIZE
    assert params["step__validation_size"] == 0.15
    assert params["step__step__name"] == "epoch_metrics"
    assert params[f"{MINIBATCH}__step__name"] == "batch_metrics"
    assert "step__step__step__steps" in params
    assert [k for k in params if k.endswith("__hidden_dim")] == [HIDDEN_DIM_KEY]

    copy = clone(fitted)
    assert not hasattr(copy, "step_")
    copy_keras = find(copy, KerasModelStep)
    assert copy_keras is not find(fitted, KerasModelStep)
    assert getattr(copy_keras, "model_", None) is None
    assert copy.set_params(**{HIDDEN_DIM_KEY: 3}) is copy
    assert copy_keras.hidden_dim == 3 and copy.get_params()[HIDDEN_DIM_KEY] == 3
    assert find(fitted, KerasModelStep).hidden_dim == 4  # the original is untouched
    copy.set_params(**{BATCH_SIZE_KEY: 50})
    assert find(copy, MiniBatch).batch_size == 50


def test_pickle_and_joblib_reload_with_identical_predictions(data, fitted):
    X, _ = data
    expected = fitted.predict(X)
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    for copy in (pickle.loads(pickle.dumps(fitted)), joblib.load(buffer)):
        np.testing.assert_array_equal(copy.predict(X), expected)
        assert copy.history_ == fitted.history_


def test_same_random_state_gives_identical_predictions(data, fitted):
    X, y = data
    again = composition().fit(X, y)
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))
    assert again.history_ == fitted.history_


def test_grid_search(data):
    X, y = data
    grid = {"epochs": [1, 2], BATCH_SIZE_KEY: [50, 100]}
    # refit=False: 8 fits instead of 9 (each builds and traces a Keras model); the best
    # estimator's predictions are covered by the other tests
    search = GridSearchCV(composition(), grid, cv=2, refit=False).fit(X, y)
    assert search.best_params_ in search.cv_results_["params"]
    assert search.best_params_["epochs"] in (1, 2)
    assert search.best_params_[BATCH_SIZE_KEY] in (50, 100)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_score_is_a_finite_r2(data, fitted):
    X, y = data
    score = fitted.score(X, y)
    y_pred = fitted.predict(X)
    flat_true, flat_pred = y.reshape(200, -1), y_pred.reshape(200, -1)
    assert score == pytest.approx(r2_score(flat_true, flat_pred), rel=1e-5, abs=1e-6)
