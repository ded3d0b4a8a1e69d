"""RandomSearch, GridSearch and TPESearch: scikit-learn-shaped searches on Optuna.

Optuna samples the parameters (its ``RandomSampler``, ``GridSampler`` and
``TPESampler``) and keeps the trials in a study (``search.study_``); seqpipe runs the
trial loop itself (``study.ask``/``study.tell``), cross-validates each trial on
time-ordered, leak-free folds (:class:`~seqpipe.search.WalkForwardSplit` by default),
and answers as scikit-learn's ``GridSearchCV`` does: ``best_params_``,
``best_score_``, ``best_estimator_`` (refit on all the data), ``cv_results_`` (the
same keys), plus ``trials_``, one record per trial.

>>> import numpy as np
>>> from sklearn.linear_model import Ridge
>>> from seqpipe.search import LogUniform, RandomSearch
>>> X = np.random.default_rng(0).normal(size=(120, 3))
>>> y = X @ [1.0, -2.0, 0.5]
>>> search = RandomSearch(Ridge(), {"alpha": LogUniform(1e-3, 10)}, n_trials=4, cv=3,
...                       random_state=0).fit(X, y)
>>> 1e-3 <= search.best_params_["alpha"] <= 10, len(search.trials_)
(True, 4)
>>> search.trials_[0]["state"], len(search.cv_results_["split2_test_score"])
('COMPLETE', 4)

How a space maps to Optuna's distributions:

=====================  ==================================================
seqpipe                Optuna
=====================  ==================================================
``Uniform``            ``FloatDistribution(low, high)``
``LogUniform``         ``FloatDistribution(low, high, log=True)``
``RandInt``            ``IntDistribution(low, high)`` (both included)
``LogRandInt``         ``IntDistribution(low, high, log=True)``
``Choice``, a list     ``CategoricalDistribution``
=====================  ==================================================

Optuna's categorical choices must be distinct primitives (None, bool, int, float,
str). Options that are not -- estimators, tuples, arrays, or values Optuna cannot
tell apart such as ``True`` and ``1`` -- are given to Optuna as labels, their reprs on
one line (``"Ridge(alpha=0.1)"``, ``"True"``, ``"1"``; numbered, ``"0: Ridge()"``, when
two reprs are the same) and mapped back: ``best_params_``, ``cv_results_`` and
``trials_`` hold the options themselves, ``study_`` (and so Optuna's tools) the labels.
Other distributions (``scipy.stats`` ones) are refused: Optuna cannot sample them.

**Resuming** (``storage=``): every trial is written, as it ends, to an Optuna storage:

- a path ending in ``.log`` or ``.journal``: Optuna's journal file
  (``JournalFileBackend``, file-locked appends): several processes may share it;
- any other path: an SQLite database (``sqlite:///<path>``, Optuna's ``RDBStorage``);
  SQLite serialises writers with a file lock, fine for one process or a few; for
  many processes use a journal file or a server database;
- a URL (``"postgresql://..."``): ``RDBStorage(url)``; or an Optuna storage object.

Processes running the same search on one storage share its trials: each asks for a
trial only while fewer than ``n_trials`` are finished or running (two asking at the
same moment may run one more), and a seeded search draws each trial from its number.

The study's name is ``seqpipe-<search>-<hash>``, the hash of the search's
configuration (estimator and its parameters, space, cv, scoring, seed; not
``n_trials``) and of the data. Rerunning the same search on the same data with the same
storage resumes it: finished trials (complete or failed) are read back, not rerun; a
trial left running by a process of this host that no longer exists (a crash) is put
back in Optuna's queue (state ``WAITING``) and run again under its own number with its
own parameters (a trial of another host is left to it); new trials run until
``n_trials`` trials have finished (a larger ``n_trials`` extends a finished search).
A seeded search resumed after a crash thus runs exactly the trials of an uninterrupted
one, numbers included.

**Optuna's tools** read the study as it is written: ``storage_url_`` is what they open
(``sqlite:///<absolute path>`` for a bare path, the journal file's path), and the
study's user attributes say what the search is (``seqpipe_search``, ``estimator``,
``space`` with the labels Optuna sees, ``scoring``, ``cv``, ``n_trials``,
``random_state``)::

    optuna-dashboard sqlite:////home/me/searches/search.db
    optuna.load_study(study_name=search.study_.study_name, storage=search.storage_url_)

**Where trials run** (``n_jobs``, ``backend``, ``isolate``, ``timeout``, ``scheduler``):

- ``n_jobs=1``: in the search's process, one after the other;
- ``n_jobs > 1``: in the search's own pool of reusable workers (loky processes by
  default, threads or spawned processes); as a trial ends, the next is asked;
- ``isolate=True`` -- the default for an estimator holding a Keras model, and implied by
  ``timeout`` -- every trial in a fresh Python process (``n_jobs`` at a time), which a
  timeout kills: nothing TensorFlow builds outlives its trial, so memory does not grow
  from trial to trial;
- ``backend="dask"``: futures on a ``dask.distributed`` client (the current one, or
  ``scheduler="tcp://scheduler:8786"``); the data is scattered once; with ``isolate``
  or a timeout, each task runs its trial in a fresh process on its worker.

A trial that raises, times out, or whose process or worker dies is recorded as failed
with its error (``"TimeoutError: ..."``, ``"ProcessDied: ..."``, ``"WorkerDied: ..."``)
and the search goes on; Optuna is told in the search's process only.

**Pruning** (``pruner="median"``, ``"hyperband"`` or an Optuna pruner): an estimator
with an ``EpochRepeater`` around a ``ValidationSplit`` reports the validation score of
every epoch (the EpochRepeater's ``epoch_callback``); a trial the pruner judges
hopeless stops at once and is recorded as ``"PRUNED"`` (NaN score, ranked last), its
reported scores in ``trials_[i]["intermediate"]`` and in the study. The pruner runs
where the trial runs, on a copy of the trials that had ended when it started (a study
of the search's name, each trial under its own number), so that
pruning needs no shared storage and works in every execution mode (the trials running
at the same time do not see each other's scores).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import optuna

from seqpipe.search._base import _BaseSearch, _check_int
from seqpipe.search._optuna_space import _options, _Param
from seqpipe.search._samplers import _LoopGridSampler

__all__ = ["GridSearch", "RandomSearch", "TPESearch"]


_COMMON_PARAMETERS = """
    estimator : scikit-learn estimator
        A seqpipe Pipeline or step, or any scikit-learn estimator; cloned per fold.
    space : dict
        ``{'step__param': distribution_or_list}``, checked by
        :func:`~seqpipe.search.check_space` before any trial."""

_COMMON_TAIL = """
    cv : None, int or splitter, default=None
        None: ``WalkForwardSplit(5)`` (time-ordered, with seqpipe's gap); an int n:
        ``WalkForwardSplit(n)``; or any scikit-learn splitter or iterable of
        ``(train, test)`` indices.
    scoring : None, str or callable, default=None
        Through :func:`seqpipe.scoring.get_scorer` (any y shape); None: the
        estimator's ``score``. Greater is better.
    refit : bool, default=True
        Refit a clone with the best parameters on all the data (``best_estimator_``).
    n_jobs : int, default=1
        Trials running at once (-1: one per core; with Dask, the cluster's threads).
        As a trial ends, its score is told to Optuna and the next trial is asked (TPE
        models the trials ended so far). A seeded RandomSearch or GridSearch runs the
        same trials whatever ``n_jobs``.
    backend : {"loky", "threading", "multiprocessing", "dask"}, default="loky"
        Where trials run when ``n_jobs > 1`` and not isolated: reusable loky worker
        processes (joblib's), threads, or spawned processes; ``"dask"``: futures on a
        ``dask.distributed`` client (``scheduler``), always, whatever ``n_jobs``.
    timeout : None or float, default=None
        Seconds a trial may run (all its folds; its process's start-up not counted);
        past it, its process is killed and the trial recorded as failed
        (``"TimeoutError: ..."``). Implies ``isolate``.
    isolate : bool or "auto", default="auto"
        Run every trial in a fresh Python process of its own (``n_jobs`` at a time):
        nothing, TensorFlow's state and memory included, outlives a trial, and a trial
        whose process dies is recorded as failed (``"ProcessDied: ..."``) while the
        search goes on. ``"auto"``: when the estimator holds a Keras model (a step
        with ``get_training_state``) or ``timeout`` is set. Costs a process start per
        trial (about a second, more with TensorFlow); on Dask the fresh process
        starts on the worker.
    pruner : None, "median", "hyperband" or an Optuna pruner, default=None
        Stop hopeless trials early (state ``"PRUNED"``): an ``EpochRepeater`` in the
        estimator reports its ``ValidationSplit``'s score after every epoch and the
        pruner compares it with the trials already ended (see
        :mod:`seqpipe.search._trial`). ``"median"``: ``optuna.pruners.MedianPruner()``,
        ``"hyperband"``: ``optuna.pruners.HyperbandPruner()``, whose brackets follow the
        study's name and the trials' numbers (the same in every run of a seeded search).
    scheduler : None, str or distributed.Client, default=None
        With ``backend="dask"``: None, the current client (``distributed.get_client()``);
        an address (``"tcp://scheduler:8786"``), a client connected for the search; or a
        client.
    verbose : int, default=0
        Show the progress (trials ended, best score so far, failed and pruned trials)
        in a tqdm bar.
    storage : None, path, URL or Optuna storage, default=None
        Where the trials are kept: None, in memory; a path ending in ``.log`` or
        ``.journal``, Optuna's journal file; any other path, an SQLite file; a database
        URL; or an Optuna storage. Rerunning the same search on the same data with the
        same storage resumes it (see the module's page).

    Attributes
    ----------
    best_params_, best_score_, best_index_ : the best trial's params, mean test score, row
    best_estimator_ : the refit estimator (``refit=True``)
    cv_results_ : dict of arrays, the keys of scikit-learn's ``GridSearchCV`` (``params``,
        ``param_<name>`` masked arrays, ``split<i>_test_score``, ``mean_test_score``,
        ``std_test_score``, ``rank_test_score``, ``mean_fit_time``...), one row per trial
        in the order they ran; a failed trial scores NaN and ranks last.
    trials_ : list of dict, one per trial: ``number``, ``params``, ``state``
        (``"COMPLETE"`` or ``"FAIL"``), ``scores`` (per fold, up to the failure),
        ``value`` (their mean), ``duration`` (seconds), ``error`` (``"Type: message"``
        or None), ``fit_times``, ``score_times`` (and ``traceback`` when failed).
    study_ : the ``optuna.Study`` holding the trials (its name: ``study_.study_name``)
    storage_url_ : str or None, what Optuna's tools open: the storage's database URL
        (``sqlite:///<absolute path>`` for a bare path) or journal file path; None in
        memory
    scorer_, n_splits_, refit_time_
"""


class RandomSearch(_BaseSearch):
    __doc__ = f"""Random search: ``n_trials`` draws from the space (Optuna's RandomSampler).

    Parameters
    ----------{_COMMON_PARAMETERS}
    n_trials : int, default=10
        The number of trials, >= 1.{_COMMON_TAIL}
    random_state : None, int, numpy Generator or RandomState, default=None
        Seeds the sampler: the same seed draws the same params in the same order.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.search import LogUniform, RandomSearch
    >>> X = np.random.default_rng(0).normal(size=(120, 3))
    >>> y = X @ [1.0, -2.0, 0.5]
    >>> search = RandomSearch(Ridge(), {{"alpha": LogUniform(1e-3, 10)}}, n_trials=4,
    ...                       random_state=0).fit(X, y)
    >>> len(search.trials_), search.best_estimator_.alpha == search.best_params_["alpha"]
    (4, True)
    """

    def __init__(self, estimator: Any, space: Mapping[str, Any], *, n_trials: int = 10,
                 cv: Any = None, scoring: Any = None, refit: bool = True, n_jobs: int = 1,
                 backend: str = "loky", storage: Any = None, timeout: float | None = None,
                 isolate: bool | str = "auto", pruner: Any = None, scheduler: Any = None,
                 verbose: int = 0, random_state: Any = None) -> None:
        self.estimator = estimator
        self.space = space
        self.n_trials = n_trials
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.n_jobs = n_jobs
        self.backend = backend
        self.storage = storage
        self.timeout = timeout
        self.isolate = isolate
        self.pruner = pruner
        self.scheduler = scheduler
        self.verbose = verbose
        self.random_state = random_state

    def _n_trials(self, params: list[_Param]) -> int:
        _check_int(self.n_trials, "n_trials", type(self).__name__, 1)
        return self.n_trials

    def _make_sampler(self, params: list[_Param], seed: int | None) -> Any:
        return optuna.samplers.RandomSampler(seed=seed)


class TPESearch(RandomSearch):
    __doc__ = f"""Bayesian search with Optuna's TPESampler (tree-structured Parzen estimator).

    The first ``n_startup_trials`` trials are random draws; the next ones favour the
    regions of the space where the best trials so far scored.

    Parameters
    ----------{_COMMON_PARAMETERS}
    n_trials : int, default=10
        The number of trials, >= 1.
    n_startup_trials : int, default=10
        Random trials before TPE models the scores (Optuna's default).{_COMMON_TAIL}
    random_state : None, int, numpy Generator or RandomState, default=None
        Seeds the sampler: the same seed gives the same trials.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.search import LogUniform, TPESearch
    >>> X = np.random.default_rng(0).normal(size=(120, 3))
    >>> y = X @ [1.0, -2.0, 0.5]
    >>> search = TPESearch(Ridge(), {{"alpha": LogUniform(1e-3, 10)}}, n_trials=6,
    ...                    random_state=0).fit(X, y)
    >>> len(search.trials_), 1e-3 <= search.best_params_["alpha"] <= 10
    (6, True)
    """

    def __init__(self, estimator: Any, space: Mapping[str, Any], *, n_trials: int = 10,
                 n_startup_trials: int = 10, cv: Any = None, scoring: Any = None,
                 refit: bool = True, n_jobs: int = 1, backend: str = "loky",
                 storage: Any = None, timeout: float | None = None,
                 isolate: bool | str = "auto", pruner: Any = None, scheduler: Any = None,
                 verbose: int = 0, random_state: Any = None) -> None:
        super().__init__(estimator, space, n_trials=n_trials, cv=cv, scoring=scoring,
                         refit=refit, n_jobs=n_jobs, backend=backend, storage=storage,
                         timeout=timeout, isolate=isolate, pruner=pruner,
                         scheduler=scheduler, verbose=verbose, random_state=random_state)
        self.n_startup_trials = n_startup_trials

    def _make_sampler(self, params: list[_Param], seed: int | None) -> Any:
        _check_int(self.n_startup_trials, "n_startup_trials", type(self).__name__, 0)
        return optuna.samplers.TPESampler(n_startup_trials=self.n_startup_trials,
                                          seed=seed)


class GridSearch(_BaseSearch):
    __doc__ = f"""Grid search: one trial per combination of the listed values.

    Each value of the space is a list (or a ``Choice``) of the values to try; the
    trials run every combination once, in an order shuffled by ``random_state``
    (Optuna's GridSampler).

    Parameters
    ----------{_COMMON_PARAMETERS} Values are lists or ``Choice``.{_COMMON_TAIL}
    random_state : None, int, numpy Generator or RandomState, default=None
        Seeds the order of the combinations.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.search import GridSearch
    >>> X = np.random.default_rng(0).normal(size=(120, 3))
    >>> y = X @ [1.0, -2.0, 0.5]
    >>> search = GridSearch(Ridge(), {{"alpha": [0.01, 1.0, 100.0]}}).fit(X, y)
    >>> len(search.trials_), search.best_params_
    (3, {{'alpha': 0.01}})
    """

    def __init__(self, estimator: Any, space: Mapping[str, Any], *, cv: Any = None,
                 scoring: Any = None, refit: bool = True, n_jobs: int = 1,
                 backend: str = "loky", storage: Any = None, timeout: float | None = None,
                 isolate: bool | str = "auto", pruner: Any = None, scheduler: Any = None,
                 verbose: int = 0, random_state: Any = None) -> None:
        self.estimator = estimator
        self.space = space
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.n_jobs = n_jobs
        self.backend = backend
        self.storage = storage
        self.timeout = timeout
        self.isolate = isolate
        self.pruner = pruner
        self.scheduler = scheduler
        self.verbose = verbose
        self.random_state = random_state

    def _parameters(self) -> list[_Param]:
        owner = type(self).__name__
        for name, values in self.space.items():
            if _options(values) is None:
                raise TypeError(
                    f"{owner} tries every combination of listed values; the values of "
                    f"{name!r} must be a list or a Choice. Got {values!r} instead; use "
                    f"RandomSearch or TPESearch to sample from a distribution.")
        return super()._parameters()

    def _n_trials(self, params: list[_Param]) -> int:
        return math.prod(len(param.distribution.choices) for param in params)

    def _make_sampler(self, params: list[_Param], seed: int | None) -> Any:
        grid = {param.name: list(param.distribution.choices) for param in params}
        return _LoopGridSampler(grid, seed=seed)

    def _study_sampler(self, params: list[_Param], seed: int | None) -> Any:
        # one order of the grid for every trial: the sampler picks grid points by number
        return self._make_sampler(params, seed)

