"""KerasModelStep(random_state=...) seeds Keras without changing the user's global generators."""

import pickle
import random

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqpipe.models import seq2seq_gru
from seqpipe.steps import KerasModelStep


@pytest.fixture(scope="module")
def windows():
    X = np.random.default_rng(0).normal(size=(100, 6, 2)).astype("float32")
    return X, X[:, :3]


def small_seq2seq(random_state=0):
    return KerasModelStep(seq2seq_gru, hidden_dim=2, layers_stacked_count=1, batch_size=50,
                          random_state=random_state)


# (seed the global generator, draw from it)
GENERATORS = {
    "python": (random.seed, lambda: random.random()),
    "numpy": (np.random.seed, lambda: np.random.rand(3)),
    "tensorflow": (tf.random.set_seed, lambda: tf.random.uniform([3]).numpy()),
    "keras": (keras.utils.set_random_seed,
              lambda: keras.ops.convert_to_numpy(keras.random.uniform((3,)))),
}


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("generator", list(GENERATORS))
def test_training_with_a_random_state_leaves_global_generators_untouched(windows, generator,
                                                                         method):
    seed, draw = GENERATORS[generator]
    seed(1)
    draw()
    expected = draw()
    seed(1)
    draw()
    getattr(small_seq2seq(), method)(*windows)
    np.testing.assert_array_equal(draw(), expected)


def test_same_random_state_same_weights_whatever_the_global_generators(windows):
    np.random.seed(5)
    random.seed(5)
    first = small_seq2seq().fit(*windows).get_weights()
    np.random.rand(10)
    random.random()
    second = small_seq2seq().fit(*windows).get_weights()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_without_random_state_the_global_seed_decides(windows):
    weights = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        weights.append(small_seq2seq(random_state=None).fit(*windows).get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_unpickling_does_not_touch_global_generators(windows):
    blob = pickle.dumps(small_seq2seq().fit(*windows))
    random.seed(1)
    np.random.seed(1)
    expected = random.random(), np.random.rand()
    random.seed(1)
    np.random.seed(1)
    pickle.loads(blob)
    assert (random.random(), np.random.rand()) == expected
