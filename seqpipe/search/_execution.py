"""Where a search's trials run: runners with one interface (submit, wait, result).

- :class:`InlineRunner`: in the search's own process, one at a time;
- :class:`PoolRunner`: ``n_jobs`` reusable workers (loky processes, kept for the next
  search; threads; or spawned processes for ``backend="multiprocessing"``);
- :class:`IsolatedRunner`: every trial in a fresh Python process of its own
  (:func:`run_in_child`), ``n_jobs`` at a time: a trial past its ``timeout`` is killed,
  a trial whose process dies is reported, and nothing (TensorFlow's state, memory)
  outlives a trial;
- :class:`DaskRunner`: futures on a ``dask.distributed`` client; with ``isolate`` or a
  timeout, each task runs its trial in a fresh process on the worker.

Whatever happens to a trial (an error, a timeout, a dead worker or process), its
result is a record: :meth:`result` never raises, so the search never hangs on a trial.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import pickle
import select
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from typing import Any

import cloudpickle
from joblib.externals.loky import ProcessPoolExecutor as LokyExecutor

from seqpipe._backend import CHOICE
from seqpipe.search._child import STARTED
from seqpipe.search._trial import TrialTask, evaluate, failed_record

__all__ = ["DaskRunner", "InlineRunner", "IsolatedRunner", "PoolRunner", "TrialProcessError",
           "run_in_child", "run_trial"]

_STDERR_TAIL = 1500


class TrialProcessError(RuntimeError):
    """A trial's own process ran past its timeout, or died without answering."""


def run_in_child(function: Any, args: tuple, timeout: float | None = None,
                 keras_backend: str | None = None) -> Any:
    """``function(*args)`` in a fresh Python process; its return value.

    The process runs Keras on ``keras_backend``, by default on this process's (so that
    a search's isolated trials train on the backend it runs on).

    ``timeout`` counts from the moment the process has started and read its task
    (Python's start-up and imports are not counted, so that a loaded machine does not
    time trials out).

    Raises
    ------
    TrialProcessError
        The call ran longer than ``timeout`` seconds (its process is killed), the
        process died (a signal, ``os._exit``), or the function raised (its traceback
        in the message).
    """
    payload = pickle.dumps(list(sys.path)) + cloudpickle.dumps((function, args))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
           "KERAS_BACKEND": keras_backend or CHOICE.name}
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen([sys.executable, "-m", "seqpipe.search._child"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=errors, env=env)
        try:
            out = _answer(process, payload, timeout)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()
        if out is None:
            raise TrialProcessError(f"TimeoutError: the trial ran longer than its timeout "
                                    f"of {timeout:g} s and its process was killed")
        if not out:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-_STDERR_TAIL:].strip()
            code = process.returncode
            how = f"signal {-code}" if code < 0 else f"exit status {code}"
            raise TrialProcessError(f"ProcessDied: the trial's process died ({how}) "
                                    f"without answering{': ' + tail if tail else ''}")
    status, value = pickle.loads(out)
    if status != "ok":
        raise TrialProcessError(value)
    return value


def _answer(process: subprocess.Popen, payload: bytes, timeout: float | None
            ) -> bytes | None:
    """What the child answers (b"" if it died first); None past ``timeout``."""
    try:
        process.stdin.write(payload)
        process.stdin.close()
    except BrokenPipeError:
        return b""
    if _read(process.stdout, 1, None) != STARTED:
        return b""
    deadline = None if timeout is None else time.monotonic() + timeout
    return _read(process.stdout, None, deadline)


def _read(stream: Any, size: int | None, deadline: float | None) -> bytes | None:
    """Up to ``size`` bytes (None: until the end) of ``stream``; None past ``deadline``."""
    chunks, count, fd = [], 0, stream.fileno()
    while size is None or count < size:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 16 if size is None else size - count)
        if not chunk:
            break
        chunks.append(chunk)
        count += len(chunk)
    return b"".join(chunks)


def run_trial(task: TrialTask, X: Any, y: Any, isolate: bool, timeout: float | None,
              keras_backend: str | None = None) -> dict[str, Any]:
    """The record of one trial, run here or (``isolate``) in a fresh process on Keras'
    ``keras_backend`` (default: this process's)."""
    if not isolate:
        if keras_backend not in (None, CHOICE.name):
            return failed_record(
                f"RuntimeError: this worker runs Keras on {CHOICE.name}, the search on "
                f"{keras_backend}: start the workers with KERAS_BACKEND={keras_backend}, "
                f"or isolate the trials (isolate=True)")
        return evaluate(task, X, y)
    start = time.perf_counter()
    try:
        return run_in_child(evaluate, (task, X, y), timeout, keras_backend)
    except TrialProcessError as error:
        return failed_record(str(error), time.perf_counter() - start)


def _record_of(future: Any) -> dict[str, Any]:
    try:
        return future.result()
    except Exception as error:  # a dead worker, a lost Dask task
        return failed_record(f"WorkerDied: {type(error).__name__}: {error}")


class InlineRunner:
    """Trials in this process, one at a time (each runs when submitted)."""

    capacity = 1

    def __init__(self, X: Any, y: Any) -> None:
        self.X, self.y = X, y

    def submit(self, task: TrialTask) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        future.set_result(evaluate(task, self.X, self.y))
        return future

    @staticmethod
    def wait(futures: list) -> list:
        done, _ = concurrent.futures.wait(futures, return_when="FIRST_COMPLETED")
        return list(done)

    result = staticmethod(_record_of)

    def close(self) -> None:
        pass


#: The loky executors of the searches, by number of workers: kept between searches (as
#: joblib keeps its own), so that a search does not wait for its workers to start.
_LOKY_EXECUTORS: dict[int, Any] = {}


def _loky_executor(capacity: int, *, replace: bool = False) -> Any:
    executor = _LOKY_EXECUTORS.get(capacity)
    if replace and executor is not None:
        executor.shutdown(wait=False)
    if replace or executor is None:
        # loky's own executor, not its process-wide reusable one, which joblib shares
        executor = _LOKY_EXECUTORS[capacity] = LokyExecutor(capacity)
    return executor


class PoolRunner(InlineRunner):
    """``capacity`` reusable workers: ``"loky"`` processes (kept for later searches),
    ``"threading"`` threads, or ``"multiprocessing"`` processes (started by spawn, never
    fork). A process pool broken by a dying worker is replaced for the next trials."""

    def __init__(self, X: Any, y: Any, capacity: int, backend: str) -> None:
        super().__init__(X, y)
        self.capacity, self.backend = capacity, backend
        self.executor = self._new_executor()

    def _new_executor(self, replace: bool = False) -> concurrent.futures.Executor:
        if self.backend == "threading":
            return concurrent.futures.ThreadPoolExecutor(self.capacity)
        if self.backend == "multiprocessing":
            return concurrent.futures.ProcessPoolExecutor(
                self.capacity, mp_context=multiprocessing.get_context("spawn"))
        return _loky_executor(self.capacity, replace=replace)

    def submit(self, task: TrialTask) -> concurrent.futures.Future:
        try:
            return self.executor.submit(evaluate, task, self.X, self.y)
        except concurrent.futures.BrokenExecutor:
            if self.backend != "loky":
                self.executor.shutdown(wait=False)
            self.executor = self._new_executor(replace=True)
            return self.executor.submit(evaluate, task, self.X, self.y)

    def close(self) -> None:
        if self.backend != "loky":
            self.executor.shutdown(wait=True)


class IsolatedRunner(InlineRunner):
    """Every trial in a fresh process (killed past ``timeout``), ``capacity`` at once."""

    def __init__(self, X: Any, y: Any, capacity: int, timeout: float | None) -> None:
        super().__init__(X, y)
        self.capacity, self.timeout = capacity, timeout
        self.threads = concurrent.futures.ThreadPoolExecutor(capacity)

    def submit(self, task: TrialTask) -> concurrent.futures.Future:
        return self.threads.submit(run_trial, task, self.X, self.y, True, self.timeout)

    def close(self) -> None:
        self.threads.shutdown(wait=True)


class DaskRunner:
    """Trials as futures on a ``distributed.Client``: ``capacity`` in flight.

    Parameters
    ----------
    client : distributed.Client or str
        A client, or a scheduler's address (a client is connected, then closed).
    X, y : the data, scattered to the workers once
    capacity : int or None
        None: the cluster's threads.
    isolate : bool
        Run each trial in a fresh process on its worker.
    timeout : float or None
        Per trial (implies ``isolate``).
    """

    def __init__(self, client: Any, X: Any, y: Any, capacity: int | None, isolate: bool,
                 timeout: float | None) -> None:
        self.owns_client = isinstance(client, str)
        if self.owns_client:
            import distributed

            client = distributed.Client(client, set_as_default=False)
        self.client = client
        self.capacity = capacity or max(1, sum(client.nthreads().values()))
        self.isolate, self.timeout = isolate or timeout is not None, timeout
        # a task, not scattered data: when every worker holding it dies (a trial that
        # kills its worker, retried on the next), the scheduler computes it again
        # instead of cancelling the other trials for "lost dependencies"
        with warnings.catch_warnings():  # the data travels once, on purpose
            warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
            self.data = client.submit(_data, X, y, pure=False)
        client.replicate([self.data])

    def submit(self, task: TrialTask) -> Any:
        return self.client.submit(_run_on_data, task, self.data, self.isolate, self.timeout,
                                  CHOICE.name, pure=False)  # the trial: on our backend

    @staticmethod
    def wait(futures: list) -> list:
        # distributed.wait would look for a default client, which this one need not be
        ended = threading.Event()
        for future in futures:
            future.add_done_callback(lambda _: ended.set())
        ended.wait()
        return [future for future in futures if future.done()]

    result = staticmethod(_record_of)

    def close(self) -> None:
        self.client.cancel([self.data])
        if self.owns_client:
            self.client.close()


def _data(X: Any, y: Any) -> tuple[Any, Any]:
    return X, y


def _run_on_data(task: TrialTask, data: tuple[Any, Any], isolate: bool,
                 timeout: float | None, keras_backend: str) -> dict[str, Any]:
    X, y = data
    return run_trial(task, X, y, isolate, timeout, keras_backend)
