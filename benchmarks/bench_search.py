"""seqpipe's searches measured side by side in one run (issue 11, item 8).

Run: ``python benchmarks/bench_search.py [--trials 16] [--keras-trials 30] [--repeat 3]
[--skip-keras]``

Times are the fastest of ``--repeat`` interleaved runs (the least disturbed by other
work on the machine).

1. **Speed-up**: the same seeded RandomSearch of ``--trials`` trials of a small pipeline
   (``Pipeline([MeanStdNormalizer(), MLPRegressor])`` on windows of a noisy sine, walk-
   forward CV, 3 folds) with ``n_jobs=1`` and ``n_jobs=2`` (loky workers). Target: >= 1.6x
   on 2 free cores. BLAS runs one thread per process on both sides.
2. **Overhead per trial**: the ``n_jobs=1`` search's time against cloning, setting the
   same params, fitting and scoring on the same folds directly, in a loop. Target: <= 5 %.
3. **scikit-learn's RandomizedSearchCV** with the same estimator, the same seqpipe
   distributions (they have ``rvs``), the same folds and trials count, ``n_jobs`` 1 and 2.
4. **Memory over ``--keras-trials`` Keras trials** (seed 001's sin pipeline, one epoch):
   the search process's resident memory after every 10 trials, with trials isolated in
   fresh processes (the default for Keras) and, for contrast, run inside the search's
   process (``isolate=False``).
5. **Pruning**: the same seeded RandomSearch of an
   ``EpochRepeater(ValidationSplit(MiniBatch(SGDRegressor)))`` (20 epochs, learning rate
   sampled over 5 decades) without and with a median pruner: time saved and best scores.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
import warnings

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # one BLAS thread per process, both sides
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# the MLP's iterations are capped on purpose (speed): no warning per fit, here or in the
# trials' worker processes (which read this variable when they start; it can name only
# built-in categories, hence the message's start)
_QUIET = "ignore:Stochastic Optimizer"
os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"),
                                                      _QUIET]))

import numpy as np  # noqa: E402
import optuna  # noqa: E402
import psutil  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import SGDRegressor  # noqa: E402
from sklearn.model_selection import RandomizedSearchCV  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402

from seqpipe import Pipeline  # noqa: E402
from seqpipe.scoring import get_scorer  # noqa: E402
from seqpipe.search import LogRandInt, LogUniform, RandomSearch, WalkForwardSplit  # noqa: E402
from seqpipe.steps import EpochRepeater, MeanStdNormalizer, MiniBatch, ValidationSplit  # noqa: E402

warnings.filterwarnings("ignore", category=ConvergenceWarning)


def windows(n: int, past: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    series = np.sin(np.arange(n + past) / 7.0) + rng.normal(scale=0.2, size=n + past)
    view = np.lib.stride_tricks.sliding_window_view(series, past + 1)
    return np.ascontiguousarray(view[:n, :past]), view[:n, past].copy()


SPACE = {"mlpregressor__hidden_layer_sizes": LogRandInt(8, 64),
         "mlpregressor__alpha": LogUniform(1e-5, 1e-1),
         "mlpregressor__learning_rate_init": LogUniform(1e-3, 3e-2)}


def small_pipeline() -> Pipeline:
    return Pipeline([MeanStdNormalizer(), MLPRegressor(max_iter=60, random_state=0)])


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def interleaved(runs: dict, repeat: int) -> dict:
    """``{name: (fastest seconds, last result)}`` of the runs, alternated ``repeat``
    times: the fastest of each is the least disturbed by other work on the machine."""
    best: dict = {}
    for _ in range(repeat):
        for name, run in runs.items():
            seconds, result = timed(run)
            best[name] = (min(seconds, best.get(name, (float("inf"),))[0]), result)
    return best


def bench_local(X, y, n_trials: int, repeat: int) -> None:
    cv = WalkForwardSplit(3)
    folds = list(cv.split(X, y))
    scorer = get_scorer(None)

    def search(n_jobs, **kwargs):
        return lambda: RandomSearch(small_pipeline(), SPACE, n_trials=n_trials, cv=cv,
                                    n_jobs=n_jobs, refit=False, random_state=0,
                                    **kwargs).fit(X, y)

    def direct():
        params = [trial["params"] for trial in reference.trials_]
        for values in params:
            for train, test in folds:
                estimator = clone(small_pipeline()).set_params(**values)
                estimator.fit(X[train], y[train])
                scorer(estimator, X[test], y[test])

    def sklearn(n_jobs):
        return lambda: RandomizedSearchCV(small_pipeline(), SPACE, n_iter=n_trials, cv=cv,
                                          n_jobs=n_jobs, refit=False,
                                          random_state=0).fit(X, y)

    reference = search(1)()
    runs = interleaved({"search 1": search(1), "direct": direct, "search 2": search(2),
                        "sklearn 1": sklearn(1), "sklearn 2": sklearn(2)}, repeat)
    (t1, s1), (t2, s2) = runs["search 1"], runs["search 2"]
    assert [t["params"] for t in s1.trials_] == [t["params"] for t in s2.trials_]
    print(f"1. {n_trials} trials, n_jobs=1: {t1:.2f} s; n_jobs=2: {t2:.2f} s; speed-up "
          f"{t1 / t2:.2f}x (target >= 1.6x on 2 free cores; this machine: "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")
    t_direct = runs["direct"][0]
    print(f"2. overhead per trial: search (n_jobs=1) {t1:.2f} s, the same fits and scores "
          f"directly {t_direct:.2f} s: {100 * (t1 / t_direct - 1):+.1f} % "
          f"({1000 * (t1 - t_direct) / n_trials:+.1f} ms per trial; target <= 5 %)")
    for n_jobs, (t_ours, ours) in ((1, runs["search 1"]), (2, runs["search 2"])):
        t_theirs, theirs = runs[f"sklearn {n_jobs}"]
        print(f"3. n_jobs={n_jobs}: seqpipe RandomSearch {t_ours:.2f} s (best "
              f"{ours.best_score_:.4f}); scikit-learn RandomizedSearchCV {t_theirs:.2f} s "
              f"(best {theirs.best_score_:.4f}); time ratio {t_ours / t_theirs:.2f}")
    print(f"   (fastest of {repeat} interleaved runs each)")


def bench_memory(n_trials: int) -> None:
    from seqpipe.datasets import make_sin
    from seqpipe.pipelines import sin_pipeline

    X, y = make_sin(300, random_state=0)
    space = {"kerasmodelstep__units": LogRandInt(4, 32),
             "kerasmodelstep__learning_rate": LogUniform(1e-3, 3e-2)}
    me = psutil.Process()
    for isolate, n_jobs in (("auto", 2), (False, 1)):
        with tempfile.TemporaryDirectory() as tmp:
            storage, rss = os.path.join(tmp, "trials.log"), []
            gc.collect()
            rss.append(me.memory_info().rss)
            start = time.perf_counter()
            for done in range(10, n_trials + 1, 10):  # resumed: 10 more trials each time
                RandomSearch(sin_pipeline(epochs=1), space, n_trials=done, cv=2,
                             n_jobs=n_jobs, isolate=isolate, storage=storage, refit=False,
                             random_state=0).fit(X, y)
                gc.collect()
                rss.append(me.memory_info().rss)
            seconds = time.perf_counter() - start
        mib = " -> ".join(f"{value / 2**20:.0f}" for value in rss)
        where = ("each in a fresh process (default)" if isolate == "auto"
                 else "inside the search's process (isolate=False)")
        print(f"4. {n_trials} Keras trials {where}, n_jobs={n_jobs}: search process RSS "
              f"MiB at 0/10/20/30 trials: {mib} (growth {(rss[-1] - rss[1]) / 2**20:+.0f} "
              f"MiB after the first 10); {seconds:.0f} s")


def bench_pruning(n_trials: int, repeat: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 20))
    y = X @ rng.normal(size=20) + rng.normal(scale=0.5, size=6000)
    model = EpochRepeater(ValidationSplit(MiniBatch(SGDRegressor(
        learning_rate="constant", random_state=0), batch_size=200), validation_size=0.2),
        epochs=20)
    space = {"step__step__step__eta0": LogUniform(1e-7, 1e-2)}

    def search(pruner):
        return lambda: RandomSearch(model, space, n_trials=n_trials, cv=2, pruner=pruner,
                                    refit=False, random_state=0).fit(X, y)

    runs = interleaved({"none": search(None), "median": search(
        optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2))}, repeat)
    (t_full, full), (t_pruned, pruned) = runs["none"], runs["median"]
    n_pruned = sum(t["state"] == "PRUNED" for t in pruned.trials_)
    print(f"5. pruning, {n_trials} trials of 2 folds x 20 epochs: no pruner {t_full:.2f} s "
          f"(best {full.best_score_:.5f}); median pruner {t_pruned:.2f} s (best "
          f"{pruned.best_score_:.5f}, {n_pruned} trials pruned): "
          f"{100 * (1 - t_pruned / t_full):.0f} % of the time saved; same best trial: "
          f"{full.best_params_ == pruned.best_params_}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--keras-trials", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-keras", action="store_true")
    args = parser.parse_args()
    X, y = windows(3000)
    bench_local(X, y, args.trials, args.repeat)
    bench_pruning(30, args.repeat)
    if not args.skip_keras:
        bench_memory(args.keras_trials)


if __name__ == "__main__":
    main()
