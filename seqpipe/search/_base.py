"""The trial loop and the answers shared by seqpipe's searches (:class:`_BaseSearch`);
a subclass gives the sampler and the number of trials (:mod:`seqpipe.search.searches`)."""

from __future__ import annotations

import abc
import hashlib
import os
import socket
import time
import warnings
from numbers import Integral
from typing import Any

import joblib
import numpy as np
import optuna
from optuna.trial import TrialState
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import check_cv
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.validation import check_is_fitted

from seqpipe._composition import routing_enabled
from seqpipe.scoring import get_scorer
from seqpipe.search._optuna_space import _check_dict, _Param, _short, _to_optuna
from seqpipe.search._progress import _Progress
from seqpipe.search._results import _cv_results, _trial_records
from seqpipe.search._run_options import _RunOptions
from seqpipe.search._samplers import _NumberSeededSampler
from seqpipe.search._storage import _storage, _storage_url
from seqpipe.search._study import _fingerprint, _finished, _rerun_abandoned
from seqpipe.search._trial import TrialTask
from seqpipe.search.space import check_space
from seqpipe.search.walk_forward import WalkForwardSplit


def _check_int(value: Any, name: str, owner: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"The '{name}' parameter of {owner} must be an int in the range "
                         f"[{minimum}, inf). Got {value!r} instead.")


def _seed(random_state: Any, owner: str) -> int | None:
    if random_state is None:
        return None
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    raise ValueError(f"The 'random_state' parameter of {owner} must be None, an int, a "
                     f"numpy Generator or a numpy RandomState. Got {random_state!r} instead.")


class _BaseSearch(_RunOptions, MetaEstimatorMixin, BaseEstimator, metaclass=abc.ABCMeta):
    """The trial loop shared by the searches; a subclass gives the sampler and the
    number of trials."""

    def _parameters(self) -> list[_Param]:
        owner = type(self).__name__
        return [_to_optuna(name, values, owner) for name, values in self.space.items()]

    @abc.abstractmethod
    def _make_sampler(self, params: list[_Param], seed: int | None) -> Any:
        """The Optuna sampler of this search."""

    def _n_trials(self, params: list[_Param]) -> int:
        return self.n_trials

    def _run_trials(self, study: Any, params: list[_Param], n_trials: int, runner: Any,
                    folds: list, scorer: Any, pruner: Any,
                    metadata: tuple[dict, dict] = ({}, {})) -> None:
        """Keep up to ``runner.capacity`` trials running until ``n_trials`` have ended;
        ``metadata``: the fit and score parameters of every fold."""
        running: dict[Any, tuple[Any, dict[str, Any]]] = {}
        pruning = not isinstance(pruner, optuna.pruners.NopPruner)
        progress = _Progress(study, n_trials, self.verbose)
        try:
            while True:
                while len(running) < runner.capacity and self._free(study, n_trials) > 0:
                    trial, values = self._ask(study, params)
                    task = TrialTask(self.estimator, values, folds, scorer,
                                     (pruner, _finished(study, trial.number),
                                      study.study_name) if pruning else None, *metadata)
                    running[runner.submit(task)] = trial, values
                if not running:
                    return
                for future in runner.wait(list(running)):
                    trial, values = running.pop(future)
                    self._tell(study, trial, values, runner.result(future))
                    progress.update(study)
        finally:
            progress.close()

    @staticmethod
    def _free(study: Any, n_trials: int) -> int:
        trials = study.get_trials(deepcopy=False)
        finished = sum(1 for t in trials if "record" in t.user_attrs and t.state.is_finished())
        running = sum(1 for t in trials if t.state == TrialState.RUNNING)
        return n_trials - finished - running

    def _check_cv(self) -> Any:
        if self.cv is None:
            return WalkForwardSplit(5)
        if isinstance(self.cv, Integral) and not isinstance(self.cv, bool):
            return WalkForwardSplit(self.cv)
        return check_cv(self.cv)

    def get_metadata_routing(self) -> MetadataRouter:
        """How fit parameters reach the estimator, the scorer and ``cv`` when metadata
        routing is enabled, as in scikit-learn's searches: the estimator's ``fit`` gets
        what it requested for ``fit``, the scorer what it requested for ``score`` (the
        estimator's ``score`` with ``scoring=None``), ``cv`` what it requested for
        ``split``.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        scorer = get_scorer(self.scoring)
        if not hasattr(scorer, "get_metadata_routing"):  # scoring=None: estimator.score
            scorer = self.estimator
        return (MetadataRouter(owner=type(self).__name__)
                .add(estimator=self.estimator,
                     method_mapping=MethodMapping().add(caller="fit", callee="fit"))
                .add(scorer=scorer,
                     method_mapping=MethodMapping().add(caller="fit", callee="score"))
                .add(splitter=self._check_cv(),
                     method_mapping=MethodMapping().add(caller="fit", callee="split")))

    def _route(self, params: dict[str, Any]) -> tuple[dict, dict, dict]:
        """The fit, score and split parameters among ``params``: by request with
        metadata routing enabled, else all of them to the estimator's ``fit`` (as
        scikit-learn's searches do)."""
        if not params:
            return {}, {}, {}
        if not routing_enabled():
            return params, {}, {}
        routed = process_routing(self, "fit", **params)
        return (dict(routed["estimator"]["fit"]), dict(routed["scorer"]["score"]),
                dict(routed["splitter"]["split"]))

    def fit(self, X: Any, y: Any = None, **params: Any) -> _BaseSearch:
        """Run the trials, then refit the best parameters on all of ``(X, y)``.

        Each trial clones ``estimator``, sets its parameters and fits and scores it on
        every fold of ``cv``; a trial whose fit or score raises is recorded as failed
        (state ``"FAIL"``, its error in ``trials_``, a NaN score ranked last, a
        ``FitFailedWarning``) and the search goes on.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The samples, in time order.
        y : array-like of shape (n_samples, ...) or None
            Their targets (None when a step of the estimator derives them from X).
        **params : dict of str -> object
            Fit parameters (e.g. ``sample_weight``), as in scikit-learn's searches: all
            go to the estimator's ``fit``; with metadata routing enabled, to what
            requested them (the estimator's steps, the scorer, ``cv``). Those with one
            value per sample are taken at each fold's rows. They are part of the
            study's name: other weights, another study.

        Returns
        -------
        self

        Raises
        ------
        ValueError or TypeError
            Before any trial: an unknown parameter or a bad space (see
            :func:`~seqpipe.search.check_space`), a bad constructor parameter, or too
            few samples for the folds.
        ValueError
            After the trials, when every one of them failed (naming the first error).
        """
        owner = type(self).__name__
        metadata = params  # ``params`` names the space's parameters below
        check_space(self.estimator, _check_dict(self.space, owner))
        if not isinstance(self.refit, bool):
            raise ValueError(f"The 'refit' parameter of {owner} must be a bool. "
                             f"Got {self.refit!r} instead.")
        params = self._parameters()
        seed = _seed(self.random_state, owner)
        n_trials = self._n_trials(params)
        scorer = get_scorer(self.scoring)
        fit_params, score_params, split_params = self._route(metadata)
        folds = list(self._check_cv().split(X, y, **split_params))
        n_jobs = self._n_jobs()

        pruner = self._pruner()
        isolate = self._isolate()
        storage = _storage(self.storage, owner)
        study_name = self._study_name(X, y, metadata)

        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        try:
            study = optuna.create_study(direction="maximize", storage=storage,
                                        study_name=study_name, load_if_exists=True,
                                        sampler=self._study_sampler(params, seed),
                                        pruner=pruner)
            for name, value in self._description(params, n_trials, seed).items():
                study.set_user_attr(name, value)
            self._rerun_abandoned(study, params)
            runner = self._runner(X, y, n_jobs, isolate)
            try:
                self._run_trials(study, params, n_trials, runner, folds, scorer, pruner,
                                 (fit_params, score_params))
            finally:
                runner.close()
        finally:
            optuna.logging.set_verbosity(verbosity)

        trials = _trial_records(study, params)
        self.study_, self.trials_, self.scorer_ = study, trials, scorer
        self.storage_url_ = _storage_url(self.storage)
        self.n_splits_ = len(folds)
        self.cv_results_ = _cv_results(trials, len(folds))
        if all(trial["state"] != "COMPLETE" for trial in trials):
            first = trials[0]
            raise ValueError(f"All {len(trials)} trials of {owner} failed. The first error "
                             f"(trial {first['number']}, params {first['params']}): "
                             f"{first['error'] or 'pruned'}")
        self.best_index_ = int(np.argmin(self.cv_results_["rank_test_score"]))
        self.best_params_ = self.cv_results_["params"][self.best_index_]
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        if self.refit:
            start = time.perf_counter()
            estimator = clone(self.estimator).set_params(**clone(self.best_params_,
                                                                 safe=False))
            self.best_estimator_ = (estimator.fit(X, **fit_params) if y is None
                                    else estimator.fit(X, y, **fit_params))
            self.refit_time_ = time.perf_counter() - start
        return self

    def _ask(self, study: Any, params: list[_Param]) -> tuple[Any, dict[str, Any]]:
        trial = study.ask({param.name: param.distribution for param in params})
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("pid", os.getpid())
        return trial, {param.name: param.decode(trial.params[param.name])
                       for param in params}

    def _tell(self, study: Any, trial: Any, values: dict[str, Any], record: dict) -> None:
        record = dict(record)
        # what the pruner wrote on its copy of the trial (a successive-halving rung's
        # score, "completed_rung_<i>"): on the trial itself, where the next trials'
        # pruners compare with it
        for key, value in record.pop("pruner_attrs", {}).items():
            study._storage.set_trial_system_attr(trial._trial_id, key, value)
        trial.set_user_attr("record", record)
        for step, value in record.get("intermediate", {}).items():
            trial.report(value, int(step))
        if record.get("pruned"):
            study.tell(trial, state=TrialState.PRUNED)
            return
        if record["error"] is None:
            study.tell(trial, float(np.mean(record["scores"])))
            return
        study.tell(trial, state=TrialState.FAIL)
        warnings.warn(f"Trial {trial.number} of {type(self).__name__} failed with params "
                      f"{values}: {record['error']}", FitFailedWarning, stacklevel=4)

    def _study_name(self, X: Any, y: Any, params: dict[str, Any] | None = None) -> str:
        config = {name: value for name, value in self.get_params(deep=False).items()
                  if name not in ("n_trials", "storage", "n_jobs", "backend", "scheduler",
                                  "isolate", "verbose")}
        text = (f"{type(self).__qualname__} {_fingerprint(config)} "
                f"{joblib.hash(X)} {joblib.hash(y)}"
                + (f" {joblib.hash(params)}" if params else ""))
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        return f"seqpipe-{type(self).__name__}-{digest}"

    def _description(self, params: list[_Param], n_trials: int,
                     seed: int | None) -> dict[str, Any]:
        """The study's user attributes, for Optuna's tools: what this search is."""
        scoring = self.scoring
        if scoring is None:
            scoring = f"{type(self.estimator).__name__}.score"
        elif not isinstance(scoring, str):
            scoring = getattr(scoring, "__qualname__", None) or _short(scoring)
        return {"seqpipe_search": type(self).__name__,
                "estimator": _short(self.estimator, 2000),
                "space": {param.name: param.describe(self.space[param.name])
                          for param in params},
                "scoring": scoring, "cv": _short(self._check_cv()),
                "n_trials": n_trials, "random_state": seed}

    def _study_sampler(self, params: list[_Param], seed: int | None) -> Any:
        """The study's sampler; a seeded search draws each trial with a sampler seeded
        from its number (:class:`_NumberSeededSampler`)."""
        if seed is None:
            return self._make_sampler(params, None)
        return _NumberSeededSampler(lambda derived: self._make_sampler(params, derived), seed)

    _rerun_abandoned = staticmethod(_rerun_abandoned)  # seqpipe.search._study

    def predict(self, X: Any) -> Any:
        """``best_estimator_.predict(X)``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    def score(self, X: Any, y: Any = None) -> float:
        """The search's scorer (``scoring``) on ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return float(self.scorer_(self.best_estimator_, X, y))
