"""KerasModelStep.get_training_state/set_training_state: checkpoints of weights and optimizer."""

import re

import numpy as np
import pytest

from seqpipe.base import DivergedError
from seqpipe.models import seq2seq_gru
from seqpipe.steps import KerasModelStep


def small_seq2seq(**params):
    defaults = dict(hidden_dim=4, layers_stacked_count=1, learning_rate=0.01, random_state=0)
    return KerasModelStep(seq2seq_gru, **{**defaults, **params})


def values(variables):
    return [np.array(variable.numpy()) for variable in variables]


def assert_bitwise_equal(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_restoring_a_snapshot_resumes_training_bitwise(sine_windows):
    X, y = sine_windows
    step = small_seq2seq()
    for start in (0, 50, 100):
        step.partial_fit(X[start:start + 50], y[start:start + 50])
    state = step.get_training_state()
    weights, optimizer = values(step.model_.weights), values(step.model_.optimizer.variables)

    def train_on():
        step.partial_fit(X[150:], y[150:])
        step.partial_fit(X[:50], y[:50])
        return values(step.model_.weights)

    first = train_on()
    assert not all(np.array_equal(a, b) for a, b in zip(first, weights))
    step.set_training_state(state)
    assert_bitwise_equal(values(step.model_.weights), weights)
    assert_bitwise_equal(values(step.model_.optimizer.variables), optimizer)
    assert int(step.model_.optimizer.iterations) == 3
    assert_bitwise_equal(train_on(), first)  # the Adam moments came back too
    # a state can be put back more than once; weights alone would not resume training
    step.set_training_state(state)
    assert_bitwise_equal(train_on(), first)
    step.set_weights(weights)
    assert not all(np.array_equal(a, b) for a, b in zip(train_on(), first))


def test_no_state_before_the_model_is_built_and_none_drops_the_model(sine_windows):
    X, y = sine_windows
    step = small_seq2seq()
    assert step.get_training_state() is None
    step.partial_fit(X[:50], y[:50])
    state, predictions = step.get_training_state(), step.predict(X)
    step.set_training_state(None)
    assert not hasattr(step, "model_")
    step.set_training_state(state)  # rebuilt from the recorded shapes, then restored
    np.testing.assert_array_equal(step.predict(X), predictions)


def test_a_state_of_another_model_is_refused(sine_windows):
    X, y = sine_windows
    other = small_seq2seq(hidden_dim=3).partial_fit(X[:50], y[:50]).get_training_state()
    step = small_seq2seq().partial_fit(X[:50], y[:50])
    with pytest.raises(ValueError, match=re.escape(
            "The training state does not match this model")):
        step.set_training_state(other)
    with pytest.raises(TypeError, match="Expected a training state from get_training_state"):
        step.set_training_state(step.get_weights())


def test_training_goes_on_after_restoring_a_state_from_before_a_divergence(sine_windows):
    X, y = sine_windows
    step = small_seq2seq().partial_fit(X[:50], y[:50])
    state = step.get_training_state()
    y_bad = y[50:100].copy()
    y_bad[3] = 1e25  # its squared error overflows float32
    with pytest.raises(DivergedError):
        step.partial_fit(X[50:100], y_bad)
    step.set_training_state(state)  # also Keras' running loss, which had become inf
    step.partial_fit(X[50:100], y[50:100])
    assert all(np.isfinite(w).all() for w in step.get_weights())
