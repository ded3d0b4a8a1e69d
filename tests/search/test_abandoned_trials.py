"""Trials left running by a process that died: how a search tells a dead process from a
live one without disturbing it, and what it does when that process's trial ended
meanwhile."""

import os
import socket
import subprocess
import sys
from types import SimpleNamespace

import optuna
import pytest

from seqpipe.search import _study


def test_probing_a_live_process_never_signals_it():
    # a child that dies of SIGHUP (not ignoring it, as a child of nohup would)
    child = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal("
                              "signal.SIGHUP, signal.SIG_DFL); time.sleep(60)"])
    try:
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
