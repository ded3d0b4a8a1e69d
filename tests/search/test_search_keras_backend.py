"""Search trials run on the Keras backend of the search's process: isolated trials (and
those of Dask workers) are told it; a worker on another backend fails its trial clearly."""

import keras
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.metrics import get_scorer

from seqpipe._backend import CHOICE
from seqpipe.search._execution import run_in_child, run_trial
from seqpipe.search._trial import TrialTask


def keras_backend():
    import keras

    return keras.config.backend()


def test_a_child_process_runs_on_this_process_backend_unless_told_another():
    assert run_in_child(keras_backend, ()) == CHOICE.name == keras.config.backend()
    other = "tensorflow" if CHOICE.name == "jax" else "jax"
    assert run_in_child(keras_backend, (), keras_backend=other) == other


def test_a_trial_on_a_worker_of_another_backend_fails_naming_both():
    other = "tensorflow" if CHOICE.name == "jax" else "jax"
    X = np.arange(20.0).reshape(10, 2)
    task = TrialTask(Ridge(), {}, [(np.arange(6), np.arange(6, 10))], get_scorer("r2"))
    record = run_trial(task, X, X[:, 0], isolate=False, timeout=None, keras_backend=other)
    assert record["error"] == (
        f"RuntimeError: this worker runs Keras on {CHOICE.name}, the search on {other}: "
        f"start the workers with KERAS_BACKEND={other}, or isolate the trials "
        f"(isolate=True)")
    record = run_trial(task, X, X[:, 0], isolate=False, timeout=None,
                       keras_backend=CHOICE.name)
    assert record["error"] is None and len(record["scores"]) == 1, record
