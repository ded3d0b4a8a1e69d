"""One trial of a search: fit and score a parameter set on every fold, wherever it runs.

:func:`evaluate` is what runs in the search's process, in a joblib worker, in a fresh
process of its own or on a Dask worker. It never raises: an error ends the trial and
is returned in its record, as text.

**Pruning.** With a pruner, every ``EpochRepeater`` inside the estimator gets an
``epoch_callback`` (:class:`EpochReporter`): after each epoch it reports the validation
score of the ``ValidationSplit`` inside (its ``validation_scores_``, greater is better)
as the trial's intermediate value at step *s*, the number of epochs the trial has
trained so far (folds in turn: with E epochs per fold, step ``k * E + e`` is epoch
``e`` of fold ``k``). The pruner decides where the trial runs, on an in-memory copy of
the study (its name, and the trials that had finished when it started, each under its
own number with its intermediate values and system attributes): no shared storage nor
channel back to the search is needed, so pruning works in every execution mode. A
pruned trial stops at once and returns its intermediate values, and what the pruner
wrote on it (successive halving's rung scores, ``pruner_attrs``), which the search
writes on the real trial for the next trials' pruners.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import traceback
from typing import Any

import numpy as np
import optuna
from sklearn.base import clone
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _check_method_params

from seqpipe.base import iter_steps

__all__ = ["EpochReporter", "TrialTask", "accepts_epoch_callback", "evaluate", "failed_record"]


@dataclasses.dataclass
class TrialTask:
    """What a trial needs, apart from the data.

    ``pruning`` is None or ``(pruner, finished, study_name)``: an Optuna pruner, the
    trials numbered below this one (``FrozenTrial``: copies of the ended ones with their
    intermediate values, placeholders for the others) and the search's study name.
    ``fit_params`` and ``score_params`` go to the estimator's ``fit`` and to the scorer,
    those with one value per sample taken at the fold's rows (``sample_weight``).
    """

    estimator: Any
    values: dict[str, Any]
    folds: list
    scorer: Any
    pruning: tuple[Any, list, str] | None = None
    fit_params: dict[str, Any] = dataclasses.field(default_factory=dict)
    score_params: dict[str, Any] = dataclasses.field(default_factory=dict)


def accepts_epoch_callback(step: Any) -> bool:
    """Whether ``step`` has an ``epoch_callback`` parameter (an EpochRepeater)."""
    return hasattr(step, "get_params") and "epoch_callback" in step.get_params(deep=False)


class EpochReporter:
    """An ``epoch_callback`` reporting each epoch's validation score to a pruner.

    Parameters
    ----------
    pruner : optuna.pruners.BasePruner
    finished : list of optuna.trial.FrozenTrial
        The trials numbered below this one, in order: the pruner compares against the
        ended ones.
    study_name : str
        The search's study name.

    The pruner sees a study of that name whose trial has its number in the search
    (``len(finished)``), as in the search's own study: a pruner that depends on them
    (Optuna's HyperbandPruner picks brackets from both) decides the same way in every
    run of a seeded search.
    """

    def __init__(self, pruner: Any, finished: list, study_name: str) -> None:
        study = optuna.create_study(direction="maximize", pruner=pruner,
                                    study_name=study_name,
                                    sampler=optuna.samplers.RandomSampler(seed=0))
        study.add_trials(finished)
        self.trial = study.ask()
        self.intermediate: dict[int, float] = {}

    def pruner_attrs(self) -> dict[str, Any]:
        """What the pruner wrote on the trial (its system attributes), for the search to
        copy onto the real trial: successive halving's rung scores."""
        return dict(self.trial.storage.get_trial_system_attrs(self.trial._trial_id))

    def __call__(self, repeater: Any, epoch: int) -> None:
        score = _latest_validation_score(repeater)
        if score is None or not math.isfinite(score):
            return
        step = len(self.intermediate)
        self.intermediate[step] = score
        self.trial.report(score, step)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at step {step} (score {score:.6g})")


def _latest_validation_score(repeater: Any) -> float | None:
    for inner in iter_steps(repeater):
        scores = getattr(inner, "validation_scores_", None)
        if scores:
            return float(scores[-1])
    return None


def failed_record(error: str, duration: float = 0.0) -> dict[str, Any]:
    """The record of a trial that ended before any score (its process died, timed out)."""
    return {"scores": [], "fit_times": [], "score_times": [], "duration": duration,
            "error": error, "pruned": False, "intermediate": {}, "pid": None}


def evaluate(task: TrialTask, X: Any, y: Any) -> dict[str, Any]:
    """Fit and score ``task`` on every fold; its record (scores, times, error...)."""
    record = failed_record(None)
    record["pid"] = os.getpid()
    reporter = None if task.pruning is None else EpochReporter(*task.pruning)
    start = time.perf_counter()
    try:
        for train, test in task.folds:
            estimator = clone(task.estimator).set_params(**clone(task.values, safe=False))
            if reporter is not None:
                for inner in iter_steps(estimator):
                    if accepts_epoch_callback(inner):
                        inner.set_params(epoch_callback=reporter)
            fit_start = time.perf_counter()
            X_train = _safe_indexing(X, train)
            fit_params = _check_method_params(X, task.fit_params, train)
            if y is None:
                estimator.fit(X_train, **fit_params)
            else:
                estimator.fit(X_train, _safe_indexing(y, train), **fit_params)
            score_start = time.perf_counter()
            y_test = None if y is None else _safe_indexing(y, test)
            score = float(task.scorer(estimator, _safe_indexing(X, test), y_test,
                                      **_check_method_params(X, task.score_params, test)))
            record["fit_times"].append(score_start - fit_start)
            record["score_times"].append(time.perf_counter() - score_start)
            record["scores"].append(score)
        if math.isnan(float(np.mean(record["scores"]))):
            raise ValueError(f"the scores are NaN: {record['scores']}")
    except optuna.TrialPruned:
        record["pruned"] = True
    except Exception as error:  # a failed trial is data, not a crash
        record["error"] = f"{type(error).__name__}: {error}"
        record["traceback"] = traceback.format_exc()
    if reporter is not None:
        record["intermediate"] = dict(reporter.intermediate)
        record["pruner_attrs"] = reporter.pruner_attrs()
    record["duration"] = time.perf_counter() - start
    return record
