"""Logging a fitted seqpipe estimator to an MLflow run: its params, its ``history_``
curves, a search's best params and one child run per trial, the model."""

from __future__ import annotations

import time
from typing import Any

import mlflow
import numpy as np
from mlflow.entities import Metric, Param, RunTag
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from seqpipe.base import collect_history
from seqpipe.mlflow._flavor import log_model

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
