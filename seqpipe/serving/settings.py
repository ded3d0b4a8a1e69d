"""A serving app's limits: body size, open sequences, batching, windows per request."""

from __future__ import annotations

import dataclasses

__all__ = ["Settings"]

_MAX_QUEUE_DELAY_MS = 10_000  # a longer wait is a mistake, not a setting


@dataclasses.dataclass(frozen=True)
class Settings:
    """Limits of a server.

    Parameters
    ----------
    max_body_bytes : int, default=16 MiB
        Largest request body accepted; a larger one answers 413.
    max_sequences : int, default=1000
        Most streaming sequences open at once, over all models; one more answers 429.
    sequence_idle_seconds : float, default=600
        A sequence without a request for this long is freed.
    graceful_shutdown_seconds : float, default=30
        On SIGTERM the server stops accepting connections and waits this long for the
        requests in flight to finish before cancelling them (uvicorn's
        ``timeout_graceful_shutdown``; used by the server, not by the app).
    max_batch_size : int, default=32
        Dynamic batching (:mod:`seqpipe.serving.batching`): most rows stacked into one
        model call from concurrent infer requests; 1 switches batching off (each
        request is its own model call, several may run at once).
    max_queue_delay_ms : float, default=2
        Longest wait, in milliseconds, for more requests to join a batch (only while
        other requests to the model are being received; 0: never wait).
    max_windows : int, default=10000
        Most windows one infer request may make the model predict: the samples of a
        request of windows, the windows a posted series is cut into, the time steps
        of a streaming request. A larger request answers 413 naming the limit.
    max_call_windows : int, default=256
        Most windows per model call: a larger request is predicted in slices of this
        many, so the model's working memory does not grow with the request.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.serving import Settings, create_app
    >>> settings = Settings(max_batch_size=1, max_sequences=10)    # no batching
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> app = create_app({"ridge": Ridge().fit(X, X[:, 0])}, settings=settings)
    >>> settings.max_batch_size, settings.max_sequences
    (1, 10)
    """

    max_body_bytes: int = 16 * 2 ** 20
    max_sequences: int = 1000
    sequence_idle_seconds: float = 600.0
    graceful_shutdown_seconds: float = 30.0
    max_batch_size: int = 32
    max_queue_delay_ms: float = 2.0
    max_windows: int = 10_000
    max_call_windows: int = 256

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_sequences", "max_batch_size", "max_windows",
                     "max_call_windows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"The '{name}' setting must be an int in the range "
                                 f"[1, inf). Got {value!r} instead.")
        for name in ("sequence_idle_seconds", "graceful_shutdown_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not 0 < value < float("inf"):
                raise ValueError(f"The '{name}' setting must be a number in the range "
                                 f"(0, inf). Got {value!r} instead.")
        delay = self.max_queue_delay_ms
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or \
                not 0 <= delay <= _MAX_QUEUE_DELAY_MS:
            raise ValueError(f"The 'max_queue_delay_ms' setting must be a number in the "
                             f"range [0, {_MAX_QUEUE_DELAY_MS}]. Got {delay!r} instead.")
