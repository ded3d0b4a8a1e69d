"""``seqpipe run NAME`` for the generated exercises: train, score beside naive baselines,
plot, save, and check a reload in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from seqpipe import save
from seqpipe._time_split import holdout_split, resolve_gap
from seqpipe.cli.baselines import (
    accuracy,
    classification_baselines,
    detect_window_season,
    mse,
    regression_baselines,
)
from seqpipe.cli.exercises import EXERCISES, Exercise, build_pipeline
from seqpipe.plotting import plot_history, plot_predictions

__all__ = ["VALIDATION_SIZE", "metric_history", "run_exercise", "split_exercise"]

VALIDATION_SIZE = 0.15


def _set_verbose(pipeline: Any, verbose: int) -> None:
    """Set the progress display of a factory's pipeline: the EpochRepeater's progress
    bar (and its epoch metrics) when it has one, else the Keras step's."""
    params = pipeline.get_params()
    if "verbose" in params:  # an EpochRepeater (seed 003's composition)
        for key in params:
            if key == "verbose" or key.endswith("epoch_metrics__verbose"):
                pipeline.set_params(**{key: verbose})
        return
    for key in params:
        if key in ("kerasmodelstep__verbose", "onehotclassifier__estimator__verbose"):
            pipeline.set_params(**{key: verbose})


def _scores(exercise: Exercise, pipeline: Any, parts: dict[str, tuple]) -> dict[str, Any]:
    """The model's train and validation scores and the baselines on both parts."""
    X_train, y_train = parts["train"]
    season = None if exercise.kind == "classify" else detect_window_season(X_train)
    metrics: dict[str, Any] = {}
    baselines: dict[str, dict[str, float]] = {}
    for part, (X, y) in parts.items():
        prediction = pipeline.predict(X)
        if exercise.kind == "classify":
            metrics[f"{part}_accuracy"] = accuracy(y, prediction)
            baselines[part] = classification_baselines(y_train, y)
        else:
            metrics[f"{part}_mse"] = mse(y, prediction)
            baselines[part] = regression_baselines(X, y, X_train, y_train, season)
    metrics["baselines"] = baselines["validation"]
    metrics["train_baselines"] = baselines["train"]
    metrics["season"] = season
    return metrics


def _table(metrics: dict[str, Any], kind: str) -> str:
    """Rows: the model and each baseline; columns: train and validation."""
    unit = "accuracy" if kind == "classify" else "MSE"
    key = "accuracy" if kind == "classify" else "mse"
    names = {"zero_mse": "predict zero", "last_value_mse": "last value",
             "seasonal_naive_mse": f"seasonal ({metrics.get('season')})",
             "linear_ar_mse": "linear AR", "majority_accuracy": "majority class"}
    rows = [f"{unit:<16}{'train':>14}{'validation':>14}",
            f"{'model':<16}{metrics[f'train_{key}']:>14.6g}"
            f"{metrics[f'validation_{key}']:>14.6g}"]
    for name, value in metrics["baselines"].items():
        rows.append(f"{names[name]:<16}{metrics['train_baselines'][name]:>14.6g}"
                    f"{value:>14.6g}")
    if kind == "classify":
        best = max(metrics["baselines"].values())
        rows.append(f"validation accuracy {metrics['validation_accuracy']:.4f} "
                    f"(best baseline {best:.4f})")
    else:
        best = min(metrics["baselines"].values())
        ratio = metrics["validation_mse"] / best if best > 0 else float("inf")
        rows.append(f"validation MSE {metrics['validation_mse']:.6g}: {ratio:.3g}x the best "
                    f"baseline's ({best:.6g})")
    return "\n".join(rows)


def run_exercise(name: str, output: Path, *, epochs: int | None = None,
                 batch_size: int | None = None, hidden_dim: int | None = None,
                 learning_rate: float | None = None, n_samples: int | None = None,
                 random_state: int = 0, quiet: bool = False,
                 data: tuple[np.ndarray, np.ndarray, int, slice, slice] | None = None) -> int:
    """Train exercise ``name``, report its scores beside naive baselines, plot, save, and
    check a fresh-process reload.

    The samples are split in time: the validation part is the last 15%, with the gap of
    :func:`seqpipe._time_split.resolve_gap` (the future window's length for
    seq2seq windows, 0 for one target per sample) left out before it.
    """
    exercise = EXERCISES[name]
    X, y, gap, train, validation = data or split_exercise(exercise, n_samples, random_state)
    X_train, y_train, X_val, y_val = X[train], y[train], X[validation], y[validation]
    pipeline = build_pipeline(exercise, epochs=epochs, batch_size=batch_size,
                              hidden_dim=hidden_dim, learning_rate=learning_rate,
                              random_state=random_state)
    _set_verbose(pipeline, 0 if quiet else (1 if sys.stdout.isatty() else 2))
    print(f"{name}: X {X.shape}, y {y.shape}; training on {len(X_train)}, validating on "
          f"{len(X_val)} (the last {VALIDATION_SIZE:.0%}, {gap} samples left out between)",
          flush=True)

    start = time.perf_counter()
    pipeline.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    _set_verbose(pipeline, 0)
    metrics = _scores(exercise, pipeline, {"train": (X_train, y_train),
                                           "validation": (X_val, y_val)})
    metrics.update(exercise=name, fit_seconds=round(seconds, 2), gap=gap,
                   n_train=len(X_train), n_validation=len(X_val))
    print(f"trained in {seconds:.1f} s\n{_table(metrics, exercise.kind)}")

    output.mkdir(parents=True, exist_ok=True)
    y_val_pred = pipeline.predict(X_val)
    written = []
    if exercise.kind != "classify":
        as_windows = (lambda a: a) if y.ndim == 3 else (lambda a: a.reshape(len(a), 1, -1))
        written.append(plot_predictions(X_val, as_windows(y_val), as_windows(y_val_pred),
                                        output / "validation_predictions.png",
                                        title=f"{name}: validation predictions"))
    history = metric_history(pipeline)
    if history:
        written.append(plot_history(history, output / "metric_curves.png",
                                    title=f"{name}: metric curves"))
    artifact = output / "pipeline.seqpipe"
    save(pipeline, artifact)
    np.save(output / "validation_X.npy", X_val)
    (output / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    written += [artifact, output / "metrics.json"]
    print("wrote " + ", ".join(map(str, written)))

    reloaded = output / "validation_pred_reloaded.npy"
    subprocess.run([sys.executable, "-m", "seqpipe", "predict", str(artifact),
                    str(output / "validation_X.npy"), "--out", str(reloaded)], check=True)
    identical = np.array_equal(np.load(reloaded), y_val_pred)
    print("reloaded in a fresh process: predictions "
          + ("identical (bitwise)" if identical else "DIFFER"))
    return 0 if identical else 1


def split_exercise(exercise: Exercise, n_samples: int | None, random_state: int
           ) -> tuple[np.ndarray, np.ndarray, int, slice, slice]:
    """The exercise's data and its time-ordered split; ValueError if too small."""
    X, y = exercise.load(n_samples, random_state)
    gap = resolve_gap("auto", y, owner="seqpipe run")
    train, validation = holdout_split(len(X), VALIDATION_SIZE, gap=gap, owner="seqpipe run")
    return X, y, gap, train, validation


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
