"""Where and how a search's trials run: its ``n_jobs``, ``backend``, ``isolate``,
``timeout``, ``pruner`` and ``scheduler`` checked, and the runner they make
(:mod:`seqpipe.search._execution`)."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import joblib
import optuna

from seqpipe.base import iter_steps
from seqpipe.search._execution import DaskRunner, InlineRunner, IsolatedRunner, PoolRunner
from seqpipe.search._trial import accepts_epoch_callback

_BACKENDS = ("loky", "threading", "multiprocessing", "dask")
_PRUNERS = ("median", "hyperband")


class _RunOptions:
    """The execution parameters of a search (a mixin of the searches' base class)."""

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
