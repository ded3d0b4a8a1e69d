"""MLflow flavor for seqpipe: log, register, load and serve pipelines; autolog fits.

``pip install 'seqpipe[mlflow]'``. A seqpipe model is an MLflow model whose artifact is
written by :func:`seqpipe.save` (``model.seqpipe``: versioned, checksummed and, with a
key, signed), with two flavors: ``seqpipe`` (:func:`load_model` gives the pipeline back)
and ``python_function`` (``mlflow.pyfunc.load_model(uri).predict(X)``, what MLflow's
serving tools call), and an input/output signature inferred from ``input_example``.

>>> import mlflow, numpy as np, tempfile
>>> from sklearn.linear_model import Ridge
>>> from seqpipe import Pipeline
>>> from seqpipe.steps import MeanStdNormalizer
>>> import seqpipe.mlflow
>>> X = np.random.default_rng(0).normal(size=(50, 3))
>>> pipeline = Pipeline([MeanStdNormalizer(), Ridge()]).fit(X, X @ [1.0, 2.0, 3.0])
>>> root = tempfile.mkdtemp()
>>> mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")  # a local store
>>> _ = mlflow.set_experiment(experiment_id=mlflow.create_experiment(
...     "demo", artifact_location=f"{root}/artifacts"))
>>> with mlflow.start_run():
...     info = seqpipe.mlflow.log_model(pipeline, "model", input_example=X[:2])
>>> predict = mlflow.pyfunc.load_model(info.model_uri).predict
>>> bool(np.array_equal(predict(X), pipeline.predict(X)))
True

**Signed models.** With a key (``key=`` or the ``SEQPIPE_KEY`` environment variable)
the artifact is signed when saved, and loading (:func:`load_model`, ``mlflow.pyfunc``,
``seqpipe serve models:/NAME/VERSION``) refuses, before unpickling anything, a model
that is unsigned or whose signature does not match. Loading unpickles the pipeline:
with ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false`` (MLflow's own switch), a seqpipe
model loads only when a key is configured to check its signature.

**Autologging.** :func:`autolog` logs every ``fit`` of a seqpipe Pipeline, step or
search to the active MLflow run (or to a run of its own): :func:`log_fit` -- the
estimator's ``get_params``, its ``history_`` curves (one metric per recorder, subset
and metric, one step per epoch) and, with ``log_models``, the fitted model; for a
search, the best params and score, the Optuna study's name and storage, and one child
run per trial (its params, fold scores, state and per-epoch intermediate scores).
"""

from __future__ import annotations

from seqpipe.mlflow._autolog import autolog
from seqpipe.mlflow._flavor import (
    FLAVOR_NAME,
    _load_pyfunc,  # noqa: F401 - what mlflow.pyfunc calls on a model this flavor saved
    get_default_pip_requirements,
    load_model,
    local_artifact,
    log_model,
    save_model,
)
from seqpipe.mlflow._runs import log_fit

__all__ = ["FLAVOR_NAME", "autolog", "get_default_pip_requirements", "load_model",
           "local_artifact", "log_fit", "log_model", "save_model"]
