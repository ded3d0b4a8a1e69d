"""``seqpipe run stock`` and ``seqpipe run csv``: train on one column of a series, report
the scores beside naive baselines, plot, save.

``stock`` trains seed 002's :func:`seqpipe.pipelines.stock_pipeline`. ``csv`` chooses
between two candidates built from seqpipe's steps, each fitted on the first 85 % of
the training part and scored on the rest (time-ordered, training data only):

- ``gru``: ``Windower -> MeanStdNormalizer(per_sample) -> seq2seq GRU``, trained epoch
  by epoch under ``EpochRepeater(ValidationSplit(...))``, which stops when its own
  inner validation part stops improving and puts back the best epoch's weights;
- ``ridge-alpha-A`` for A in 1, 10, 100: ``Windower -> WindowDetrender(detrend=False)
  -> MeanStdNormalizer -> Ridge(alpha=A)``, a linear autoregression on the window
  (relative to its last value; the larger alpha, the closer to repeating the last
  value, which suits a random walk).

The chosen one is refitted on the whole training part and scored on the held-out
last 15 %. Both commands report train and validation MSE beside predicting zero, the
last value, the seasonal-naive forecast (when a season is given or detected on the
training part) and the linear autoregression.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.preprocessing import FunctionTransformer

from seqpipe import Pipeline, save
from seqpipe._cli_baselines import mse, regression_baselines
from seqpipe._cli_series import (
    Series,
    SeriesSpec,
    detect_season,
    seasonal_naive,
    split_series,
    write_spec,
)
from seqpipe.plotting import plot_history, plot_predictions
from seqpipe.steps import (
    EpochRepeater,
    MeanStdNormalizer,
    MetricsWrapper,
    ToNumpy,
    ValidationSplit,
    Windower,
)

__all__ = ["SeriesRun", "candidates", "metric_history", "ridge_pipeline", "run_series"]

_NAMES = {"zero_mse": "predict zero", "last_value_mse": "last value",
          "seasonal_naive_mse": "seasonal naive", "linear_ar_mse": "linear AR"}


@dataclass
class SeriesRun:
    """The options of one ``run stock`` / ``run csv``."""

    task: str
    window_past: int
    window_future: int
    season: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    hidden_dim: int | None = None
    learning_rate: float | None = None
    random_state: int = 0
    quiet: bool = False
    spec: SeriesSpec | None = None
    notes: list[str] = field(default_factory=list)


RIDGE_ALPHAS = (1.0, 10.0, 100.0)


def ridge_pipeline(window_past: int, window_future: int, alpha: float = 10.0) -> Pipeline:
    """A linear autoregression on the window: ``Ridge(alpha)`` on the window relative to
    its last value (normalized), predicting the next ``window_future`` values."""
    from seqpipe.pipelines.stock import WindowDetrender  # Keras (seqpipe.pipelines)

    flatten = FunctionTransformer(np.reshape, kw_args={"shape": (-1, window_past)})
    return Pipeline([Windower(window_past, window_future), WindowDetrender(detrend=False),
                     MeanStdNormalizer(normalize_y=False), flatten, Ridge(alpha=alpha)])


def gru_pipeline(run: SeriesRun, verbose: int) -> Any:
    """The seq2seq GRU candidate with early stopping on a time-ordered inner part."""
    from seqpipe.models import seq2seq_gru  # Keras
    from seqpipe.steps.keras_model import KerasModelStep  # Keras

    model = Pipeline([
        Windower(run.window_past, run.window_future),
        MeanStdNormalizer(per_sample=True),
        ToNumpy(),
        KerasModelStep(seq2seq_gru, hidden_dim=run.hidden_dim or 32, layers_stacked_count=1,
                       lambda_loss_amount=0.0, learning_rate=run.learning_rate or 3e-3,
                       batch_size=run.batch_size or 64, epochs=1,
                       random_state=run.random_state),
    ])
    return EpochRepeater(
        ValidationSplit(MetricsWrapper(model, name="epoch_metrics"), validation_size=0.15,
                        patience=4, restore_best_weights=True),
        epochs=run.epochs or 30, verbose=verbose)


def stock_candidate(run: SeriesRun, verbose: int) -> Any:
    """Seed 002's pipeline with the run's options."""
    from seqpipe.pipelines import stock_pipeline

    options = {"epochs": run.epochs, "batch_size": run.batch_size, "units": run.hidden_dim,
               "learning_rate": run.learning_rate}
    return stock_pipeline(window_size_past=run.window_past, random_state=run.random_state,
                          verbose=verbose,
                          **{key: value for key, value in options.items() if value is not None})


def candidates(run: SeriesRun, verbose: int) -> dict[str, Any]:
    """The unfitted candidates of ``run.task``, by name."""
    if run.task == "stock":
        return {"stock_lstm": stock_candidate(run, verbose)}
    ridges = {f"ridge-alpha-{alpha:g}": ridge_pipeline(run.window_past, run.window_future,
                                                       alpha) for alpha in RIDGE_ALPHAS}
    return {"gru": gru_pipeline(run, verbose), **ridges}


def _windows(series: np.ndarray, run: SeriesRun) -> tuple[np.ndarray, np.ndarray]:
    return Windower(run.window_past, run.window_future).fit(series).resample(series)


def _validation_mse(pipeline: Any, series: np.ndarray) -> float:
    y_true, y_pred = pipeline.predict_with_truth(series)
    return mse(y_true, y_pred)


def _select(run: SeriesRun, train: np.ndarray, verbose: int) -> tuple[str, Any, dict]:
    """Fit every candidate on the first 85 % of ``train``, score on the rest; the best
    one refitted on all of ``train``, and every candidate's selection score."""
    pool = candidates(run, verbose)
    if len(pool) == 1:
        name, pipeline = next(iter(pool.items()))
        return name, pipeline.fit(train), {}
    inner_train, inner_validation = split_series(len(train), run.window_past,
                                                 run.window_future)
    scores: dict[str, dict[str, float]] = {}
    fitted: dict[str, Any] = {}
    for name, pipeline in pool.items():
        start = time.perf_counter()
        fitted[name] = clone(pipeline).fit(train[inner_train])
        scores[name] = {"selection_mse": _validation_mse(fitted[name],
                                                         train[inner_validation]),
                        "fit_seconds": round(time.perf_counter() - start, 2)}
        print(f"candidate {name}: MSE {scores[name]['selection_mse']:.6g} on the last "
              f"15% of the training part", flush=True)
    chosen = min(scores, key=lambda name: scores[name]["selection_mse"])
    print(f"chose {chosen}; refitting it on the whole training part", flush=True)
    return chosen, pool[chosen].fit(train), scores


def _baselines(run: SeriesRun, series: np.ndarray, part: slice, first_target: int,
               linear_ar: Any) -> dict[str, float]:
    """The naive forecasts' MSE on the windows of ``series[part]``."""
    X, y = _windows(series[part], run)
    scores = regression_baselines(X, y)
    if run.season is not None:
        starts = first_target + np.arange(len(X))
        if starts[0] - run.season >= 0:
            scores["seasonal_naive_mse"] = mse(
                y, seasonal_naive(series, starts, run.window_future, run.season))
    y_true, y_pred = linear_ar.predict_with_truth(series[part])
    scores["linear_ar_mse"] = mse(y_true, y_pred)
    return scores


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
    rows.append(f"validation MSE {metrics['validation_mse']:.6g}: {ratio:.3g}x the best "
                f"baseline's ({_NAMES[best_key]}, {best:.6g}); "
                f"{metrics['validation_mse'] / metrics['baselines']['last_value_mse']:.3g}x "
                f"last value's")
    return "\n".join(rows)


def metric_history(pipeline: Any) -> dict:
    """Metric curves: the recorders' history, else the Keras step's loss per epoch."""
    history = getattr(pipeline, "history_", None)
    if isinstance(history, dict) and any(h.get("train") for h in history.values()
                                         if isinstance(h, dict)):
        return history
    steps = getattr(pipeline, "named_steps", {})
    keras_step = steps.get("kerasmodelstep") if hasattr(steps, "get") else None
    losses = getattr(keras_step, "history_", None) or {}
    if losses.get("loss"):
        return {"keras": {"train": {"loss (normalized units)": list(losses["loss"])},
                          "validation": {}}}
    return {}


def run_series(run: SeriesRun, series: Series, output: Path) -> int:
    """Train, report, plot, save and check a fresh-process reload; the exit status."""
    values = series.values
    train_part, validation_part = split_series(len(values), run.window_past,
                                               run.window_future)
    train = values[train_part]
    season_source = "given"
    if run.season is None:
        run.season = detect_season(train)
        season_source = "detected on the training part" if run.season else "none found"
    if run.season is not None and run.season > len(train) // 2:
        raise ValueError(f"--season {run.season} is longer than half the training part "
                         f"({len(train)} time steps)")
    n_train = train_part.stop
    n_validation = len(values) - n_train
    print(f"{run.task}: {series.column} from {series.source}: {len(values)} time steps; "
          f"training on the first {n_train}, validating on the last {n_validation} "
          f"(windows of {run.window_past} past -> {run.window_future} future values; "
          f"the series is split before windowing, so no gap is needed); season: "
          f"{run.season or '-'} ({season_source})", flush=True)
    for note in run.notes:
        print(note, flush=True)

    verbose = 0 if run.quiet else (1 if sys.stdout.isatty() else 2)
    start = time.perf_counter()
    chosen, pipeline, scores = _select(run, train, verbose)
    seconds = time.perf_counter() - start
    _quiet(pipeline)
    linear_ar = ridge_pipeline(run.window_past, run.window_future).fit(train)

    validation_input = values[validation_part]
    metrics: dict[str, Any] = {
        "task": run.task, "data": series.source, "column": series.column,
        "chosen": chosen, "candidates": scores,
        "train_mse": _validation_mse(pipeline, train),
        "validation_mse": _validation_mse(pipeline, validation_input),
        "baselines": _baselines(run, values, validation_part, n_train, linear_ar),
        "train_baselines": _baselines(run, values, train_part, run.window_past, linear_ar),
        "season": run.season, "season_source": season_source,
        "window_past": run.window_past, "window_future": run.window_future,
        "n_train": n_train, "n_validation": n_validation, "gap": 0,
        "fit_seconds": round(seconds, 2),
    }
    print(f"trained in {seconds:.1f} s\n{_table(metrics)}")
    return _write(run, pipeline, metrics, validation_input, output)


def _quiet(pipeline: Any) -> None:
    """No progress display on the predictions that follow training."""
    for key in pipeline.get_params():
        if key == "verbose" or key.endswith("kerasmodelstep__verbose"):
            pipeline.set_params(**{key: 0})


def _write(run: SeriesRun, pipeline: Any, metrics: dict, validation_input: np.ndarray,
           output: Path) -> int:
    output.mkdir(parents=True, exist_ok=True)
    X_val, _ = _windows(validation_input, run)
    y_true, y_pred = pipeline.predict_with_truth(validation_input)
    shape = (len(y_true), run.window_future, -1)
    written = [plot_predictions(X_val, np.reshape(y_true, shape), np.reshape(y_pred, shape),
                                output / "validation_predictions.png",
                                title=f"{run.task}: validation predictions")]
    history = metric_history(pipeline)
    if history:
        written.append(plot_history(history, output / "metric_curves.png",
                                    title=f"{run.task}: metric curves"))
    artifact = output / "pipeline.seqpipe"
    save(pipeline, artifact)
    written.append(artifact)
    if run.spec is not None:
        written.append(write_spec(artifact, run.spec))
    np.save(output / "validation_series.npy", validation_input)
    (output / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    written.append(output / "metrics.json")
    print("wrote " + ", ".join(map(str, written)))

    reloaded = output / "validation_pred_reloaded.npy"
    subprocess.run([sys.executable, "-m", "seqpipe", "predict", str(artifact),
                    str(output / "validation_series.npy"), "--out", str(reloaded)],
                   check=True)
    identical = np.array_equal(np.load(reloaded), pipeline.predict(validation_input))
    print("reloaded in a fresh process: predictions "
          + ("identical (bitwise)" if identical else "DIFFER"))
    return 0 if identical else 1
