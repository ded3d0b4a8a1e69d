"""Seed Keras for one block of work, then leave the user's global generators as they were.

A Keras model draws its random numbers from global generators: its initializers and
unseeded random layers (dropout) take their seeds from Python's ``random``, and
``model.fit`` shuffles with NumPy's global generator (on JAX) or with the backend's own
(TensorFlow's global seed, torch's). :func:`seeded` seeds all of them as
``keras.utils.set_random_seed(seed)`` does (with NumPy's global generator and Keras'
own global ``SeedGenerator``; the framework's generator only for the backend Keras runs
on), so that the same seed gives the same weights; runs the block; then puts back
every generator it touched, so that a user's ``np.random.rand()`` or ``random.random()``
draws the same numbers whether or not a model was built or fitted in between.

>>> import random
>>> import numpy as np
>>> from seqpipe.steps._keras_seed import seeded
>>> _ = np.random.seed(1), random.seed(1)
>>> with seeded(0):
...     inside = np.random.rand()
>>> (np.random.rand(), random.random()) == (np.random.RandomState(1).rand(),
...                                         random.Random(1).random())
True

What comes back exactly: the states of Python's ``random`` and NumPy's global
``RandomState``; Keras' global seed (``keras.utils.get_random_seed``) and its global
``SeedGenerator``; TensorFlow's eager global seed and the generator that derives the
seeds of unseeded TensorFlow random ops from it. What does not:
``tf.random.set_seed`` also clears TensorFlow's eager kernel cache, which restarts the
sequence of eager random ops given an explicit op seed (two calls of
``tf.random.uniform([1], seed=1)`` around a fit give the same number instead of the
next one). Not thread-safe: two threads seeding at once may restore each other's
states (as with ``keras.utils.set_random_seed`` itself).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import numpy as np

# Keras keeps its global seed and SeedGenerator under these names (keras.src is private
# but stable across Keras 3; keras.utils.set_random_seed sets both)
from keras.src.backend.common import global_state
from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED

from seqpipe import _backends as backends

__all__ = ["seeded"]

_KERAS_ATTRIBUTES = (GLOBAL_RANDOM_SEED, GLOBAL_SEED_GENERATOR)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with every generator Keras uses seeded by ``seed``; restore them after."""
    saved = (random.getstate(), np.random.get_state(),
             [global_state.get_global_attribute(name) for name in _KERAS_ATTRIBUTES])
    restore_framework = None
    try:
        # what keras.utils.set_random_seed does, but for the backend Keras runs on only
        # (it also seeds TensorFlow on any backend, importing it if installed)
        global_state.set_global_attribute(GLOBAL_RANDOM_SEED, int(seed))
        global_state.set_global_attribute(GLOBAL_SEED_GENERATOR, None)
        random.seed(int(seed))
        np.random.seed(int(seed))
        restore_framework = backends.current().seed_framework(int(seed))
        yield
    finally:
        python_state, numpy_state, keras_values = saved
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        for name, value in zip(_KERAS_ATTRIBUTES, keras_values):
            global_state.set_global_attribute(name, value)
        if restore_framework is not None:
            restore_framework()
