"""``seqpipe serve MODEL...``: load saved models and serve them over the Open Inference
Protocol v2 with uvicorn.

The server binds 127.0.0.1 unless ``--host`` says otherwise. ``--port 0`` picks a free
port. Once listening it prints one line, ``seqpipe serving <names> on
http://HOST:PORT``, to stdout. A model that cannot be loaded (missing, corrupted, or
unsigned/tampered while the key's environment variable is set) stops it before it
listens, with a one-line message on stderr and exit status 1.

Bad arguments (including a setting out of its range, e.g. ``--max-batch-size 0``) print
the usage and a one-line error naming the flag, and exit with status 2.

SIGTERM (or Ctrl-C) stops it gracefully (:func:`seqpipe.serving.server.serve`) with
exit status 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from seqpipe.cli._common import backend_line
from seqpipe.persistence import ArtifactError
from seqpipe.serving.app import Settings, create_app
from seqpipe.serving.loading import load_models
from seqpipe.serving.server import limit_model_threads, serve

__all__ = ["build_parser", "main", "settings_of"]


def build_parser(prog: str = "seqpipe serve") -> argparse.ArgumentParser:
    """The arguments of ``seqpipe serve``."""
    defaults = Settings()
    parser = argparse.ArgumentParser(
        prog=prog, description="Serve saved seqpipe models over the Open Inference "
                               "Protocol v2 (HTTP/REST).")
    parser.add_argument("models", nargs="+", metavar="MODEL",
                        help="a saved model, PATH (named by its file stem) or NAME=PATH; "
                             "PATH may be an MLflow model URI, models:/NAME/VERSION "
                             "(read from MLFLOW_TRACKING_URI; named NAME)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8080,
                        help="port to bind (default: 8080; 0 picks a free one)")
    parser.add_argument("--key-env", default="SEQPIPE_KEY", metavar="VAR",
                        help="environment variable holding the signing key; when it is "
                             "set, unsigned or tampered models are refused "
                             "(default: SEQPIPE_KEY)")
    parser.add_argument("--max-body-bytes", type=int, default=defaults.max_body_bytes,
                        help="largest request body accepted (default: %(default)s)")
    parser.add_argument("--max-sequences", type=int, default=defaults.max_sequences,
                        help="most streaming sequences open at once (default: %(default)s)")
    parser.add_argument("--sequence-idle-seconds", type=float,
                        default=defaults.sequence_idle_seconds,
                        help="free a sequence idle this long (default: %(default)s)")
    parser.add_argument("--graceful-shutdown-seconds", type=float,
                        default=defaults.graceful_shutdown_seconds,
                        help="on SIGTERM, wait this long for the requests in flight "
                             "before cancelling them (default: %(default)s)")
    parser.add_argument("--max-batch-size", type=int, default=defaults.max_batch_size,
                        metavar="N",
                        help="dynamic batching: most rows stacked into one model call "
                             "from concurrent requests; 1 switches batching off "
                             "(default: %(default)s)")
    parser.add_argument("--max-queue-delay-ms", type=float,
                        default=defaults.max_queue_delay_ms, metavar="MS",
                        help="dynamic batching: longest wait for more requests to join a "
                             "batch, in milliseconds (default: %(default)s)")
    parser.add_argument("--max-windows", type=int, default=defaults.max_windows,
                        metavar="N",
                        help="most windows one infer request may make the model predict "
                             "(a larger request answers 413) (default: %(default)s)")
    parser.add_argument("--max-call-windows", type=int,
                        default=defaults.max_call_windows, metavar="N",
                        help="most windows per model call: larger requests are predicted "
                             "in slices of this many, bounding the model's memory "
                             "(default: %(default)s)")
    parser.add_argument("--model-threads", type=int, default=1, metavar="N",
                        help="threads one model call may use (the Keras backend's pools: "
                             "XLA's CPU client pools on JAX (PJRT_NPROC), TensorFlow's "
                             "intra- and inter-op "
                             "pools, torch.set_num_threads); concurrent requests and "
                             "batches keep the other cores busy, and one thread wastes no "
                             "time handing work between threads (a one-window LSTM call: "
                             "2-3x faster than with all cores). 0: the backend's choice "
                             "(all cores). PJRT_NPROC, XLA_FLAGS, TF_NUM_INTRAOP_THREADS and "
                             "TF_NUM_INTEROP_THREADS, when set, win (default: %(default)s)")
    return parser


def settings_of(args: argparse.Namespace) -> Settings:
    """The Settings the command line asks for; ValueError naming the flag otherwise."""
    fields = [field.name for field in dataclasses.fields(Settings)]
    try:
        return Settings(**{name: getattr(args, name) for name in fields})
    except ValueError as error:
        message = str(error)
        for name in fields:
            message = message.replace(f"The '{name}' setting must",
                                      f"argument --{name.replace('_', '-')}: must")
        raise ValueError(message) from None


def _fail(message: str) -> int:
    print(f"seqpipe serve: error: {' '.join(message.split())}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None, *, prog: str = "seqpipe serve") -> int:
    """Run the server until interrupted; the exit status. ``prog`` names the command
    in usage and help."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        settings = settings_of(args)
    except ValueError as error:
        parser.error(str(error))  # usage, the message, exit status 2
    if args.model_threads < 0:
        parser.error(f"argument --model-threads: must be an int in the range [0, inf). "
                     f"Got {args.model_threads} instead.")
    limit_model_threads(args.model_threads)
    key = os.environ.get(args.key_env) or None
    try:
        models, headers = load_models(args.models, key=key)
    except (OSError, ArtifactError, ValueError) as error:
        return _fail(f"cannot load the models, nothing served: {error}")
    try:
        app = create_app(models, settings=settings, headers=headers)
    except (TypeError, ValueError) as error:
        return _fail(str(error))
    print(f"seqpipe serve: {backend_line()}", file=sys.stderr, flush=True)
    try:
        serve(app, host=args.host, port=args.port,
              graceful_shutdown_seconds=settings.graceful_shutdown_seconds,
              announce=f"seqpipe serving {', '.join(models)}")
    except OSError as error:
        return _fail(f"cannot listen on {args.host}:{args.port}: {error}")
    return 0
