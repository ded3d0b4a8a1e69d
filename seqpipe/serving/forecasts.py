"""A :class:`~seqpipe.forecasting.Forecaster` over the Open Inference Protocol: named
inputs (the history, its covariates), the forecast and its intervals as outputs, and
streaming sequences whose forecasts are stacked into one model call.

**Inputs** of an infer request (those the forecaster was fitted with are required):

- ``y`` (FP64 or FP32, shape ``[n]``): the history, its last value the forecast's
  origin; at least ``window_past_`` values (in a sequence, the values since the
  previous request: the server keeps the history);
- ``series`` (BYTES, ``[1]``): with many series, the series' name;
- ``end`` (BYTES, ``[1]``): for a forecaster fitted on dates, the ISO date of ``y``'s
  last value (in a sequence, at its start only: later values follow the frequency);
- ``past_covariates`` (``[n, k]``): their rows at ``y``'s dates;
- ``future_covariates`` (``[n + horizon, k]``): their rows at ``y``'s dates, then at
  the forecast's.

**Outputs**: ``prediction`` (FP64, ``[horizon]``), ``lower_L`` and ``upper_L`` for each
of the forecaster's levels, and ``date`` (BYTES, ``[horizon]``: ISO dates, or the
integer time steps as text). The answers equal :meth:`Forecaster.predict`'s for the
same history.

Concurrent requests (and sequences) are stacked by the model's
:class:`~seqpipe.serving.batching.Batcher` into one call of
:meth:`Forecaster.predict_many`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seqpipe.forecasting import Forecaster
from seqpipe.forecasting.dates import future_dates
from seqpipe.serving.protocol import NUMERIC_DATATYPES, PLATFORM, VERSION, ProtocolError

__all__ = ["ForecastRequest", "ForecastStream", "ServedForecaster"]


@dataclass
class ForecastRequest:
    """What one forecast reads: the history (pandas, as :meth:`Forecaster.predict`
    takes it) and its covariates."""

    y: pd.Series | pd.DataFrame
    past: pd.DataFrame | None = None
    future: pd.DataFrame | None = None


@dataclass
class ForecastStream:
    """The history of one streaming sequence: its last ``window_size_past`` values,
    dates and covariate rows, extended by each request."""

    window_size_past: int
    series: Any = None
    y: pd.Series | None = None
    past: pd.DataFrame | None = None
    future: pd.DataFrame | None = None  # rows at y's dates only
    n_buffered: int = 0


class ServedForecaster:
    """A fitted Forecaster as the server sees it: its inputs, outputs and metadata,
    and the forecasts of requests and sequences.

    Parameters
    ----------
    name : str
        The model's name in URLs.
    forecaster : Forecaster
        Fitted.
    header : dict, optional
        The artifact's header, whose ``library_versions`` the metadata reports.
    """

    batchable = True
    stream_error = None

    def __init__(self, name: str, forecaster: Forecaster, header: dict | None = None) -> None:
        if not hasattr(forecaster, "pipeline_"):
            raise TypeError(f"model '{name}' cannot be served: the forecaster is not fitted")
        self.name = name
        self.forecaster = forecaster
        self.header = header or {}
        self.horizon = forecaster.horizon
        self.dated = isinstance(forecaster._last_dates, pd.DatetimeIndex)

    # ------------------------------------------------------------------ metadata
    @property
    def output_names(self) -> list[str]:
        bounds = [f"{side}_{level:g}" for level in self.forecaster.levels_
                  for side in ("lower", "upper")]
        return ["prediction", *bounds, "date"]

    def metadata(self) -> dict:
        """The model's metadata: its inputs and outputs."""
        f = self.forecaster
        inputs = [{"name": "y", "datatype": "FP64", "shape": [-1],
                   "parameters": {"datatypes": list(NUMERIC_DATATYPES),
                                  "min_length": f.window_past_}}]
        if f.series_ is not None:
            inputs.append({"name": "series", "datatype": "BYTES", "shape": [1],
                           "parameters": {"series": [str(s) for s in f.series_]}})
        if self.dated:
            inputs.append({"name": "end", "datatype": "BYTES", "shape": [1]})
        if f.past_covariates_:
            inputs.append({"name": "past_covariates", "datatype": "FP64",
                           "shape": [-1, len(f.past_covariates_)],
                           "parameters": {"columns": f.past_covariates_}})
        if f.future_covariates_:
            inputs.append({"name": "future_covariates", "datatype": "FP64",
                           "shape": [-1, len(f.future_covariates_)],
                           "parameters": {"columns": f.future_covariates_,
                                          "rows_after_y": self.horizon}})
        outputs = [{"name": name, "datatype": "BYTES" if name == "date" else "FP64",
                    "shape": [self.horizon]} for name in self.output_names]
        return {"name": self.name, "versions": [VERSION], "platform": PLATFORM,
                "inputs": inputs, "outputs": outputs,
                "parameters": {"library_versions": dict(self.header.get(
                    "library_versions", {})), "created": self.header.get("created"),
                    "streaming": True, "forecaster": True,
                    "levels": list(f.levels_)}}

    # ------------------------------------------------------------------ requests
    def request(self, arrays: dict[str, np.ndarray]) -> ForecastRequest:
        """The forecast a request's named inputs ask for; ProtocolError naming what is
        wrong."""
        self._check_names(arrays, stream=False)
        values = self._target(arrays)
        index = self._index(arrays, len(values))
        return self._build(self._series(arrays), values, index, arrays)

    def forecast_many(self, requests: np.ndarray) -> np.ndarray:
        """The outputs (a dict of arrays) of each request of the object array
        ``requests``, in one model call."""
        try:
            frames = self.forecaster.predict_many(
                [r.y for r in requests], past_covariates=[r.past for r in requests],
                future_covariates=[r.future for r in requests])
        except ValueError as error:
            raise ProtocolError(f"model '{self.name}' cannot forecast from this input: "
                                f"{' '.join(str(error).split())}") from None
        answers = np.empty(len(frames), dtype=object)
        for i, frame in enumerate(frames):
            dates = frame.index.get_level_values(-1)
            answer = {name: frame[name].to_numpy() for name in frame.columns}
            answer["date"] = np.array([_text(d) for d in dates], dtype=object)
            answers[i] = answer
        return answers

    # ------------------------------------------------------------------ sequences
    def new_stream(self) -> ForecastStream:
        """An empty history for one sequence."""
        return ForecastStream(self.forecaster.window_past_)

    def extend(self, stream: ForecastStream, arrays: dict[str, np.ndarray], start: bool
               ) -> ForecastRequest | None:
        """Add a request's values to the sequence's history; the forecast after it, or
        None while the history is shorter than ``window_past_``."""
        self._check_names(arrays, stream=not start)
        values = self._target(arrays)
        if start:
            stream.series = self._series(arrays)
            index = self._index(arrays, len(values))
        else:
            index = future_dates(stream.y.index, self.forecaster.frequency_, len(values))
        request = self._build(stream.series, values, index, arrays)
        keep = self.forecaster.window_past_
        y = request.y if isinstance(request.y, pd.Series) else request.y.iloc[:, 0]
        future_rows = None if request.future is None else request.future.iloc[:len(values)]
        if start or stream.y is None:
            stream.y, stream.past, stream.future = y, request.past, future_rows
        else:
            stream.y = pd.concat([stream.y, y])
            stream.past = None if request.past is None else pd.concat([stream.past,
                                                                        request.past])
            stream.future = None if future_rows is None else pd.concat([stream.future,
                                                                         future_rows])
        stream.y = stream.y.iloc[-keep:]
        stream.past = None if stream.past is None else stream.past.iloc[-keep:]
        stream.future = None if stream.future is None else stream.future.iloc[-keep:]
        stream.n_buffered = len(stream.y)
        if len(stream.y) < keep:
            return None
        history = stream.y if stream.series is None else stream.y.to_frame(stream.series)
        future = None
        if request.future is not None:
            future = pd.concat([stream.future, request.future.iloc[len(values):]])
        return ForecastRequest(history, stream.past, future)

    # ------------------------------------------------------------------ inputs
    def _expected(self) -> set[str]:
        f = self.forecaster
        names = {"y"}
        if f.series_ is not None:
            names.add("series")
        if self.dated:
            names.add("end")
        if f.past_covariates_:
            names.add("past_covariates")
        if f.future_covariates_:
            names.add("future_covariates")
        return names

    def _check_names(self, arrays: dict[str, np.ndarray], *, stream: bool) -> None:
        expected = self._expected()
        if stream:  # later requests of a sequence: its series and dates are known
            expected -= {"series", "end"}
        unknown = sorted(set(arrays) - expected - {"series", "end"})
        missing = sorted(expected - set(arrays))
        if unknown or missing:
            raise ProtocolError(f"model '{self.name}' takes the inputs {sorted(expected)}"
                                + (f"; missing {missing}" if missing else "")
                                + (f"; unknown {unknown}" if unknown else ""))

    def _target(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        y = arrays["y"]
        if y.ndim != 1 or y.dtype.kind not in "fiu" or len(y) == 0:
            raise ProtocolError(f"input 'y' must be a non-empty 1-D array of numbers; got "
                                f"shape {list(y.shape)}")
        return y.astype(np.float64)

    def _series(self, arrays: dict[str, np.ndarray]) -> Any:
        if self.forecaster.series_ is None:
            return None
        name = _one_text(arrays["series"], "series")
        known = {str(s): s for s in self.forecaster.series_}
        if name not in known:
            raise ProtocolError(f"input 'series': model '{self.name}' knows no series "
                                f"{name!r:.80} (it knows {len(known)}, e.g. "
                                f"{list(known)[:3]})")
        return known[name]

    def _index(self, arrays: dict[str, np.ndarray], n: int) -> pd.Index:
        if not self.dated:
            return pd.RangeIndex(n)
        text = _one_text(arrays["end"], "end")
        try:
            end = pd.Timestamp(text)
        except ValueError:
            raise ProtocolError(f"input 'end' must be an ISO date; got {text!r:.60}") from None
        return pd.date_range(end=end, periods=n, freq=self.forecaster.frequency_)

    def _build(self, series: Any, values: np.ndarray, index: pd.Index,
               arrays: dict[str, np.ndarray]) -> ForecastRequest:
        f = self.forecaster
        y = pd.Series(values, index=index)
        if series is not None:
            y = y.to_frame(series)
        past = future = None
        if "past_covariates" in arrays:
            past = _table(arrays["past_covariates"], f.past_covariates_, index,
                          "past_covariates", len(values))
        if "future_covariates" in arrays:
            ahead = future_dates(index, f.frequency_, self.horizon)
            future = _table(arrays["future_covariates"], f.future_covariates_,
                            index.append(ahead), "future_covariates",
                            len(values) + self.horizon)
        return ForecastRequest(y, past, future)


def _table(array: np.ndarray, columns: list[str], index: pd.Index, name: str,
           rows: int) -> pd.DataFrame:
    if array.ndim != 2 or array.shape != (rows, len(columns)) or array.dtype.kind not in "fiu":
        raise ProtocolError(f"input '{name}' must be numbers of shape [{rows}, "
                            f"{len(columns)}] (columns {columns}); got shape "
                            f"{list(array.shape)}")
    return pd.DataFrame(array.astype(np.float64), index=index, columns=columns)


def _one_text(array: np.ndarray, name: str) -> str:
    if array.size != 1:
        raise ProtocolError(f"input '{name}' must hold one string; got shape "
                            f"{list(array.shape)}")
    item = array.ravel()[0]
    return item.decode() if isinstance(item, bytes) else str(item)


def _text(date: Any) -> str:
    if isinstance(date, pd.Timestamp):
        return date.isoformat(sep=" ").removesuffix(" 00:00:00")
    return str(date)
