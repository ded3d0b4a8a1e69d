"""The Open Inference Protocol v2's tensor JSON, to and from NumPy, with validation.

A request body is ``{"id"?, "inputs": [{"name", "shape", "datatype", "data"}],
"parameters"?}``; ``data`` is flat in row-major order or nested, and holds
``prod(shape)`` numbers. Anything else raises :class:`ProtocolError`, whose message
names the problem and whose ``status`` is the HTTP status to answer with.

>>> import numpy as np
>>> tensor = {"name": "input", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]}
>>> tensor_to_array(tensor)
array([[1., 2.],
       [3., 4.]], dtype=float32)
>>> array_to_tensor("output", np.array([[0.5], [1.5]]))
{'name': 'output', 'shape': [2, 1], 'datatype': 'FP64', 'data': [0.5, 1.5]}
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["DATATYPES", "ProtocolError", "array_to_tensor", "datatype_of", "parse_body",
           "tensor_to_array"]

DATATYPES = {"FP32": np.float32, "FP64": np.float64, "INT32": np.int32, "INT64": np.int64}
_MAX_ID_LENGTH = 256
_NUMBERS = {int, float}  # the types JSON numbers parse to (bool is refused)


class ProtocolError(ValueError):
    """A request the protocol or the model cannot take; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _refuse_constant(name: str) -> Any:
    raise ProtocolError(f"the request holds {name}: every value must be a finite number")


def parse_body(body: bytes) -> dict:
    """Parse an infer request's body into a dict with a non-empty ``inputs`` list.

    NaN and Infinity (which Python's json would accept) are refused.
    """
    try:
        request = json.loads(body, parse_constant=_refuse_constant)
    except ProtocolError:
        raise
    except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError
        raise ProtocolError(f"the request body is not valid JSON: {error}") from None
    if not isinstance(request, dict):
        raise ProtocolError(f"the request body must be a JSON object, got "
                            f"{type(request).__name__}")
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise ProtocolError("the request needs 'inputs': a non-empty list of tensors")
    parameters = request.get("parameters", {})
    if not isinstance(parameters, dict):
        raise ProtocolError("'parameters' must be a JSON object")
    request_id = request.get("id")
    if request_id is not None and not (isinstance(request_id, str)
                                       and len(request_id) <= _MAX_ID_LENGTH):
        raise ProtocolError(f"'id' must be a string of at most {_MAX_ID_LENGTH} characters")
    return request


def _flatten(data: Any, name: str) -> list:
    """The scalars of a flat or nested list, in row-major order."""
    if set(map(type, data)) <= _NUMBERS:  # flat: the common case, checked at C speed
        return data
    flat: list = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                if len(stack) > 64:
                    raise ProtocolError(f"input '{name}': data is nested too deeply")
                stack.append(iter(item))
                break
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise ProtocolError(f"input '{name}': data must hold numbers only, got "
                                    f"{json.dumps(item)[:40]}")
            flat.append(item)
        else:
            stack.pop()
    return flat


def tensor_to_array(tensor: Any) -> np.ndarray:
    """The array a request's tensor describes, of its shape and datatype."""
    if not isinstance(tensor, dict):
        raise ProtocolError("each input must be a JSON object with name, shape, datatype "
                            "and data")
    name = tensor.get("name")
    if not isinstance(name, str) or not name:
        raise ProtocolError("each input needs a 'name' (a non-empty string)")
    missing = [field for field in ("shape", "datatype", "data") if field not in tensor]
    if missing:
        raise ProtocolError(f"input '{name}' has no {', '.join(missing)}")
    shape, datatype, data = tensor["shape"], tensor["datatype"], tensor["data"]
    if not (isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape)):
        raise ProtocolError(f"input '{name}': shape must be a list of non-negative "
                            f"integers, got {json.dumps(shape)[:80]}")
    if datatype not in DATATYPES:
        raise ProtocolError(f"input '{name}': datatype {json.dumps(datatype)[:40]} is not "
                            f"supported; use one of {', '.join(DATATYPES)}")
    if not isinstance(data, list):
        raise ProtocolError(f"input '{name}': data must be a list (flat or nested)")
    flat = _flatten(data, name)
    expected = math.prod(shape)
    if len(flat) != expected:
        raise ProtocolError(f"input '{name}': shape {shape} needs {expected} values, data "
                            f"holds {len(flat)}")
    dtype = np.dtype(DATATYPES[datatype])
    if dtype.kind == "i":
        if not all(isinstance(v, int) for v in flat):
            raise ProtocolError(f"input '{name}': datatype {datatype} needs integers, data "
                                "holds a non-integer number")
        limits = np.iinfo(dtype)
        if flat and not (limits.min <= min(flat) and max(flat) <= limits.max):
            raise ProtocolError(f"input '{name}': a value is out of {datatype}'s range")
    with np.errstate(over="ignore"):
        try:
            array = np.array(flat, dtype=dtype).reshape(shape)
        except OverflowError:
            raise ProtocolError(f"input '{name}': a value is out of {datatype}'s range") \
                from None
    if dtype.kind == "f" and not np.isfinite(array).all():
        raise ProtocolError(f"input '{name}': data holds a NaN or infinite value (or one "
                            f"out of {datatype}'s range); every value must be finite")
    return array


def datatype_of(dtype: np.dtype) -> str:
    """The protocol's datatype for a NumPy dtype (floats other than FP32 answer FP64)."""
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return "FP32"
    if dtype.kind in "iub":
        return "INT32" if dtype == np.int32 else "INT64"
    return "FP64"


def array_to_tensor(name: str, array: Any) -> dict:
    """An output tensor (flat row-major data) for ``array``."""
    array = np.asarray(array)
    datatype = datatype_of(array.dtype)
    if array.dtype.kind not in "iubf":
        array = array.astype(np.float64)
    return {"name": name, "shape": list(array.shape), "datatype": datatype,
            "data": array.astype(DATATYPES[datatype], copy=False).ravel().tolist()}
