"""Serve fitted seqpipe pipelines over HTTP: the Open Inference Protocol v2.

:func:`load_models` loads saved models (refusing unsigned or tampered ones when given a
key), :func:`create_app` builds the FastAPI app from models in memory (stacking
concurrent requests into one model call, :mod:`seqpipe.serving.batching`) and
:func:`serve` runs it with uvicorn until SIGTERM. ``seqpipe serve model.seqpipe
[NAME=PATH ...] [--host 127.0.0.1] [--port 8080] [--key-env SEQPIPE_KEY]`` does all
three from the command line (:mod:`seqpipe.cli.serve`).

Needs the ``serve`` extra (FastAPI, uvicorn): ``import seqpipe`` does not import it.
"""

from seqpipe.serving.app import ServedModel, Settings, create_app
from seqpipe.serving.loading import load_models, parse_model_spec
from seqpipe.serving.protocol import ProtocolError
from seqpipe.serving.server import serve

__all__ = ["ProtocolError", "ServedModel", "Settings", "create_app", "load_models",
           "parse_model_spec", "serve"]
