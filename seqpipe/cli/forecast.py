"""``seqpipe run csv`` and ``seqpipe run stock``: a :class:`~seqpipe.forecasting.Forecaster`
on a column of a CSV (and its covariate columns), scored on the held-out last 15 %.

The series is split in time: the forecaster is fitted on the first 85 % (it chooses its
candidate on the end of that part, never on the validation part), then forecasts from
every origin of the last 15 % (each reading only the data up to itself), scored beside
predicting zero, the last value, the seasonal-naive forecast and a linear
autoregression on the same origins. ``csv`` chooses among the forecaster's default
candidates (the command's ``--epochs`` and friends size the GRU); ``stock`` trains seed
002's LSTM (:func:`seqpipe.pipelines.stock_pipeline`) as the forecaster's only
candidate.

Written to the output folder: ``metrics.json``, ``validation_predictions.png``,
``metric_curves.png`` (when the model recorded its epochs), with ``--levels``
``validation_intervals.png`` (the forecasts with their intervals shaded), the forecaster
(``pipeline.seqpipe``, with ``pipeline.seqpipe.series.json``: the columns
``seqpipe predict`` reads), with ``--backtest`` ``backtest.csv`` and
``backtest_errors.png``; a fresh process reloads the forecaster and must forecast the
same values, bitwise.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqpipe import save
from seqpipe.cli.run import metric_history
from seqpipe.datasets import load_btc_usd_eur, load_csv_series
from seqpipe.forecasting import (
    CalendarFeatures,
    Forecaster,
    LastValue,
    SeasonalNaive,
    TargetWindows,
    backtest,
    backtest_fitted,
    make_windows,
    summary,
)
from seqpipe.forecasting.candidates import default_candidates
from seqpipe.pipeline import Pipeline
from seqpipe.plotting import plot_errors_by_step, plot_history, plot_intervals, plot_predictions

__all__ = ["SERIES_TASKS", "SeriesRun", "SeriesSpec", "load_series", "read_csv_columns",
           "read_spec", "run_series"]

VALIDATION_SIZE = 0.15
SPEC_SUFFIX = ".series.json"

#: The series tasks of ``seqpipe run`` besides the generated exercises.
SERIES_TASKS = {
    "stock": "seed 002: LSTM, next closing price from the last 30 (linear trend removed, "
             "optional CPI deflation); --data FILE.csv, else the shipped BTC USD closes",
    "csv": "your own series: --data FILE.csv --column NAME [covariates] (many series: "
           "--id-column COL); Ridge autoregressions, a seq2seq GRU and the baselines, "
           "chosen on the training part",
}

_NAMES = {"zero_mse": "predict zero", "last_value_mse": "last value",
          "seasonal_naive_mse": "seasonal naive", "linear_ar_mse": "linear AR"}


@dataclass
class SeriesRun:
    """The options of one ``run stock`` / ``run csv``."""

    task: str
    column: str
    date_column: str | None
    data: Path | None = None
    past_covariates: list[str] = field(default_factory=list)
    future_covariates: list[str] = field(default_factory=list)
    calendar: bool = True
    country: str | None = None
    cpi: Path | None = None
    cpi_column: str | None = None
    window_past: int | None = None
    horizon: int = 1
    season: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    hidden_dim: int | None = None
    learning_rate: float | None = None
    random_state: int = 0
    quiet: bool = False
    backtest: bool = False
    levels: tuple[float, ...] = ()
    id_column: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SeriesSpec:
    """What ``seqpipe predict`` reads from a CSV: written beside the forecaster."""

    column: str
    date_column: str | None
    past_covariates: list[str]
    future_covariates: list[str]
    id_column: str | None = None


@dataclass(frozen=True)
class SeriesData:
    """A target series and its covariates (which may run past its end)."""

    y: pd.Series
    past: pd.DataFrame | None
    future: pd.DataFrame | None
    source: str


# ---------------------------------------------------------------------------- reading
def read_csv_columns(path: Path, column: str, date_column: str | None,
                     past_covariates: list[str], future_covariates: list[str]) -> SeriesData:
    """The target column and the covariate columns of a CSV.

    Rows after the last target value may leave the target empty: they hold the future
    covariates of the forecast. A target missing before its last value, or a problem
    with any column, is a ValueError naming the file, the column and the line.
    """
    covariates = [*past_covariates, *future_covariates]
    target = load_csv_series(path, column, date_column, gaps="ignore",
                             missing="drop" if covariates else "error")
    y = target.to_series()
    frames = {name: load_csv_series(path, name, date_column, gaps="ignore",
                                    missing="drop").to_series() for name in covariates}
    if not frames:
        return SeriesData(y, None, None, str(path))
    table = pd.concat(frames.values(), axis=1, keys=frames.keys())
    if date_column is None:  # the file's order: the covariates' rows are the target's
        table.index = pd.RangeIndex(len(table))
    rows = table.index[table.index <= y.index[-1]]
    absent = rows[~rows.isin(y.index)]
    if len(absent):
        raise ValueError(f"{path}: column {column!r} has no value at {absent[0]} (and "
                         f"{len(absent) - 1} more) before its last value; only the rows "
                         f"after it may leave it empty (they hold the covariates of the "
                         f"forecast).")
    return SeriesData(y, table[past_covariates] if past_covariates else None,
                      table[future_covariates] if future_covariates else None, str(path))


def load_series(run: SeriesRun) -> SeriesData:
    """The run's series: the user's CSV (optionally deflated by a CPI CSV), or the
    shipped BTC USD closes."""
    if run.data is None:
        prices = load_btc_usd_eur()["close_usd"]
        data = SeriesData(prices.rename("close_usd"), None, None, "the shipped BTC USD daily "
                          "closes (seqpipe.datasets.load_btc_usd_eur)")
    else:
        data = read_csv_columns(run.data, run.column, run.date_column, run.past_covariates,
                                run.future_covariates)
    if run.cpi is None:
        return data
    if not isinstance(data.y.index, pd.DatetimeIndex):
        raise ValueError("--cpi needs dates: pass --date-column to align the prices with "
                         "the price index by date.")
    from seqpipe.pipelines.stock import deflate_by_cpi  # Keras (seqpipe.pipelines)

    real = deflate_by_cpi(data.y, _read_cpi(run.cpi, run.cpi_column))
    return SeriesData(real, data.past, data.future, f"{data.source} / CPI ({run.cpi})")


def _read_cpi(path: Path, column: str | None) -> pd.Series:
    """A CPI CSV: a date column first (or named DATE/date), the index in ``column`` (or
    the second column)."""
    header = pd.read_csv(path, nrows=0).columns.tolist()
    if len(header) < 2:
        raise ValueError(f"{path}: a CPI file needs a date column and a value column; "
                         f"the columns are {header}.")
    date_column = next((c for c in header if c.lower() == "date"), header[0])
    value_column = column or next(c for c in header if c != date_column)
    return load_csv_series(path, value_column, date_column, gaps="ignore").to_series()


def write_spec(artifact: Path, spec: SeriesSpec) -> Path:
    """Write ``spec`` beside ``artifact`` (``<artifact>.series.json``)."""
    path = artifact.with_name(artifact.name + SPEC_SUFFIX)
    path.write_text(json.dumps(asdict(spec), indent=2) + "\n")
    return path


def read_spec(artifact: Path) -> SeriesSpec | None:
    """The spec written beside ``artifact``, or None."""
    path = artifact.with_name(artifact.name + SPEC_SUFFIX)
    if not path.is_file():
        return None
    return SeriesSpec(**json.loads(path.read_text()))


# ---------------------------------------------------------------------------- the model
def build_forecaster(run: SeriesRun, data: SeriesData) -> Forecaster:
    """The run's Forecaster. ``csv``: the forecaster's default candidates, the GRU sized
    by the command's options. ``stock``: seed 002's LSTM alone."""
    if run.task == "stock":
        window_past = run.window_past or 30
        return Forecaster(1, window_past=window_past, season=run.season,
                          candidates={"stock_lstm": _stock_candidate(run, window_past)},
                          calendar=False, validation_size=VALIDATION_SIZE,
                          random_state=run.random_state)
    return Forecaster(run.horizon, window_past=run.window_past or "auto",
                      season=run.season or "auto", candidates=default_pool(run),
                      calendar=calendar_of(run, data.y.index), levels=run.levels,
                      validation_size=VALIDATION_SIZE, random_state=run.random_state)


def default_pool(run: SeriesRun) -> Any:
    """The forecaster's default candidates, the GRU sized by the command's options."""
    gru = {key: value for key, value in (
        ("epochs", run.epochs), ("hidden_dim", run.hidden_dim),
        ("learning_rate", run.learning_rate), ("batch_size", run.batch_size))
        if value is not None}
    return partial(default_candidates, gru=gru)


def calendar_of(run: SeriesRun, index: pd.Index) -> CalendarFeatures | bool:
    """The calendar features the run asks for (none without dates)."""
    if not run.calendar or not isinstance(index, pd.DatetimeIndex):
        return False
    return CalendarFeatures(country=run.country)


def _ridge(alpha: float) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(alpha=alpha)


def _stock_candidate(run: SeriesRun, window_past: int) -> Pipeline:
    """Seed 002's pipeline with the run's options, reading the forecaster's windows."""
    from seqpipe.pipelines import stock_pipeline  # Keras

    options = {"epochs": run.epochs, "batch_size": run.batch_size, "units": run.hidden_dim,
               "learning_rate": run.learning_rate}
    pipeline = stock_pipeline(window_size_past=window_past, random_state=run.random_state,
                              **{key: value for key, value in options.items()
                                 if value is not None})
    return Pipeline([("targetwindows", TargetWindows()), *pipeline.steps[1:]])


# ---------------------------------------------------------------------------- the run
def run_series(run: SeriesRun, output: Path) -> int:
    """Train, report, plot, save and check a fresh-process reload; the exit status."""
    data = load_series(run)
    n = len(data.y)
    n_validation = math.ceil(VALIDATION_SIZE * n)
    n_train = n - n_validation
    if n_validation < run.horizon:
        raise ValueError(f"the series has {n} time steps: its last {VALIDATION_SIZE:.0%} "
                         f"({n_validation}) cannot hold a forecast of {run.horizon}.")
    forecaster = build_forecaster(run, data)
    print(f"{run.task}: {run.column} from {data.source}: {n} time steps; training on the "
          f"first {n_train}, validating on the last {n_validation} (forecasts of "
          f"{run.horizon} from every origin; the forecaster chooses its model on its own "
          f"training part)", flush=True)
    for note in run.notes:
        print(note, flush=True)
    covariates = {"past_covariates": data.past, "future_covariates": data.future}
    start = time.perf_counter()
    forecaster.fit(data.y.iloc[:n_train], **covariates)
    seconds = time.perf_counter() - start
    for name, score in forecaster.candidate_scores_.items():
        reason = forecaster.candidate_errors_.get(name)
        print(f"candidate {name}: " + (f"left out: {reason}" if reason else
                                       f"MSE {score:.6g} on the last 15% of the training "
                                       f"part"), flush=True)
    if run.task == "csv":
        how = "given" if run.season else ("detected on the training part"
                                          if forecaster.season_ else "none found")
        print(f"season: {forecaster.season_ or '-'} ({how})")
    print(f"chose {forecaster.best_candidate_}; refitted on the whole training part "
          f"(windows of {forecaster.window_past_} past values)", flush=True)
    metrics = _scores(run, forecaster, data, n_train, covariates)
    metrics.update(fit_seconds=round(seconds, 2), data=data.source)
    print(f"trained in {seconds:.1f} s\n{_table(metrics)}")
    for level, interval in metrics["intervals"].items():
        print(f"{level} % intervals: cover {interval['coverage']:.1%} of the validation "
              f"values, {interval['mean_width']:.6g} wide on average")
    return _write(run, forecaster, data, metrics, covariates, output)


def _scores(run: SeriesRun, forecaster: Forecaster, data: SeriesData, n_train: int,
            covariates: dict) -> dict[str, Any]:
    """The model's and the baselines' MSE on the training and the validation origins."""
    n, horizon, past = len(data.y), run.horizon, forecaster.window_past_
    linear_ar = Forecaster(horizon, window_past=past, season=None, calendar=False,
                           candidates={"linear-ar": _ridge(1.0)}).fit(data.y.iloc[:n_train])
    parts = {"train": np.arange(past - 1, n_train - horizon),
             "validation": np.arange(n_train - 1, n - horizon)}
    scores: dict[str, Any] = {}
    for part, origins in parts.items():
        X, y = make_windows(data.y.to_numpy()[:, None], origins, window_past=past,
                            horizon=horizon, n_known_ahead=0, with_targets=True)
        predicted = forecaster.predict_origins(data.y, origins, **covariates)
        scores[f"{part}_mse"] = _mse(y, predicted)
        baselines = {"zero_mse": _mse(y, 0.0),
                     "last_value_mse": _mse(y, LastValue().fit(X, y).predict(X))}
        if forecaster.season_ is not None and forecaster.season_ <= past:
            baselines["seasonal_naive_mse"] = _mse(
                y, SeasonalNaive(forecaster.season_).fit(X, y).predict(X))
        baselines["linear_ar_mse"] = _mse(y, linear_ar.predict_origins(data.y, origins))
        scores["baselines" if part == "validation" else "train_baselines"] = baselines
        if part == "validation":
            scores["_validation"] = (X[:, :past], y, predicted)
            scores["intervals"] = _coverage(y, predicted, forecaster.interval_widths_)
    scores.update(
        task=run.task, column=run.column, chosen=forecaster.best_candidate_,
        candidates={name: {"selection_mse": score} for name, score
                    in forecaster.candidate_scores_.items()},
        left_out=forecaster.candidate_errors_, season=forecaster.season_,
        window_past=past, window_future=horizon, n_train=n_train,
        n_validation=n - n_train, gap=0,
        covariates={"past": run.past_covariates, "future": run.future_covariates,
                    "calendar": [] if forecaster.calendar_ is None
                    else list(forecaster.calendar_.feature_names_out_)})
    return scores


def _coverage(y: np.ndarray, predicted: np.ndarray, widths: dict) -> dict[str, dict]:
    """Each level's coverage of ``y`` and mean width, on the validation forecasts."""
    return {f"{level:g}": {"coverage": float(np.mean(np.abs(y - predicted) <= width)),
                           "mean_width": float(2 * np.mean(width))}
            for level, width in widths.items()}


def _mse(y_true: np.ndarray, y_pred: Any) -> float:
    return float(np.mean((np.asarray(y_true, np.float64) - y_pred) ** 2))


def _table(metrics: dict[str, Any]) -> str:
    rows = [f"{'MSE':<22}{'train':>14}{'validation':>14}",
            f"{'model (' + metrics['chosen'] + ')':<22}{metrics['train_mse']:>14.6g}"
            f"{metrics['validation_mse']:>14.6g}"]
    for key, value in metrics["baselines"].items():
        name = _NAMES[key] + (f" ({metrics['season']})" if key.startswith("seasonal") else "")
        train = metrics["train_baselines"].get(key, float("nan"))
        rows.append(f"{name:<22}{train:>14.6g}{value:>14.6g}")
    best_key = min(metrics["baselines"], key=metrics["baselines"].get)
    best = metrics["baselines"][best_key]
    ratio = metrics["validation_mse"] / best if best > 0 else float("inf")
    last = metrics["baselines"]["last_value_mse"]
    rows.append(f"validation MSE {metrics['validation_mse']:.6g}: {ratio:.3g}x the best "
                f"baseline's ({_NAMES[best_key]}, {best:.6g}); "
                f"{metrics['validation_mse'] / last:.3g}x last value's")
    return "\n".join(rows)


def _write(run: SeriesRun, forecaster: Forecaster, data: SeriesData, metrics: dict,
           covariates: dict, output: Path) -> int:
    output.mkdir(parents=True, exist_ok=True)
    X_val, y_val, predicted = metrics.pop("_validation")
    shape = (len(y_val), run.horizon, 1)
    written = [plot_predictions(X_val, np.reshape(y_val, shape), np.reshape(predicted, shape),
                                output / "validation_predictions.png",
                                title=f"{run.task}: validation predictions")]
    history = metric_history(forecaster.pipeline_)
    if history:
        written.append(plot_history(history, output / "metric_curves.png",
                                    title=f"{run.task}: metric curves"))
    if forecaster.levels_:
        frame = backtest_fitted(forecaster, data.y, start=metrics["n_train"] - 1, step=1,
                                **covariates)
        written.append(plot_intervals(frame, output / "validation_intervals.png",
                                      title=f"{run.task}: {run.column}, 1 step ahead"))
    if run.backtest:
        written += _backtest(run, forecaster, data, metrics["n_train"], covariates, output)
    artifact = output / "pipeline.seqpipe"
    save(forecaster, artifact)
    spec = SeriesSpec(run.column, run.date_column if run.data is not None else "date",
                      run.past_covariates, run.future_covariates)
    written += [artifact, write_spec(artifact, spec)]
    (output / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    written.append(output / "metrics.json")
    print("wrote " + ", ".join(map(str, written)))
    return _check_reload(run, forecaster, data, spec, metrics["n_train"], artifact, output)


def _backtest(run: SeriesRun, forecaster: Forecaster, data: SeriesData, n_train: int,
              covariates: dict, output: Path) -> list[Path]:
    """Historical forecasts from every ``horizon``-th origin of the validation part."""
    frame = backtest(forecaster, data.y, start=n_train - 1, **covariates)
    table = summary(frame)
    frame.to_csv(output / "backtest.csv", index=False)
    overall = table.loc["overall"]
    print(f"backtest: {frame['origin'].nunique()} origins from {frame['origin'].iloc[0]}; "
          f"MAE {overall['mae']:.6g} (last value {overall['last_value_mae']:.6g}), MASE "
          f"{overall['mase']:.4g}")
    return [output / "backtest.csv", plot_errors_by_step(
        table, output / "backtest_errors.png", title=f"{run.task}: backtest errors")]


def _check_reload(run: SeriesRun, forecaster: Forecaster, data: SeriesData, spec: SeriesSpec,
                  n_train: int, artifact: Path, output: Path) -> int:
    """Forecast after the training part here and in a fresh process (``seqpipe predict``
    on a CSV of it): the values must be identical."""
    history = _history_csv(data, spec, n_train, run.horizon)
    history.to_csv(output / "training_part.csv", index=False)
    expected = forecaster.predict(
        data.y.iloc[:n_train], past_covariates=data.past,
        future_covariates=data.future)["prediction"].to_numpy()
    reloaded = output / "forecast_reloaded.csv"
    subprocess.run([sys.executable, "-m", "seqpipe", "predict", str(artifact),
                    str(output / "training_part.csv"), "--out", str(reloaded)], check=True)
    written = pd.read_csv(reloaded, float_precision="round_trip")[spec.column].to_numpy()
    identical = np.array_equal(written, expected)
    print("reloaded in a fresh process: forecasts "
          + ("identical (bitwise)" if identical else "DIFFER"))
    return 0 if identical else 1


def _history_csv(data: SeriesData, spec: SeriesSpec, n_train: int, horizon: int
                 ) -> pd.DataFrame:
    """The training part as a CSV table, with the rows of the forecast's future
    covariates after it (their target empty)."""
    index = data.y.index[:n_train + horizon] if data.future is not None \
        else data.y.index[:n_train]
    table = pd.DataFrame({spec.column: data.y.reindex(index)}, index=index)
    table.iloc[n_train:, 0] = np.nan
    for frame in (data.past, data.future):
        if frame is not None:
            table = table.join(frame.reindex(index))
    if data.past is not None:
        table.loc[table.index[n_train:], list(data.past.columns)] = np.nan
    if spec.date_column is not None and isinstance(index, pd.DatetimeIndex):
        return table.rename_axis(spec.date_column).reset_index()
    return table.reset_index(drop=True)
