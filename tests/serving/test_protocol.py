"""The Open Inference Protocol's tensor JSON to and from NumPy."""

import re

import numpy as np
import pytest

from seqpipe.serving.protocol import ProtocolError, array_to_tensor, parse_body, tensor_to_array


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
    ({"name": "x", "shape": [1], "datatype": "BYTES", "data": ["a"]},
     'datatype "BYTES" is not supported; use one of FP32, FP64, INT32, INT64'),
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
    assert array_to_tensor("y", np.array([True, False]))["datatype"] == "INT64"
    assert array_to_tensor("y", np.array([1.5], dtype=np.float16)) == {
        "name": "y", "shape": [1], "datatype": "FP64", "data": [1.5]}
