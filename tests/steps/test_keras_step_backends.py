"""The Keras step on each backend, in fresh processes (KERAS_BACKEND set): the same
random_state gives the same weights; partial_fit, weighted steps and predict go through
the backend's compiled steps (seqpipe._backends) and agree with Keras' own methods."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from seqpipe.models import seq2seq_gru

FIT = """
    import random, sys
    import keras, numpy as np
    from seqpipe.models import seq2seq_gru
    from seqpipe.steps import KerasModelStep
    assert keras.config.backend() == {backend!r}
    X = np.random.default_rng(0).normal(size=(70, 6, 2)).astype("float32")
    y, w = X[:, :3], np.linspace(0.5, 2.0, 70)
    np.random.seed(1); random.seed(1)
    before = np.random.rand(), random.random()
    if {backend!r} == "torch":  # torch's global generator, which Keras seeds there
        import torch
        torch.manual_seed(5)
        torch_state = torch.random.get_rng_state()
    step = KerasModelStep(seq2seq_gru, hidden_dim=3, layers_stacked_count=2, epochs=2,
                          batch_size=32, random_state=7).fit(X, y)
    if {backend!r} == "torch":
        assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.random.seed(1); random.seed(1)
    assert (np.random.rand(), random.random()) == before  # the user's draws: untouched
    step.partial_fit(X[:50], y[:50])  # batch shapes the compiled steps saw
    step.set_params(batch_size=None).partial_fit(X[:13], y[:13], sample_weight=w[:13])
    loss = step.model_.evaluate(X, y, verbose=0)  # Keras' own predict agrees with ours
    np.testing.assert_allclose(step.predict(X), step.model_.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-6)
    np.save({path!r}, np.concatenate([w.ravel() for w in step.model_.get_weights()]))
"""


def fit_in_a_fresh_process(backend, path):
    code = textwrap.dedent(FIT.format(backend=backend, path=str(path)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "KERAS_BACKEND": backend}, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return np.load(path)


def backends():
    """JAX and TensorFlow (installed by the dev extras), and PyTorch where it is
    installed (benchmarks/check_torch.sh installs it; make test does not)."""
    torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                               reason="torch not installed (benchmarks/check_torch.sh)")
    return ["jax", "tensorflow", pytest.param("torch", marks=torch)]


@pytest.mark.parametrize("backend", backends())
def test_same_random_state_same_weights_in_fresh_processes(tmp_path, backend):
    first = fit_in_a_fresh_process(backend, tmp_path / "first.npy")
    second = fit_in_a_fresh_process(backend, tmp_path / "second.npy")
    np.testing.assert_array_equal(first, second)
    assert np.isfinite(first).all() and first.std() > 0


def sgd_model():
    keras.utils.set_random_seed(0)
    model = seq2seq_gru(2, 2, 3, hidden_dim=3, layers_stacked_count=1)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.optimizer.build(model.trainable_variables)
    return model


@pytest.mark.skipif(keras.config.backend() != "jax", reason="JAX's compiled steps")
@pytest.mark.parametrize("weighted", [False, True])
def test_jax_steps_pad_smaller_batches_and_train_and_predict_as_keras_does(weighted):
    """An epoch's last, smaller batch is padded to the largest (rows weighted 0, one
    compilation): the update is Keras' own on the unpadded batch, within rounding."""
    from seqpipe._backends import jax_backend

    X = np.random.default_rng(0).normal(size=(70, 6, 2)).astype("float32")
    y = X[:, :3]
    w = np.linspace(0.5, 2.0, 70).astype("float32").reshape(70, 1) if weighted else None
    ours, theirs = sgd_model(), sgd_model()
    train, predict = jax_backend.compile_steps(ours, 3, 3)
    for rows in (slice(0, 50), slice(50, 70)):  # 50 rows, then 20 padded to 50
        weights = None if w is None else w[rows]
        train(X[rows], y[rows], weights)
        theirs.train_on_batch(X[rows], y[rows], sample_weight=weights)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert not np.allclose(ours.get_weights()[0], sgd_model().get_weights()[0])  # trained
    np.testing.assert_allclose(np.asarray(predict(X[:5])), theirs.predict_on_batch(X[:5]),
                               rtol=1e-5, atol=1e-7)  # 5 rows, padded to 8
