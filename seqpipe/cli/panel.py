"""``seqpipe run csv --id-column COL``: one :class:`~seqpipe.forecasting.Forecaster`
learning every series of a long CSV (a row per series and date), scored per series
on the held-out last 15 % of the dates.

The dates are split in time for all series at once: the forecaster is fitted on the
first 85 % (choosing its candidate on the end of that part), then forecasts from every
origin of the last 15 %, each reading only the data up to itself
(:func:`~seqpipe.forecasting.backtest_fitted`). MASE is each series' own, averaged over
the series, beside the last value's and the seasonal-naive forecast's; with
``--levels``, the intervals' coverage and width.

Written to the output folder: ``metrics.json``, ``per_series.csv`` (the scores of each
series), ``validation_intervals.png`` (the first series' forecasts, intervals shaded),
``metric_curves.png`` (when the chosen model recorded epochs), the forecaster
(``pipeline.seqpipe`` and its ``.series.json``), with ``--backtest`` ``backtest.csv``;
a fresh process reloads the forecaster (``seqpipe predict`` on a CSV of the training
part) and must forecast the same values, bitwise.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqpipe import save
from seqpipe.cli.forecast import (
    VALIDATION_SIZE,
    SeriesRun,
    SeriesSpec,
    calendar_of,
    default_pool,
    write_spec,
)
from seqpipe.cli.run import metric_history
from seqpipe.forecasting import (
    Forecaster,
    backtest_fitted,
    from_long,
    summary,
)
from seqpipe.plotting import plot_history, plot_intervals

__all__ = ["PanelData", "read_long_csv", "run_panel", "write_forecast"]


@dataclass(frozen=True)
class PanelData:
    """Many series (wide: a column per series) and their covariates (a dict by series),
    read from a long CSV; ``table`` is the file as read."""

    y: pd.DataFrame
    past: dict[Any, pd.DataFrame] | None
    future: dict[Any, pd.DataFrame] | None
    table: pd.DataFrame


def read_long_csv(path: Path, id_column: str, column: str, date_column: str,
                  past_covariates: list[str], future_covariates: list[str]) -> PanelData:
    """The series and covariates of a long CSV; ValueError naming the file and what is
    wrong. Rows after a series' last value may leave its value empty: they hold the
    future covariates of its forecast."""
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: cannot read it as CSV ({error})") from None
    try:
        y = from_long(table, id_column, date_column, column)
        covariates = {name: from_long(table, id_column, date_column, name)
                      for name in [*past_covariates, *future_covariates]}
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    observed = y.notna().any(axis=1).to_numpy()
    y = y.iloc[:len(y) - int(np.argmax(observed[::-1]))]

    def per_series(names: list[str]) -> dict[Any, pd.DataFrame] | None:
        if not names:
            return None
        return {series: pd.DataFrame({name: covariates[name][series] for name in names})
                .dropna() for series in y.columns}

    return PanelData(y, per_series(past_covariates), per_series(future_covariates), table)


def build_panel_forecaster(run: SeriesRun, index: pd.Index) -> Forecaster:
    """The run's Forecaster: its default candidates, the GRU sized by the command's
    options."""
    return Forecaster(run.horizon, window_past=run.window_past or "auto",
                      season=run.season or "auto", candidates=default_pool(run),
                      calendar=calendar_of(run, index), levels=run.levels,
                      validation_size=VALIDATION_SIZE, random_state=run.random_state)


def run_panel(run: SeriesRun, output: Path) -> int:
    """Train, report, plot, save and check a fresh-process reload; the exit status."""
    data = read_long_csv(run.data, run.id_column, run.column, run.date_column,
                         run.past_covariates, run.future_covariates)
    y = data.y
    n = len(y)
    n_train = n - math.ceil(VALIDATION_SIZE * n)
    print(f"csv: {run.column} of {y.shape[1]} series ({run.id_column}) from {run.data}: "
          f"{n} dates; training on the first {n_train}, validating on the last "
          f"{n - n_train} (forecasts of {run.horizon} from every origin)", flush=True)
    covariates = {"past_covariates": data.past, "future_covariates": data.future}
    forecaster = build_panel_forecaster(run, y.index)
    start = time.perf_counter()
    forecaster.fit(y.iloc[:n_train], **_before(covariates, y.index[n_train - 1]))
    seconds = time.perf_counter() - start
    for name, score in forecaster.candidate_scores_.items():
        reason = forecaster.candidate_errors_.get(name)
        print(f"candidate {name}: " + (f"left out: {reason}" if reason else
                                       f"scaled MSE {score:.4g} on the last 15% of the "
                                       f"training part"), flush=True)
    frame = backtest_fitted(forecaster, y, start=n_train - 1, step=1, **covariates)
    metrics = _metrics(run, forecaster, frame, n_train, n)
    metrics["fit_seconds"] = round(seconds, 2)
    print(f"chose {forecaster.best_candidate_} (season {forecaster.season_}, windows of "
          f"{forecaster.window_past_} past values); trained in {seconds:.1f} s")
    print(f"validation MASE {metrics['mase']:.4g} (averaged over {y.shape[1]} series): last "
          f"value {metrics['baselines']['last_value_mase']:.4g}, seasonal naive "
          f"{metrics['baselines'].get('seasonal_naive_mase', float('nan')):.4g}")
    for level, interval in metrics["intervals"].items():
        print(f"{level} % intervals: cover {interval['coverage']:.1%} of the validation "
              f"values, {interval['mean_width']:.4g} wide on average")
    return _write(run, forecaster, data, frame, metrics, n_train, output)


def _before(covariates: dict, last: Any) -> dict:
    """The covariates up to ``last`` (what fit on the training part may read)."""
    return {kind: None if value is None else {series: frame.loc[:last] for series, frame
                                               in value.items()}
            for kind, value in covariates.items()}


def _metrics(run: SeriesRun, forecaster: Forecaster, frame: pd.DataFrame, n_train: int,
             n: int) -> dict[str, Any]:
    overall = summary(frame).loc["overall"]
    intervals = {f"{level:g}": {"coverage": float(overall[f"coverage_{level:g}"]),
                                "mean_width": float(overall[f"width_{level:g}"])}
                 for level in forecaster.levels_}
    return {
        "task": run.task, "column": run.column, "id_column": run.id_column,
        "n_series": len(forecaster.series_), "chosen": forecaster.best_candidate_,
        "candidates": {name: {"selection_scaled_mse": score}
                       for name, score in forecaster.candidate_scores_.items()},
        "left_out": forecaster.candidate_errors_, "season": forecaster.season_,
        "window_past": forecaster.window_past_, "window_future": run.horizon,
        "n_train": n_train, "n_validation": n - n_train,
        "mase": float(overall["mase"]), "mae": float(overall["mae"]),
        "baselines": {key: float(overall[key]) for key in
                      ("last_value_mase", "seasonal_naive_mase") if key in overall},
        "intervals": intervals,
        "covariates": {"past": run.past_covariates, "future": run.future_covariates,
                       "calendar": [] if forecaster.calendar_ is None
                       else list(forecaster.calendar_.feature_names_out_)},
    }


def _write(run: SeriesRun, forecaster: Forecaster, data: PanelData, frame: pd.DataFrame,
           metrics: dict, n_train: int, output: Path) -> int:
    output.mkdir(parents=True, exist_ok=True)
    per_series = summary(frame, per_series=True)
    per_series.to_csv(output / "per_series.csv")
    written = [output / "per_series.csv",
               plot_intervals(frame, output / "validation_intervals.png", max_series=3,
                              title=f"csv: {run.column}, 1 step ahead")]
    history = metric_history(forecaster.pipeline_)
    if history:
        written.append(plot_history(history, output / "metric_curves.png",
                                    title="csv: metric curves"))
    if run.backtest:
        frame.to_csv(output / "backtest.csv", index=False)
        written.append(output / "backtest.csv")
    artifact = output / "pipeline.seqpipe"
    save(forecaster, artifact)
    spec = SeriesSpec(run.column, run.date_column, run.past_covariates,
                      run.future_covariates, id_column=run.id_column)
    written += [artifact, write_spec(artifact, spec)]
    (output / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    written.append(output / "metrics.json")
    print("wrote " + ", ".join(map(str, written)))
    return _check_reload(forecaster, data, spec, n_train, artifact, output)


def write_forecast(forecast: pd.DataFrame, spec: SeriesSpec) -> str:
    """A many-series forecast as long CSV text: id, date, value, then the bounds."""
    frame = forecast.rename(columns={"prediction": spec.column}).rename_axis(
        [spec.id_column, spec.date_column]).reset_index()
    return frame.to_csv(index=False)


def _check_reload(forecaster: Forecaster, data: PanelData, spec: SeriesSpec, n_train: int,
                  artifact: Path, output: Path) -> int:
    """Forecast after the training part here and in a fresh process (``seqpipe predict``
    on a long CSV of it): the values must be identical."""
    last = data.y.index[n_train - 1]
    training_part = _training_part(data, spec, last, forecaster.horizon)
    training_part.to_csv(output / "training_part.csv", index=False)
    expected = forecaster.predict(data.y.iloc[:n_train], future_covariates=data.future,
                                  **_before({"past_covariates": data.past}, last))
    reloaded = output / "forecast_reloaded.csv"
    subprocess.run([sys.executable, "-m", "seqpipe", "predict", str(artifact),
                    str(output / "training_part.csv"), "--out", str(reloaded)], check=True)
    written = pd.read_csv(reloaded, float_precision="round_trip")[spec.column].to_numpy()
    identical = np.array_equal(written, expected["prediction"].to_numpy())
    print("reloaded in a fresh process: forecasts "
          + ("identical (bitwise)" if identical else "DIFFER"))
    return 0 if identical else 1


def _training_part(data: PanelData, spec: SeriesSpec, last: Any, horizon: int
                   ) -> pd.DataFrame:
    """The long table's rows up to ``last``, and with future covariates the rows of the
    forecast's dates after it (their target and past covariates empty)."""
    table = data.table
    dates = pd.to_datetime(table[spec.date_column]) if not pd.api.types.is_integer_dtype(
        table[spec.date_column]) else table[spec.date_column]
    index = data.y.index
    end = index[min(index.get_loc(last) + horizon, len(index) - 1)] if spec.future_covariates \
        else last
    part = table[dates <= end].copy()
    after = (dates[dates <= end] > last).to_numpy()
    part.loc[after, [spec.column, *spec.past_covariates]] = np.nan
    return part
