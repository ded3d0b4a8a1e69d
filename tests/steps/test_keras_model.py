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

from seqpipe import Pipeline, load, save
from seqpipe.models import seq2seq_gru
from seqpipe.steps import KerasModelStep, MeanStdNormalizer, ToNumpy


def dense(input_shape, output_shape, units=4):
    inputs = keras.Input(shape=input_shape)
    hidden = keras.layers.Dense(units, activation="tanh")(keras.layers.Flatten()(inputs))
    size = int(np.prod(output_shape)) if output_shape else 1
    outputs = keras.layers.Reshape(output_shape or ())(keras.layers.Dense(size)(hidden))
    return keras.Model(inputs, outputs)


def small_seq2seq(**params):
    defaults = dict(hidden_dim=4, layers_stacked_count=1, epochs=2, batch_size=50,
                    random_state=0)
    return KerasModelStep(seq2seq_gru, **{**defaults, **params})


def test_builds_from_data_shapes_and_predicts_y_shape(sine_windows):
    X, y = sine_windows
    step = small_seq2seq().fit(X, y)
    assert step.model_.output_shape == (None, 5, 2)
    assert step.n_features_in_ == 2 and step.X_shape_ == (10, 2) and step.y_shape_ == (5, 2)
    assert step.n_timesteps_in_ == 10
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
                           "in the range (0, inf) or None. Got 0.0 instead."),
    ("learning_rate", "fast", "The 'learning_rate' parameter of KerasModelStep must be a "
                              "float in the range (0, inf) or None. Got 'fast' instead."),
    ("optimizer", "adm", "The 'optimizer' parameter of KerasModelStep must be a str naming a "
                         "Keras optimizer (e.g. 'adam'), a keras.optimizers.Optimizer subclass "
                         "or an instance of one. Got 'adm' instead."),
    ("optimizer", 3, "The 'optimizer' parameter of KerasModelStep must be a str naming a Keras "
                     "optimizer (e.g. 'adam'), a keras.optimizers.Optimizer subclass or an "
                     "instance of one. Got 3 instead."),
    ("random_state", -1, "The 'random_state' parameter of KerasModelStep must be an int in the "
                         "range [0, 4294967295] or None. Got -1 instead."),
])
def test_bad_params(sine_windows, param, value, message):
    step = small_seq2seq().set_params(**{param: value})
    with pytest.raises(ValueError, match=re.escape(message)):
        step.fit(*sine_windows)
    assert not hasattr(step, "model_")  # refused before anything is built


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
    # training goes on bitwise identically from the restored optimizer state
    step.partial_fit(X[:50], y[:50])
    copy.partial_fit(X[:50], y[:50])
    np.testing.assert_array_equal(copy.predict(X), step.predict(X))
    assert int(copy.model_.optimizer.iterations) == int(step.model_.optimizer.iterations)


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
    # the optimizer is back at the start of training too (no step counted, no moments)
    optimizer = step.model_.optimizer
    assert int(optimizer.iterations) == 0
    assert all(np.isfinite(v.numpy()).all() for v in optimizer.variables)
    assert all(not np.any(v.numpy()) for v in optimizer.variables
               if v is not optimizer.iterations and v is not optimizer.learning_rate)


def test_one_dimensional_target(sine_windows):
    X, y = sine_windows
    step = KerasModelStep(dense, epochs=1, random_state=0).fit(X, y[:, 0, 0])
    assert step.predict(X).shape == (200,)


def test_two_dimensional_X_has_no_window_length(sine_windows):
    X, y = sine_windows
    step = KerasModelStep(dense, epochs=1, random_state=0).fit(X[:, 0], y[:, 0])
    assert step.n_timesteps_in_ is None and step.predict(X[:, 0]).shape == (200, 2)


# --- window length ---------------------------------------------------------------------------

def test_windows_of_another_length_are_refused_before_any_keras_call(sine_windows):
    X, y = sine_windows
    # seq2seq_gru reads windows of any length (keras.Input(shape=(None, input_dim)))
    step = small_seq2seq(epochs=1, batch_size=None).fit(X[:, :6], y)
    assert step.n_timesteps_in_ == 6
    message = re.escape("X has windows of 3 time steps, but KerasModelStep was fitted on "
                        "windows of 6 time steps. Pass windows of 6 time steps, or set "
                        "accept_any_length=True if the model reads windows of any length.")
    with pytest.raises(ValueError, match=message):
        step.predict(X[:, :3])
    with pytest.raises(ValueError, match=message):
        step.score(X[:, :3], y)
    weights = step.get_weights()
    iterations = int(step.model_.optimizer.iterations)
    with pytest.raises(ValueError, match=message):
        step.partial_fit(X[:50, :3], y[:50])
    assert int(step.model_.optimizer.iterations) == iterations
    for before, after in zip(weights, step.get_weights()):
        np.testing.assert_array_equal(before, after)
    with pytest.raises(ValueError, match=re.escape(
            "X has samples of shape (2,), but KerasModelStep was fitted on samples of shape "
            "(6, 2).")):
        step.predict(X[:, 0])


def test_a_pipeline_fitted_on_windows_of_6_refuses_windows_of_3(sine_windows):
    X, y = sine_windows
    pipeline = Pipeline([MeanStdNormalizer(), ToNumpy(),
                         small_seq2seq(epochs=1, batch_size=None)]).fit(X[:, :6], y)
    with pytest.raises(ValueError, match=re.escape(
            "X has windows of 3 time steps, but KerasModelStep was fitted on windows of 6")):
        pipeline.predict(X[:, :3])
    assert pipeline.predict(X[:, 4:]).shape == y.shape


def test_accept_any_length_says_the_model_reads_windows_of_any_length(sine_windows):
    X, y = sine_windows
    step = small_seq2seq(epochs=1, accept_any_length=True).fit(X[:, :6], y)
    assert step.n_timesteps_in_ == 6
    assert step.predict(X[:, :3]).shape == y.shape
    step.partial_fit(X[:50, :8], y[:50])
    assert np.isfinite(step.predict(X)).all()


def test_accept_any_length_refuses_a_model_of_fixed_length(sine_windows):
    step = KerasModelStep(dense, accept_any_length=True)
    with pytest.raises(ValueError, match=re.escape(
            "accept_any_length=True, but the model of build_fn reads windows of exactly 10 "
            "time steps (input shape (None, 10, 2))")):
        step.fit(*sine_windows)


# --- optimizer and learning rate -------------------------------------------------------------

@pytest.mark.parametrize("optimizer", ["sgd", keras.optimizers.SGD])
def test_optimizer_by_name_or_class_keeps_its_own_learning_rate(sine_windows, optimizer):
    step = small_seq2seq(optimizer=optimizer).adapt(*sine_windows)
    assert isinstance(step.model_.optimizer, keras.optimizers.SGD)  # PyTorch: a subclass
    assert float(step.model_.optimizer.learning_rate) == pytest.approx(0.01)  # Keras' default
    step = small_seq2seq(optimizer=optimizer, learning_rate=0.2).adapt(*sine_windows)
    assert float(step.model_.optimizer.learning_rate) == pytest.approx(0.2)


def test_optimizer_instance_keeps_its_settings_and_is_never_shared(sine_windows):
    X, y = sine_windows
    given = keras.optimizers.Adam(learning_rate=0.02, clipnorm=1.0, beta_1=0.8)
    step = small_seq2seq(optimizer=given)
    copy = clone(step)
    assert copy.optimizer is not given
    assert copy.optimizer.get_config() == given.get_config()
    step.partial_fit(X, y)
    copy.adapt(X, y)
    used = step.model_.optimizer
    assert used is not given and used is not copy.model_.optimizer
    config = used.get_config()
    assert (config["clipnorm"], config["beta_1"]) == (1.0, 0.8)
    assert config["learning_rate"] == pytest.approx(0.02)
    assert int(given.iterations) == 0 and not given.built  # the instance is never trained
    # an explicit learning_rate overrides the instance's, and keeps its other settings
    config = small_seq2seq(optimizer=given, learning_rate=0.005).adapt(X, y) \
        .model_.optimizer.get_config()
    assert config["learning_rate"] == pytest.approx(0.005) and config["clipnorm"] == 1.0


def test_learning_rate_set_between_partial_fits_takes_effect(sine_windows):
    X, y = sine_windows
    slow, fast = small_seq2seq(batch_size=None), small_seq2seq(batch_size=None)
    for step in (slow, fast):
        step.partial_fit(X[:50], y[:50])
    assert float(fast.model_.optimizer.learning_rate) == pytest.approx(1e-3)  # Adam's own
    before = slow.get_weights()  # the same as fast's: same seed, same data
    fast.set_params(learning_rate=0.1)
    for step in (slow, fast):
        step.partial_fit(X[50:100], y[50:100])
    assert float(slow.model_.optimizer.learning_rate) == pytest.approx(1e-3)
    assert float(fast.model_.optimizer.learning_rate) == pytest.approx(0.1)

    def update_size(step):
        return np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(step.get_weights(), before)))

    assert update_size(fast) > 10 * update_size(slow)  # Adam's steps scale with it
    assert int(fast.model_.optimizer.iterations) == 2  # the optimizer state is kept
    fast.set_params(learning_rate=None).partial_fit(X[:50], y[:50])
    assert float(fast.model_.optimizer.learning_rate) == pytest.approx(1e-3)
    fast.set_params(learning_rate=-1.0)
    with pytest.raises(ValueError, match=re.escape(
            "The 'learning_rate' parameter of KerasModelStep must be a float in the range "
            "(0, inf) or None. Got -1.0 instead.")):
        fast.partial_fit(X[:50], y[:50])
    assert int(fast.model_.optimizer.iterations) == 3


def test_grid_search_over_model_params(sine_windows):
    X, y = sine_windows
    search = GridSearchCV(small_seq2seq(epochs=1), {"hidden_dim": [2, 3]}, cv=2).fit(X, y)
    assert search.best_params_["hidden_dim"] in (2, 3)
    assert np.isfinite(search.best_score_)
