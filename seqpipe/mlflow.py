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

import functools
import os
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import yaml
from mlflow import pyfunc
from mlflow.entities import Metric, Param, RunTag
from mlflow.environment_variables import MLFLOW_ALLOW_PICKLE_DESERIALIZATION
from mlflow.exceptions import MlflowException
from mlflow.models import Model, infer_signature
from mlflow.models.model import MLMODEL_FILE_NAME
from mlflow.tracking.artifact_utils import _download_artifact_from_uri
from mlflow.utils.environment import (
    _CONDA_ENV_FILE_NAME,
    _CONSTRAINTS_FILE_NAME,
    _PYTHON_ENV_FILE_NAME,
    _REQUIREMENTS_FILE_NAME,
    _process_pip_requirements,
    _PythonEnv,
    _validate_env_arguments,
)
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from mlflow.utils.model_utils import (
    _get_flavor_configuration,
    _validate_and_prepare_target_save_path,
)
from mlflow.utils.requirements_utils import _get_pinned_requirement
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import seqpipe
import seqpipe.steps
from seqpipe.base import collect_history
from seqpipe.persistence import _resolve_key, load, save
from seqpipe.pipeline import Pipeline

__all__ = ["FLAVOR_NAME", "autolog", "get_default_pip_requirements", "load_model",
           "local_artifact", "log_fit", "log_model", "save_model"]

FLAVOR_NAME = "seqpipe"
_ARTIFACT = "model.seqpipe"


# ------------------------------------------------------------------ the flavor
def get_default_pip_requirements() -> list[str]:
    """The pip requirements of a seqpipe model: seqpipe and the libraries it stands on,
    pinned to the running versions (Keras and its backend when they are imported).

    Examples
    --------
    >>> import seqpipe.mlflow
    >>> seqpipe.mlflow.get_default_pip_requirements()[0].startswith("seqpipe==")
    True
    """
    requirements = [f"seqpipe=={seqpipe.__version__}"]
    for package, module in (("numpy", "numpy"), ("scikit-learn", "sklearn"),
                            ("joblib", "joblib"), ("keras", "keras"), ("jax", "jax"),
                            ("tensorflow", "tensorflow"), ("torch", "torch")):
        if module in ("numpy", "sklearn", "joblib") or module in sys.modules:
            try:
                requirements.append(_get_pinned_requirement(package, module=module))
            except Exception:  # noqa: BLE001 - a module without a distribution
                continue
    return requirements


def _check_fitted(pipeline: Any, caller: str) -> None:
    if not hasattr(pipeline, "predict"):
        raise TypeError(f"The 'pipeline' parameter of seqpipe.mlflow.{caller} must be a "
                        f"fitted estimator with predict. Got {type(pipeline).__name__} "
                        f"instead.")
    try:
        check_is_fitted(pipeline)
    except NotFittedError:
        raise NotFittedError(f"The 'pipeline' parameter of seqpipe.mlflow.{caller} must be "
                             f"fitted: this {type(pipeline).__name__} is not; call fit "
                             f"first.") from None


def save_model(pipeline: Any, path: str | os.PathLike, *, signature: Any = None,
               input_example: Any = None, key: bytes | str | None = None,
               pip_requirements: Any = None, extra_pip_requirements: Any = None,
               metadata: dict[str, Any] | None = None, mlflow_model: Model | None = None
               ) -> None:
    """Save a fitted pipeline as an MLflow model directory at ``path``.

    Parameters
    ----------
    pipeline : fitted estimator
        A seqpipe Pipeline, step or search (anything :func:`seqpipe.save` pickles, with
        ``predict``).
    path : str or os.PathLike
        The directory to create; it must not exist, or be empty.
    signature : mlflow.models.ModelSignature, False or None, default=None
        None: inferred from ``input_example`` and its prediction (a tensor signature,
        e.g. ``(-1, 10, 2)`` float64, for arrays); False: none.
    input_example : array-like, optional
        A few samples, saved with the model; the signature is inferred from them.
    key : bytes or str, optional
        Signs the artifact (:func:`seqpipe.save`); default: ``SEQPIPE_KEY`` when set.
    pip_requirements, extra_pip_requirements : optional
        As in MLflow's flavors; default: :func:`get_default_pip_requirements`.
    metadata : dict, optional
        Stored in the MLmodel file.
    mlflow_model : mlflow.models.Model, optional
        The model configuration this flavor is added to (MLflow's ``Model.log`` passes
        it).

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from sklearn.linear_model import Ridge
    >>> import seqpipe.mlflow
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> model = Ridge().fit(X, X.sum(axis=1))
    >>> path = tempfile.mkdtemp() + "/model"
    >>> seqpipe.mlflow.save_model(model, path, input_example=X[:2])
    >>> seqpipe.mlflow.load_model(path).predict(X[:1]).shape
    (1,)
    """
    _check_fitted(pipeline, "save_model")
    _validate_env_arguments(None, pip_requirements, extra_pip_requirements)
    path = os.fspath(path)
    _validate_and_prepare_target_save_path(path)
    mlflow_model = Model() if mlflow_model is None else mlflow_model
    if input_example is not None:
        from mlflow.models.utils import _save_example  # as MLflow's own flavors do

        _save_example(mlflow_model, input_example, path)
        if signature is None:
            example = np.asarray(input_example) if isinstance(input_example, list) \
                else input_example
            signature = infer_signature(example, pipeline.predict(example))
    if signature:
        mlflow_model.signature = signature
    if metadata is not None:
        mlflow_model.metadata = metadata
    save(pipeline, Path(path) / _ARTIFACT, key=key)
    pyfunc.add_to_model(mlflow_model, loader_module="seqpipe.mlflow", data=_ARTIFACT,
                        conda_env=_CONDA_ENV_FILE_NAME, python_env=_PYTHON_ENV_FILE_NAME)
    mlflow_model.add_flavor(FLAVOR_NAME, artifact=_ARTIFACT,
                            seqpipe_version=seqpipe.__version__,
                            signed=_resolve_key(key) is not None)
    mlflow_model.save(os.path.join(path, MLMODEL_FILE_NAME))
    default = get_default_pip_requirements() if pip_requirements is None else None
    conda_env, requirements, constraints = _process_pip_requirements(
        default, pip_requirements, extra_pip_requirements)
    with open(os.path.join(path, _CONDA_ENV_FILE_NAME), "w") as file:
        yaml.safe_dump(conda_env, stream=file, default_flow_style=False)
    if constraints:
        Path(path, _CONSTRAINTS_FILE_NAME).write_text("\n".join(constraints))
    Path(path, _REQUIREMENTS_FILE_NAME).write_text("\n".join(requirements))
    _PythonEnv.current().to_yaml(os.path.join(path, _PYTHON_ENV_FILE_NAME))


def log_model(pipeline: Any, name: str, *, signature: Any = None,
              input_example: Any = None, registered_model_name: str | None = None,
              key: bytes | str | None = None, pip_requirements: Any = None,
              extra_pip_requirements: Any = None, metadata: dict[str, Any] | None = None,
              **kwargs: Any) -> Any:
    """Log a fitted pipeline as an MLflow model of the active run (a run is started if
    none is active), and register it under ``registered_model_name`` if given.

    Parameters
    ----------
    pipeline : fitted estimator
        What :func:`save_model` saves.
    name : str
        The model's name in the run (``runs:/<run id>/<name>``).
    signature, input_example, key, pip_requirements, extra_pip_requirements, metadata
        As in :func:`save_model`.
    registered_model_name : str, optional
        Register a new version of this model (created if needed): ``models:/NAME/1``.
    **kwargs
        Passed to :meth:`mlflow.models.Model.log` (``params``, ``tags``...).

    Returns
    -------
    mlflow.models.model.ModelInfo
        ``model_uri``, ``signature``, ``registered_model_version``...

    Examples
    --------
    >>> import mlflow, numpy as np, tempfile
    >>> from sklearn.linear_model import Ridge
    >>> import seqpipe.mlflow
    >>> root = tempfile.mkdtemp()
    >>> mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")  # a local store
    >>> _ = mlflow.set_experiment(experiment_id=mlflow.create_experiment(
    ...     "demo", artifact_location=f"{root}/artifacts"))
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> with mlflow.start_run():
    ...     info = seqpipe.mlflow.log_model(Ridge().fit(X, X[:, 0]), "model",
    ...                                     input_example=X[:2],
    ...                                     registered_model_name="ridge")
    >>> info.registered_model_version
    1
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"The 'name' parameter of seqpipe.mlflow.log_model must be a "
                         f"non-empty str. Got {name!r} instead.")
    _check_fitted(pipeline, "log_model")
    return Model.log(artifact_path=None, name=name, flavor=sys.modules[__name__],
                     pipeline=pipeline,
                     signature=signature, input_example=input_example,
                     registered_model_name=registered_model_name, key=key,
                     pip_requirements=pip_requirements,
                     extra_pip_requirements=extra_pip_requirements, metadata=metadata,
                     **kwargs)


def _check_loading_allowed(key: bytes | str | None, where: str) -> None:
    """Refuse to unpickle an unverified model where MLflow's switch forbids it."""
    if _resolve_key(key) is None and not MLFLOW_ALLOW_PICKLE_DESERIALIZATION.get():
        raise MlflowException(
            f"Loading the seqpipe model at {where} unpickles it, and "
            f"MLFLOW_ALLOW_PICKLE_DESERIALIZATION is false: configure the key it was "
            f"signed with (key=... or SEQPIPE_KEY) to check its signature first, or set "
            f"MLFLOW_ALLOW_PICKLE_DESERIALIZATION=true to load models you trust.")


def local_artifact(model_uri: str, dst_path: str | os.PathLike | None = None) -> Path:
    """Download a seqpipe MLflow model (``runs:/...``, ``models:/NAME/VERSION``, a
    path...) and return the path of its ``model.seqpipe`` artifact.

    Raises
    ------
    mlflow.exceptions.MlflowException
        The model is not there, or has no seqpipe flavor.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from sklearn.linear_model import Ridge
    >>> import seqpipe.mlflow
    >>> path = tempfile.mkdtemp() + "/model"
    >>> seqpipe.mlflow.save_model(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), path)
    >>> seqpipe.mlflow.local_artifact(path).name
    'model.seqpipe'
    """
    local = _download_artifact_from_uri(artifact_uri=model_uri, output_path=dst_path)
    try:
        conf = _get_flavor_configuration(model_path=local, flavor_name=FLAVOR_NAME)
    except MlflowException as error:
        raise MlflowException(f"{model_uri} is not a seqpipe model (no {FLAVOR_NAME!r} "
                              f"flavor in its MLmodel): {error.message}") from None
    return Path(local) / conf["artifact"]


def load_model(model_uri: str, *, dst_path: str | os.PathLike | None = None,
               key: bytes | str | None = None) -> Any:
    """Load a seqpipe model logged or saved by this flavor: the pipeline itself.

    Parameters
    ----------
    model_uri : str
        ``runs:/<run id>/<name>``, ``models:/<name>/<version>``, ``models:/<name>@alias``,
        a local path...
    dst_path : path, optional
        Where to download it (an existing directory); default: a temporary one.
    key : bytes or str, optional
        The signing key to check (default: ``SEQPIPE_KEY`` when set): an unsigned or
        tampered artifact is refused before it is unpickled.

    Raises
    ------
    seqpipe.persistence.ArtifactError
        A key is configured and the artifact is unsigned or its signature does not
        match, or the artifact is corrupted.
    mlflow.exceptions.MlflowException
        Not a seqpipe model; or unpickling is forbidden
        (``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false``) and no key is configured.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from sklearn.linear_model import Ridge
    >>> import seqpipe.mlflow
    >>> path = tempfile.mkdtemp() + "/model"
    >>> seqpipe.mlflow.save_model(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), path, key="k")
    >>> seqpipe.mlflow.load_model(path, key="k").predict([[2.0]]).round(6).tolist()
    [1.0]
    """
    artifact = local_artifact(model_uri, dst_path)
    _check_loading_allowed(key, model_uri)
    return load(artifact, key=key)


class _PyfuncModel:
    """What ``mlflow.pyfunc`` calls: ``predict(data, params=None)``."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    def get_raw_model(self) -> Any:
        """The seqpipe pipeline."""
        return self.pipeline

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """``pipeline.predict(data)``."""
        return self.pipeline.predict(data)


def _load_pyfunc(path: str) -> _PyfuncModel:
    """Called by ``mlflow.pyfunc.load_model`` with the artifact's path; the key is
    ``SEQPIPE_KEY`` when set."""
    if os.path.isdir(path):
        path = os.path.join(path, _ARTIFACT)
    _check_loading_allowed(None, path)
    return _PyfuncModel(load(path))


# ------------------------------------------------------------------ logging fits
_MAX_PARAM = 6000  # MLflow's limit on a param's value


def _param_text(value: Any) -> str:
    if value is None or isinstance(value, (bool, int, float, str, np.number)):
        text = str(value)
    elif isinstance(value, type) or callable(value) and hasattr(value, "__qualname__") \
            and not hasattr(value, "get_params"):
        text = f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    elif hasattr(value, "get_params"):
        text = type(value).__name__  # its params are logged under its own prefix
    else:
        text = " ".join(repr(value).split())
    return text[:_MAX_PARAM]


def _params(estimator: Any, prefix: str = "") -> dict[str, str]:
    return {f"{prefix}{name}"[:250]: _param_text(value)
            for name, value in estimator.get_params(deep=True).items()}


def _history_metrics(estimator: Any, timestamp: int) -> list[Metric]:
    """``history_`` as metrics ``<recorder>/<subset>/<metric>``, one step per entry."""
    metrics = []
    for name, subsets in collect_history(estimator).items():
        for subset, curves in subsets.items():
            for metric, values in curves.items():
                metrics.extend(Metric(f"{name}/{subset}/{metric}", float(value), timestamp,
                                      step) for step, value in enumerate(values))
    return metrics


def _log(client: Any, run_id: str, params: dict[str, str] = (),
         metrics: list[Metric] = (), tags: dict[str, str] = ()) -> None:
    client.log_batch(run_id, metrics=list(metrics),
                     params=[Param(k, v) for k, v in dict(params).items()],
                     tags=[RunTag(k, str(v)) for k, v in dict(tags).items()])


def _is_search(estimator: Any) -> bool:
    return hasattr(estimator, "trials_") and hasattr(estimator, "study_")


def log_fit(estimator: Any, *, log_models: bool = False, input_example: Any = None,
            run_id: str | None = None) -> str:
    """Log a fitted seqpipe estimator to an MLflow run: what :func:`autolog` logs.

    - its parameters (``get_params(deep=True)``; an estimator as its class name, a
      function as its qualified name);
    - its ``history_`` curves, as metrics ``<recorder>/<subset>/<metric>`` (e.g.
      ``epoch_metrics/validation/mse``) with one step per epoch;
    - for a search (RandomSearch, GridSearch, TPESearch): its own parameters, the best
      params (``best_<name>``), ``best_cv_score``, the Optuna study's name and storage
      URL (tags ``optuna.study_name``, ``optuna.storage_url``), the refit estimator's
      history, and one child run per trial (``trial <number>``: its params,
      ``mean_test_score``, ``split<i>_test_score``, ``fit_time``, ``duration``, the
      per-epoch ``intermediate_score``; tags ``state`` and ``error``; a failed or pruned
      trial's run ends FAILED or KILLED);
    - with ``log_models``, the model (the search's ``best_estimator_``) as ``model``.

    Parameters
    ----------
    estimator : fitted estimator
    log_models : bool, default=False
    input_example : array-like, optional
        For the logged model's signature.
    run_id : str, optional
        The run to log to; default: the active run, or a new one (ended after).

    Returns
    -------
    str
        The run's id.

    Examples
    --------
    >>> import mlflow, numpy as np, tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.search import GridSearch
    >>> import seqpipe.mlflow
    >>> root = tempfile.mkdtemp()
    >>> mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")  # a local store
    >>> _ = mlflow.set_experiment(experiment_id=mlflow.create_experiment(
    ...     "demo", artifact_location=f"{root}/artifacts"))
    >>> X = np.random.default_rng(0).normal(size=(60, 2))
    >>> search = GridSearch(Ridge(), {"alpha": [0.1, 1.0, 10.0]}, cv=2).fit(X, X[:, 0])
    >>> run_id = seqpipe.mlflow.log_fit(search)
    >>> children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{run_id}'")
    >>> len(children)
    3
    """
    if not isinstance(log_models, bool):
        raise ValueError(f"The 'log_models' parameter of seqpipe.mlflow.log_fit must be a "
                         f"bool. Got {log_models!r} instead.")
    if not hasattr(estimator, "get_params"):
        raise TypeError(f"The 'estimator' parameter of seqpipe.mlflow.log_fit must be a "
                        f"scikit-learn estimator. Got {type(estimator).__name__} instead.")
    active = mlflow.active_run()
    own_run = run_id is None and active is None
    if own_run:
        run_id = mlflow.start_run(run_name=type(estimator).__name__).info.run_id
    elif run_id is None:
        run_id = active.info.run_id
    try:
        _log_fitted(mlflow.MlflowClient(), run_id, estimator, log_models, input_example)
    finally:
        if own_run:
            mlflow.end_run()
    return run_id


def _log_fitted(client: Any, run_id: str, estimator: Any, log_models: bool,
                input_example: Any) -> None:
    now = int(time.time() * 1000)
    model = estimator
    if _is_search(estimator):
        params = {name: _param_text(value)
                  for name, value in estimator.get_params(deep=False).items()
                  if name not in ("estimator", "space")}
        params["estimator"] = type(estimator.estimator).__name__
        params.update({f"best_{name}"[:250]: _param_text(value)
                       for name, value in estimator.best_params_.items()})
        tags = {"optuna.study_name": estimator.study_.study_name}
        if getattr(estimator, "storage_url_", None):
            tags["optuna.storage_url"] = estimator.storage_url_
        model = getattr(estimator, "best_estimator_", None)
        metrics = [Metric("best_cv_score", float(estimator.best_score_), now, 0)]
        if model is not None:
            metrics += _history_metrics(model, now)
        _log(client, run_id, params, metrics, tags)
        _log_trials(client, run_id, estimator, now)
    else:
        _log(client, run_id, _params(estimator), _history_metrics(estimator, now),
             {"estimator_class": f"{type(estimator).__module__}."
                                 f"{type(estimator).__qualname__}"})
    if log_models and model is not None:
        with _in_run(run_id):
            try:
                log_model(model, "model", input_example=input_example)
            except Exception:  # noqa: BLE001 - the example does not fit (too few rows)
                if input_example is None:
                    raise
                log_model(model, "model")  # without a signature


def _log_trials(client: Any, parent_id: str, search: Any, now: int) -> None:
    experiment_id = client.get_run(parent_id).info.experiment_id
    for trial in search.trials_:
        run = client.create_run(experiment_id, run_name=f"trial {trial['number']}",
                                tags={MLFLOW_PARENT_RUN_ID: parent_id})
        metrics = [Metric("duration", float(trial["duration"]), now, 0)]
        if trial["state"] == "COMPLETE":
            metrics.append(Metric("mean_test_score", float(trial["value"]), now, 0))
        metrics += [Metric(f"split{i}_test_score", float(score), now, 0)
                    for i, score in enumerate(trial["scores"])]
        if trial["fit_times"]:
            metrics.append(Metric("fit_time", float(np.mean(trial["fit_times"])), now, 0))
        metrics += [Metric("intermediate_score", float(value), now, int(step))
                    for step, value in sorted(trial["intermediate"].items())]
        params = {name[:250]: _param_text(value) for name, value in trial["params"].items()}
        tags = {"state": trial["state"], "optuna.trial_number": trial["number"]}
        if trial["error"]:
            tags["error"] = trial["error"][:5000]
        _log(client, run.info.run_id, params, metrics, tags)
        status = {"COMPLETE": "FINISHED", "PRUNED": "KILLED"}.get(trial["state"], "FAILED")
        client.set_terminated(run.info.run_id, status=status)


class _in_run:  # noqa: N801 - used like a function
    """Make ``run_id`` the active run (fluent API) for the block, if it is not."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    def __enter__(self) -> None:
        active = mlflow.active_run()
        self.started = active is None or active.info.run_id != self.run_id
        if self.started:
            mlflow.start_run(run_id=self.run_id, nested=active is not None)

    def __exit__(self, *exc_info: Any) -> None:
        if self.started:
            mlflow.end_run()


# ------------------------------------------------------------------ autolog
_LOCK = threading.Lock()
_ORIGINALS: dict[type, Any] = {}
_CONFIG: dict[str, Any] = {"log_models": True}
_BUSY = threading.Lock()  # held during an autologged fit: the fits inside are its own


def _classes() -> list[type]:
    """The classes whose own ``fit`` autolog patches: Pipeline, the steps, the searches."""
    roots = [Pipeline, *(getattr(seqpipe.steps, name) for name in seqpipe.steps.__all__)]
    try:
        from seqpipe.search.searches import GridSearch, RandomSearch, TPESearch
    except ImportError:  # pragma: no cover - the search extra is missing
        pass
    else:
        roots += [RandomSearch, GridSearch, TPESearch]
    found: dict[type, None] = {}
    for root in roots:
        for cls in root.__mro__:
            if "fit" in vars(cls) and cls.__module__.startswith("seqpipe"):
                found[cls] = None
    return list(found)


def _autologged(original: Any) -> Any:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _BUSY.acquire(blocking=False):  # a fit inside an autologged fit
            return original(self, *args, **kwargs)
        try:
            own_run = mlflow.active_run() is None
            if own_run:
                mlflow.start_run(run_name=type(self).__name__)
            try:
                result = original(self, *args, **kwargs)
            except BaseException:
                if own_run:
                    mlflow.end_run(status="FAILED")
                raise
            try:
                example = _example(args[0] if args else kwargs.get("X"))
                _log_fitted(mlflow.MlflowClient(), mlflow.active_run().info.run_id, self,
                            _CONFIG["log_models"], example)
            except Exception as error:  # noqa: BLE001 - logging never breaks a fit
                warnings.warn(f"seqpipe.mlflow.autolog could not log the fit of "
                              f"{type(self).__name__}: {type(error).__name__}: {error}",
                              stacklevel=2)
            if own_run:
                mlflow.end_run()
            return result
        finally:
            _BUSY.release()

    return fit


def _example(X: Any) -> Any:
    """The first rows of X (numpy arrays only) as the logged model's input example."""
    return X[:5] if isinstance(X, np.ndarray) and X.ndim >= 1 and len(X) >= 5 else None


def autolog(*, log_models: bool = True, disable: bool = False) -> None:
    """Log every ``fit`` of a seqpipe Pipeline, step or search to MLflow.

    Each top-level ``fit`` logs to the active run, or to a run of its own named after
    the estimator's class (ended when the fit ends; FAILED if it raises), what
    :func:`log_fit` logs. The fits it makes inside (a pipeline's steps, a search's
    trials and refit) are not logged separately; nor is a fit in another thread while
    one is being logged. Logging errors are warnings: they never break a fit.

    Parameters
    ----------
    log_models : bool, default=True
        Log the fitted model (a search's ``best_estimator_``) as ``model``, its
        signature inferred from the first 5 samples of X when X is an array.
    disable : bool, default=False
        Remove the patches: fits are no longer logged.

    Examples
    --------
    >>> import mlflow, numpy as np, tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe import Pipeline
    >>> import seqpipe.mlflow
    >>> root = tempfile.mkdtemp()
    >>> mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")  # a local store
    >>> _ = mlflow.set_experiment(experiment_id=mlflow.create_experiment(
    ...     "demo", artifact_location=f"{root}/artifacts"))
    >>> seqpipe.mlflow.autolog(log_models=False)
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> _ = Pipeline([Ridge(alpha=0.5)]).fit(X, X[:, 0])
    >>> mlflow.search_runs()["params.ridge__alpha"].tolist()
    ['0.5']
    >>> seqpipe.mlflow.autolog(disable=True)
    """
    for name, value in (("log_models", log_models), ("disable", disable)):
        if not isinstance(value, bool):
            raise ValueError(f"The '{name}' parameter of seqpipe.mlflow.autolog must be a "
                             f"bool. Got {value!r} instead.")
    with _LOCK:
        _CONFIG["log_models"] = log_models
        if disable:
            for cls, original in _ORIGINALS.items():
                cls.fit = original
            _ORIGINALS.clear()
            return
        for cls in _classes():
            if cls not in _ORIGINALS:
                _ORIGINALS[cls] = vars(cls)["fit"]
                cls.fit = _autologged(vars(cls)["fit"])

