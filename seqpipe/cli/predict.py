"""``seqpipe predict MODEL INPUT``: predictions of a saved pipeline, or the forecast of a
saved forecaster.

- A pipeline (``seqpipe run NAME``) and ``X.npy`` give predictions ``.npy``.
- A forecaster (``seqpipe run csv``/``stock``) and a CSV of the series give the forecast
  of the ``horizon`` values after its last value, as CSV (dated when the series is). A
  forecaster fitted with future covariates reads them for the forecast dates from the
  rows after the last value (their target cell empty) or from ``--future FILE``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from seqpipe import load
from seqpipe.cli.forecast import SeriesSpec, read_csv_columns, read_spec
from seqpipe.cli.panel import read_long_csv, write_forecast
from seqpipe.forecasting import Forecaster

__all__ = ["predict_file"]


def predict_file(artifact: Path, inputs: Path, output: Path | None,
                 future: Path | None = None) -> int:
    """Predict with the saved ``artifact`` on ``inputs``; write to ``output`` (stdout for
    a CSV forecast without it). ValueError or OSError naming what is wrong."""
    if not artifact.is_file():
        raise ValueError(f"no saved model at {artifact}")
    if inputs.suffix.lower() == ".csv":
        return _forecast_csv(artifact, inputs, output, future)
    if future is not None:
        raise ValueError("--future is for forecasting from a CSV")
    if output is None:
        raise ValueError("predicting from a .npy file needs --out FILE.npy")
    try:
        X = np.load(inputs, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise ValueError(f"{inputs} is not a readable .npy array ({error})") from None
    model = load(artifact)
    if isinstance(model, Forecaster):
        raise ValueError(f"{artifact} is a forecaster: give it a CSV of the series")
    np.save(output, model.predict(X))
    return 0


def _forecast_csv(artifact: Path, inputs: Path, output: Path | None,
                  future_file: Path | None) -> int:
    spec = read_spec(artifact)
    if spec is None:
        raise ValueError(f"{artifact} was not trained on a CSV series (no "
                         f"{artifact.name}.series.json beside it): give a .npy input")
    if spec.id_column is not None:
        return _forecast_many(artifact, spec, inputs, output, future_file)
    data = read_csv_columns(inputs, spec.column, spec.date_column, spec.past_covariates,
                            spec.future_covariates)
    future = data.future
    if future_file is not None:
        if not spec.future_covariates:
            raise ValueError(f"--future: {artifact} was fitted without future covariates")
        extra = read_csv_columns(future_file, spec.future_covariates[0], spec.date_column,
                                 [], spec.future_covariates[1:])
        extra_frame = extra.y.to_frame(spec.future_covariates[0])
        if extra.future is not None:
            extra_frame = extra_frame.join(extra.future)
        future = extra_frame if future is None else extra_frame.combine_first(future)
    forecaster = load(artifact)
    try:
        forecast = forecaster.predict(data.y, past_covariates=data.past,
                                      future_covariates=future)
    except ValueError as error:
        if "future_covariates" not in str(error):
            raise
        raise ValueError(f"{error} Give the future covariates {spec.future_covariates} "
                         f"of the forecast dates in rows after the last value of "
                         f"{spec.column!r} (its cell empty), or in --future FILE") from None
    frame = forecast.rename(columns={"prediction": spec.column})
    if isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.rename_axis(spec.date_column).reset_index()
        date_format = "%Y-%m-%d %H:%M:%S" if _has_time(frame[spec.date_column]) \
            else "%Y-%m-%d"
    else:
        frame = frame.rename_axis("step").reset_index()
        date_format = None
    text = frame.to_csv(index=False, date_format=date_format)
    if output is None:
        sys.stdout.write(text)
    else:
        Path(output).write_text(text)
    return 0


def _forecast_many(artifact: Path, spec: SeriesSpec, inputs: Path, output: Path | None,
                   future_file: Path | None) -> int:
    """The forecast of every series of a long CSV, as a long CSV."""
    if future_file is not None:
        raise ValueError(f"--future: {artifact} forecasts many series; give their future "
                         f"covariates in rows of {inputs} after each series' last value")
    data = read_long_csv(inputs, spec.id_column, spec.column, spec.date_column,
                         spec.past_covariates, spec.future_covariates)
    forecast = load(artifact).predict(data.y, past_covariates=data.past,
                                      future_covariates=data.future)
    text = write_forecast(forecast, spec)
    if output is None:
        sys.stdout.write(text)
    else:
        Path(output).write_text(text)
    return 0


def _has_time(dates: pd.Series) -> bool:
    """Whether dates hold times of day (hourly data), not only days."""
    return bool((dates != dates.dt.normalize()).any())
