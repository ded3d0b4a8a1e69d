"""Searches readable in Optuna's own tools (issue 19, item 4): the storage's URL opens
with ``optuna.load_study``, the study describes the search with readable labels, a
seeded search resumed after a crash runs exactly the uninterrupted trials, and a
trial's pruner sees the search's study name and the trials' real numbers."""

import subprocess
import sys

import numpy as np
import optuna
import pytest
import sqlalchemy.exc
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import Lasso, Ridge, SGDRegressor

from seqpipe import Pipeline
from seqpipe.search import GridSearch, LogUniform, RandomSearch
from seqpipe.steps import EpochRepeater, MeanStdNormalizer, MiniBatch, ValidationSplit


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(scale=0.5, size=150)
    return X, y


# ------------------------------------------------------------------ the storage's URL
def test_a_bare_path_storage_is_recorded_as_the_url_optuna_opens(data, tmp_path,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    search = RandomSearch(Ridge(), {"alpha": LogUniform(1e-2, 1e2)}, n_trials=3, cv=2,
                          storage="search.db", random_state=0).fit(*data)
    assert search.storage_url_ == f"sqlite:///{tmp_path.resolve() / 'search.db'}"
    with pytest.raises(sqlalchemy.exc.ArgumentError):  # what users hit: Optuna wants a URL
        optuna.load_study(study_name=search.study_.study_name, storage="search.db")
    study = optuna.load_study(study_name=search.study_.study_name,
                              storage=search.storage_url_)
    assert [t.params["alpha"] for t in study.trials] == [
        t["params"]["alpha"] for t in search.trials_]
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3


def test_a_journal_storage_is_recorded_as_its_path_and_urls_as_given(data, tmp_path):
    search = RandomSearch(Ridge(), {"alpha": LogUniform(1e-2, 1e2)}, n_trials=2, cv=2,
                          storage=tmp_path / "search.log", random_state=0).fit(*data)
    assert search.storage_url_ == str(tmp_path / "search.log")
    journal = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(search.storage_url_))
    assert len(optuna.load_study(study_name=search.study_.study_name,
                                 storage=journal).trials) == 2
    url = f"sqlite:///{tmp_path / 'other.db'}"
    assert RandomSearch(Ridge(), {"alpha": [1.0]}, n_trials=1, cv=2,
                        storage=url).fit(*data).storage_url_ == url
    assert RandomSearch(Ridge(), {"alpha": [1.0]}, n_trials=1,
                        cv=2).fit(*data).storage_url_ is None


# ------------------------------------------------------------------ the study's attributes
def test_the_study_describes_the_search_and_labels_estimator_choices(data, tmp_path):
    pipeline = Pipeline([MeanStdNormalizer(), ("model", Ridge())])
    space = {"model": [Ridge(alpha=0.1), Lasso(alpha=0.01)],
             "meanstdnormalizer__normalize_y": [False, "auto"],
             "model__alpha": LogUniform(1e-2, 1e2)}
    search = RandomSearch(pipeline, space, n_trials=4, cv=3,
                          scoring="neg_mean_squared_error", storage=tmp_path / "s.db",
                          random_state=0).fit(*data)
    study = optuna.load_study(study_name=search.study_.study_name,
                              storage=search.storage_url_)
    assert study.user_attrs == {
        "seqpipe_search": "RandomSearch",
        "estimator": "Pipeline(steps=[MeanStdNormalizer(), ('model', Ridge())])",
        "space": {"model": ["Ridge(alpha=0.1)", "Lasso(alpha=0.01)"],
                  "meanstdnormalizer__normalize_y": [False, "auto"],
                  "model__alpha": "LogUniform(low=0.01, high=100.0)"},
        "scoring": "neg_mean_squared_error",
        "cv": "WalkForwardSplit(gap='auto', max_train_size=None, n_splits=3, "
              "test_size=None)",
        "n_trials": 4, "random_state": 0}
    for stored, trial in zip(study.trials, search.trials_):
        assert stored.params["model"] == repr(trial["params"]["model"])  # not 0 or 1
    assert {repr(t["params"]["model"]) for t in search.trials_} <= {
        "Ridge(alpha=0.1)", "Lasso(alpha=0.01)"}
    assert search.best_params_["model"].__class__ in (Ridge, Lasso)


class Tagged(Ridge):
    """Ridge with a ``tag`` it ignores: any value is a valid option."""

    def __init__(self, alpha=1.0, tag=None):
        super().__init__(alpha=alpha)
        self.tag = tag


def test_options_of_one_repr_are_numbered_and_scoring_callables_named(data):
    def neg_mae(estimator, X, y):
        return -float(np.mean(np.abs(estimator.predict(X) - y)))

    pipeline = Pipeline([("model", Tagged())])
    space = {"model__tag": [True, 1], "model": [Tagged(), Tagged()]}
    search = GridSearch(pipeline, space, cv=2, scoring=neg_mae, random_state=0).fit(*data)
    attrs = search.study_.user_attrs
    assert attrs["space"] == {"model__tag": ["True", "1"],
                              "model": ["0: Tagged()", "1: Tagged()"]}
    assert attrs["scoring"].endswith("neg_mae") and attrs["n_trials"] == 4
    assert attrs["random_state"] == 0
    assert sorted(str(t.params) for t in search.study_.trials) == sorted(
        str({"model__tag": tag, "model": model}) for tag in ("True", "1")
        for model in ("0: Tagged()", "1: Tagged()"))
    assert {type(t["params"]["model__tag"]) for t in search.trials_} == {bool, int}
    assert {id(t["params"]["model"]) for t in search.trials_} == {
        id(space["model"][0]), id(space["model"][1])}


# ------------------------------------------------------------------ resuming after a crash
class Crashing(Ridge):
    """Ridge whose ``crash_at``-th fit raises KeyboardInterrupt, as a Ctrl-C would: it
    goes through the search (only Exceptions are a trial's failure)."""

    fits = 0
    crash_at = None

    def fit(self, X, y, sample_weight=None):
        Crashing.fits += 1
        if Crashing.fits == Crashing.crash_at:
            raise KeyboardInterrupt("Ctrl-C in the middle of a trial")
        return super().fit(X, y, sample_weight)


def test_a_seeded_search_resumed_after_a_crash_runs_the_uninterrupted_trials(data,
                                                                            tmp_path):
    def run(path):
        return RandomSearch(Crashing(), {"alpha": LogUniform(1e-2, 1e3)}, n_trials=6, cv=2,
                            storage=path, random_state=0).fit(*data)

    Crashing.fits, Crashing.crash_at = 0, None
    uninterrupted = run(tmp_path / "whole.db")
    Crashing.fits, Crashing.crash_at = 0, 8  # the 8th fit: the 4th trial's 2nd fold
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "cut.db")
    Crashing.crash_at = None
    resumed = run(tmp_path / "cut.db")
    expected = [(t["number"], t["params"], t["scores"]) for t in uninterrupted.trials_]
    assert [(t["number"], t["params"], t["scores"]) for t in resumed.trials_] == expected
    assert resumed.best_score_ == uninterrupted.best_score_
    assert [t.state.name for t in resumed.study_.trials] == ["COMPLETE"] * 6  # no extra


KILLER = '''
import os, signal
from sklearn.linear_model import Ridge

class Killer(Ridge):
    """Ridge killed (SIGKILL) at its 7th fit: the 4th trial of 2 folds."""
    fits = 0

    def fit(self, X, y, sample_weight=None):
        Killer.fits += 1
        if Killer.fits == 7:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().fit(X, y, sample_weight)
'''

SCRIPT = '''
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from seeded_killer import Killer
from seqpipe.search import LogUniform, RandomSearch
rng = np.random.default_rng(0)
X = rng.normal(size=(150, 4))
y = X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(scale=0.5, size=150)
RandomSearch(Killer(), {"alpha": LogUniform(1e-2, 1e3)}, n_trials=6, cv=2,
             storage=sys.argv[2], random_state=0).fit(X, y)
'''


@pytest.mark.parametrize("file_name", ["search.db", "search.log"])
def test_a_seeded_search_killed_mid_trial_resumes_as_if_never_killed(data, tmp_path,
                                                                    monkeypatch, file_name):
    (tmp_path / "seeded_killer.py").write_text(KILLER)
    storage = tmp_path / file_name
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), str(storage)],
                          timeout=120, capture_output=True)
    assert done.returncode == -9, done.stderr[-2000:]  # SIGKILL, in the 4th trial
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "seeded_killer", raising=False)  # this test's own
    from seeded_killer import Killer

    def run(path):
        return RandomSearch(Killer(), {"alpha": LogUniform(1e-2, 1e3)}, n_trials=6, cv=2,
                            storage=path, random_state=0).fit(*data)

    Killer.fits = -1000  # no more kills
    resumed = run(storage)
    uninterrupted = run(tmp_path / f"whole{storage.suffix}")
    assert [(t["number"], t["params"]) for t in resumed.trials_] == [
        (t["number"], t["params"]) for t in uninterrupted.trials_]
    assert resumed.best_params_ == uninterrupted.best_params_
    assert [t.state.name for t in resumed.study_.trials] == ["COMPLETE"] * 6


# ------------------------------------------------------------------ pruning
class RecordingPruner(optuna.pruners.BasePruner):
    """A real Optuna pruner that never prunes and notes what it is shown."""

    def __init__(self):
        self.seen = []

    def prune(self, study, trial):
        ended = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,
                                                         optuna.trial.TrialState.PRUNED))
        self.seen.append((study.study_name, trial.number, [t.number for t in ended]))
        return False


def test_a_trials_pruner_sees_the_study_name_and_the_real_trial_numbers():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = X @ [1.0, -2.0, 0.5]
    model = EpochRepeater(ValidationSplit(MiniBatch(SGDRegressor(random_state=0),
                                                    batch_size=30)), epochs=2)
    pruner = RecordingPruner()
    with pytest.warns(FitFailedWarning, match="failed with params"):  # alpha=-1 fails
        search = GridSearch(model, {"step__step__step__alpha": [1e-4, -1.0, 1e-3, 1e-2]},
                            cv=2, pruner=pruner, random_state=0).fit(X, y)
    states = {t["number"]: t["state"] for t in search.trials_}
    assert sorted(states.values()) == ["COMPLETE", "COMPLETE", "COMPLETE", "FAIL"]
    assert {name for name, _, _ in pruner.seen} == {search.study_.study_name}
    complete = sorted(n for n, state in states.items() if state == "COMPLETE")
    assert sorted({number for _, number, _ in pruner.seen}) == complete
    for _, number, ended in pruner.seen:  # one at a time: every earlier complete trial
        assert ended == [n for n in complete if n < number]


def test_hyperband_prunes_and_prunes_the_same_trials_in_two_runs_of_a_seeded_search():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(scale=0.3, size=120)
    model = EpochRepeater(ValidationSplit(MiniBatch(SGDRegressor(random_state=0),
                                                    batch_size=30)), epochs=9)

    def run():
        search = RandomSearch(model, {"step__step__step__eta0": LogUniform(1e-5, 1e-1)},
                              n_trials=16, cv=2, pruner="hyperband", random_state=0)
        return [(t["state"], t["intermediate"]) for t in search.fit(X, y).trials_]

    first = run()
    states = [state for state, _ in first]
    # successive halving's rung scores reach the next trials' pruners: some are pruned
    assert 3 <= states.count("PRUNED") <= 13 and states.count("COMPLETE") >= 3
    assert run() == first
