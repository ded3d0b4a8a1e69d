"""A search's Optuna study across runs and processes: its name's fingerprint of the
search, the trials a dead process abandoned (run again), and copies of the ended trials
for a trial's pruner."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from typing import Any

import optuna
from optuna.trial import TrialState

from seqpipe.search._optuna_space import _Param
from seqpipe.search.distributions import Choice


def _fingerprint(value: Any) -> str:
    """A description of ``value`` that is the same in every process (no addresses)."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        params = value.get_params(deep=False)
        inner = ", ".join(f"{k}={_fingerprint(v)}" for k, v in sorted(params.items()))
        return f"{type(value).__module__}.{type(value).__qualname__}({inner})"
    if isinstance(value, Choice):
        return f"Choice({_fingerprint(value.options)})"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k!r}: {_fingerprint(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fingerprint(v) for v in value) + "]"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def _process_is_gone(attrs: Mapping[str, Any]) -> bool:
    """Whether the process that ran a trial (its user attrs) is known to be dead."""
    if attrs.get("host") != socket.gethostname() or "pid" not in attrs:
        return False
    pid = attrs["pid"]
    if pid == os.getpid():
        return True  # this process runs one search at a time: a leftover of an earlier fit
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _finished(study: Any, number: int) -> list:
    """The trials numbered below ``number``, for the pruner of trial ``number``: copies
    of the ended ones (complete or pruned, with their intermediate values and system
    attributes, where successive halving keeps its rungs' scores) and a failed
    placeholder for every other one, so that each copy keeps its trial's number (Optuna's
    HyperbandPruner picks a trial's bracket from the study's name and its number)."""
    peers = (TrialState.COMPLETE, TrialState.PRUNED)
    return [optuna.trial.create_trial(state=trial.state, value=trial.value,
                                      intermediate_values=dict(trial.intermediate_values),
                                      system_attrs=dict(trial.system_attrs))
            if trial.state in peers else optuna.trial.create_trial(state=TrialState.FAIL)
            for trial in study.get_trials(deepcopy=False)[:number]]


def _rerun_abandoned(study: Any, params: list[_Param]) -> None:
    """Put the trials left running by a dead process back in the queue (WAITING):
    the next ask runs each again under its own number and with its own params, so
    a resumed seeded search runs exactly the trials of an uninterrupted one.

    Optuna's InMemoryStorage looks for waiting trials only after the last one it
    popped: there, the trial is failed and its params queued as a new trial."""
    names = {param.name for param in params}
    storage = study._storage  # Optuna's: the trial keeps its number and params
    in_memory = isinstance(storage, optuna.storages.InMemoryStorage)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not _process_is_gone(trial.user_attrs):
            continue
        if set(trial.params) == names and not in_memory:
            storage.set_trial_state_values(trial._trial_id, state=TrialState.WAITING)
            continue
        study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
        if set(trial.params) == names:  # else cut before its params: nothing to run
            study.enqueue_trial(dict(trial.params))
