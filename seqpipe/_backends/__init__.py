"""What differs between Keras' backends, behind one interface: one module per backend.

Each of :mod:`~seqpipe._backends.jax_backend`,
:mod:`~seqpipe._backends.tensorflow_backend` and
:mod:`~seqpipe._backends.torch_backend` (and :mod:`~seqpipe._backends.generic` for
Keras' other backends) provides the same four functions, so that the Keras step, its
training state, its seeding and the server read the same on every backend:

``compile_steps(model, x_ndim, y_ndim) -> (train, predict)``
    ``train(x, y, sample_weight=None)``: one gradient step of a compiled model on a
    batch (weighted per sample, as in ``model.fit``, if weights are given), returning the
    loss (Keras' running mean since the metrics were last reset, as ``train_step``
    reports it; anything ``float()`` accepts). ``predict(x)``: the forward pass in
    inference mode (anything ``numpy.asarray`` accepts). Both compiled once by the
    backend, for batches of any size where it can.
``reader(variables) -> read``
    ``read()`` returns copies (numpy arrays) of the values of ``variables``.
``seed_framework(seed) -> restore``
    Seeds the backend's own global generator, if Keras uses one on it, and returns a
    function putting back its previous state.
``limit_threads(threads)``
    Sizes the backend's thread pools for model calls before its runtime starts.

>>> import keras
>>> current().__name__.rsplit(".", 1)[-1].startswith((keras.backend.backend(), "generic"))
True
"""

from __future__ import annotations

from types import ModuleType

import keras

__all__ = ["current"]


def current() -> ModuleType:
    """The module of the backend Keras runs on."""
    name = keras.backend.backend()
    if name == "jax":
        from seqpipe._backends import jax_backend as module
    elif name == "tensorflow":
        from seqpipe._backends import tensorflow_backend as module
    elif name == "torch":
        from seqpipe._backends import torch_backend as module
    else:
        from seqpipe._backends import generic as module
    return module
