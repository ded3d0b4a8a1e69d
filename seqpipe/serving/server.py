"""Run a serving app with uvicorn: listen, answer, stop gracefully on SIGTERM.

:func:`serve` binds 127.0.0.1 unless told otherwise (port 0 picks a free port) and
prints one line once listening. SIGTERM (or Ctrl-C) closes the listening socket at
once (new connections are refused), lets the requests in flight finish (for at most
the graceful delay, then cancels them) and returns. ``seqpipe serve`` (the command
line, :mod:`seqpipe.cli.serve`) loads the models and calls it.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from typing import Any

import uvicorn

from seqpipe import _backends as backends

__all__ = ["limit_model_threads", "serve"]


def limit_model_threads(threads: int) -> None:
    """Size the thread pools of the Keras backend for model calls.

    On JAX, XLA's CPU client pools (``PJRT_NPROC``; for one thread also
    ``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1`` in
    ``XLA_FLAGS``: ops run on the calling thread); on TensorFlow, its intra- and
    inter-op pools (``TF_NUM_INTRAOP_THREADS``, ``TF_NUM_INTEROP_THREADS``); on
    PyTorch, ``torch.set_num_threads``. JAX and TensorFlow read theirs when their
    runtime starts, so this must run before a model is loaded; settings already in the
    environment are kept.

    Parameters
    ----------
    threads : int
        Threads per pool; 0 leaves the backend its own choice (all cores).
    """
    if threads > 0:
        backends.current().limit_threads(threads)


def serve(app: Any, *, host: str = "127.0.0.1", port: int = 8080,
          graceful_shutdown_seconds: float = 10.0, announce: str = "") -> None:
    """Serve ``app`` with uvicorn on ``host:port`` until SIGTERM or SIGINT.

    Once listening, prints ``<announce> on http://HOST:PORT`` (the port picked when
    ``port`` is 0). On SIGTERM the listening socket closes at once, the requests in
    flight get ``graceful_shutdown_seconds`` to finish, and the function returns; a
    model call still running in its worker thread after that does not hold the
    process, which exits at once (status 0).

    Raises
    ------
    OSError
        When ``host:port`` cannot be bound.

    Examples
    --------
    ``serve(create_app(models), port=8080)`` blocks until SIGTERM. A port already taken is
    an ``OSError`` before anything is served:

    >>> import socket
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.serving import create_app, serve
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> app = create_app({"ridge": Ridge().fit(X, X[:, 0])})
    >>> with socket.create_server(("127.0.0.1", 0)) as taken:
    ...     try:
    ...         serve(app, port=taken.getsockname()[1])
    ...     except OSError:
    ...         print("port in use")
    port in use
    """
    with _listen(host, port) as sock:
        bound_host, bound_port = sock.getsockname()[:2]
        bound_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        print(f"{announce} on http://{bound_host}:{bound_port}", flush=True)
        config = uvicorn.Config(app, log_level="warning", access_log=False,
                                timeout_graceful_shutdown=graceful_shutdown_seconds)
        _run_until_stopped(uvicorn.Server(config), sock)
    if threading.current_thread() is threading.main_thread() and any(
            not thread.daemon for thread in threading.enumerate()
            if thread is not threading.current_thread()):
        # a model call outlived the graceful shutdown's timeout: its worker thread
        # cannot be interrupted, and Python would wait for it before exiting
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv4 or IPv6, as the host resolves).

    Made with protocol IPPROTO_TCP, so that asyncio sets TCP_NODELAY on every accepted
    connection (it does only for sockets whose protocol says TCP): without it, Nagle's
    algorithm against the client's delayed ACKs holds a response sent in two writes
    (uvicorn's headers, then its body) for about 40 ms.
    """
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP,
        flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(socket.SOMAXCONN)
    except OSError:
        sock.close()
        raise
    return sock


class _Stopped(Exception):
    """SIGTERM, raised again by uvicorn once its graceful shutdown is over."""


def _stop(signum: int, frame: object) -> None:
    raise _Stopped


def _run_until_stopped(server: uvicorn.Server, sock: socket.socket) -> None:
    """Serve until SIGTERM or SIGINT, then return once the shutdown is complete.

    uvicorn handles both signals itself (stop accepting, finish the requests in flight,
    ``timeout_graceful_shutdown``), then restores the handlers it found and raises the
    signal again; our handlers turn that into a normal return, so the process exits
    with status 0 rather than being killed by the signal (or printing a traceback).
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop) if in_main_thread else None
    try:
        server.run(sockets=[sock])
    except (_Stopped, KeyboardInterrupt):
        pass
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
