"""Serve fitted seqpipe pipelines over HTTP: the Open Inference Protocol v2.

``python -m seqpipe.serving model.seqpipe [NAME=PATH ...] [--host 127.0.0.1]
[--port 8080] [--key-env SEQPIPE_KEY] [--max-batch-size 32] [--max-queue-delay-ms 2]``
loads the saved models (refusing unsigned or tampered ones when the key's environment
variable is set) and serves them with uvicorn, stacking concurrent requests into one
model call (:mod:`seqpipe.serving.batching`); :func:`create_app` builds the FastAPI app
from models in memory.

Needs the ``serve`` extra (FastAPI, uvicorn): ``import seqpipe`` does not import it.
"""

from seqpipe.serving.app import ServedModel, Settings, create_app
from seqpipe.serving.loading import load_models, parse_model_spec
from seqpipe.serving.protocol import ProtocolError
from seqpipe.serving.server import main

__all__ = ["ProtocolError", "ServedModel", "Settings", "create_app", "load_models", "main",
           "parse_model_spec"]
