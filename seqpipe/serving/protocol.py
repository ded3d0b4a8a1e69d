"""The Open Inference Protocol v2's tensors, to and from NumPy, with validation.

A request body is ``{"id"?, "inputs": [{"name", "shape", "datatype", "data"}],
"outputs"?, "parameters"?}``; ``data`` is flat in row-major order or nested, and holds
``prod(shape)`` values. Anything else raises :class:`ProtocolError`, whose message
names the problem and whose ``status`` is the HTTP status to answer with.

**Binary tensor data** (the protocol's binary extension, what ``tritonclient`` sends by
default): the body is the JSON request followed by raw tensor bytes; the header
``Inference-Header-Content-Length`` gives the JSON's length, and each input carried
in binary has ``parameters.binary_data_size`` (its bytes, in the order of the inputs)
and no ``data``. Values are little-endian and row-major; BOOL is one byte per value
(0 or 1); each BYTES element is its length (4 bytes, little-endian) then its bytes.
Answers use the same layout for the outputs asked in binary (:func:`encode_answer`).

Datatypes: BOOL, INT32, INT64, FP32, FP64 and BYTES (a BYTES tensor is an object
array of ``bytes``; in JSON its elements are strings).

>>> import numpy as np
>>> tensor = {"name": "input", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]}
>>> tensor_to_array(tensor)
array([[1., 2.],
       [3., 4.]], dtype=float32)
>>> array_to_tensor("output", np.array([[0.5], [1.5]]))
{'name': 'output', 'shape': [2, 1], 'datatype': 'FP64', 'data': [0.5, 1.5]}
>>> body = b'{"inputs": [{"name": "x", "shape": [2], "datatype": "INT32", ' \\
...        b'"parameters": {"binary_data_size": 8}}]}'
>>> request, binary = parse_request(body + np.array([7, 8], "<i4").tobytes(), len(body))
>>> input_arrays(request, binary)
[array([7, 8], dtype=int32)]
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import numpy as np

__all__ = ["DATATYPES", "HEADER_LENGTH", "NUMERIC_DATATYPES", "PLATFORM", "VERSION",
           "ProtocolError",
           "array_to_tensor", "datatype_of", "encode_answer", "input_arrays",
           "output_tensor", "parse_body", "parse_request", "tensor_to_array"]

DATATYPES = {"BOOL": np.dtype(np.bool_), "INT32": np.dtype("<i4"),
             "INT64": np.dtype("<i8"), "FP32": np.dtype("<f4"), "FP64": np.dtype("<f8"),
             "BYTES": np.dtype(object)}
NUMERIC_DATATYPES = ("FP32", "FP64", "INT32", "INT64")
HEADER_LENGTH = "Inference-Header-Content-Length"
PLATFORM = "seqpipe"  # the served models' platform, in their metadata
VERSION = "1"  # every model has one version (Triton's default for a single version)
_MAX_ID_LENGTH = 256
_MAX_VALUES = 2 ** 31 - 1  # most values a shape may describe (its zero dimensions aside)
_MAX_DIMS = 64  # most dimensions of a tensor (NumPy's own limit), most nesting of its data
_NUMBERS = {int, float}  # the types JSON numbers parse to (bool is refused)
_JSON_TYPES = {"BOOL": ({bool}, "true or false"), "BYTES": ({str}, "strings")}


class ProtocolError(ValueError):
    """A request the protocol or the model cannot take; ``status`` is its HTTP status.

    Examples
    --------
    >>> from seqpipe.serving import ProtocolError
    >>> from seqpipe.serving.protocol import parse_request
    >>> try:
    ...     parse_request(b"not json")
    ... except ProtocolError as error:
    ...     print(error.status, isinstance(error, ValueError))
    400 True
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _refuse_constant(name: str) -> Any:
    raise ProtocolError(f"the request holds {name}: every value must be a finite number")


def parse_request(body: bytes | bytearray, header_length: str | int | None = None
                  ) -> tuple[dict, memoryview]:
    """Parse an infer request: ``(request, binary)``.

    ``request`` is a dict with a non-empty ``inputs`` list; ``binary`` the bytes after
    the JSON when ``header_length`` (the value of the ``Inference-Header-Content-Length``
    header) is given, else empty. NaN and Infinity (which Python's json would accept)
    are refused.
    """
    view = memoryview(body)
    if header_length is not None:
        text = str(header_length)
        if not text.isdigit() or not 0 < int(text) <= len(view):
            raise ProtocolError(f"the {HEADER_LENGTH} header must be the length of the "
                                f"JSON at the start of the body, an integer in [1, "
                                f"{len(view)}]; got {text[:40]!r}")
        view, binary = view[:int(text)], view[int(text):]
    else:
        binary = view[:0]
    try:
        request = json.loads(bytes(view), parse_constant=_refuse_constant)
    except ProtocolError:
        raise
    except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError
        hint = "" if header_length is not None or not _looks_binary(view) else (
            f" (binary tensor data needs the {HEADER_LENGTH} header)")
        raise ProtocolError(f"the request body is not valid JSON: {error}{hint}") from None
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
    return request, binary


def _looks_binary(view: memoryview) -> bool:
    """Whether a body that is not JSON starts as JSON and then holds other bytes."""
    return bytes(view[:1]) == b"{" and not bytes(view).isascii()


def parse_body(body: bytes | bytearray) -> dict:
    """Parse a JSON-only infer request's body (:func:`parse_request` without binary
    data)."""
    return parse_request(body)[0]


def input_arrays(request: dict, binary: memoryview | bytes = b"") -> list[np.ndarray]:
    """The arrays of the request's inputs; binary inputs are read from ``binary`` in
    order, which they must cover exactly."""
    binary = memoryview(binary)
    arrays, offset = [], 0
    for tensor in request["inputs"]:
        size = _binary_size(tensor)
        if size is None:
            arrays.append(tensor_to_array(tensor))
            continue
        if offset + size > len(binary):
            raise ProtocolError(f"input '{tensor['name']}' has binary_data_size {size}, "
                                f"but only {len(binary) - offset} bytes of binary data "
                                f"are left after the JSON")
        arrays.append(tensor_to_array(tensor, binary[offset:offset + size]))
        offset += size
    if offset != len(binary):
        raise ProtocolError(f"the body holds {len(binary)} bytes of binary data after the "
                            f"JSON; the inputs' binary_data_size add up to {offset}")
    return arrays


def _binary_size(tensor: Any) -> int | None:
    """The tensor's ``parameters.binary_data_size``, or None when its data is JSON."""
    if not isinstance(tensor, dict):
        return None  # refused by tensor_to_array
    parameters = tensor.get("parameters", {})
    if not isinstance(parameters, dict):
        raise ProtocolError(f"input '{tensor.get('name')}': 'parameters' must be a JSON "
                            f"object")
    if "binary_data_size" not in parameters:
        return None
    size = parameters["binary_data_size"]
    if type(size) is not int or size < 0:
        raise ProtocolError(f"input '{tensor.get('name')}': binary_data_size must be a "
                            f"non-negative integer, got {json.dumps(size)[:40]}")
    if not isinstance(tensor.get("name"), str) or not tensor["name"]:
        raise ProtocolError("each input needs a 'name' (a non-empty string)")
    return size


def _flatten(data: Any, name: str, datatype: str) -> list:
    """The scalars of a flat or nested list, in row-major order."""
    allowed, what = _JSON_TYPES.get(datatype, (_NUMBERS, "numbers"))
    if set(map(type, data)) <= allowed:  # flat: the common case, checked at C speed
        return data
    flat: list = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                if len(stack) >= _MAX_DIMS:
                    raise ProtocolError(f"input '{name}': data is nested too deeply (more "
                                        f"than {_MAX_DIMS} levels of lists)")
                stack.append(iter(item))
                break
            if type(item) not in allowed:
                raise ProtocolError(f"input '{name}': {datatype} data must hold {what} "
                                    f"only, got {json.dumps(item)[:40]}")
            flat.append(item)
        else:
            stack.pop()
    return flat


def tensor_to_array(tensor: Any, binary: memoryview | bytes | None = None) -> np.ndarray:
    """The array a request's tensor describes, of its shape and datatype; its values
    are read from ``binary`` when given (its ``binary_data_size`` bytes), else from
    its JSON ``data``."""
    if not isinstance(tensor, dict):
        raise ProtocolError("each input must be a JSON object with name, shape, datatype "
                            "and data")
    name = tensor.get("name")
    if not isinstance(name, str) or not name:
        raise ProtocolError("each input needs a 'name' (a non-empty string)")
    fields = ("shape", "datatype") if binary is not None else ("shape", "datatype", "data")
    missing = [field for field in fields if field not in tensor]
    if missing:
        raise ProtocolError(f"input '{name}' has no {', '.join(missing)}")
    shape, datatype = tensor["shape"], tensor["datatype"]
    if not (isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape)):
        raise ProtocolError(f"input '{name}': shape must be a list of non-negative "
                            f"integers, got {json.dumps(shape)[:80]}")
    if len(shape) > _MAX_DIMS:
        raise ProtocolError(f"input '{name}': shape has {len(shape)} dimensions, at most "
                            f"{_MAX_DIMS} are supported")
    if math.prod(max(n, 1) for n in shape) > _MAX_VALUES:
        raise ProtocolError(f"input '{name}': shape {json.dumps(shape)[:80]} is too large: "
                            f"its non-zero dimensions multiply to more than {_MAX_VALUES}")
    if datatype not in DATATYPES:
        raise ProtocolError(f"input '{name}': datatype {json.dumps(datatype)[:40]} is not "
                            f"supported; use one of {', '.join(DATATYPES)}")
    if binary is not None:
        if "data" in tensor:
            raise ProtocolError(f"input '{name}' has both data and binary_data_size; "
                                f"send its values one way")
        array = _from_binary(binary, name, shape, datatype)
    else:
        array = _from_json(tensor["data"], name, shape, datatype)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ProtocolError(f"input '{name}': data holds a NaN or infinite value (or one "
                            f"out of {datatype}'s range); every value must be finite")
    return array


def _from_json(data: Any, name: str, shape: list[int], datatype: str) -> np.ndarray:
    if not isinstance(data, list):
        raise ProtocolError(f"input '{name}': data must be a list (flat or nested)")
    flat = _flatten(data, name, datatype)
    expected = math.prod(shape)
    if len(flat) != expected:
        raise ProtocolError(f"input '{name}': shape {shape} needs {expected} values, data "
                            f"holds {len(flat)}")
    dtype = DATATYPES[datatype]
    if datatype == "BYTES":
        array = np.empty(len(flat), dtype=object)
        array[:] = [item.encode() for item in flat]
        return array.reshape(shape)
    if dtype.kind == "i":
        if not all(isinstance(v, int) for v in flat):
            raise ProtocolError(f"input '{name}': datatype {datatype} needs integers, data "
                                "holds a non-integer number")
        limits = np.iinfo(dtype)
        if flat and not (limits.min <= min(flat) and max(flat) <= limits.max):
            raise ProtocolError(f"input '{name}': a value is out of {datatype}'s range")
    with np.errstate(over="ignore"):
        try:
            return np.array(flat, dtype=dtype).reshape(shape)
        except OverflowError:
            raise ProtocolError(f"input '{name}': a value is out of {datatype}'s range") \
                from None


def _from_binary(binary: memoryview | bytes, name: str, shape: list[int],
                 datatype: str) -> np.ndarray:
    """The tensor's values from its raw bytes (no copy but for BYTES)."""
    count = math.prod(shape)
    if datatype == "BYTES":
        return _bytes_elements(memoryview(binary), name, count).reshape(shape)
    dtype = DATATYPES[datatype]
    if len(binary) != count * dtype.itemsize:
        raise ProtocolError(f"input '{name}': binary_data_size is {len(binary)} bytes; "
                            f"shape {shape} of {datatype} needs {count * dtype.itemsize}")
    if datatype == "BOOL":
        raw = np.frombuffer(binary, dtype=np.uint8)
        if raw.size and raw.max() > 1:
            raise ProtocolError(f"input '{name}': BOOL binary data must hold bytes 0 or 1")
        return raw.view(np.bool_).reshape(shape)
    return np.frombuffer(binary, dtype=dtype).reshape(shape)


def _bytes_elements(binary: memoryview, name: str, count: int) -> np.ndarray:
    """``count`` BYTES elements, each a 4-byte little-endian length then its bytes."""
    if 4 * count > len(binary):  # checked before anything is allocated for them
        raise ProtocolError(f"input '{name}': {count} BYTES elements need at least "
                            f"{4 * count} bytes of binary data, it has {len(binary)}")
    elements = np.empty(count, dtype=object)
    offset = 0
    for i in range(count):
        if offset + 4 > len(binary):
            raise ProtocolError(f"input '{name}': its BYTES binary data ends after "
                                f"{i} of {count} elements")
        (length,) = struct.unpack_from("<I", binary, offset)
        offset += 4
        if offset + length > len(binary):
            raise ProtocolError(f"input '{name}': BYTES element {i} is {length} bytes "
                                f"long, past the end of its binary data")
        elements[i] = bytes(binary[offset:offset + length])
        offset += length
    if offset != len(binary):
        raise ProtocolError(f"input '{name}': its binary data holds {len(binary) - offset} "
                            f"bytes after its {count} BYTES elements")
    return elements


def datatype_of(dtype: np.dtype) -> str:
    """The protocol's datatype for a NumPy dtype: FP32, FP64 (other floats), INT32,
    INT64 (other integers), BOOL, BYTES (strings, bytes, objects)."""
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return "FP32"
    if dtype.kind == "f":
        return "FP64"
    if dtype.kind == "b":
        return "BOOL"
    if dtype.kind in "iu":
        return "INT32" if dtype == np.int32 else "INT64"
    return "BYTES"


def _as_bytes(item: Any) -> bytes:
    return item if isinstance(item, bytes) else str(item).encode()


def output_tensor(name: str, array: Any, datatype: str | None = None, *,
                  binary: bool = False) -> tuple[dict, bytes | None]:
    """An output tensor for ``array`` (in ``datatype``, default :func:`datatype_of`):
    ``(tensor, None)`` with flat row-major JSON ``data``, or, with ``binary``,
    ``(tensor, raw bytes)`` with ``parameters.binary_data_size``."""
    array = np.asarray(array)
    datatype = datatype or datatype_of(array.dtype)
    tensor: dict = {"name": name, "shape": list(array.shape), "datatype": datatype}
    if datatype == "BYTES":
        items = [_as_bytes(item) for item in array.ravel().tolist()]
        if binary:
            raw = b"".join(struct.pack("<I", len(item)) + item for item in items)
        else:
            try:
                tensor["data"] = [item.decode() for item in items]
            except UnicodeDecodeError:
                raise ProtocolError(f"output '{name}' holds bytes that are not UTF-8, "
                                    f"which JSON cannot carry: ask for it as binary data",
                                    status=400) from None
            return tensor, None
    else:
        values = array.astype(DATATYPES[datatype], copy=False)
        if not binary:
            tensor["data"] = values.ravel().tolist()
            return tensor, None
        raw = np.ascontiguousarray(values).tobytes()
    tensor["parameters"] = {"binary_data_size": len(raw)}
    return tensor, raw


def array_to_tensor(name: str, array: Any) -> dict:
    """An output tensor (flat row-major JSON data) for ``array``."""
    return output_tensor(name, array)[0]


def encode_answer(answer: dict, raw: list[bytes]) -> tuple[bytes, int | None]:
    """The body of an answer, and the JSON's length when binary output data follows it
    (the ``Inference-Header-Content-Length`` to send; None for JSON alone)."""
    text = json.dumps(answer, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode()
    if not raw:
        return text, None
    return b"".join([text, *raw]), len(text)
