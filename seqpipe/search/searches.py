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

import abc
import hashlib
import math
import os
import re
import socket
import time
import warnings
from collections.abc import Mapping, Sequence
from numbers import Integral
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import optuna
import sqlalchemy.exc
from numpy.ma import MaskedArray
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import check_cv
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from seqpipe._composition import routing_enabled
from seqpipe.base import iter_steps
from seqpipe.scoring import get_scorer
from seqpipe.search._execution import DaskRunner, InlineRunner, IsolatedRunner, PoolRunner
from seqpipe.search._trial import TrialTask, accepts_epoch_callback
from seqpipe.search.distributions import Choice, LogRandInt, LogUniform, RandInt, Uniform
from seqpipe.search.space import check_space
from seqpipe.search.walk_forward import WalkForwardSplit

__all__ = ["GridSearch", "RandomSearch", "TPESearch"]

_PRIMITIVES = (type(None), bool, int, float, str)
_BACKENDS = ("loky", "threading", "multiprocessing", "dask")
_PRUNERS = ("median", "hyperband")


# ------------------------------------------------------------------ the space in Optuna
class _Param:
    """One parameter of the space: its Optuna distribution and how to decode a value."""

    def __init__(self, name: str, distribution: BaseDistribution,
                 options: list[Any] | None = None) -> None:
        self.name = name
        self.distribution = distribution
        self.options = options  # the options, when Optuna sees their labels
        if options is not None:
            self._index = {label: i for i, label in enumerate(distribution.choices)}

    def decode(self, value: Any) -> Any:
        return value if self.options is None else self.options[self._index[value]]

    def describe(self, values: Any) -> Any:
        """The parameter in the study's user attributes (JSON): the options Optuna sees,
        or the distribution's repr."""
        if isinstance(self.distribution, CategoricalDistribution):
            return list(self.distribution.choices)
        return repr(values)


def _short(value: Any, limit: int = 200) -> str:
    """``repr(value)`` on one line, cut at ``limit`` characters."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _labels(options: list[Any]) -> list[str]:
    """Distinct readable labels of options Optuna cannot take as they are: their reprs
    (``"Ridge(alpha=0.1)"``), numbered (``"0: Ridge()"``) when two reprs are the same."""
    labels = [_short(option, 80) for option in options]
    if len(set(labels)) < len(labels):
        labels = [f"{i}: {label}" for i, label in enumerate(labels)]
    return labels


def _categorical(name: str, options: Sequence[Any]) -> _Param:
    options = list(options)
    plain = (all(type(option) in _PRIMITIVES for option in options)
             and all(option == option for option in options)  # no NaN
             and len(set(options)) == len(options))  # True == 1 == 1.0 would merge
    if plain:
        return _Param(name, CategoricalDistribution(options))
    return _Param(name, CategoricalDistribution(_labels(options)), options)


def _options(values: Any) -> list[Any] | None:
    """A list's or a Choice's options; None for anything else."""
    if isinstance(values, Choice):
        return list(values.options)
    if isinstance(values, np.ndarray):
        return values.tolist()
    if isinstance(values, Sequence) and not isinstance(values, (str, bytes)):
        return list(values)
    return None


def _to_optuna(name: str, values: Any, owner: str) -> _Param:
    if isinstance(values, LogUniform):
        return _Param(name, FloatDistribution(values.low, values.high, log=True))
    if isinstance(values, Uniform):
        return _Param(name, FloatDistribution(values.low, values.high))
    if isinstance(values, LogRandInt):
        return _Param(name, IntDistribution(values.low, values.high, log=True))
    if isinstance(values, RandInt):
        return _Param(name, IntDistribution(values.low, values.high))
    options = _options(values)
    if options is None:
        raise TypeError(
            f"{owner} samples with Optuna, which cannot sample {values!r} (parameter "
            f"{name!r}). Use seqpipe.search's Uniform, LogUniform, RandInt, LogRandInt, "
            f"Choice or a list of values.")
    return _categorical(name, options)


def _check_dict(space: Any, owner: str) -> Mapping[str, Any]:
    if not isinstance(space, Mapping):
        raise TypeError(f"The search space of {owner} must be one dict "
                        f"{{'step__param': distribution_or_list}}; a list of dicts is not "
                        f"supported. Got {type(space).__name__} instead.")
    return space


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


def _check_int(value: Any, name: str, owner: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"The '{name}' parameter of {owner} must be an int in the range "
                         f"[{minimum}, inf). Got {value!r} instead.")


def _seed(random_state: Any, owner: str) -> int | None:
    if random_state is None:
        return None
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    raise ValueError(f"The 'random_state' parameter of {owner} must be None, an int, a "
                     f"numpy Generator or a numpy RandomState. Got {random_state!r} instead.")


# ------------------------------------------------------------------ storage, resuming
_JOURNAL_SUFFIXES = (".log", ".journal")


def _storage(storage: Any, owner: str) -> Any:
    if storage is None or isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if isinstance(storage, (str, os.PathLike)):
        url = _storage_url(storage)
        if "://" in url:
            return _rdb_storage(url)
        return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(url))
    raise TypeError(f"The 'storage' parameter of {owner} must be None, a path, a database "
                    f"URL or an Optuna storage. Got {storage!r} instead.")


def _storage_url(storage: Any) -> str | None:
    """What Optuna's tools open the trials with: a database URL (a bare path becomes
    ``sqlite:///<absolute path>``), a journal file's absolute path, an RDBStorage's URL;
    None in memory or for other storage objects."""
    if isinstance(storage, optuna.storages.RDBStorage):
        return storage.url
    if not isinstance(storage, (str, os.PathLike)):
        return None
    text = os.fspath(storage)
    if "://" in text:
        return text
    path = Path(text).expanduser().resolve()
    return str(path) if path.suffix in _JOURNAL_SUFFIXES else f"sqlite:///{path}"


def _rdb_storage(url: str, attempts: int = 5) -> Any:
    """Optuna's ``RDBStorage(url)``. Processes opening the same new database at once
    race to create its schema (the loser's insert of the schema version fails): the
    loser tries again, and then finds the schema made."""
    for attempt in range(1, attempts + 1):
        try:
            return optuna.storages.RDBStorage(url)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError):
            if attempt == attempts:
                raise
            time.sleep(0.1 * attempt)


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


class _Progress:
    """A tqdm bar of the trials ended, with the best score so far and the failures."""

    def __init__(self, study: Any, n_trials: int, verbose: int) -> None:
        self.bar = None
        if verbose:
            self.bar = tqdm(total=n_trials, unit="trial", leave=True, desc="search")
            self.update(study)

    def update(self, study: Any) -> None:
        if self.bar is None:
            return
        trials = [t for t in study.get_trials(deepcopy=False)
                  if t.state.is_finished() and "record" in t.user_attrs]
        counts = {state: sum(t.state == state for t in trials) for state in TrialState}
        scores = [t.value for t in trials if t.state == TrialState.COMPLETE]
        best = f"{max(scores):.5g}" if scores else "-"
        self.bar.set_postfix(best=best, failed=counts[TrialState.FAIL],
                             pruned=counts[TrialState.PRUNED], refresh=False)
        self.bar.n = len(trials)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ------------------------------------------------------------------ the searches
class _BaseSearch(MetaEstimatorMixin, BaseEstimator, metaclass=abc.ABCMeta):
    """The trial loop shared by the searches; a subclass gives the sampler and the
    number of trials."""

    def _parameters(self) -> list[_Param]:
        owner = type(self).__name__
        return [_to_optuna(name, values, owner) for name, values in self.space.items()]

    @abc.abstractmethod
    def _make_sampler(self, params: list[_Param], seed: int | None) -> Any:
        """The Optuna sampler of this search."""

    def _n_trials(self, params: list[_Param]) -> int:
        return self.n_trials

    def _n_jobs(self) -> int:
        owner = type(self).__name__
        if (isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, Integral)
                or self.n_jobs == 0):
            raise ValueError(f"The 'n_jobs' parameter of {owner} must be a non-zero int "
                             f"(-1: every core). Got {self.n_jobs!r} instead.")
        if self.backend not in _BACKENDS:
            raise ValueError(f"The 'backend' parameter of {owner} must be one of "
                             f"{', '.join(map(repr, _BACKENDS))}. Got {self.backend!r} "
                             f"instead.")
        if self.backend == "dask":
            return None if self.n_jobs == -1 else abs(self.n_jobs)
        return joblib.effective_n_jobs(self.n_jobs)

    def _isolate(self) -> bool:
        """Whether each trial runs in a fresh process of its own."""
        owner = type(self).__name__
        timeout = self.timeout
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(
                timeout, (Integral, float)) or not timeout > 0):
            raise ValueError(f"The 'timeout' parameter of {owner} must be None or a "
                             f"number of seconds > 0. Got {timeout!r} instead.")
        if self.isolate == "auto":
            # a Keras model (training state) gets a fresh process: no TensorFlow state
            # or memory carried from trial to trial
            keras = any(hasattr(step, "get_training_state")
                        for step in iter_steps(self.estimator))
            return keras or timeout is not None
        if not isinstance(self.isolate, bool):
            raise ValueError(f"The 'isolate' parameter of {owner} must be True, False or "
                             f"'auto'. Got {self.isolate!r} instead.")
        if timeout is not None and not self.isolate:
            raise ValueError(f"{owner} stops a trial past its timeout by killing its "
                             f"process: timeout={timeout!r} needs isolate=True or 'auto'.")
        return self.isolate

    def _pruner(self) -> Any:
        """The Optuna pruner (NopPruner without one); checks that trials can report."""
        owner = type(self).__name__
        pruner = self.pruner
        if pruner is None:
            return optuna.pruners.NopPruner()
        if pruner == "median":
            pruner = optuna.pruners.MedianPruner()
        elif pruner == "hyperband":
            pruner = optuna.pruners.HyperbandPruner()
        elif not isinstance(pruner, optuna.pruners.BasePruner):
            raise ValueError(f"The 'pruner' parameter of {owner} must be None, "
                             f"{', '.join(map(repr, _PRUNERS))} or an Optuna pruner. Got "
                             f"{pruner!r} instead.")
        if not any(accepts_epoch_callback(step) for step in iter_steps(self.estimator)):
            raise ValueError(f"{owner} prunes trials on the validation scores their "
                             f"estimator reports every epoch: pruner={self.pruner!r} needs "
                             f"an EpochRepeater (around a ValidationSplit) in the "
                             f"estimator; {type(self.estimator).__name__} has none.")
        return pruner

    def _runner(self, X: Any, y: Any, n_jobs: int | None, isolate: bool) -> Any:
        if self.backend == "dask":
            return DaskRunner(self._dask_client(), X, y, n_jobs, isolate, self.timeout)
        if isolate:
            return IsolatedRunner(X, y, n_jobs, self.timeout)
        if n_jobs == 1:
            return InlineRunner(X, y)
        return PoolRunner(X, y, n_jobs, self.backend)

    def _dask_client(self) -> Any:
        owner = type(self).__name__
        try:
            import distributed
        except ImportError:  # pragma: no cover - the dask extra is missing
            raise ImportError(f"{owner}(backend='dask') needs dask.distributed: pip "
                              f"install 'seqpipe[dask]'.") from None
        if self.scheduler is None:
            try:
                return distributed.get_client()
            except ValueError:
                raise ValueError(f"{owner}(backend='dask') found no Dask client: create "
                                 f"one (distributed.Client(...)) or give the scheduler's "
                                 f"address, scheduler='tcp://host:8786'.") from None
        if isinstance(self.scheduler, str):
            return self.scheduler  # connected by the runner, for the search only
        if hasattr(self.scheduler, "submit"):
            return self.scheduler
        raise ValueError(f"The 'scheduler' parameter of {owner} must be None, an address "
                         f"or a distributed.Client. Got {self.scheduler!r} instead.")

    def _run_trials(self, study: Any, params: list[_Param], n_trials: int, runner: Any,
                    folds: list, scorer: Any, pruner: Any,
                    metadata: tuple[dict, dict] = ({}, {})) -> None:
        """Keep up to ``runner.capacity`` trials running until ``n_trials`` have ended;
        ``metadata``: the fit and score parameters of every fold."""
        running: dict[Any, tuple[Any, dict[str, Any]]] = {}
        pruning = not isinstance(pruner, optuna.pruners.NopPruner)
        progress = _Progress(study, n_trials, self.verbose)
        try:
            while True:
                while len(running) < runner.capacity and self._free(study, n_trials) > 0:
                    trial, values = self._ask(study, params)
                    task = TrialTask(self.estimator, values, folds, scorer,
                                     (pruner, _finished(study, trial.number),
                                      study.study_name) if pruning else None, *metadata)
                    running[runner.submit(task)] = trial, values
                if not running:
                    return
                for future in runner.wait(list(running)):
                    trial, values = running.pop(future)
                    self._tell(study, trial, values, runner.result(future))
                    progress.update(study)
        finally:
            progress.close()

    @staticmethod
    def _free(study: Any, n_trials: int) -> int:
        trials = study.get_trials(deepcopy=False)
        finished = sum(1 for t in trials if "record" in t.user_attrs and t.state.is_finished())
        running = sum(1 for t in trials if t.state == TrialState.RUNNING)
        return n_trials - finished - running

    def _check_cv(self) -> Any:
        if self.cv is None:
            return WalkForwardSplit(5)
        if isinstance(self.cv, Integral) and not isinstance(self.cv, bool):
            return WalkForwardSplit(self.cv)
        return check_cv(self.cv)

    def get_metadata_routing(self) -> MetadataRouter:
        """How fit parameters reach the estimator, the scorer and ``cv`` when metadata
        routing is enabled, as in scikit-learn's searches: the estimator's ``fit`` gets
        what it requested for ``fit``, the scorer what it requested for ``score`` (the
        estimator's ``score`` with ``scoring=None``), ``cv`` what it requested for
        ``split``.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        scorer = get_scorer(self.scoring)
        if not hasattr(scorer, "get_metadata_routing"):  # scoring=None: estimator.score
            scorer = self.estimator
        return (MetadataRouter(owner=type(self).__name__)
                .add(estimator=self.estimator,
                     method_mapping=MethodMapping().add(caller="fit", callee="fit"))
                .add(scorer=scorer,
                     method_mapping=MethodMapping().add(caller="fit", callee="score"))
                .add(splitter=self._check_cv(),
                     method_mapping=MethodMapping().add(caller="fit", callee="split")))

    def _route(self, params: dict[str, Any]) -> tuple[dict, dict, dict]:
        """The fit, score and split parameters among ``params``: by request with
        metadata routing enabled, else all of them to the estimator's ``fit`` (as
        scikit-learn's searches do)."""
        if not params:
            return {}, {}, {}
        if not routing_enabled():
            return params, {}, {}
        routed = process_routing(self, "fit", **params)
        return (dict(routed["estimator"]["fit"]), dict(routed["scorer"]["score"]),
                dict(routed["splitter"]["split"]))

    def fit(self, X: Any, y: Any = None, **params: Any) -> _BaseSearch:
        """Run the trials, then refit the best parameters on all of ``(X, y)``.

        Each trial clones ``estimator``, sets its parameters and fits and scores it on
        every fold of ``cv``; a trial whose fit or score raises is recorded as failed
        (state ``"FAIL"``, its error in ``trials_``, a NaN score ranked last, a
        ``FitFailedWarning``) and the search goes on.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The samples, in time order.
        y : array-like of shape (n_samples, ...) or None
            Their targets (None when a step of the estimator derives them from X).
        **params : dict of str -> object
            Fit parameters (e.g. ``sample_weight``), as in scikit-learn's searches: all
            go to the estimator's ``fit``; with metadata routing enabled, to what
            requested them (the estimator's steps, the scorer, ``cv``). Those with one
            value per sample are taken at each fold's rows. They are part of the
            study's name: other weights, another study.

        Returns
        -------
        self

        Raises
        ------
        ValueError or TypeError
            Before any trial: an unknown parameter or a bad space (see
            :func:`~seqpipe.search.check_space`), a bad constructor parameter, or too
            few samples for the folds.
        ValueError
            After the trials, when every one of them failed (naming the first error).
        """
        owner = type(self).__name__
        metadata = params  # ``params`` names the space's parameters below
        check_space(self.estimator, _check_dict(self.space, owner))
        if not isinstance(self.refit, bool):
            raise ValueError(f"The 'refit' parameter of {owner} must be a bool. "
                             f"Got {self.refit!r} instead.")
        params = self._parameters()
        seed = _seed(self.random_state, owner)
        n_trials = self._n_trials(params)
        scorer = get_scorer(self.scoring)
        fit_params, score_params, split_params = self._route(metadata)
        folds = list(self._check_cv().split(X, y, **split_params))
        n_jobs = self._n_jobs()

        pruner = self._pruner()
        isolate = self._isolate()
        storage = _storage(self.storage, owner)
        study_name = self._study_name(X, y, metadata)

        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        try:
            study = optuna.create_study(direction="maximize", storage=storage,
                                        study_name=study_name, load_if_exists=True,
                                        sampler=self._study_sampler(params, seed),
                                        pruner=pruner)
            for name, value in self._description(params, n_trials, seed).items():
                study.set_user_attr(name, value)
            self._rerun_abandoned(study, params)
            runner = self._runner(X, y, n_jobs, isolate)
            try:
                self._run_trials(study, params, n_trials, runner, folds, scorer, pruner,
                                 (fit_params, score_params))
            finally:
                runner.close()
        finally:
            optuna.logging.set_verbosity(verbosity)

        trials = self._records(study, params)
        self.study_, self.trials_, self.scorer_ = study, trials, scorer
        self.storage_url_ = _storage_url(self.storage)
        self.n_splits_ = len(folds)
        self.cv_results_ = self._results(trials, len(folds))
        if all(trial["state"] != "COMPLETE" for trial in trials):
            first = trials[0]
            raise ValueError(f"All {len(trials)} trials of {owner} failed. The first error "
                             f"(trial {first['number']}, params {first['params']}): "
                             f"{first['error'] or 'pruned'}")
        self.best_index_ = int(np.argmin(self.cv_results_["rank_test_score"]))
        self.best_params_ = self.cv_results_["params"][self.best_index_]
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        if self.refit:
            start = time.perf_counter()
            estimator = clone(self.estimator).set_params(**clone(self.best_params_,
                                                                 safe=False))
            self.best_estimator_ = (estimator.fit(X, **fit_params) if y is None
                                    else estimator.fit(X, y, **fit_params))
            self.refit_time_ = time.perf_counter() - start
        return self

    def _ask(self, study: Any, params: list[_Param]) -> tuple[Any, dict[str, Any]]:
        trial = study.ask({param.name: param.distribution for param in params})
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("pid", os.getpid())
        return trial, {param.name: param.decode(trial.params[param.name])
                       for param in params}

    def _tell(self, study: Any, trial: Any, values: dict[str, Any], record: dict) -> None:
        record = dict(record)
        # what the pruner wrote on its copy of the trial (a successive-halving rung's
        # score, "completed_rung_<i>"): on the trial itself, where the next trials'
        # pruners compare with it
        for key, value in record.pop("pruner_attrs", {}).items():
            study._storage.set_trial_system_attr(trial._trial_id, key, value)
        trial.set_user_attr("record", record)
        for step, value in record.get("intermediate", {}).items():
            trial.report(value, int(step))
        if record.get("pruned"):
            study.tell(trial, state=TrialState.PRUNED)
            return
        if record["error"] is None:
            study.tell(trial, float(np.mean(record["scores"])))
            return
        study.tell(trial, state=TrialState.FAIL)
        warnings.warn(f"Trial {trial.number} of {type(self).__name__} failed with params "
                      f"{values}: {record['error']}", FitFailedWarning, stacklevel=4)

    def _study_name(self, X: Any, y: Any, params: dict[str, Any] | None = None) -> str:
        config = {name: value for name, value in self.get_params(deep=False).items()
                  if name not in ("n_trials", "storage", "n_jobs", "backend", "scheduler",
                                  "isolate", "verbose")}
        text = (f"{type(self).__qualname__} {_fingerprint(config)} "
                f"{joblib.hash(X)} {joblib.hash(y)}"
                + (f" {joblib.hash(params)}" if params else ""))
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        return f"seqpipe-{type(self).__name__}-{digest}"

    def _description(self, params: list[_Param], n_trials: int,
                     seed: int | None) -> dict[str, Any]:
        """The study's user attributes, for Optuna's tools: what this search is."""
        scoring = self.scoring
        if scoring is None:
            scoring = f"{type(self.estimator).__name__}.score"
        elif not isinstance(scoring, str):
            scoring = getattr(scoring, "__qualname__", None) or _short(scoring)
        return {"seqpipe_search": type(self).__name__,
                "estimator": _short(self.estimator, 2000),
                "space": {param.name: param.describe(self.space[param.name])
                          for param in params},
                "scoring": scoring, "cv": _short(self._check_cv()),
                "n_trials": n_trials, "random_state": seed}

    def _study_sampler(self, params: list[_Param], seed: int | None) -> Any:
        """The study's sampler; a seeded search draws each trial with a sampler seeded
        from its number (:class:`_NumberSeededSampler`)."""
        if seed is None:
            return self._make_sampler(params, None)
        return _NumberSeededSampler(lambda derived: self._make_sampler(params, derived), seed)

    @staticmethod
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

    @staticmethod
    def _records(study: Any, params: list[_Param]) -> list[dict]:
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

    @staticmethod
    def _results(trials: list[dict], n_splits: int) -> dict[str, Any]:
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

    def predict(self, X: Any) -> Any:
        """``best_estimator_.predict(X)``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    def score(self, X: Any, y: Any = None) -> float:
        """The search's scorer (``scoring``) on ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return float(self.scorer_(self.best_estimator_, X, y))


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


class _NumberSeededSampler(optuna.samplers.BaseSampler):
    """Draws each trial with a fresh sampler seeded from (seed, the trial's number).

    A trial's draws then depend on its number alone: a resumed search does not repeat
    the first draws, and processes sharing one storage, whose trials get distinct
    numbers from it, never draw the same parameters.
    """

    def __init__(self, make: Any, seed: int) -> None:
        self._make, self._seed = make, seed
        self._current: tuple[int, Any] | None = None

    def _for(self, trial: Any) -> Any:
        if self._current is None or self._current[0] != trial.number:
            state = np.random.SeedSequence([self._seed, trial.number]).generate_state(1)[0]
            self._current = trial.number, self._make(int(state))
        return self._current[1]

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict:
        return self._for(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study: Any, trial: Any, search_space: dict) -> dict:
        return self._for(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study: Any, trial: Any, param_name: str,
                           param_distribution: Any) -> Any:
        return self._for(trial).sample_independent(study, trial, param_name,
                                                   param_distribution)

    def before_trial(self, study: Any, trial: Any) -> None:
        self._for(trial).before_trial(study, trial)

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        self._for(trial).after_trial(study, trial, state, values)


class _LoopGridSampler(optuna.samplers.GridSampler):
    """GridSampler for an ask/tell loop: its ``after_trial`` calls ``study.stop()``,
    which Optuna allows only inside ``study.optimize``; the search stops by itself."""

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        pass


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

    def _description(self, params: list[_Param], n_trials: int,
                     seed: int | None) -> dict[str, Any]:
        """The study's user attributes, for Optuna's tools: what this search is."""
        scoring = self.scoring
        if scoring is None:
            scoring = f"{type(self.estimator).__name__}.score"
        elif not isinstance(scoring, str):
            scoring = getattr(scoring, "__qualname__", None) or _short(scoring)
        return {"seqpipe_search": type(self).__name__,
                "estimator": _short(self.estimator, 2000),
                "space": {param.name: param.describe(self.space[param.name])
                          for param in params},
                "scoring": scoring, "cv": _short(self._check_cv()),
                "n_trials": n_trials, "random_state": seed}

    def _study_sampler(self, params: list[_Param], seed: int | None) -> Any:
        # one order of the grid for every trial: the sampler picks grid points by number
        return self._make_sampler(params, seed)

