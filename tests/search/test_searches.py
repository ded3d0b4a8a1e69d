"""RandomSearch, GridSearch and TPESearch (item 3 of issue 11): scikit-learn's answers
on the same problem, seeded reproducibility, refit, checked spaces, failed trials, any y
shape."""

import os
import re
import subprocess
import sys
import warnings

import numpy as np
import optuna
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold

from seqpipe import Pipeline
from seqpipe.search import (
    Choice,
    GridSearch,
    LogRandInt,
    LogUniform,
    RandInt,
    RandomSearch,
    TPESearch,
    Uniform,
    WalkForwardSplit,
)
from seqpipe.steps import MeanStdNormalizer, Windower


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(scale=0.5, size=150)
    return X, y


ALPHAS = [0.01, 0.3, 3.0, 30.0, 300.0]


@pytest.mark.parametrize("cv", [None, 4, KFold(3)])
def test_grid_search_equals_scikit_learns_grid_search(data, cv):
    X, y = data
    splitter = WalkForwardSplit(5) if cv is None else WalkForwardSplit(cv) if isinstance(
        cv, int) else cv
    ours = GridSearch(Ridge(), {"alpha": ALPHAS}, cv=cv, random_state=0).fit(X, y)
    theirs = GridSearchCV(Ridge(), {"alpha": ALPHAS}, cv=splitter).fit(X, y)
    assert ours.best_params_ == theirs.best_params_
    assert len(ours.trials_) == len(ALPHAS)
    assert sorted(p["alpha"] for p in ours.cv_results_["params"]) == ALPHAS  # each once
    mine = dict(zip(ours.cv_results_["param_alpha"], ours.cv_results_["mean_test_score"]))
    for alpha, score in zip(theirs.cv_results_["param_alpha"],
                            theirs.cv_results_["mean_test_score"]):
        assert abs(mine[alpha] - score) <= 1e-12
    assert ours.best_score_ == pytest.approx(theirs.best_score_, abs=1e-12)
    assert ours.n_splits_ == theirs.n_splits_


def test_cv_results_has_scikit_learns_keys_and_shapes(data):
    X, y = data
    space = {"alpha": ALPHAS[:3], "fit_intercept": [True, False]}
    ours = GridSearch(Ridge(), space, cv=3).fit(X, y).cv_results_
    theirs = GridSearchCV(Ridge(), space, cv=WalkForwardSplit(3)).fit(X, y).cv_results_
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        assert len(ours[key]) == 6, key
        if isinstance(value, np.ma.MaskedArray):
            assert isinstance(ours[key], np.ma.MaskedArray), key
            assert ours[key].dtype == value.dtype, key
    assert sorted(ours["rank_test_score"].tolist()) == sorted(theirs["rank_test_score"].tolist())


def test_best_estimator_is_refit_on_all_the_data(data):
    X, y = data
    search = RandomSearch(Ridge(), {"alpha": LogUniform(1e-2, 1e2)}, n_trials=4, cv=3,
                          random_state=1).fit(X, y)
    by_hand = Ridge(alpha=search.best_params_["alpha"]).fit(X, y)
    np.testing.assert_array_equal(search.best_estimator_.coef_, by_hand.coef_)
    np.testing.assert_array_equal(search.predict(X), by_hand.predict(X))
    assert search.score(X, y) == by_hand.score(X, y)
    assert search.best_estimator_ is not search.estimator
    assert not hasattr(RandomSearch(Ridge(), {}, n_trials=1, cv=3, refit=False)
                       .fit(X, y), "best_estimator_")


SPACE = {"meanstdnormalizer__normalize_y": [False, "auto"],
         "ridge__alpha": LogUniform(1e-3, 1e3),
         "ridge__max_iter": RandInt(10, 1000),
         "ridge__tol": Uniform(1e-5, 1e-3),
         "ridge__solver": Choice(["auto", "svd", "cholesky"])}


@pytest.mark.parametrize("Search", [RandomSearch, TPESearch])
def test_seeded_searches_reproduce_their_trials(data, Search):
    X, y = data
    pipeline = Pipeline([MeanStdNormalizer(), Ridge()])

    def params(seed):
        search = Search(pipeline, SPACE, n_trials=5, cv=2, random_state=seed).fit(X, y)
        return [trial["params"] for trial in search.trials_]

    first = params(3)
    assert params(3) == first
    assert params(4) != first
    for values in first:
        assert values["ridge__alpha"] in SPACE["ridge__alpha"] or values[
            "ridge__alpha"] == 1e3
        assert values["ridge__max_iter"] in SPACE["ridge__max_iter"]
        assert values["ridge__solver"] in SPACE["ridge__solver"]
        assert values["meanstdnormalizer__normalize_y"] in (False, "auto")


def test_tpe_best_score_is_the_best_mean_test_score(data):
    X, y = data
    search = TPESearch(Ridge(), {"alpha": LogUniform(1e-3, 1e4)}, n_trials=12,
                       n_startup_trials=4, cv=3, random_state=0).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_score_ == scores.max()
    assert search.cv_results_["rank_test_score"][search.best_index_] == 1
    assert [trial["number"] for trial in search.trials_] == list(range(12))
    assert search.study_.best_value == search.best_score_


class CountingRidge(Ridge):
    fits = []

    def fit(self, X, y, sample_weight=None):
        CountingRidge.fits.append(self.alpha)
        return super().fit(X, y, sample_weight)


@pytest.mark.parametrize("Search, kwargs", [(RandomSearch, {"n_trials": 2}),
                                            (GridSearch, {}), (TPESearch, {"n_trials": 2})])
def test_an_unknown_parameter_is_refused_before_any_trial(data, Search, kwargs):
    CountingRidge.fits.clear()
    search = Search(CountingRidge(), {"alpha": [1.0], "alpah": [2.0]}, cv=2, **kwargs)
    with pytest.raises(ValueError, match=re.escape("Unknown parameter 'alpah'")):
        search.fit(*data)
    assert CountingRidge.fits == []
    assert not hasattr(search, "trials_")


def test_bad_spaces_and_parameters_are_refused_before_any_trial(data):
    CountingRidge.fits.clear()
    with pytest.raises(TypeError, match="values of 'alpha' must be a list or a Choice"):
        GridSearch(CountingRidge(), {"alpha": Uniform(0, 1)}, cv=2).fit(*data)
    with pytest.raises(ValueError, match=re.escape(
            "The 'n_trials' parameter of RandomSearch must be an int in the range [1, inf). "
            "Got 0 instead.")):
        RandomSearch(CountingRidge(), {"alpha": [1.0]}, n_trials=0, cv=2).fit(*data)
    with pytest.raises(TypeError, match="cannot sample"):
        RandomSearch(CountingRidge(), {"alpha": _ScipyLike()}, cv=2).fit(*data)
    with pytest.raises(TypeError, match="a list of dicts is not supported"):
        RandomSearch(CountingRidge(), [{"alpha": [1.0]}], cv=2).fit(*data)
    with pytest.raises(ValueError, match="WalkForwardSplit"):
        RandomSearch(CountingRidge(), {"alpha": [1.0]}, cv=200).fit(*data)
    assert CountingRidge.fits == []


class _ScipyLike:
    def rvs(self, size=None, random_state=None):
        return 1.0


def test_a_failing_trial_is_recorded_and_the_search_goes_on(data):
    X, y = data
    search = GridSearch(Ridge(), {"alpha": [1.0, -1.0, 10.0]}, cv=2)
    with pytest.warns(FitFailedWarning, match="alpha"):
        search.fit(X, y)
    failed = [trial for trial in search.trials_ if trial["state"] == "FAIL"]
    assert [trial["params"] for trial in failed] == [{"alpha": -1.0}]
    assert "alpha" in failed[0]["error"] and failed[0]["duration"] >= 0
    row = search.cv_results_["params"].index({"alpha": -1.0})
    assert np.isnan(search.cv_results_["mean_test_score"][row])
    assert search.cv_results_["rank_test_score"][row] == 3
    assert search.best_params_["alpha"] in (1.0, 10.0)
    states = {t.params["alpha"]: t.state.name for t in search.study_.trials}
    assert states[-1.0] == "FAIL"


class LateFailingRidge(Ridge):
    """Ridge that raises when fit on more than ``fail_above`` samples: on a later fold."""

    def __init__(self, alpha=1.0, fail_above=None):
        super().__init__(alpha=alpha)
        self.fail_above = fail_above

    def fit(self, X, y, sample_weight=None):
        if self.fail_above is not None and len(X) > self.fail_above:
            raise RuntimeError(f"fit on {len(X)} samples")
        return super().fit(X, y, sample_weight)


def test_a_trial_failing_on_a_later_fold_is_failed_not_finished(data):
    X, y = data  # WalkForwardSplit(3) trains on 39, 76 and 113 samples
    search = GridSearch(LateFailingRidge(), {"fail_above": [None, 50, 90, 60]}, cv=3,
                        random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    by_limit = {trial["params"]["fail_above"]: trial for trial in search.trials_}
    for limit, n_scores in ((50, 1), (60, 1), (90, 2)):  # fails on fold 2 or 3 of 3
        trial = by_limit[limit]
        assert trial["state"] == "FAIL" and len(trial["scores"]) == n_scores
        assert trial["error"] == f"RuntimeError: fit on {76 if limit < 76 else 113} samples"
        assert np.isnan(trial["value"])
        row = search.cv_results_["params"].index({"fail_above": limit})
        assert np.isnan(search.cv_results_["mean_test_score"][row])
        assert search.cv_results_["rank_test_score"][row] == 2  # all behind the one that ran
    complete = by_limit[None]
    assert complete["state"] == "COMPLETE" and complete["value"] == np.mean(complete["scores"])
    assert set(complete) == {"number", "params", "state", "value", "scores", "fit_times",
                             "score_times", "duration", "error", "pruned", "intermediate",
                             "pid"}
    assert set(by_limit[50]) == set(complete) | {"traceback"}
    assert search.best_params_ == {"fail_above": None}
    states = {t.params["fail_above"]: t.state.name for t in search.study_.trials}
    assert states == {None: "COMPLETE", 50: "FAIL", 60: "FAIL", 90: "FAIL"}
    assert search.study_.best_trial.params == {"fail_above": None}
    warned = sorted(str(w.message) for w in caught if issubclass(w.category, FitFailedWarning))
    assert len(warned) == 3 and re.fullmatch(
        r"Trial \d of GridSearch failed with params \{'fail_above': 90\}: RuntimeError: fit "
        r"on 113 samples", [m for m in warned if "90" in m][0])


def test_when_every_trial_fails_the_error_names_the_first(data):
    with pytest.warns(FitFailedWarning), pytest.raises(
            ValueError, match=r"All 2 trials of GridSearch failed\. The first error "
                              r"\(trial 0, .*alpha"):
        GridSearch(Ridge(), {"alpha": [-1.0, -2.0]}, cv=2).fit(*data)


class Flat(RegressorMixin, BaseEstimator):
    """Ridge on flattened windows; predicts windows of y's trailing shape."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        self.shape_ = y.shape[1:]
        self.ridge_ = Ridge(alpha=self.alpha).fit(X.reshape(len(X), -1), y.reshape(len(y), -1))
        return self

    def predict(self, X):
        return self.ridge_.predict(X.reshape(len(X), -1)).reshape(len(X), *self.shape_)


def test_windows_y_scored_by_name_are_finite():
    series = np.sin(np.arange(200) / 5.0)[:, None]
    windows = np.lib.stride_tricks.sliding_window_view(series[:, 0], 8)
    X, y = windows[:, :5, None], windows[:, 5:, None]  # (n, 5, 1) -> (n, 3, 1)
    search = RandomSearch(Flat(), {"alpha": LogUniform(1e-3, 10)}, n_trials=3,
                          scoring="neg_mean_squared_error", random_state=0).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_score_ <= 0
    assert search.predict(X[:4]).shape == (4, 3, 1)
    assert np.isfinite(search.score(X, y))


def test_options_that_optuna_cannot_hold_are_mapped_by_label(data):
    X, y = data
    tiny, big = Ridge(alpha=1e-3), Ridge(alpha=1e3)
    pipeline = Pipeline([MeanStdNormalizer(), Ridge()])
    space = {"ridge": [tiny, big], "meanstdnormalizer__std_factor": [1, 1.0]}
    search = GridSearch(pipeline, space, cv=2).fit(X, y)
    assert len(search.trials_) == 4
    assert {id(p["ridge"]) for p in search.cv_results_["params"]} == {id(tiny), id(big)}
    assert {repr(p["meanstdnormalizer__std_factor"]) for p in search.cv_results_["params"]} \
        == {"1", "1.0"}
    assert search.best_params_["ridge"] is tiny
    assert search.best_estimator_.named_steps["ridge"] is not tiny  # a clone, refit
    assert {tuple(t.params.values()) for t in search.study_.trials} == {
        (ridge, factor) for ridge in ("Ridge(alpha=0.001)", "Ridge(alpha=1000.0)")
        for factor in ("1", "1.0")}  # labels, not indices
    sampled = RandomSearch(pipeline, {"ridge__max_iter": LogRandInt(1, 100),
                                      "ridge": Choice([tiny, big])}, n_trials=3, cv=2,
                           random_state=0).fit(X, y)
    assert all(p["ridge"] in (tiny, big) for p in sampled.cv_results_["params"])


def test_importing_seqpipe_search_does_not_import_optuna():
    code = ("import sys, seqpipe, seqpipe.search; assert 'optuna' not in sys.modules; "
            "from seqpipe.search import TPESearch; assert 'optuna' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------ storage: resuming
@pytest.mark.parametrize("file_name", ["trials.db", "trials.log"])
def test_a_stored_search_resumes_without_rerunning_finished_trials(data, tmp_path, file_name):
    X, y = data
    path = tmp_path / file_name

    def run(n_trials, X=X, y=y):
        CountingRidge.fits.clear()
        return RandomSearch(CountingRidge(), {"alpha": LogUniform(1e-2, 1e2)},
                            n_trials=n_trials, cv=2, storage=path, random_state=0).fit(X, y)

    first = run(3)
    assert len(CountingRidge.fits) == 3 * 2 + 1  # 3 trials of 2 folds, and the refit
    more = run(5)
    assert len(CountingRidge.fits) == 2 * 2 + 1  # only the 2 new trials run
    assert [t["number"] for t in more.trials_] == list(range(5))
    assert [t["params"] for t in more.trials_[:3]] == [t["params"] for t in first.trials_]
    assert [t["scores"] for t in more.trials_[:3]] == [t["scores"] for t in first.trials_]
    assert len({t["params"]["alpha"] for t in more.trials_}) == 5  # no draw repeated
    again = run(5)
    assert len(CountingRidge.fits) == 1  # nothing left but the refit
    assert again.best_params_ == more.best_params_
    assert list(again.cv_results_["mean_test_score"]) == list(
        more.cv_results_["mean_test_score"])
    run(2, X=X[:100], y=y[:100])  # other data: another study
    assert len(CountingRidge.fits) == 2 * 2 + 1


KILLER = '''
import os, signal
from sklearn.linear_model import Ridge

class Killer(Ridge):
    """Logs each fit's alpha and size; with kill set, dies in the third trial (2 folds)."""
    kill = False
    log = None

    def fit(self, X, y, sample_weight=None):
        with open(Killer.log, "a") as file:
            file.write(f"{self.alpha} {len(X)}\\n")
        with open(Killer.log) as file:
            if Killer.kill and len(file.readlines()) == 5:
                os.kill(os.getpid(), signal.SIGKILL)
        return super().fit(X, y, sample_weight)
'''

SCRIPT = '''
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from killer_module import Killer
from seqpipe.search import GridSearch
Killer.kill, Killer.log = True, sys.argv[2]
rng = np.random.default_rng(0)
X = rng.normal(size=(150, 4))
y = X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(scale=0.5, size=150)
GridSearch(Killer(), {"alpha": [1.0, 2.0, 3.0, 4.0, 5.0]}, cv=2, storage=sys.argv[3],
           random_state=0).fit(X, y)
'''


def test_a_search_killed_mid_trial_resumes_and_reruns_only_the_cut_trial(data, tmp_path,
                                                                       monkeypatch):
    X, y = data
    (tmp_path / "killer_module.py").write_text(KILLER)
    log, storage = tmp_path / "fits.txt", tmp_path / "search.db"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), str(log),
                           str(storage)], timeout=120)
    assert done.returncode == -9  # SIGKILL, in the third trial
    before = [float(line.split()[0]) for line in log.read_text().splitlines()]
    cut = before[-1]
    finished = set(before) - {cut}
    assert len(before) == 5 and len(finished) == 2

    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "killer_module", raising=False)  # this test's own
    from killer_module import Killer
    Killer.log = str(log)
    log.write_text("")
    search = GridSearch(Killer(), {"alpha": [1.0, 2.0, 3.0, 4.0, 5.0]}, cv=2,
                        storage=storage, random_state=0).fit(X, y)
    after = [line.split() for line in log.read_text().splitlines()]
    rerun = {float(a) for a, n in after if int(n) < len(X)}  # cross-validation fits
    assert cut in rerun and rerun == {1.0, 2.0, 3.0, 4.0, 5.0} - finished  # none finished
    assert sorted(t["params"]["alpha"] for t in search.trials_) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert all(t["state"] == "COMPLETE" for t in search.trials_)
    # the cut trial ran again under its own number: five trials, numbered 0 to 4
    assert [t.state.name for t in search.study_.trials] == ["COMPLETE"] * 5
    assert [t["number"] for t in search.trials_] == list(range(5))


SHARER = """
import sys, time
import numpy as np
from sklearn.linear_model import Ridge
from seqpipe.search import LogUniform, RandomSearch

class SlowRidge(Ridge):
    def fit(self, X, y, sample_weight=None):
        time.sleep(0.05)  # trials long enough for the two processes to interleave
        return super().fit(X, y, sample_weight)

SlowRidge.__module__ = "sharer"  # the same estimator repr in both processes
rng = np.random.default_rng(0)
X = rng.normal(size=(150, 4))
y = X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(scale=0.5, size=150)
RandomSearch(SlowRidge(), {"alpha": LogUniform(1e-2, 1e2)}, n_trials=12, cv=2,
             storage=sys.argv[1], random_state=0).fit(X, y)
"""


@pytest.mark.parametrize("file_name", ["shared.db", "shared.log"])
def test_two_processes_sharing_one_storage_share_the_trials_without_corrupting_it(
        tmp_path, file_name):
    import optuna

    storage = tmp_path / file_name
    processes = [subprocess.Popen([sys.executable, "-c", SHARER, str(storage)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [process.communicate(timeout=240) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], [err[-2000:] for _, err in outputs]

    url = f"sqlite:///{storage}" if file_name.endswith(".db") else None
    backend = url or optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(storage)))
    (summary,) = optuna.study.get_all_study_summaries(backend)  # one search, one study
    trials = optuna.load_study(study_name=summary.study_name, storage=backend).trials
    states = [t.state.name for t in trials]
    # Both processes ran trials of the one study; every trial ended and was recorded.
    assert len({t.user_attrs["pid"] for t in trials}) == 2
    assert set(states) == {"COMPLETE"}
    # Each process stops asking once n_trials have finished or are running: at most one
    # trial more, when both ask at the same moment.
    assert 12 <= len(trials) <= 13
    assert len({t.params["alpha"] for t in trials}) == len(trials)  # no draw repeated
    assert [t.number for t in trials] == list(range(len(trials)))


# ------------------------------------------------------------------ n_jobs: joblib
def test_trials_run_in_parallel_workers_give_the_same_search(data):
    X, y = data
    space = {"alpha": Choice([-1.0, 0.1, 1.0, 10.0]), "fit_intercept": [True, False]}

    def run(**kwargs):
        with pytest.warns(FitFailedWarning):  # alpha=-1.0 fails, in a worker too
            return RandomSearch(Ridge(), space, n_trials=7, cv=2, random_state=5,
                                **kwargs).fit(X, y)

    one, two = run(), run(n_jobs=2, backend="loky")
    assert [t["params"] for t in two.trials_] == [t["params"] for t in one.trials_]
    assert [t["state"] for t in two.trials_] == [t["state"] for t in one.trials_]
    np.testing.assert_array_equal(two.cv_results_["mean_test_score"],
                                  one.cv_results_["mean_test_score"])
    assert "FAIL" in [t["state"] for t in two.trials_]
    assert two.best_params_ == one.best_params_
    threads = GridSearch(Ridge(), {"alpha": ALPHAS}, cv=2, n_jobs=3,
                         backend="threading").fit(X, y)
    assert threads.best_params_ == GridSearch(Ridge(), {"alpha": ALPHAS}, cv=2).fit(
        X, y).best_params_


@pytest.mark.parametrize("kwargs, message", [
    ({"n_jobs": 0}, "The 'n_jobs' parameter of RandomSearch must be a non-zero int"),
    ({"backend": "spark"}, "The 'backend' parameter of RandomSearch must be one of 'loky'"),
    ({"backend": "dask"}, "RandomSearch(backend='dask') found no Dask client"),
    ({"timeout": 0}, "The 'timeout' parameter of RandomSearch must be None or a number of "
                     "seconds > 0. Got 0 instead."),
    ({"timeout": 5, "isolate": False}, "timeout=5 needs isolate=True or 'auto'"),
    ({"isolate": "yes"}, "The 'isolate' parameter of RandomSearch must be True, False or"),
    ({"pruner": "mean"}, "The 'pruner' parameter of RandomSearch must be None, 'median', "
                         "'hyperband' or an Optuna pruner. Got 'mean' instead."),
    ({"pruner": "median"}, "pruner='median' needs an EpochRepeater (around a "
                           "ValidationSplit) in the estimator; CountingRidge has none."),
])
def test_bad_execution_parameters_are_refused_before_any_trial(data, kwargs, message):
    CountingRidge.fits.clear()
    with pytest.raises(ValueError, match=re.escape(message)):
        RandomSearch(CountingRidge(), {"alpha": [1.0]}, cv=2, **kwargs).fit(*data)
    assert CountingRidge.fits == []


# ------------------------------------------------------------------ found by mutation testing
class Sized(RegressorMixin, BaseEstimator):
    """Predicts the mean; its parameters are a tuple and a string, as MLP sizes are."""

    def __init__(self, sizes=(4,), name="a"):
        self.sizes = sizes
        self.name = name

    def fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def test_param_columns_have_scikit_learns_dtypes_for_strings_and_ragged_tuples(data):
    space = {"sizes": [(4,), (4, 4)], "name": ["a", "bb"]}
    ours = GridSearch(Sized(), space, cv=2).fit(*data).cv_results_
    theirs = GridSearchCV(Sized(), space, cv=WalkForwardSplit(2)).fit(*data).cv_results_
    for key in ("param_sizes", "param_name"):
        assert ours[key].dtype == theirs[key].dtype == object, key
        assert sorted(map(repr, ours[key])) == sorted(map(repr, theirs[key]))


def test_predict_and_score_need_the_refit_estimator(data):
    from sklearn.exceptions import NotFittedError

    search = GridSearch(Ridge(), {"alpha": [1.0]}, cv=2, refit=False).fit(*data)
    for call in (lambda: search.predict(data[0]), lambda: search.score(*data)):
        with pytest.raises(NotFittedError):  # not a bare AttributeError
            call()


def test_only_a_trial_of_a_dead_process_of_this_host_is_abandoned(monkeypatch):
    import os
    import socket

    from seqpipe.search._study import _process_is_gone

    host = socket.gethostname()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not _process_is_gone({"host": host, "pid": child.pid})  # alive
        with pytest.raises(subprocess.TimeoutExpired):  # only probed (signal 0): alive
            child.wait(timeout=0.5)
        assert not _process_is_gone({"host": "elsewhere", "pid": child.pid})
        assert not _process_is_gone({"host": host})  # no pid recorded
        assert _process_is_gone({"host": host, "pid": os.getpid()})  # an earlier fit's
    finally:
        child.kill()
        child.wait()
    assert _process_is_gone({"host": host, "pid": child.pid})  # dead
    assert not _process_is_gone({"host": "elsewhere", "pid": child.pid})  # not ours to say

    def denied(pid, signal):
        raise PermissionError
    monkeypatch.setattr(os, "kill", denied)
    assert not _process_is_gone({"host": host, "pid": child.pid})  # another user's


def test_a_trials_pruner_compares_with_copies_of_the_ended_trials_that_reported():
    import optuna

    from seqpipe.search._study import _finished

    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.COMPLETE,
                                              value=0.5, intermediate_values={0: 0.1, 1: 0.5}))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.PRUNED,
                                              intermediate_values={0: -1.0},
                                              system_attrs={"completed_rung_0": -1.0}))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.COMPLETE,
                                              value=0.9))  # reported nothing
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL,
                                              intermediate_values={0: 9.0}))  # not a peer
    study.ask()  # running
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.COMPLETE,
                                              value=0.7))  # after the trial: not seen
    copies = _finished(study, 5)
    # one per earlier trial, each under its own number; placeholders for non-peers
    assert [(t.state.name, t.value, t.intermediate_values, t.system_attrs)
            for t in copies] == [
        ("COMPLETE", 0.5, {0: 0.1, 1: 0.5}, {}),
        ("PRUNED", None, {0: -1.0}, {"completed_rung_0": -1.0}),
        ("COMPLETE", 0.9, {}, {}), ("FAIL", None, {}, {}), ("FAIL", None, {}, {})]


def test_a_search_asks_while_fewer_than_n_trials_are_finished_or_running():
    import optuna

    study = optuna.create_study(direction="maximize")
    for state in ("COMPLETE", "FAIL", "PRUNED"):
        study.add_trial(optuna.trial.create_trial(
            state=getattr(optuna.trial.TrialState, state), value=0.0 if state ==
            "COMPLETE" else None, user_attrs={"record": {}}))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.COMPLETE,
                                              value=1.0))  # another search's, no record
    study.ask()
    study.ask()  # two running
    assert GridSearch._free(study, 10) == 10 - 3 - 2


def test_when_every_trial_fails_cv_results_rank_them_all_first(data):
    search = GridSearch(Ridge(), {"alpha": [-1.0, -2.0]}, cv=2)
    with pytest.warns(FitFailedWarning), pytest.raises(ValueError, match="All 2 trials"):
        search.fit(*data)
    ranks = search.cv_results_["rank_test_score"]
    assert ranks.tolist() == [1, 1] and ranks.dtype == np.int32  # as scikit-learn's


def test_failed_trials_rank_last_below_negative_scores(data):
    X, y = data
    search = GridSearch(LateFailingRidge(), {"fail_above": [None, 10]}, cv=2,
                        scoring="neg_mean_squared_error")
    with pytest.warns(FitFailedWarning):
        search.fit(X, y)
    results = search.cv_results_
    assert results["mean_test_score"][results["params"].index({"fail_above": None})] < 0
    ranks = dict(zip([p["fail_above"] for p in results["params"]],
                     results["rank_test_score"].tolist()))
    assert ranks == {None: 1, 10: 2} and results["rank_test_score"].dtype == np.int32


def test_pruned_trials_read_back_from_a_database_have_int_steps(tmp_path):
    import optuna
    from sklearn.linear_model import SGDRegressor

    from seqpipe.steps import EpochRepeater, MiniBatch, ValidationSplit

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(scale=0.1, size=300)
    model = EpochRepeater(ValidationSplit(MiniBatch(SGDRegressor(
        learning_rate="constant", random_state=0), batch_size=30), validation_size=0.2),
        epochs=3)
    search = GridSearch(model, {"step__step__step__eta0": [1e-2, 1e-7, 2e-7]}, cv=2,
                        pruner=optuna.pruners.MedianPruner(n_startup_trials=1),
                        storage=tmp_path / "s.db", random_state=0).fit(X, y)
    for trial, frozen in zip(search.trials_, search.study_.trials):
        assert trial["intermediate"] == frozen.intermediate_values  # JSON keys made ints
        assert all(type(step) is int for step in trial["intermediate"])


def test_fit_failed_warnings_are_attributed_to_the_caller_of_fit(data):
    # (left out of `make mutation`: mutmut's trampolines add frames to every call)
    with pytest.warns(FitFailedWarning) as record:
        GridSearch(Ridge(), {"alpha": [1.0, -1.0]}, cv=2).fit(*data)
    assert [w.filename for w in record if w.category is FitFailedWarning] == [__file__]


@pytest.mark.parametrize("in_memory", [False, True])
def test_only_the_trials_of_dead_processes_are_queued_again_under_their_number(
        tmp_path, in_memory):
    import socket

    import optuna

    from seqpipe.search._optuna_space import _Param

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    space = {"alpha": optuna.distributions.FloatDistribution(0.0, 10.0)}
    storage = None if in_memory else f"sqlite:///{tmp_path / 'trials.db'}"
    study = optuna.create_study(direction="maximize", storage=storage)
    for host in ("elsewhere", socket.gethostname()):  # another host's, then this one's
        trial = study.ask(space)
        trial.set_user_attr("host", host)
        trial.set_user_attr("pid", dead.pid)
    unset = study.ask()  # cut before its params were set: failed, nothing to rerun
    unset.set_user_attr("host", socket.gethostname())
    unset.set_user_attr("pid", dead.pid)
    GridSearch._rerun_abandoned(study, [_Param("alpha", space["alpha"])])
    other, cut, unset = study.get_trials()[:3]
    if in_memory:  # Optuna's InMemoryStorage pops no trial put back: a new one
        assert [t.state.name for t in study.get_trials()] == [
            "RUNNING", "FAIL", "FAIL", "WAITING"]
        assert study.ask(space).params == cut.params
        return
    assert [t.state.name for t in (other, cut, unset)] == ["RUNNING", "WAITING", "FAIL"]
    again = study.ask(space)
    assert (again.number, again.params) == (cut.number, cut.params)  # the same trial
    assert study.ask(space).number == 3  # then new ones


@pytest.mark.parametrize("kwargs, message", [
    ({"refit": "yes"}, "The 'refit' parameter of GridSearch must be a bool. Got 'yes' instead."),
    ({"random_state": "seed"}, "The 'random_state' parameter of GridSearch must be None, an "
                               "int, a numpy Generator or a numpy RandomState. Got 'seed'"),
    ({"storage": 5}, "The 'storage' parameter of GridSearch must be None, a path, a database "
                     "URL or an Optuna storage. Got 5 instead."),
])
def test_bad_fit_parameters_are_named_with_the_search(data, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        GridSearch(Ridge(), {"alpha": [1.0]}, cv=2, **kwargs).fit(*data)
    with pytest.raises(TypeError, match=re.escape("The search space of GridSearch must be")):
        GridSearch(Ridge(), [{"alpha": [1.0]}], cv=2).fit(*data)


class RecordingFlat(Flat):
    sizes = []

    def fit(self, X, y):
        RecordingFlat.sizes.append(len(X))
        return super().fit(X, y)


def test_the_folds_of_windowed_samples_leave_the_gap_and_refit_takes_all():
    series = np.sin(np.arange(200) / 5.0)
    windows = np.lib.stride_tricks.sliding_window_view(series, 8)
    X, y = windows[:, :5, None], windows[:, 5:, None]  # futures of 3 steps: a gap of 3
    RecordingFlat.sizes.clear()
    search = GridSearch(RecordingFlat(), {"alpha": [1.0]}, cv=3,
                        scoring="neg_mean_squared_error").fit(X, y)
    folds = [len(train) for train, _ in WalkForwardSplit(3).split(X, y)]
    assert RecordingFlat.sizes == [*folds, len(X)]
    assert 0 <= search.refit_time_ < 60


def test_a_stored_search_is_keyed_by_x_and_by_y(data, tmp_path):
    X, y = data

    def run(X, y):
        CountingRidge.fits.clear()
        RandomSearch(CountingRidge(), {"alpha": LogUniform(1e-2, 1e2)}, n_trials=2, cv=2,
                     storage=tmp_path / "s.db", random_state=0).fit(X, y)
        return len(CountingRidge.fits)

    assert run(X, y) == 2 * 2 + 1
    assert run(X, y + 1.0) == 2 * 2 + 1  # other targets: another study, not resumed
    assert run(X + 1.0, y) == 2 * 2 + 1  # other samples too
    assert run(X, y) == 1  # the first one: resumed


def test_isolated_trials_run_in_processes_of_their_own(data):
    search = GridSearch(Ridge(), {"alpha": [1.0]}, cv=2, isolate=True).fit(*data)
    assert search.trials_[0]["pid"] != os.getpid()


class AlwaysPrune(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return True


def test_when_every_trial_is_pruned_the_error_says_so():
    from sklearn.linear_model import SGDRegressor

    from seqpipe.steps import EpochRepeater, MiniBatch, ValidationSplit

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = X @ [1.0, -2.0, 0.5]
    model = EpochRepeater(ValidationSplit(MiniBatch(SGDRegressor(random_state=0),
                                                    batch_size=30)), epochs=3)
    with pytest.raises(ValueError, match=r"All 2 trials of GridSearch failed\. The first "
                                         r"error \(trial 0, params .*\): pruned$"):
        GridSearch(model, {"step__step__step__alpha": [1e-4, 1e-3]}, cv=2,
                   pruner=AlwaysPrune(), random_state=0).fit(X, y)


def test_a_search_without_y_refits_on_the_series():
    series = np.sin(np.arange(120) / 5.0)[:, None]
    pipeline = Pipeline([Windower(5, 2), Flat()])
    search = GridSearch(pipeline, {"flat__alpha": [0.1, 1.0]}, cv=2).fit(series)
    assert search.best_estimator_.predict(series[-5:]).shape == (1, 2, 1)
