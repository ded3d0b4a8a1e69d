"""A model as the server sees it (:class:`ServedModel`): what it predicts with, whether
it streams, its input and output shapes and datatypes, its metadata."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline as SklearnPipeline

from seqpipe._composition import StepComposition
from seqpipe.base import get_step_tags
from seqpipe.serving.protocol import (
    NUMERIC_DATATYPES,
    PLATFORM,
    VERSION,
    ProtocolError,
    datatype_of,
)
from seqpipe.steps import Windower
from seqpipe.streaming import StreamingPredictor, _inner_steps

__all__ = ["INPUT", "OUTPUT", "ServedModel"]

INPUT, OUTPUT = "input", "output"  # the names of every model's one input and output


class ServedModel:
    """A model as the server sees it: what it predicts with, how it streams, metadata.

    Parameters
    ----------
    name : str
        The model's name in URLs.
    model : fitted estimator or StreamingPredictor
        A fitted pipeline; a :class:`~seqpipe.StreamingPredictor` (e.g. saved with
        ``window_size_past`` given) serves its pipeline and streams with its window
        length and number of features.
    header : dict, optional
        The artifact's header (:func:`seqpipe.persistence.read_header`), whose
        ``library_versions`` the metadata reports.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe import Pipeline
    >>> from seqpipe.serving import ServedModel
    >>> from seqpipe.steps import Windower
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> series = np.sin(np.arange(50.0))[:, None]
    >>> flatten = FunctionTransformer(lambda W: W.reshape(len(W), -1))
    >>> pipeline = Pipeline([Windower(5, 1), flatten, Ridge()])
    >>> model = ServedModel("sine", pipeline.fit(series, series[:, 0]))
    >>> model.name, model.batchable             # a series: requests are never stacked
    ('sine', False)
    """

    def __init__(self, name: str, model: Any, header: dict | None = None) -> None:
        self.name = name
        if isinstance(model, StreamingPredictor):
            self.pipeline = model.pipeline
            self._stream_args = {"window_size_past": model.window_size_past,
                                 "n_features": model.n_features_in_}
        else:
            self.pipeline = model
            self._stream_args = {}
        if not hasattr(self.pipeline, "predict"):
            raise TypeError(f"model '{name}' cannot be served: "
                            f"{type(self.pipeline).__name__} has no 'predict' method")
        self.header = header or {}
        try:
            probe = self.new_stream()
        except (TypeError, ValueError) as error:
            probe, self.stream_error = None, str(error)
        else:
            self.stream_error = None
        self.input_shape = self._input_shape(probe)
        # rows of a series are time steps, not samples: stacking requests would mix them
        self.windower = next((step for step in _inner_steps(self.pipeline)
                              if isinstance(step, Windower)), None)
        self.batchable = self.windower is None
        self.slices_series = self.windower is not None and _time_steps_apart(self.pipeline)
        # a series needs window_size_past time steps for one prediction; windows, one
        self._probe_rows = 1 if self.windower is None else self.windower.window_size_past
        self.output_shape, self.label_datatype, self.native_datatype = \
            self._output_signature()

    def new_stream(self) -> StreamingPredictor:
        """A fresh StreamingPredictor for one sequence."""
        return StreamingPredictor(self.pipeline, **self._stream_args)

    def _input_shape(self, probe: StreamingPredictor | None) -> list[int]:
        if probe is not None:
            if probe.takes_series_:  # a Windower inside: the pipeline takes a series
                return [-1, probe.n_features_in_]
            return [-1, probe.window_size_past, probe.n_features_in_]
        return [-1]  # unknown: the rank and sizes are not checked

    def _output_signature(self) -> tuple[list[int], str | None, str]:
        """(shape of the answers, their datatype when they are labels rather than
        floats, the model's own float datatype), from a prediction on zeros when the
        input shape is known; otherwise [-1], the datatype of ``classes_`` (a
        classifier's labels) and FP64."""
        labels = getattr(self.pipeline, "classes_", None)
        label_datatype = None if labels is None or np.asarray(labels).dtype.kind == "f" \
            else datatype_of(np.asarray(labels).dtype)
        if self.input_shape == [-1] or -1 in self.input_shape[1:]:  # unknown: no probe
            return [-1], label_datatype, "FP64"
        try:
            y = np.asarray(self.pipeline.predict(np.zeros((self._probe_rows,
                                                           *self.input_shape[1:]))))
        except Exception:  # noqa: BLE001 - the metadata then says "unknown"
            return [-1], label_datatype, "FP64"
        if y.dtype.kind == "f":
            return [-1, *y.shape[1:]], None, datatype_of(y.dtype)
        return [-1, *y.shape[1:]], datatype_of(y.dtype), "FP64"

    def answer_datatype(self, y: np.ndarray, request_datatype: str) -> str:
        """The datatype of the answer to a request of ``request_datatype``: floats in
        the request's float datatype (FP32 for FP32, FP64 otherwise), labels in their
        own (BOOL, INT32, INT64, BYTES)."""
        if y.dtype.kind == "f":
            return "FP32" if request_datatype == "FP32" else "FP64"
        return datatype_of(y.dtype)

    def n_windows(self, X: np.ndarray) -> int:
        """The windows the model predicts for ``X`` outside a sequence: its rows, or for
        a model taking a series the windows its Windower cuts (0 when too short)."""
        if self.windower is None:
            return X.shape[0]
        past, stride = self.windower.window_size_past, self.windower.stride
        return 0 if len(X) < past else (len(X) - past) // stride + 1

    def check_input(self, array: np.ndarray, name: str) -> None:
        """Refuse an input whose rank or known dimensions differ from the model's."""
        expected = self.input_shape
        if expected == [-1]:
            return
        if array.ndim != len(expected) or any(e not in (-1, a) for e, a in
                                              zip(expected, array.shape)):
            raise ProtocolError(f"input '{name}' has shape {list(array.shape)}; model "
                                f"'{self.name}' takes shape {expected} (-1: any size)")

    def metadata(self) -> dict:
        if self.label_datatype is not None:
            answers = dict.fromkeys(NUMERIC_DATATYPES, self.label_datatype)
        else:
            answers = {datatype: "FP32" if datatype == "FP32" else "FP64"
                       for datatype in NUMERIC_DATATYPES}
        return {
            "name": self.name,
            "versions": [VERSION],
            "platform": PLATFORM,
            "inputs": [{"name": INPUT, "datatype": self.native_datatype,
                        "shape": self.input_shape,
                        "parameters": {"datatypes": list(NUMERIC_DATATYPES)}}],
            "outputs": [{"name": OUTPUT, "datatype": answers[self.native_datatype],
                         "shape": self.output_shape,
                         "parameters": {"datatype_by_input": answers}}],
            "parameters": {
                "library_versions": dict(self.header.get("library_versions", {})),
                "created": self.header.get("created"),
                "streaming": self.stream_error is None,
            },
        }


def _time_steps_apart(pipeline: Any) -> bool:
    """Whether every step before the (first) Windower transforms each time step on its
    own (samplewise), so that a long series may be predicted in overlapping slices."""
    for step in _inner_steps(pipeline):
        if isinstance(step, Windower):
            return True
        if not isinstance(step, (StepComposition, SklearnPipeline)) and \
                not get_step_tags(step).samplewise:
            return False
    return False

