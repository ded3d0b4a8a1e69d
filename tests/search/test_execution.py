"""Where trials run (item 5 of issue 11) and pruning (item 6): a trial past its timeout,
a trial whose process dies, a real Dask LocalCluster, hopeless trials pruned."""

import os
import signal
import time

import numpy as np
import optuna
import pytest
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import Ridge, SGDRegressor

from seqpipe.search import GridSearch, LogUniform, RandomSearch
from seqpipe.steps import EpochRepeater, MiniBatch, ValidationSplit


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(scale=0.5, size=150)
    return X, y


class Sleepy(Ridge):
    """Ridge whose fit first sleeps ``delay`` seconds."""

    def __init__(self, alpha=1.0, delay=0.0):
        super().__init__(alpha=alpha)
        self.delay = delay

    def fit(self, X, y, sample_weight=None):
        time.sleep(self.delay)
        return super().fit(X, y, sample_weight)


class Dying(Ridge):
    """Ridge whose fit kills its own process when ``die`` is set."""

    def __init__(self, alpha=1.0, die=False):
        super().__init__(alpha=alpha)
        self.die = die

    def fit(self, X, y, sample_weight=None):
        if self.die:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().fit(X, y, sample_weight)


def assert_only_the_dying_trial_failed(search, error_start):
    failed = [t for t in search.trials_ if t["state"] != "COMPLETE"]
    assert [(t["params"]["die"], t["state"]) for t in failed] == [(True, "FAIL")]
    assert failed[0]["error"].startswith(error_start), failed[0]["error"]
    assert search.best_params_["die"] is False


def by_params(search, name):
    return {trial["params"][name]: trial for trial in search.trials_}


def test_a_trial_past_its_timeout_is_killed_and_recorded_as_failed(data):
    start = time.perf_counter()
    search = GridSearch(Sleepy(), {"delay": [0.0, 60.0], "alpha": [1.0, 2.0]}, cv=2,
                        timeout=3, n_jobs=2, random_state=0)
    with pytest.warns(FitFailedWarning, match="timeout"):
        search.fit(*data)
    assert time.perf_counter() - start < 50  # the 60 s sleeps were cut at 3 s
    states = {(t["params"]["delay"], t["params"]["alpha"]): t["state"]
              for t in search.trials_}
    assert states == {(0.0, 1.0): "COMPLETE", (0.0, 2.0): "COMPLETE",
                      (60.0, 1.0): "FAIL", (60.0, 2.0): "FAIL"}
    slow = [t for t in search.trials_ if t["params"]["delay"] == 60.0]
    assert all(t["error"].startswith("TimeoutError: the trial ran longer than its "
                                     "timeout of 3 s") for t in slow)
    assert search.best_params_["delay"] == 0.0
    pids = {t["pid"] for t in search.trials_ if t["state"] == "COMPLETE"}
    assert os.getpid() not in pids and len(pids) == 2  # a fresh process per trial


def test_a_trial_whose_process_dies_is_recorded_and_the_search_goes_on(data):
    search = GridSearch(Dying(), {"die": [False, True, False], "alpha": [1.0]}, cv=2,
                        isolate=True, n_jobs=2, random_state=0)
    with pytest.warns(FitFailedWarning, match="ProcessDied"):
        search.fit(*data)
    assert_only_the_dying_trial_failed(
        search, "ProcessDied: the trial's process died (signal 9)")


def test_a_search_on_a_dask_local_cluster_equals_the_local_search(data):
    distributed = pytest.importorskip("distributed")
    X, y = data
    space = {"alpha": [-1.0, 0.1, 1.0, 10.0], "delay": [0.0]}
    local = GridSearch(Sleepy(), space, cv=2, random_state=3)
    with pytest.warns(FitFailedWarning):
        local.fit(X, y)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        on_address = GridSearch(Sleepy(), space, cv=2, random_state=3, backend="dask",
                                scheduler=cluster.scheduler_address)
        with pytest.warns(FitFailedWarning, match="alpha"):  # alpha=-1 fails on a worker
            on_address.fit(X, y)
        with distributed.Client(cluster) as client:
            current = RandomSearch(Sleepy(), {"alpha": LogUniform(0.1, 10.0),
                                              "delay": [0.0, 60.0]}, n_trials=3, cv=2,
                                   backend="dask", timeout=3, random_state=1)
            with pytest.warns(FitFailedWarning, match="timeout of 3 s"):
                current.fit(X, y)
            workers = {info["id"] for info in client.scheduler_info()["workers"].values()}
    assert on_address.best_params_ == local.best_params_
    np.testing.assert_array_equal(on_address.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])
    assert {t["pid"] for t in on_address.trials_}.isdisjoint({os.getpid()})
    assert len(workers) == 2
    for trial in current.trials_:  # the 60 s trials were killed on their worker
        slow = trial["params"]["delay"] == 60.0
        assert trial["state"] == ("FAIL" if slow else "COMPLETE")
        assert (trial["error"] or "").startswith("TimeoutError") == slow


def test_a_trial_that_kills_its_dask_workers_fails_alone_and_the_search_goes_on(data):
    distributed = pytest.importorskip("distributed")
    dask = pytest.importorskip("dask")
    # the scheduler retries the deadly trial on 3 more workers (allowed-failures), so
    # both workers die, with them any data held only in their memory; the trials after
    # it still get the data. The threshold makes the data (6 kB) a "large graph" for
    # Dask, not a trial (3 kB).
    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "5kB"}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address=None) as cluster:
        search = GridSearch(Dying(), {"die": [False, True, False, False], "alpha": [1.0]},
                            cv=2, backend="dask", scheduler=cluster.scheduler_address,
                            random_state=0)
        with pytest.warns(FitFailedWarning, match="KilledWorker") as caught:
            search.fit(*data)
    assert_only_the_dying_trial_failed(search, "WorkerDied: KilledWorker")
    assert not [w for w in caught if "large graph" in str(w.message)]


@pytest.mark.parametrize("where", [{}, {"isolate": True, "n_jobs": 2}])
def test_hopeless_trials_are_pruned_on_the_scores_reported_every_epoch(where):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(scale=0.1, size=300)
    model = EpochRepeater(ValidationSplit(MiniBatch(SGDRegressor(
        learning_rate="constant", random_state=0), batch_size=30), validation_size=0.2),
        epochs=6)
    good, hopeless = [1e-2, 3e-2], [1e-7, 2e-7, 3e-7]
    space = {"step__step__step__eta0": good + hopeless}
    search = GridSearch(model, space, cv=2, pruner=optuna.pruners.MedianPruner(
        n_startup_trials=2), random_state=0, **where).fit(X, y)
    trials = by_params(search, "step__step__step__eta0")
    pruned = [eta for eta, trial in trials.items() if trial["state"] == "PRUNED"]
    assert pruned and set(pruned) <= set(hopeless)
    for eta in pruned:
        trial = trials[eta]
        assert 1 <= len(trial["intermediate"]) < 2 * 6  # stopped before its 12 epochs
        assert np.isnan(trial["value"]) and trial["error"] is None
    assert all(len(trials[eta]["intermediate"]) == 12 for eta in good
               if trials[eta]["state"] == "COMPLETE")
    assert search.best_params_["step__step__step__eta0"] in good
    states = {t.params["step__step__step__eta0"]: t.state.name for t in search.study_.trials}
    assert [eta for eta, state in states.items() if state == "PRUNED"] == pruned
    row = search.cv_results_["params"].index({"step__step__step__eta0": pruned[0]})
    assert search.cv_results_["rank_test_score"][row] > 2  # ranks after the complete


def test_a_dead_loky_worker_fails_its_trial_and_the_pool_is_replaced(data):
    space = {"die": [False, True, False, False, False], "alpha": [1.0]}
    search = GridSearch(Dying(), space, cv=2, n_jobs=2, isolate=False, backend="loky",
                        random_state=0)
    with pytest.warns(FitFailedWarning, match="WorkerDied"):
        search.fit(*data)
    [dead] = [t for t in search.trials_ if t["params"]["die"]]
    assert dead["state"] == "FAIL" and dead["error"].startswith("WorkerDied: ")
    later = [t for t in search.trials_ if t["number"] > dead["number"] + 1]
    assert later and all(t["state"] == "COMPLETE" for t in later)  # a new pool ran them
    assert len(search.trials_) == 5


def test_epoch_repeater_calls_its_epoch_callback_after_every_epoch():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = X.sum(axis=1)
    seen = []

    def callback(repeater, epoch):
        seen.append((epoch, repeater.n_epochs_, len(repeater.step_.validation_scores_)))
        if epoch == 2:
            raise optuna.TrialPruned("enough")

    model = EpochRepeater(ValidationSplit(MiniBatch(SGDRegressor(random_state=0),
                                                    batch_size=20)), epochs=6,
                          epoch_callback=callback)
    with pytest.raises(optuna.TrialPruned, match="enough"):
        model.fit(X, y)
    assert seen == [(0, 1, 1), (1, 2, 2), (2, 3, 3)]  # after each epoch and its validation
    assert model.n_epochs_ == 3
