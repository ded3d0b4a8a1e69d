"""Dynamic batching: concurrent infer requests to one model, stacked into one model call.

One :class:`Batcher` per served model (as Triton's dynamic batcher, with one model
instance): requests wait in its queue; a single asyncio task takes the oldest one and
the requests queued after it **of the same per-sample shape and datatype**
(``X.shape[1:]``, ``X.dtype``; others wait for a later call), up to
``max_batch_size`` rows in all, concatenates them, runs one model call in a worker
thread and splits the answer back by rows. It stops gathering as soon as the batch is
full, ``max_queue_delay_ms`` after the oldest request was queued, or when no other
request to the model is being received (:meth:`Batcher.receiving`): a lone request is
not delayed. While a model call runs, the next requests queue up, so a busy model gets
bigger batches.

A request of more rows than ``max_batch_size`` is run alone, whole. When a call of
several requests fails, or answers a number of rows other than the rows it was given,
each of its requests is run again alone, so that each gets its own answer or error
(one client's bad values never fail another's request).

The answers equal the unbatched ones (up to float rounding) for models predicting each
row from that row alone: every model taking windows or independent samples. A pipeline
taking a whole series (a Windower inside) is not batched.

>>> import asyncio
>>> import numpy as np
>>> sizes = []
>>> batcher = Batcher(lambda X: X.sum(axis=1), max_batch_size=8,
...                   max_queue_delay_ms=50, on_call=sizes.append)
>>> async def three_clients():
...     with batcher.receiving():  # one more request on its way: wait (50 ms at most)
...         answers = await asyncio.gather(batcher.predict(np.ones((1, 2))),
...                                        batcher.predict(np.ones((2, 2))),
...                                        batcher.predict(np.ones((1, 3))))
...     return [y.tolist() for y in answers]
>>> asyncio.run(three_clients())
[[2.0], [2.0, 2.0], [3.0]]
>>> sizes  # one call for the two requests of shape (2,), one for the (3,)
[3, 1]
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = ["Batcher"]


@dataclasses.dataclass
class _Request:
    X: np.ndarray
    key: tuple
    queued_at: float
    answer: asyncio.Future


class Batcher:
    """Stacks concurrent ``predict(X)`` calls of one model into one model call.

    Parameters
    ----------
    predict : callable
        ``predict(X) -> y`` with ``len(y) == len(X)``, run in a worker thread.
    max_batch_size : int
        Most rows per model call (a larger request is run alone).
    max_queue_delay_ms : float
        Longest wait, after the oldest queued request arrived, for more requests.
    on_call : callable, optional
        Called with the number of rows of each model call that answered (metrics).
    """

    def __init__(self, predict: Callable[[np.ndarray], Any], *, max_batch_size: int,
                 max_queue_delay_ms: float,
                 on_call: Callable[[int], None] | None = None) -> None:
        self._predict = predict
        self.max_batch_size = max_batch_size
        self.max_delay = max_queue_delay_ms / 1000.0
        self._on_call = on_call or (lambda rows: None)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._receiving = 0

    # ------------------------------------------------------------------ public
    @contextlib.contextmanager
    def receiving(self) -> Iterator[None]:
        """Mark a request to this model as on its way (its body being read and checked)
        while the block runs: the batcher waits for it (at most the delay)."""
        self._receiving += 1
        try:
            yield
        finally:
            self._receiving -= 1
            if self._loop is not None:
                self._changed.set()

    async def predict(self, X: np.ndarray) -> np.ndarray:
        """``predict(X)``, run in one model call with other requests queued meanwhile."""
        self._start()
        loop = asyncio.get_running_loop()
        request = _Request(X, (X.shape[1:], X.dtype.str), loop.time(), loop.create_future())
        self._waiting.append(request)
        self._changed.set()
        return await request.answer

    def close(self) -> None:
        """Stop the batching task and let the model's thread end once its call is over
        (the server's shutdown; requests still queued are cancelled)."""
        if self._loop is not None and not self._task.done():
            self._task.cancel()  # the request(s) of the call running are cancelled too
            for request in self._waiting:  # their clients get CancelledError, not a hang
                request.answer.cancel()
        if self._executor is not None:  # calls run one at a time: none is queued in it
            self._executor.shutdown(wait=False)
            self._executor = None

    # ------------------------------------------------------------------ the queue's task
    def _start(self) -> None:
        """Start the batching task in the running event loop (once per loop)."""
        loop = asyncio.get_running_loop()
        if self._loop is loop and not self._task.done():
            return
        self._loop = loop
        if self._executor is None:  # the model's own thread: calls run one at a time
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="seqpipe-batcher")
        self._waiting: list[_Request] = []
        self._changed = asyncio.Event()
        self._task = loop.create_task(self._serve_forever())

    async def _serve_forever(self) -> None:
        while True:
            while not self._waiting:
                await self._wait_for_change()
            for _ in range(2):  # let the loop read requests that already arrived (one
                await asyncio.sleep(0)  # pass polls the sockets, one starts handlers)
            oldest = self._waiting[0]
            deadline = oldest.queued_at + self.max_delay
            while self._receiving and self._rows_waiting(oldest.key) < self.max_batch_size:
                remaining = deadline - self._loop.time()
                if remaining <= 0:
                    break
                await self._wait_for_change(remaining)
            batch = self._take(oldest.key)
            try:
                await self._run(batch)
            except asyncio.CancelledError:  # close() during the model call
                for request in batch:
                    request.answer.cancel()
                raise

    async def _wait_for_change(self, timeout: float | None = None) -> None:
        self._changed.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def _rows_waiting(self, key: tuple) -> int:
        return sum(len(r.X) for r in self._waiting if r.key == key)

    def _take(self, key: tuple) -> list[_Request]:
        """The oldest request, and the next ones of its key that fit in the batch."""
        batch, rows, left = [], 0, []
        for request in self._waiting:
            if request.answer.done():  # its client went away
                continue
            if request.key == key and (not batch or
                                       rows + len(request.X) <= self.max_batch_size):
                batch.append(request)
                rows += len(request.X)
            else:
                left.append(request)
        self._waiting = left
        return batch

    async def _run(self, batch: list[_Request]) -> None:
        if not batch:
            return
        X = batch[0].X if len(batch) == 1 else np.concatenate([r.X for r in batch])
        try:
            y = np.asarray(await self._call(X))
        except Exception as error:  # noqa: BLE001 - handed to the request(s)
            if len(batch) == 1:
                _answer(batch[0], error=error)
            else:
                await self._run_alone(batch)
            return
        if len(batch) == 1:
            _answer(batch[0], y)
        elif y.ndim == 0 or len(y) != len(X):
            await self._run_alone(batch)  # cannot be split by rows
        else:
            start = 0
            for request in batch:
                _answer(request, y[start:start + len(request.X)])
                start += len(request.X)

    async def _run_alone(self, batch: list[_Request]) -> None:
        for request in batch:
            await self._run([request])

    async def _call(self, X: np.ndarray) -> Any:
        y = await self._loop.run_in_executor(self._executor, self._predict, X)
        self._on_call(len(X))
        return y


def _answer(request: _Request, y: Any = None, *, error: BaseException | None = None
            ) -> None:
    if request.answer.done():  # cancelled: the client went away
        return
    if error is not None:
        request.answer.set_exception(error)
    else:
        request.answer.set_result(y)
