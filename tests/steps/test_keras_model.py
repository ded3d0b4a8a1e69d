"""KerasModelStep: building from shapes, params, determinism, pickling, divergence."""

import pickle
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV

from seqpipe import load, save
from seqpipe.models import seq2seq_gru
from seqpipe.steps import KerasModelStep


def dense(input_shape, output_shape, units=4):
    inputs = keras.Input(shape=input_shape)
    hidden = keras.layers.Dense(units, activation="tanh")(keras.layers.Flatten()(inputs))
    size = int(np.prod(output_shape)) if output_shape else 1
    outputs = keras.layers.Reshape(output_shape or ())(keras.layers.Dense(size)(hidden))
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def sine_windows():
    t = np.linspace(0, 20, 200 + 15)
    series = np.stack([np.sin(t), np.cos(t)], axis=1).astype("float32")
    X = np.stack([series[i:i + 10] for i in range(200)])
    y = np.stack([series[i + 10:i + 15] for i in range(200)])
    return X, y


def small_seq2seq(**params):
    defaults = dict(hidden_dim=4, layers_stacked_count=1, epochs=2, batch_size=50,
                    random_state=0)
    return KerasModelStep(seq2seq_gru, **{**defaults, **params})


def test_builds_from_data_shapes_and_predicts_y_shape(sine_windows):
    X, y = sine_windows
    step = small_seq2seq().fit(X, y)
    assert step.model_.output_shape == (None, 5, 2)
    assert step.n_features_in_ == 2 and step.X_shape_ == (10, 2) and step.y_shape_ == (5, 2)
    y_pred = step.predict(X)
    assert y_pred.shape == y.shape and y_pred.dtype == np.float32
    assert len(step.history_["loss"]) == 2


def test_model_params_are_sklearn_params(sine_windows):
    step = small_seq2seq()
    assert step.get_params()["hidden_dim"] == 4
    step.set_params(hidden_dim=3, learning_rate=0.01)
    assert step.hidden_dim == 3 and step.learning_rate == 0.01
    fitted = step.fit(*sine_windows)
    assert fitted.model_.get_layer("encoder_gru_0").units == 3
    copy = clone(step)
    assert copy.get_params()["hidden_dim"] == 3 and not hasattr(copy, "model_")


def test_unknown_model_param_is_refused_before_building(sine_windows):
    step = KerasModelStep(seq2seq_gru, hiden_dim=4)
    with pytest.raises(ValueError, match=re.escape(
            "build_fn 'seq2seq_gru' does not accept the model parameter(s) ['hiden_dim']")):
        step.fit(*sine_windows)
    assert not hasattr(step, "model_")


@pytest.mark.parametrize("param, value, message", [
    ("epochs", 0, "The 'epochs' parameter of KerasModelStep must be an int in the range "
                  "[1, inf). Got 0 instead."),
    ("batch_size", -1, "The 'batch_size' parameter of KerasModelStep must be an int in the "
                       "range [1, inf). Got -1 instead."),
    ("learning_rate", 0.0, "The 'learning_rate' parameter of KerasModelStep must be a float "
                           "in the range (0, inf). Got 0.0 instead."),
])
def test_bad_params(sine_windows, param, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        small_seq2seq().set_params(**{param: value}).fit(*sine_windows)


def test_bad_inputs(sine_windows):
    X, y = sine_windows
    with pytest.raises(NotFittedError):
        small_seq2seq().predict(X)
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
        small_seq2seq().fit(X, None)
    with pytest.raises(ValueError, match="X and y have inconsistent numbers of samples: "
                                         "X has 200, y has 199"):
        small_seq2seq().fit(X, y[:-1])
    fitted = small_seq2seq().fit(X, y)
    with pytest.raises(ValueError, match=re.escape(
            "X has 3 features, but KerasModelStep is expecting 2 features as input")):
        fitted.predict(np.zeros((4, 10, 3)))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.predict(np.full((4, 10, 2), np.nan))


def test_same_random_state_gives_same_weights_and_predictions(sine_windows):
    X, y = sine_windows
    a, b = small_seq2seq().fit(X, y), small_seq2seq().fit(X, y)
    for wa, wb in zip(a.model_.get_weights(), b.model_.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    c = small_seq2seq(random_state=1).fit(X, y)
    assert not np.array_equal(a.predict(X), c.predict(X))


def test_pickle_round_trip_keeps_predictions_and_optimizer_state(sine_windows):
    X, y = sine_windows
    step = small_seq2seq().fit(X, y)
    copy = pickle.loads(pickle.dumps(step))
    np.testing.assert_array_equal(copy.predict(X), step.predict(X))
    # training on goes on identically from the restored optimizer state
    step.partial_fit(X[:50], y[:50])
    copy.partial_fit(X[:50], y[:50])
    np.testing.assert_allclose(copy.predict(X), step.predict(X), rtol=1e-6, atol=1e-7)


def test_fresh_process_reload_predicts_bitwise_the_same(sine_windows, tmp_path):
    X, y = sine_windows
    step = small_seq2seq().fit(X, y)
    save(step, tmp_path / "step.seqpipe")
    np.save(tmp_path / "X.npy", X)
    subprocess.run([sys.executable, "-m", "seqpipe", "predict", str(tmp_path / "step.seqpipe"),
                    str(tmp_path / "X.npy"), str(tmp_path / "pred.npy")], check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "pred.npy"), step.predict(X))
    np.testing.assert_array_equal(load(tmp_path / "step.seqpipe").predict(X), step.predict(X))


def test_partial_fit_builds_then_improves(sine_windows):
    X, y = sine_windows
    step = small_seq2seq(learning_rate=0.01).partial_fit(X, y)
    before = np.mean((step.predict(X) - y) ** 2)
    for _ in range(10):
        step.partial_fit(X, y)
    assert np.mean((step.predict(X) - y) ** 2) < before


def test_non_finite_loss_stops_with_epoch_and_batch_and_restores_finite_weights(sine_windows):
    X, y = sine_windows
    y = y.copy()
    y[25] = 1e25  # its squared error overflows float32 in the third batch of 10
    step = small_seq2seq(batch_size=10, shuffle=False)
    with pytest.raises(FloatingPointError, match=re.escape("at epoch 0, batch 2")):
        step.fit(X, y)
    assert all(np.isfinite(w).all() for w in step.model_.get_weights())


def test_one_dimensional_target(sine_windows):
    X, y = sine_windows
    step = KerasModelStep(dense, epochs=1, random_state=0).fit(X, y[:, 0, 0])
    assert step.predict(X).shape == (200,)


def test_grid_search_over_model_params(sine_windows):
    X, y = sine_windows
    search = GridSearchCV(small_seq2seq(epochs=1), {"hidden_dim": [2, 3]}, cv=2).fit(X, y)
    assert search.best_params_["hidden_dim"] in (2, 3)
    assert np.isfinite(search.best_score_)
