"""The seqpipe flavor of MLflow models: save, log, load; what ``mlflow.pyfunc`` loads.

The flavor is the package :mod:`seqpipe.mlflow` (MLflow records its name, and its
``python_function`` flavor calls ``seqpipe.mlflow._load_pyfunc``), which hands these
names on.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from mlflow import pyfunc
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
from mlflow.utils.model_utils import (
    _get_flavor_configuration,
    _validate_and_prepare_target_save_path,
)
from mlflow.utils.requirements_utils import _get_pinned_requirement
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import seqpipe
from seqpipe._artifact_integrity import _resolve_key
from seqpipe.persistence import load, save

FLAVOR_NAME = "seqpipe"
_ARTIFACT = "model.seqpipe"


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
    return Model.log(artifact_path=None, name=name, flavor=sys.modules[__package__],
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
