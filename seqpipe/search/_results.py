"""What a search answers from its study: ``trials_``, one record per finished trial, and
``cv_results_`` with the keys of scikit-learn's ``GridSearchCV``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.ma import MaskedArray
from optuna.trial import TrialState
from scipy.stats import rankdata

from seqpipe.search._optuna_space import _Param


def _masked_params(candidates: list[dict[str, Any]]) -> dict[str, MaskedArray]:
    """``param_<name>`` masked arrays, as scikit-learn's ``cv_results_`` has them."""
    names = list(dict.fromkeys(name for params in candidates for name in params))
    columns = {}
    for name in names:
        values = [params[name] for params in candidates if name in params]
        try:
            inferred = np.array(values)
            dtype = (inferred.dtype if inferred.dtype.kind != "U" and inferred.ndim == 1
                     else np.dtype(object))
        except ValueError:
            dtype = np.dtype(object)
        column = MaskedArray(np.empty(len(candidates), dtype=dtype), mask=True)
        for index, params in enumerate(candidates):
            if name in params:
                column[index] = params[name]
        columns[f"param_{name}"] = column
    return columns


def _trial_records(study: Any, params: list[_Param]) -> list[dict]:
    """``trials_``: one record per finished trial, in the order of their numbers."""
    records = []
    for trial in study.get_trials(deepcopy=False):
        if not trial.state.is_finished() or "record" not in trial.user_attrs:
            continue
        record = dict(trial.user_attrs["record"])
        record["intermediate"] = {int(step): value for step, value
                                  in trial.intermediate_values.items()}
        record.setdefault("pruned", False)
        values = {param.name: param.decode(trial.params[param.name])
                  for param in params}
        failed = trial.state != TrialState.COMPLETE
        records.append({"number": trial.number, "params": values,
                        "state": "FAIL" if trial.state == TrialState.FAIL
                        else trial.state.name,
                        "value": math.nan if failed else float(trial.value),
                        **record})
    return records

def _cv_results(trials: list[dict], n_splits: int) -> dict[str, Any]:
    """``cv_results_`` with the keys of scikit-learn's GridSearchCV, one row per trial."""
    def table(key: str) -> np.ndarray:
        rows = np.full((len(trials), n_splits), np.nan)
        for row, trial in zip(rows, trials):
            row[:len(trial[key])] = trial[key]
        return rows

    results: dict[str, Any] = {}
    for name, key in (("fit_time", "fit_times"), ("score_time", "score_times")):
        rows = table(key)
        results[f"mean_{name}"] = rows.mean(axis=1)
        results[f"std_{name}"] = rows.std(axis=1)
    candidates = [trial["params"] for trial in trials]
    results.update(_masked_params(candidates))
    results["params"] = candidates
    scores = table("scores")
    for split in range(n_splits):
        results[f"split{split}_test_score"] = scores[:, split]
    means = scores.mean(axis=1)
    results["mean_test_score"] = means
    results["std_test_score"] = scores.std(axis=1)
    if np.isnan(means).all():
        ranks = np.ones(len(means), dtype=np.int32)
    else:  # NaN (failed) trials rank last, as in scikit-learn
        filled = np.nan_to_num(means, nan=np.nanmin(means) - 1)
        ranks = rankdata(-filled, method="min").astype(np.int32)
    results["rank_test_score"] = ranks
    return results
