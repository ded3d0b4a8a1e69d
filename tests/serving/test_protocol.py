"""The Open Inference Protocol's tensor JSON to and from NumPy."""

import json
import re
import warnings

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


# ------------------------------------------------- what is accepted, at the limits
def json_request(*tensors):
    return json.dumps({"inputs": list(tensors)}).encode()


def test_json_inputs_are_read_in_order_without_binary_data():
    body = json_request({"name": "a", "shape": [2], "datatype": "FP64", "data": [1, 2]},
                        {"name": "b", "shape": [1], "datatype": "INT32", "data": [3]})
    request, binary = parse_request(body)
    assert bytes(binary) == b""
    assert parse_body(body) == request == json.loads(body)
    for arrays in (input_arrays(request, binary), input_arrays(request)):
        assert [a.tolist() for a in arrays] == [[1.0, 2.0], [3]]
    # a header length of the whole body: JSON and no binary data
    request, binary = parse_request(body, len(body))
    assert bytes(binary) == b"" and [a.tolist() for a in input_arrays(request, binary)] == [
        [1.0, 2.0], [3]]


def test_json_and_binary_inputs_mix_in_one_request():
    header = json_request(
        {"name": "a", "shape": [1], "datatype": "FP64", "data": [0.5]},
        {"name": "b", "shape": [2], "datatype": "INT32", "parameters": {"binary_data_size": 8}},
        {"name": "c", "shape": [0], "datatype": "FP32", "parameters": {"binary_data_size": 0}},
        {"name": "d", "shape": [2], "datatype": "BYTES",
         "parameters": {"binary_data_size": 10}})
    raw = np.array([7, 8], "<i4").tobytes() + b"\x02\x00\x00\x00ab\x00\x00\x00\x00"
    request, binary = parse_request(header + raw, len(header))
    a, b, c, d = input_arrays(request, binary)
    assert a.tolist() == [0.5] and b.tolist() == [7, 8] and c.shape == (0,)
    assert d.tolist() == [b"ab", b""]  # an empty last element ends the data exactly


def test_integers_at_the_ends_of_their_range_are_taken():
    for datatype, bits in (("INT32", 32), ("INT64", 64)):
        ends = [-2 ** (bits - 1), 2 ** (bits - 1) - 1]
        tensor = {"name": "x", "shape": [2], "datatype": datatype, "data": ends}
        assert tensor_to_array(tensor).tolist() == ends
        for outside in (-2 ** (bits - 1) - 1, 2 ** (bits - 1)):
            with pytest.raises(ProtocolError, match=f"^input 'x': a value is out of "
                                                    f"{datatype}'s range$"):
                tensor_to_array({**tensor, "data": [0, outside]})


def test_shapes_at_their_limits():
    # 64 dimensions (NumPy's most), nested as deep or flat; zeros make any size empty
    for data in ([2.5], json.loads("[" * 64 + "2.5" + "]" * 64)):
        array = tensor_to_array({"name": "x", "shape": [1] * 64, "datatype": "FP64",
                                 "data": data})
        assert array.shape == (1,) * 64 and array.item() == 2.5
    empty = tensor_to_array({"name": "x", "shape": [0, 2 ** 31 - 1], "datatype": "FP32",
                             "data": []})
    assert empty.shape == (0, 2 ** 31 - 1)


def test_a_float_input_overflowing_its_datatype_is_refused_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning of NumPy's cast in the logs
        with pytest.raises(ProtocolError, match="NaN or infinite value"):
            tensor_to_array({"name": "x", "shape": [1], "datatype": "FP32", "data": [1e39]})


# the whole message of each refusal: what is wrong, and which input
@pytest.mark.parametrize("tensor, message", [
    ([1], "each input must be a JSON object with name, shape, datatype and data"),
    ({"name": "", "shape": [1], "datatype": "FP64", "data": [1]},
     "each input needs a 'name' (a non-empty string)"),
    ({"name": "x", "shape": [1], "datatype": "FP64"}, "input 'x' has no data"),
    ({"name": "x", "shape": [1] * 65, "datatype": "FP64", "data": [1]},
     "input 'x': shape has 65 dimensions, at most 64 are supported"),
    ({"name": "x", "shape": [1], "datatype": "FP64", "data": json.loads("[" * 65 + "]" * 65)},
     "input 'x': data is nested too deeply (more than 64 levels of lists)"),
    ({"name": "x", "shape": [1], "datatype": "FP64", "data": [[[[["a" * 100]]]]]},
     "input 'x': FP64 data must hold numbers only, got \"" + "a" * 39),
    ({"name": "x", "shape": [-1] * 30, "datatype": "FP64", "data": [1]},
     "input 'x': shape must be a list of non-negative integers, got "
     + json.dumps([-1] * 30)[:80]),
    ({"name": "x", "shape": [2 ** 40] * 8, "datatype": "FP64", "data": [1]},
     "input 'x': shape " + json.dumps([2 ** 40] * 8)[:80] + " is too large: its non-zero "
     "dimensions multiply to more than 2147483647"),
    ({"name": "x", "shape": [1], "datatype": "b" * 100, "data": [1]},
     "input 'x': datatype \"" + "b" * 39 + " is not supported; use one of BOOL, INT32, "
     "INT64, FP32, FP64, BYTES"),
    ({"name": "x", "shape": [2], "datatype": "INT32", "data": [1, 1.5]},
     "input 'x': datatype INT32 needs integers, data holds a non-integer number"),
    ({"name": "x", "shape": [1], "datatype": "FP64", "data": [10 ** 400]},
     "input 'x': a value is out of FP64's range"),
])
def test_refusals_say_exactly_what_is_wrong(tensor, message):
    with pytest.raises(ProtocolError) as caught:
        tensor_to_array(tensor)
    assert str(caught.value) == message


@pytest.mark.parametrize("tensor, binary, message", [
    ({"name": "x", "shape": [1], "datatype": "FP32", "parameters": 3}, b"",
     "input 'x': 'parameters' must be a JSON object"),
    ({"name": "x", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": -1}},
     b"", "input 'x': binary_data_size must be a non-negative integer, got -1"),
    ({"name": "x", "shape": [1], "datatype": "FP32",
      "parameters": {"binary_data_size": "c" * 100}}, b"",
     "input 'x': binary_data_size must be a non-negative integer, got \"" + "c" * 39),
    ({"shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 4}}, b"\0" * 4,
     "each input needs a 'name' (a non-empty string)"),
    ({"name": "x", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": 8}},
     b"\x02\x00\x00\x00abcd",
     "input 'x': its BYTES binary data ends after 1 of 2 elements"),
    ({"name": "x", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 8}},
     b"\x02\x00\x00\x00abcd",
     "input 'x': its binary data holds 2 bytes after its 1 BYTES elements"),
    ({"name": "x", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 6}},
     b"\xff\xff\xff\xffab",
     "input 'x': BYTES element 0 is 4294967295 bytes long, past the end of its binary data"),
    ({"name": "x", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 4}},
     b"\0" * 4, "input 'x': binary_data_size is 4 bytes; shape [2] of FP32 needs 8"),
])
def test_binary_refusals_say_exactly_what_is_wrong(tensor, binary, message):
    header = json_request(tensor)
    request, rest = parse_request(header + binary, len(header))
    with pytest.raises(ProtocolError) as caught:
        input_arrays(request, rest)
    assert str(caught.value) == message


def test_the_binary_data_left_is_counted_after_the_inputs_before():
    header = json_request(
        {"name": "a", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 4}},
        {"name": "b", "shape": [4], "datatype": "FP32", "parameters": {"binary_data_size": 16}})
    request, binary = parse_request(header + FP32_4, len(header))
    with pytest.raises(ProtocolError) as caught:
        input_arrays(request, binary)
    assert str(caught.value) == ("input 'b' has binary_data_size 16, but only 12 bytes of "
                                 "binary data are left after the JSON")


@pytest.mark.parametrize("body, length, message", [
    (b"[1]", None, "the request body must be a JSON object, got list"),
    (b"1{}", "1", "the request body must be a JSON object, got int"),
    (b'{"inputs": 1}', None, "the request needs 'inputs': a non-empty list of tensors"),
    (b'{"inputs": [{}], "parameters": []}', None, "'parameters' must be a JSON object"),
    (b'{"inputs": [{}], "id": "' + b"i" * 257 + b'"}', None,
     "'id' must be a string of at most 256 characters"),
    (b"{}", "9" * 100, "the Inference-Header-Content-Length header must be the length of "
                       "the JSON at the start of the body, an integer in [1, 2]; got '"
     + "9" * 40 + "'"),
])
def test_body_refusals_say_exactly_what_is_wrong(body, length, message):
    with pytest.raises(ProtocolError) as caught:
        parse_request(body, length)
    assert str(caught.value) == message


def test_an_id_of_the_longest_length_is_taken():
    body = b'{"inputs": [{}], "id": "' + b"i" * 256 + b'"}'
    assert parse_body(body)["id"] == "i" * 256


def test_only_a_body_that_looks_like_json_then_bytes_is_hinted_at_the_header():
    for body in (b"\xff", b"nope \xff", b"{oops"):
        with pytest.raises(ProtocolError) as caught:
            parse_request(body)
        assert "header" not in str(caught.value) and str(caught.value).startswith(
            "the request body is not valid JSON: ")
    with pytest.raises(ProtocolError) as caught:
        parse_request(b"")
    assert str(caught.value) == ("the request body is not valid JSON: Expecting value: "
                                 "line 1 column 1 (char 0)")
    header = b'{"inputs": []}'
    with pytest.raises(ProtocolError) as caught:  # the header given: no hint either
        parse_request(header + b"\xff" + header, len(header) + 1)
    assert "header" not in str(caught.value)


def test_an_answer_is_compact_utf8_json_and_never_holds_nan():
    body, length = encode_answer({"id": "café", "outputs": []}, [])
    assert body == '{"id":"café","outputs":[]}'.encode() and length is None
    for value in (float("nan"), float("inf")):
        with pytest.raises(ValueError):
            encode_answer({"outputs": [{"data": [value]}]}, [])


def test_an_output_json_cannot_carry_is_a_client_error():
    with pytest.raises(ProtocolError) as caught:
        output_tensor("y", np.array([b"\xff"], dtype=object))
    assert caught.value.status == 400
