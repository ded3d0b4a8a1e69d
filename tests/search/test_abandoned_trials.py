"""Trials left running by a process that died: how a search tells a dead process from a
live one without disturbing it, and what it does when that process's trial ended
meanwhile."""

import os
import socket
import subprocess
import sys
import warnings
from types import SimpleNamespace

import optuna
import pytest

from seqpipe.search import _study


def test_probing_a_live_process_never_signals_it():
    # a child that dies of SIGHUP (not ignoring it, as a child of nohup would)
    child = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal("
                              "signal.SIGHUP, signal.SIG_DFL); print('ready', flush=True); "
                              "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"  # its SIGHUP handler is the default
        assert not _study._process_is_gone({"host": socket.gethostname(), "pid": child.pid})
        with pytest.raises(subprocess.TimeoutExpired):  # still running
            child.wait(timeout=1.0)
    finally:
        child.kill()
        child.wait()
    assert os.getpid()  # the test process itself was not signalled either


def test_an_abandoned_trial_its_process_ended_meanwhile_keeps_its_result(monkeypatch):
    study = optuna.create_study(direction="maximize")
    trial = study.ask()  # running, cut before its params

    def ended_meanwhile(attrs):  # the process finished the trial after it was read
        study.tell(trial.number, 0.5)
        return True

    monkeypatch.setattr(_study, "_process_is_gone", ended_meanwhile)
    _study._rerun_abandoned(study, [SimpleNamespace(name="alpha")])
    assert [(t.state.name, t.value) for t in study.trials] == [("COMPLETE", 0.5)]


def test_an_abandoned_trial_is_failed_quietly_and_its_params_queued_again(monkeypatch):
    study = optuna.create_study(direction="maximize")
    space = {"alpha": optuna.distributions.FloatDistribution(0.0, 1.0)}
    cut = study.ask()  # died before drawing its params
    drawn = study.ask(space)
    monkeypatch.setattr(_study, "_process_is_gone", lambda attrs: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not Optuna's "could not be cast to float"
        _study._rerun_abandoned(study, [SimpleNamespace(name="alpha")])
    states = [(t.number, t.state.name) for t in study.trials]
    assert states == [(cut.number, "FAIL"), (drawn.number, "FAIL"), (2, "WAITING")]
    rerun = study.ask(space)  # the next ask runs its params again
    assert rerun.number == 2 and rerun.params == drawn.params


def test_the_records_leave_out_a_trial_failed_as_abandoned_and_list_those_after_it():
    from seqpipe.search._optuna_space import _to_optuna
    from seqpipe.search._results import _trial_records

    param = _to_optuna("alpha", [1.0, 2.0], "GridSearch")
    space = {"alpha": param.distribution}
    record = {"scores": [0.5], "error": None}
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(  # failed by _rerun_abandoned: no record
        state=optuna.trial.TrialState.FAIL, params={"alpha": 1.0}, distributions=space))
    study.add_trial(optuna.trial.create_trial(
        state=optuna.trial.TrialState.COMPLETE, value=0.5, params={"alpha": 2.0},
        distributions=space, user_attrs={"record": record}))
    study.ask(space)  # running
    assert _trial_records(study, [param]) == [
        {"number": 1, "params": {"alpha": 2.0}, "state": "COMPLETE", "value": 0.5,
         "scores": [0.5], "error": None, "intermediate": {}, "pruned": False}]
