"""Artifacts across Keras backends: the header records the backend; loading on another
one warns once, naming both, and predicts within float32 rounding; on the same backend,
bitwise the same (each side in a fresh process with KERAS_BACKEND set)."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from seqpipe.persistence import read_header

TRAIN = """
    import numpy as np
    from seqpipe import Pipeline, save
    from seqpipe.models import seq2seq_gru
    from seqpipe.steps import KerasModelStep, MeanStdNormalizer
    X = np.random.default_rng(0).normal(size=(64, 6, 2))
    pipe = Pipeline([MeanStdNormalizer(), KerasModelStep(
        seq2seq_gru, hidden_dim=4, layers_stacked_count=2, epochs=2, random_state=0)])
    pipe.fit(X, X[:, :3])
    save(pipe, {path!r})
    np.save({predictions!r}, pipe.predict(X))
"""

LOAD = """
    import warnings
    import numpy as np
    from seqpipe import load
    from seqpipe.persistence import InconsistentBackendWarning
    X = np.random.default_rng(0).normal(size=(64, 6, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe = load({path!r})
    for warning in caught:
        if issubclass(warning.category, InconsistentBackendWarning):
            print("warning:", warning.message)
    np.save({predictions!r}, pipe.predict(X))
"""


def run(code, backend, **paths):
    env = {**os.environ, "KERAS_BACKEND": backend}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code.format(**paths))],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


NO_TORCH = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                              reason="torch not installed (benchmarks/check_torch.sh)")


@pytest.mark.parametrize("saved_on, loaded_on", [
    ("jax", "tensorflow"), ("tensorflow", "jax"),
    pytest.param("jax", "torch", marks=NO_TORCH), pytest.param("torch", "jax", marks=NO_TORCH)])
def test_an_artifact_predicts_the_same_on_another_backend_and_warns_once(tmp_path, saved_on,
                                                                         loaded_on):
    path, trained, same, other = (str(tmp_path / name) for name in
                                  ("m.seqpipe", "trained.npy", "same.npy", "other.npy"))
    run(TRAIN, saved_on, path=path, predictions=trained)
    assert read_header(path)["keras_backend"] == saved_on
    assert run(LOAD, saved_on, path=path, predictions=same) == []
    np.testing.assert_array_equal(np.load(same), np.load(trained))  # same backend: bitwise
    assert run(LOAD, loaded_on, path=path, predictions=other) == [
        f"warning: {path} was saved on Keras' {saved_on} backend and is loaded on its "
        f"{loaded_on} backend. Its models predict the same within float32 rounding, not "
        f"bitwise; run with KERAS_BACKEND={saved_on} for bitwise the same predictions."]
    np.testing.assert_allclose(np.load(other), np.load(trained), rtol=1e-5, atol=1e-6)
    assert not np.array_equal(np.load(trained), 0 * np.load(trained))  # a real prediction
