"""The ``seqpipe`` command line: ``list``, ``run exercise1``, ``predict``, ``serve``."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from seqpipe import load, save
from seqpipe._time_split import holdout_split, resolve_gap
from seqpipe.datasets import load_exercise
from seqpipe.plotting import plot_predictions

EXERCISES = {f"exercise{n}": n for n in (1, 2, 3, 4)}


def _mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean((np.asarray(y_true, np.float64) - y_pred) ** 2))


def _baselines(X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """MSE of naive forecasts of the windows' futures: zero, and the last past value."""
    last_value = np.broadcast_to(X[:, -1:, :y.shape[-1]], y.shape)
    return {"zero_mse": _mse(y, np.zeros_like(y)), "last_value_mse": _mse(y, last_value)}


def run_exercise(name: str, output: Path, *, epochs: int | None, random_state: int,
                 validation_size: float = 0.15) -> int:
    """Train exercise ``name``, report MSE beside naive baselines, plot, save, and check a
    fresh-process reload.

    The windows are split in time with the gap of :class:`~seqpipe.steps.ValidationSplit`
    (the future window's length), so that no validation target is a training target.
    """
    from seqpipe.pipelines import exercise_pipeline  # Keras

    number = EXERCISES[name]
    X, y = load_exercise(number, random_state=random_state)
    gap = resolve_gap("auto", y, owner="seqpipe run")
    train, validation = holdout_split(len(X), validation_size, gap=gap, owner="seqpipe run")
    X_train, y_train, X_val, y_val = X[train], y[train], X[validation], y[validation]
    overrides = {"random_state": random_state} | ({"epochs": epochs} if epochs else {})
    pipeline = exercise_pipeline(number, **overrides)
    print(f"{name}: X {X.shape}, y {y.shape}; training on {len(X_train)}, validating on "
          f"{len(X_val)} (the last {validation_size:.0%}, {gap} windows left out between)")

    start = time.perf_counter()
    pipeline.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    y_val_pred = pipeline.predict(X_val)
    metrics = {"train_mse": _mse(y_train, pipeline.predict(X_train)),
               "validation_mse": _mse(y_val, y_val_pred), "fit_seconds": round(seconds, 2),
               "gap": gap, "baselines": _baselines(X_val, y_val)}
    baselines = metrics["baselines"]
    print(f"train MSE {metrics['train_mse']:.6f}   validation MSE "
          f"{metrics['validation_mse']:.6f}   ({seconds:.1f} s)\n"
          f"baselines on validation: zero {baselines['zero_mse']:.6f}   last value "
          f"{baselines['last_value_mse']:.6f}")

    output.mkdir(parents=True, exist_ok=True)
    plot = plot_predictions(X_val, y_val, y_val_pred, output / "validation_predictions.png",
                            title=f"{name}: validation predictions")
    artifact = output / "pipeline.seqpipe"
    save(pipeline, artifact)
    np.save(output / "validation_X.npy", X_val)
    (output / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote {plot}, {artifact} and {output / 'metrics.json'}")

    reloaded = output / "validation_pred_reloaded.npy"
    subprocess.run([sys.executable, "-m", "seqpipe", "predict", str(artifact),
                    str(output / "validation_X.npy"), str(reloaded)], check=True)
    identical = np.array_equal(np.load(reloaded), y_val_pred)
    print("reloaded in a fresh process: predictions "
          + ("identical (bitwise)" if identical else "DIFFER"))
    return 0 if identical else 1


def predict_file(artifact: Path, inputs: Path, output: Path) -> int:
    """Load a saved pipeline, predict on a .npy array, write the predictions as .npy."""
    pipeline = load(artifact)
    np.save(output, pipeline.predict(np.load(inputs)))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``seqpipe`` command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["serve"]:
        from seqpipe.serving.server import main as serve  # FastAPI and uvicorn

        return serve(argv[1:], prog="seqpipe serve")
    parser = argparse.ArgumentParser(prog="seqpipe", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the runnable exercises")
    commands.add_parser("serve", help="serve saved models over HTTP (Open Inference "
                        "Protocol v2); see seqpipe serve --help")
    run = commands.add_parser("run", help="train an exercise end to end")
    run.add_argument("exercise", choices=sorted(EXERCISES))
    run.add_argument("--output", type=Path, default=None, help="default: runs/<exercise>")
    run.add_argument("--epochs", type=int, default=None, help="override the epochs")
    run.add_argument("--random-state", type=int, default=0)
    predict = commands.add_parser("predict", help="predict with a saved pipeline")
    predict.add_argument("artifact", type=Path)
    predict.add_argument("inputs", type=Path, help=".npy file of X")
    predict.add_argument("output", type=Path, help=".npy file to write")
    args = parser.parse_args(argv)

    if args.command == "list":
        print("\n".join(sorted(EXERCISES)))
        return 0
    if args.command == "predict":
        return predict_file(args.artifact, args.inputs, args.output)
    output = args.output or Path("runs") / args.exercise
    return run_exercise(args.exercise, output, epochs=args.epochs,
                        random_state=args.random_state)
