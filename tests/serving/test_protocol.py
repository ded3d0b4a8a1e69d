"""The Open Inference Protocol's tensor JSON to and from NumPy."""

import json
import re

import numpy as np
import pytest

from seqpipe.serving.protocol import (
    ProtocolError,
    array_to_tensor,
    encode_answer,
    input_arrays,
    output_tensor,
    parse_body,
    parse_request,
    tensor_to_array,
)


def test_flat_and_nested_data_give_the_same_row_major_array():
    flat = {"name": "x", "shape": [2, 3], "datatype": "FP64", "data": [1, 2, 3, 4, 5, 6]}
    nested = {**flat, "data": [[1, 2, 3], [4, 5, 6]]}
    expected = np.arange(1.0, 7.0).reshape(2, 3)
    for tensor in (flat, nested):
        array = tensor_to_array(tensor)
        assert array.dtype == np.float64
        np.testing.assert_array_equal(array, expected)


@pytest.mark.parametrize("datatype, dtype", [("FP32", np.float32), ("FP64", np.float64),
                                             ("INT32", np.int32), ("INT64", np.int64)])
def test_each_datatype_round_trips(datatype, dtype):
    tensor = {"name": "x", "shape": [2, 1, 2], "datatype": datatype, "data": [1, -2, 3, 4]}
    array = tensor_to_array(tensor)
    assert array.dtype == dtype and array.shape == (2, 1, 2)
    assert array_to_tensor("x", array) == tensor


def test_an_empty_batch_and_a_scalar_shape():
    assert tensor_to_array({"name": "x", "shape": [0, 3], "datatype": "FP32",
                            "data": []}).shape == (0, 3)
    assert tensor_to_array({"name": "x", "shape": [], "datatype": "INT64",
                            "data": [4]}).shape == ()


@pytest.mark.parametrize("tensor, message", [
    ([1, 2], "each input must be a JSON object"),
    ({"shape": [1], "datatype": "FP64", "data": [1]}, "each input needs a 'name'"),
    ({"name": "x", "data": [1]}, "input 'x' has no shape, datatype"),
    ({"name": "x", "shape": [-1], "datatype": "FP64", "data": [1]},
     "input 'x': shape must be a list of non-negative integers, got [-1]"),
    ({"name": "x", "shape": [1.5], "datatype": "FP64", "data": [1]}, "shape must be a list"),
    ({"name": "x", "shape": [1], "datatype": "FP16", "data": [1.0]},
     'datatype "FP16" is not supported; use one of BOOL, INT32, INT64, FP32, FP64, BYTES'),
    ({"name": "x", "shape": [2], "datatype": "BYTES", "data": ["a", 1]},
     "BYTES data must hold strings only, got 1"),
    ({"name": "x", "shape": [1], "datatype": "BOOL", "data": [1]},
     "BOOL data must hold true or false only, got 1"),
    ({"name": "x", "shape": [0, 2 ** 62], "datatype": "FP32", "data": []},
     "shape [0, 4611686018427387904] is too large: its non-zero dimensions multiply to "
     "more than 2147483647"),
    ({"name": "x", "shape": [1], "datatype": "FP64", "data": 1}, "data must be a list"),
    ({"name": "x", "shape": [2], "datatype": "FP64", "data": [1, True]},
     "data must hold numbers only, got true"),
    ({"name": "x", "shape": [2], "datatype": "FP64", "data": [1, None]},
     "data must hold numbers only, got null"),
    ({"name": "x", "shape": [2, 2], "datatype": "FP64", "data": [[1, 2], [3]]},
     "shape [2, 2] needs 4 values, data holds 3"),
    ({"name": "x", "shape": [1], "datatype": "INT64", "data": [2 ** 70]},
     "out of INT64's range"),
    ({"name": "x", "shape": [1], "datatype": "FP32", "data": [1e39]},
     "NaN or infinite value"),
])
def test_bad_tensors_are_refused_naming_the_problem(tensor, message):
    with pytest.raises(ProtocolError, match=re.escape(message)) as caught:
        tensor_to_array(tensor)
    assert caught.value.status == 400


@pytest.mark.parametrize("body, message", [
    (b"", "not valid JSON"),
    (b"\xff", "not valid JSON"),
    (b'{"inputs": NaN}', "holds NaN"),
    (b'{"inputs": []}', "needs 'inputs': a non-empty list"),
    (b'{"inputs": [{}], "parameters": 3}', "'parameters' must be a JSON object"),
    (b'{"inputs": [{}], "id": 3}', "'id' must be a string"),
    (b"[" * 100_000, "not valid JSON"),
])
def test_bad_bodies_are_refused(body, message):
    with pytest.raises(ProtocolError, match=re.escape(message)):
        parse_body(body)


def test_outputs_of_other_dtypes():
    assert array_to_tensor("y", np.array([True, False])) == {
        "name": "y", "shape": [2], "datatype": "BOOL", "data": [True, False]}
    assert array_to_tensor("y", np.array(["cat", "dog"])) == {
        "name": "y", "shape": [2], "datatype": "BYTES", "data": ["cat", "dog"]}
    assert array_to_tensor("y", np.array([1.5], dtype=np.float16)) == {
        "name": "y", "shape": [1], "datatype": "FP64", "data": [1.5]}


# ---------------------------------------------------------------- binary tensor data
ARRAYS = {
    "BOOL": np.array([[True, False, True]]),
    "INT32": np.array([[1, -2, 2 ** 31 - 1]], dtype=np.int32),
    "INT64": np.array([[1, -2, 2 ** 62]], dtype=np.int64),
    "FP32": np.array([[0.5, -1.25, 3e38]], dtype=np.float32),
    "FP64": np.array([[0.1, -2.5, 1e300]]),
    "BYTES": np.array([[b"", b"caf\xc3\xa9", b"\xff\x00"]], dtype=object),
}


def binary_request(tensors, **extra):
    """A body of JSON then raw data, as tritonclient sends it, and the JSON's length."""
    inputs, raw = [], []
    for name, (datatype, array) in tensors.items():
        tensor, data = output_tensor(name, array, datatype, binary=True)
        inputs.append(tensor)
        raw.append(data)
    header = json.dumps({"inputs": inputs, **extra}).encode()
    return header + b"".join(raw), len(header)


@pytest.mark.parametrize("datatype", ARRAYS)
def test_each_datatype_round_trips_as_binary_data(datatype):
    body, length = binary_request({"x": (datatype, ARRAYS[datatype]),
                                   "y": ("FP32", np.arange(4, dtype=np.float32))})
    request, binary = parse_request(body, str(length))
    x, y = input_arrays(request, binary)
    assert x.dtype == ARRAYS[datatype].dtype and x.shape == (1, 3)
    np.testing.assert_array_equal(x, ARRAYS[datatype])
    np.testing.assert_array_equal(y, np.arange(4))
    tensor, raw = output_tensor("out", x, datatype, binary=True)
    assert tensor == {"name": "out", "shape": [1, 3], "datatype": datatype,
                      "parameters": {"binary_data_size": len(raw)}}
    assert raw == body[length:len(body) - 16]  # the same bytes as the request's


def test_binary_data_is_little_endian_row_major():
    body, length = binary_request({"x": ("INT32", np.array([[1, 2], [3, 4]], np.int32))})
    assert body[length:] == bytes([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0])
    body, length = binary_request({"x": ("BYTES", np.array([b"ab"], dtype=object))})
    assert body[length:] == b"\x02\x00\x00\x00ab"


def test_json_bool_and_bytes_inputs():
    flags = tensor_to_array({"name": "x", "shape": [2], "datatype": "BOOL",
                             "data": [True, False]})
    assert flags.dtype == np.bool_ and flags.tolist() == [True, False]
    words = tensor_to_array({"name": "x", "shape": [1, 2], "datatype": "BYTES",
                             "data": [["é", "b"]]})
    assert words.dtype == object and words.tolist() == [["é".encode(), b"b"]]


def test_an_answer_with_binary_outputs_puts_its_json_first():
    tensor, raw = output_tensor("y", np.array([1.5, 2.5]), "FP32", binary=True)
    body, length = encode_answer({"model_name": "m", "outputs": [tensor]}, [raw])
    assert json.loads(body[:length])["outputs"][0]["parameters"] == {
        "binary_data_size": 8}
    np.testing.assert_array_equal(np.frombuffer(body[length:], "<f4"), [1.5, 2.5])
    assert encode_answer({"outputs": []}, []) == (b'{"outputs":[]}', None)


def test_bytes_that_are_not_utf8_go_only_as_binary():
    with pytest.raises(ProtocolError, match="not UTF-8, which JSON cannot carry: ask for "
                                            "it as binary data"):
        output_tensor("y", np.array([b"\xff"], dtype=object))


FP32_4 = np.arange(4, dtype=np.float32).tobytes()


@pytest.mark.parametrize("tensor, binary, message", [
    ({"name": "x", "shape": [4], "datatype": "FP32",
      "parameters": {"binary_data_size": 12}}, FP32_4,
     "binary_data_size is 12 bytes; shape [4] of FP32 needs 16"),
    ({"name": "x", "shape": [4], "datatype": "FP32",
      "parameters": {"binary_data_size": 20}}, FP32_4,
     "input 'x' has binary_data_size 20, but only 16 bytes of binary data are left"),
    ({"name": "x", "shape": [2], "datatype": "FP32",
      "parameters": {"binary_data_size": 8}}, FP32_4,
     "the body holds 16 bytes of binary data after the JSON; the inputs' "
     "binary_data_size add up to 8"),
    ({"name": "x", "shape": [4], "datatype": "FP32", "data": [1, 2, 3, 4],
      "parameters": {"binary_data_size": 16}}, FP32_4,
     "input 'x' has both data and binary_data_size"),
    ({"name": "x", "shape": [4], "datatype": "FP32",
      "parameters": {"binary_data_size": -1}}, FP32_4,
     "binary_data_size must be a non-negative integer, got -1"),
    ({"name": "x", "shape": [1], "datatype": "FP32",
      "parameters": {"binary_data_size": 4}}, np.float32([np.nan]).tobytes(),
     "NaN or infinite value"),
    ({"name": "x", "shape": [2], "datatype": "BOOL",
      "parameters": {"binary_data_size": 2}}, b"\x01\x02",
     "BOOL binary data must hold bytes 0 or 1"),
    ({"name": "x", "shape": [2], "datatype": "BYTES",
      "parameters": {"binary_data_size": 8}}, b"\x02\x00\x00\x00abcd",
     "its BYTES binary data ends after 1 of 2 elements"),
    ({"name": "x", "shape": [1], "datatype": "BYTES",
      "parameters": {"binary_data_size": 6}}, b"\x09\x00\x00\x00ab",
     "BYTES element 0 is 9 bytes long, past the end of its binary data"),
    ({"name": "x", "shape": [2 ** 30], "datatype": "BYTES",
      "parameters": {"binary_data_size": 6}}, b"\x02\x00\x00\x00ab",
     "1073741824 BYTES elements need at least 4294967296 bytes of binary data, it has 6"),
])
def test_bad_binary_data_is_refused_naming_the_problem(tensor, binary, message):
    header = json.dumps({"inputs": [tensor]}).encode()
    request, rest = parse_request(header + binary, len(header))
    with pytest.raises(ProtocolError, match=re.escape(message)) as caught:
        input_arrays(request, rest)
    assert caught.value.status == 400


@pytest.mark.parametrize("length, message", [
    ("abc", "must be the length of the JSON at the start of the body, an integer in "
            "[1, 20]; got 'abc'"),
    ("0", "an integer in [1, 20]; got '0'"),
    ("21", "an integer in [1, 20]; got '21'"),
    ("10", "not valid JSON"),
])
def test_a_bad_header_length_is_refused(length, message):
    with pytest.raises(ProtocolError, match=re.escape(message)):
        parse_request(b'{"inputs": [{}]}\x00\x01\x02\x03', length)


def test_binary_data_without_the_header_says_what_is_missing():
    body, _ = binary_request({"x": ("FP64", np.array([0.1]))})
    with pytest.raises(ProtocolError, match="binary tensor data needs the "
                                            "Inference-Header-Content-Length header"):
        parse_request(body)
