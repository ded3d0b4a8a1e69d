"""An infer request to a forecaster: its named inputs read, the forecast (stacked with
concurrent ones, or fed to a sequence), its named outputs answered."""

from __future__ import annotations

import numpy as np
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from seqpipe.serving.batching import Batcher
from seqpipe.serving.forecasts import ServedForecaster
from seqpipe.serving.metrics import Metrics
from seqpipe.serving.protocol import (
    HEADER_LENGTH,
    VERSION,
    ProtocolError,
    encode_answer,
    input_arrays,
    output_tensor,
)
from seqpipe.serving.sequences import _sequence_parameters, _Sequences


async def _infer_forecast(model: ServedForecaster, body: dict, binary: memoryview,
                          batcher: Batcher | None, sequences: _Sequences,
                          metrics: Metrics) -> Response:
    """A forecaster's answer: its named inputs read, the forecast (stacked with
    concurrent ones by the batcher), its outputs."""
    tensors = body["inputs"]
    names = [tensor["name"] for tensor in tensors]
    if len(set(names)) != len(names):
        raise ProtocolError(f"the request names an input twice: {names}")
    arrays = dict(zip(names, input_arrays(body, binary)))
    wanted, binary_answer = _forecast_outputs(body, model)
    sequence = _sequence_parameters(body.get("parameters", {}))
    answer: dict = {"model_name": model.name, "model_version": VERSION}
    if body.get("id") is not None:
        answer["id"] = body["id"]
    if sequence is None:
        forecast = model.request(arrays)
    else:
        sequence_id, start, end = sequence
        with sequences.lock:
            stream, in_use = sequences.get(model, sequence_id, start=start)
        try:
            with in_use:
                forecast = model.extend(stream, arrays, start)
        finally:
            if end:
                with sequences.lock:
                    sequences.end(model, sequence_id, stream)
        answer["parameters"] = {"sequence_id": sequence_id,
                                "window_filled": stream.n_buffered,
                                "window_size": stream.window_size_past}
    outputs: dict = {}
    if forecast is not None:
        batch = np.empty(1, dtype=object)
        batch[0] = forecast
        if batcher is None:
            outputs = (await run_in_threadpool(model.forecast_many, batch))[0]
            metrics.batch_size.labels(model.name).observe(1)
        else:
            outputs = (await batcher.predict(batch))[0]
    y_datatype = next(t["datatype"] for t in body["inputs"] if t["name"] == "y")
    raw: list[bytes] = []
    answer["outputs"] = []
    for name in wanted if outputs else []:
        datatype = "BYTES" if name == "date" else "FP32" if y_datatype == "FP32" else "FP64"
        tensor, data = output_tensor(name, outputs[name], datatype, binary=binary_answer)
        answer["outputs"].append(tensor)
        if data is not None:
            raw.append(data)
    content, header_length = encode_answer(answer, raw)
    if header_length is None:
        return Response(content, media_type="application/json")
    return Response(content, media_type="application/octet-stream",
                    headers={HEADER_LENGTH: str(header_length)})


def _forecast_outputs(body: dict, model: ServedForecaster) -> tuple[list[str], bool]:
    """The outputs a forecaster's request asks for (all by default), and whether as
    binary data; refuses outputs the model does not have."""
    binary = body.get("parameters", {}).get("binary_data_output", False)
    if not isinstance(binary, bool):
        raise ProtocolError(f"parameter binary_data_output must be true or false, got "
                            f"{binary!r:.40}")
    requested = body.get("outputs")
    if requested is None:
        return model.output_names, binary
    if not isinstance(requested, list) or not all(
            isinstance(output, dict) and isinstance(output.get("name"), str)
            for output in requested):
        raise ProtocolError("'outputs' must be a list of JSON objects with a 'name'")
    names = [output["name"] for output in requested]
    unknown = [name for name in names if name not in model.output_names]
    if unknown:
        raise ProtocolError(f"model '{model.name}' has no output '{unknown[0]:.100}'; its "
                            f"outputs: {', '.join(model.output_names)}")
    flags = {output.get("parameters", {}).get("binary_data", binary) for output in requested}
    return names, bool(flags == {True})

