"""An infer request to a model of one input: its body read within the limit, its one
input, the output it asks for, the prediction in bounded model calls, the answer's
tensor."""

from __future__ import annotations

import numpy as np
from fastapi import Request

from seqpipe.serving.models import INPUT, OUTPUT, ServedModel
from seqpipe.serving.protocol import NUMERIC_DATATYPES, ProtocolError, input_arrays, output_tensor


async def _read_body(request: Request, limit: int) -> bytearray:
    """The body, refused (413) past ``limit`` bytes; a bytearray, so that binary tensors
    read from it are writable arrays without a copy."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ProtocolError("the Content-Length header is not a number")
        if int(declared) > limit:
            raise ProtocolError(f"the request body ({declared} bytes) is over the "
                                f"limit of {limit} bytes", status=413)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":
        raise ProtocolError(f"Content-Encoding {encoding[:40]!r} is not supported: send "
                            f"the body uncompressed", status=415)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProtocolError(f"the request body is over the limit of {limit} bytes",
                                status=413)
        chunks.append(chunk)
    return bytearray().join(chunks)


def _call(model: ServedModel, X: np.ndarray, expected: int | None = None) -> np.ndarray:
    """One model call; ``expected``: the number of predictions it must answer (when
    the request is predicted in slices)."""
    try:
        y = np.asarray(model.pipeline.predict(X))
    except (ValueError, TypeError) as error:
        raise ProtocolError(f"model '{model.name}' cannot predict from this input: "
                            f"{error}") from None
    if expected is not None and (y.ndim == 0 or len(y) != expected):
        raise ProtocolError(f"model '{model.name}' answered {len(y) if y.ndim else 0} "
                            f"predictions for {expected} windows, so its requests cannot "
                            f"be predicted in slices", status=500)
    return y


def _predict(model: ServedModel, X: np.ndarray, slice_windows: int) -> np.ndarray:
    """``model.pipeline.predict(X)`` in model calls of at most ``slice_windows`` windows:
    slices of rows, or for a model taking a series, overlapping slices of the series
    (when the steps before its Windower transform each time step on its own; else one
    call, the request's windows being bounded anyway)."""
    if model.windower is None:
        if len(X) <= slice_windows:
            return _call(model, X)
        return np.concatenate([_call(model, X[i:i + slice_windows], len(
            X[i:i + slice_windows])) for i in range(0, len(X), slice_windows)])
    n = model.n_windows(X)
    if n <= slice_windows or not model.slices_series:
        return _call(model, X)
    past, stride = model.windower.window_size_past, model.windower.stride
    first = (len(X) - past) % stride  # windows start there, every stride steps
    parts = []
    for j in range(0, n, slice_windows):  # windows j..last of the slice
        last = min(j + slice_windows, n) - 1
        parts.append(_call(model, X[first + j * stride:first + last * stride + past],
                           last - j + 1))
    return np.concatenate(parts)


def _requested_binary(body: dict, model: ServedModel) -> bool:
    """Whether the request asks for its output as binary data (``binary_data`` of the
    output it names, else ``parameters.binary_data_output``); refuses outputs the
    model does not have."""
    default = body.get("parameters", {}).get("binary_data_output", False)
    if not isinstance(default, bool):
        raise ProtocolError(f"parameter binary_data_output must be true or false, got "
                            f"{default!r:.40}")
    outputs = body.get("outputs")
    if outputs is None:
        return default
    if not isinstance(outputs, list):
        raise ProtocolError("'outputs' must be a list of the outputs requested")
    binary = default
    for output in outputs:
        name = output.get("name") if isinstance(output, dict) else None
        if not isinstance(name, str):
            raise ProtocolError("each requested output must be a JSON object with a "
                                "'name'")
        if name != OUTPUT:
            raise ProtocolError(f"model '{model.name}' has no output '{name:.100}'; its "
                                f"outputs: '{OUTPUT}'")
        parameters = output.get("parameters", {})
        if not isinstance(parameters, dict):
            raise ProtocolError(f"output '{name}': 'parameters' must be a JSON object")
        if "classification" in parameters:
            raise ProtocolError(f"output '{name}': the classification extension is not "
                                f"supported; the output holds the predictions themselves")
        binary = parameters.get("binary_data", default)
        if not isinstance(binary, bool):
            raise ProtocolError(f"output '{name}': parameter binary_data must be true or "
                                f"false, got {binary!r:.40}")
    return binary


def _answer_tensor(model: ServedModel, y: np.ndarray, request_datatype: str,
                   binary: bool) -> tuple[dict, bytes | None]:
    """The answer's tensor in the datatype the metadata announces; a NaN or infinite
    prediction asked for in JSON (which has no such number) is the model's failure:
    500."""
    if not binary and y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ProtocolError(f"model '{model.name}' predicted a NaN or infinite value, "
                            f"which JSON cannot carry", status=500)
    return output_tensor(OUTPUT, y, model.answer_datatype(y, request_datatype),
                         binary=binary)


def _the_input(model: ServedModel, body: dict, binary: memoryview
               ) -> tuple[np.ndarray, dict]:
    """The request's one input, as an array, and its tensor; refuses another number of
    inputs, another name, and datatypes the model cannot take (BOOL, BYTES)."""
    inputs = body["inputs"]
    if len(inputs) != 1:
        raise ProtocolError(f"model '{model.name}' takes 1 input, the request has "
                            f"{len(inputs)}")
    (X,) = input_arrays(body, binary)
    tensor = inputs[0]
    if tensor["name"] != INPUT:
        raise ProtocolError(f"model '{model.name}' takes one input, named '{INPUT}'; the "
                            f"request's input is named '{tensor['name']:.100}'")
    if tensor["datatype"] not in NUMERIC_DATATYPES:
        raise ProtocolError(f"input '{INPUT}' is {tensor['datatype']}; model "
                            f"'{model.name}' takes {', '.join(NUMERIC_DATATYPES)}")
    return X, tensor

