"""Factories of seeds 000, 001 and 004: tiny versions fit in seconds and beat their naive
baselines on held-out later samples; params, clones and seeding behave as in sklearn."""

import re

import keras
import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks

from seqpipe import Pipeline, load, save
from seqpipe.datasets import (
    make_echo_sequences,
    make_noisy_sine,
    make_sin,
    make_sin_cos,
    make_x_sin,
)
from seqpipe.models import lstm_classifier, lstm_regressor
from seqpipe.pipelines import (
    SEED001_SETTINGS,
    OneHotClassifier,
    echo_pipeline,
    noisy_sine_pipeline,
    sin_cos_pipeline,
    sin_pipeline,
    x_sin_pipeline,
)
from seqpipe.steps import KerasModelStep

TINY = {"units": 8, "epochs": 10, "batch_size": 32, "dropout": 0.0, "learning_rate": 1e-2}

REGRESSORS = {
    "noisy_sine": (noisy_sine_pipeline, lambda: make_noisy_sine(500, random_state=0)),
    "sin": (sin_pipeline, lambda: make_sin(500)),
    "sin_cos": (sin_cos_pipeline, lambda: make_sin_cos(500)),
    "x_sin": (x_sin_pipeline, lambda: make_x_sin(500)),
}


def mse(a, b):
    return float(np.mean((np.asarray(a, dtype=float) - b) ** 2))


@pytest.mark.parametrize("name", sorted(REGRESSORS))
def test_regressor_beats_last_value_and_mean_on_later_samples(name):
    factory, make = REGRESSORS[name]
    X, y = make()
    n_train = int(0.8 * len(X))  # in time: train on the start, test on the end
    pipe = factory(**TINY).fit(X[:n_train], y[:n_train])
    y_pred = pipe.predict(X[n_train:])
    y_test = y[n_train:]
    assert y_pred.shape == y_test.shape
    model_mse = mse(y_pred, y_test)
    last_value_mse = mse(X[n_train:, -1], y_test)
    mean_mse = mse(y[:n_train].mean(axis=0), y_test)
    assert model_mse < 0.85 * last_value_mse, (model_mse, last_value_mse)
    assert model_mse < 0.1 * mean_mse, (model_mse, mean_mse)


def test_factories_defaults_and_overrides():
    params = noisy_sine_pipeline().get_params()  # seed 000's sizes
    assert (params["kerasmodelstep__units"], params["kerasmodelstep__dropout"],
            params["kerasmodelstep__epochs"], params["kerasmodelstep__batch_size"],
            params["kerasmodelstep__learning_rate"]) == (128, 0.1, 100, 32, None)
    schedule = params["kerasmodelstep__optimizer"].get_config()["learning_rate"]["config"]
    assert (schedule["initial_learning_rate"], schedule["decay_steps"]) == (1e-2, 100 * 27)
    schedule = noisy_sine_pipeline(epochs=5, batch_size=100).get_params()[
        "kerasmodelstep__optimizer"].get_config()["learning_rate"]["config"]
    assert schedule["decay_steps"] == 5 * 9  # the decay follows epochs and batch_size
    assert params["meanstdnormalizer__per_sample"] is False
    assert params["kerasmodelstep__build_fn"] is lstm_regressor
    for factory in (sin_pipeline, sin_cos_pipeline, x_sin_pipeline):
        params = factory().get_params()
        assert params["meanstdnormalizer__per_sample"] is True  # each window on its own
        model = {k: v for k, v in SEED001_SETTINGS.items() if k != "per_sample"}
        assert {k: params[f"kerasmodelstep__{k}"] for k in model} == model
    assert x_sin_pipeline(per_sample=False).get_params()["meanstdnormalizer__per_sample"] is False
    pipe = sin_pipeline(random_state=7, units=3)
    assert pipe.get_params()["kerasmodelstep__random_state"] == 7
    pipe.set_params(kerasmodelstep__units=5, kerasmodelstep__epochs=2)
    assert pipe.named_steps["kerasmodelstep"].units == 5
    with pytest.raises(TypeError, match="hidden_dim"):
        noisy_sine_pipeline(hidden_dim=3)


@pytest.mark.parametrize("factory", [noisy_sine_pipeline, sin_pipeline, sin_cos_pipeline,
                                     x_sin_pipeline, echo_pipeline])
def test_factories_return_unfitted_clonable_pipelines(factory):
    pipe = factory()
    assert isinstance(pipe, Pipeline)
    assert not hasattr(pipe[-1], "model_") and not hasattr(pipe[-1], "estimator_")
    copy = clone(pipe)
    assert copy.get_params(deep=False).keys() == pipe.get_params(deep=False).keys()

    def values(params):  # the leaves: neither the steps nor the estimators themselves
        return {k: v.get_config() if isinstance(v, keras.optimizers.Optimizer) else v
                for k, v in params.items() if k != "steps" and not hasattr(v, "get_params")}

    assert values(copy.get_params()) == values(pipe.get_params())


def test_same_random_state_same_predictions_and_different_otherwise():
    X, y = make_sin(200)
    tiny = {"units": 4, "epochs": 2, "batch_size": 32}
    first = sin_pipeline(**tiny, random_state=3).fit(X, y).predict(X)
    again = clone(sin_pipeline(**tiny, random_state=3)).fit(X, y).predict(X)
    other = sin_pipeline(**tiny, random_state=4).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


# ---------------------------------------------------------------------- seed 004
def test_echo_classifier_learns_the_echo_far_above_the_majority_class():
    X, y = make_echo_sequences(3000, random_state=0)
    X_test, y_test = make_echo_sequences(1000, random_state=100)
    pipe = echo_pipeline(epochs=6, random_state=0).fit(X, y)
    assert is_classifier(pipe)
    np.testing.assert_array_equal(pipe.classes_, np.arange(25))
    proba = pipe.predict_proba(X_test)
    assert proba.shape == (1000, 25) and (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    y_pred = pipe.predict(X_test)
    np.testing.assert_array_equal(y_pred, pipe.classes_[proba.argmax(axis=1)])
    majority = np.bincount(y).argmax()
    majority_accuracy = float(np.mean(y_test == majority))  # about 1/25
    accuracy = pipe.score(X_test, y_test)
    assert accuracy == pytest.approx(float(np.mean(y_pred == y_test)))
    assert accuracy > 0.9 > 10 * majority_accuracy


def test_fitted_seed_pipelines_survive_save_and_load(tmp_path):
    X, y = make_echo_sequences(100, length=4, n_classes=3, output_index=1, random_state=0)
    echo = echo_pipeline(units=4, epochs=1).fit(X, y)
    save(echo, tmp_path / "echo.seqpipe")
    loaded = load(tmp_path / "echo.seqpipe")
    np.testing.assert_array_equal(loaded.classes_, echo.classes_)
    np.testing.assert_array_equal(loaded.predict_proba(X), echo.predict_proba(X))
    X, y = make_x_sin(100)
    x_sin = x_sin_pipeline(units=4, epochs=1).fit(X, y)
    save(x_sin, tmp_path / "x_sin.seqpipe")
    np.testing.assert_array_equal(load(tmp_path / "x_sin.seqpipe").predict(X), x_sin.predict(X))


def test_echo_pipeline_params_reach_the_keras_step():
    pipe = echo_pipeline(units=6)
    params = pipe.get_params()
    assert params["onehotclassifier__estimator__units"] == 6
    assert params["onehotclassifier__estimator__loss"] == "categorical_crossentropy"
    assert params["onehotclassifier__estimator__build_fn"] is lstm_classifier
    pipe.set_params(onehotclassifier__estimator__epochs=2)
    assert pipe[-1].estimator.epochs == 2


def tiny_classifier(**params):
    return OneHotClassifier(KerasModelStep(
        lstm_classifier, loss="categorical_crossentropy", units=4, epochs=2,
        random_state=0, **params))


def test_one_hot_classifier_keeps_the_users_labels_and_is_deterministic():
    X, codes = make_echo_sequences(200, length=4, n_classes=3, output_index=1,
                                   random_state=0)
    labels = np.array(["cat", "dog", "eel"])[codes]
    clf = tiny_classifier().fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "eel"])
    assert clf.n_features_in_ == 3
    assert clf.estimator_ is not clf.estimator  # a fitted clone; the param is untouched
    assert not hasattr(clf.estimator, "model_")
    assert set(clf.predict(X)) <= set(clf.classes_)
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(proba, clone(clf).fit(X, labels).predict_proba(X))
    assert 0.0 <= clf.score(X, labels) <= 1.0


def test_one_hot_classifier_refuses_continuous_or_multi_column_targets():
    X = np.zeros((10, 4, 3))
    with pytest.raises(ValueError, match="Unknown label type"):
        tiny_classifier().fit(X, np.linspace(0, 1, 10))
    with pytest.raises(ValueError, match=re.escape("got an array of shape (10, 3) instead")):
        tiny_classifier().fit(X, np.zeros((10, 3)))


def test_one_hot_classifier_predict_before_fit_is_an_error():
    with pytest.raises(NotFittedError):
        tiny_classifier().predict_proba(np.zeros((2, 4, 3)))


class DenseSoftmax:
    """A tiny softmax builder for 2-D X (scikit-learn's checks), with a stable repr."""

    def __repr__(self):
        return "DenseSoftmax()"

    def __call__(self, input_shape, output_dim, units=8):
        inputs = keras.Input(shape=input_shape)
        hidden = keras.layers.Dense(units, activation="tanh")(keras.layers.Flatten()(inputs))
        return keras.Model(inputs, keras.layers.Dense(output_dim, activation="softmax")(hidden))


# The API checks of scikit-learn that concern a classifier wrapper (the whole suite
# passes too, in about 30 s: too slow for every run).
@pytest.mark.parametrize("check", [
    "check_estimator_cloneable", "check_no_attributes_set_in_init",
    "check_get_params_invariance", "check_set_params", "check_estimators_unfitted",
    "check_requires_y_none", "check_supervised_y_2d", "check_classifiers_classes",
    "check_classifiers_train", "check_classifiers_one_label", "check_estimators_pickle",
    "check_fit_idempotent", "check_n_features_in", "check_dict_unchanged",
])
def test_one_hot_classifier_passes_sklearn_api_checks(check):
    estimator = OneHotClassifier(KerasModelStep(
        DenseSoftmax(), loss="categorical_crossentropy", random_state=0))
    getattr(estimator_checks, check)("OneHotClassifier", estimator)
