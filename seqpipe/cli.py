"""The ``seqpipe`` command line: ``list``, ``run NAME``, ``predict``, ``serve``, ``search``."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from seqpipe import load, save
from seqpipe._cli_baselines import (
    accuracy,
    classification_baselines,
    mse,
    regression_baselines,
)
from seqpipe._cli_exercises import EXERCISES, Exercise, build_pipeline
from seqpipe._time_split import holdout_split, resolve_gap
from seqpipe.plotting import plot_predictions

VALIDATION_SIZE = 0.15


class _Parser(argparse.ArgumentParser):
    """Bad arguments exit with status 2 and one line, ``prog: error: message``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    """An argparse type: an int >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _set_verbose(pipeline: Any, verbose: int) -> None:
    """Set ``verbose`` on the Keras step of a factory's pipeline (a progress display)."""
    for key in pipeline.get_params():
        if key in ("kerasmodelstep__verbose", "onehotclassifier__estimator__verbose"):
            pipeline.set_params(**{key: verbose})


def _scores(exercise: Exercise, pipeline: Any, parts: dict[str, tuple]) -> dict[str, Any]:
    """The model's train and validation scores and the baselines on both parts."""
    y_train = parts["train"][1]
    metrics: dict[str, Any] = {}
    baselines: dict[str, dict[str, float]] = {}
    for part, (X, y) in parts.items():
        prediction = pipeline.predict(X)
        if exercise.kind == "classify":
            metrics[f"{part}_accuracy"] = accuracy(y, prediction)
            baselines[part] = classification_baselines(y_train, y)
        else:
            metrics[f"{part}_mse"] = mse(y, prediction)
            baselines[part] = regression_baselines(X, y)
    metrics["baselines"] = baselines["validation"]
    metrics["train_baselines"] = baselines["train"]
    return metrics


def _table(metrics: dict[str, Any], kind: str) -> str:
    """Rows: the model and each baseline; columns: train and validation."""
    unit = "accuracy" if kind == "classify" else "MSE"
    key = "accuracy" if kind == "classify" else "mse"
    names = {"zero_mse": "predict zero", "last_value_mse": "last value",
             "majority_accuracy": "majority class"}
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
    X, y, gap, train, validation = data or _split(exercise, n_samples, random_state)
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
    artifact = output / "pipeline.seqpipe"
    save(pipeline, artifact)
    np.save(output / "validation_X.npy", X_val)
    (output / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    written += [artifact, output / "metrics.json"]
    print("wrote " + ", ".join(map(str, written)))

    reloaded = output / "validation_pred_reloaded.npy"
    subprocess.run([sys.executable, "-m", "seqpipe", "predict", str(artifact),
                    str(output / "validation_X.npy"), str(reloaded)], check=True)
    identical = np.array_equal(np.load(reloaded), y_val_pred)
    print("reloaded in a fresh process: predictions "
          + ("identical (bitwise)" if identical else "DIFFER"))
    return 0 if identical else 1


def _split(exercise: Exercise, n_samples: int | None, random_state: int
           ) -> tuple[np.ndarray, np.ndarray, int, slice, slice]:
    """The exercise's data and its time-ordered split; ValueError if too small."""
    X, y = exercise.load(n_samples, random_state)
    gap = resolve_gap("auto", y, owner="seqpipe run")
    train, validation = holdout_split(len(X), VALIDATION_SIZE, gap=gap, owner="seqpipe run")
    return X, y, gap, train, validation


def predict_file(artifact: Path, inputs: Path, output: Path) -> int:
    """Load a saved pipeline, predict on a .npy array, write the predictions as .npy."""
    pipeline = load(artifact)
    np.save(output, pipeline.predict(np.load(inputs)))
    return 0


def _parser() -> tuple[_Parser, _Parser]:
    """The ``seqpipe`` parser and its ``run`` subparser."""
    parser = _Parser(prog="seqpipe", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the runnable exercises",
                        description="List the runnable exercises, one per line.")
    commands.add_parser("serve", help="serve saved models over HTTP (Open Inference "
                        "Protocol v2); see seqpipe serve --help")
    commands.add_parser("search", help="search an exercise's hyperparameters; see "
                        "seqpipe search --help")
    run = commands.add_parser(
        "run", help="train an exercise end to end",
        description="Train an exercise on its generated data (the last 15%% validates, "
        "after a gap), print train and validation scores beside naive baselines, write "
        "metrics.json, pipeline.seqpipe and a plot, and check a reload in a fresh process.")
    run.add_argument("exercise", metavar="NAME", choices=list(EXERCISES),
                     help="one of: " + ", ".join(EXERCISES))
    run.add_argument("--out", "--output", dest="out", type=Path, default=None,
                     metavar="DIR", help="where to write (default: runs/NAME)")
    run.add_argument("--epochs", type=positive_int, default=None,
                     help="training epochs (default: the exercise's)")
    run.add_argument("--batch-size", type=positive_int, default=None)
    run.add_argument("--hidden-dim", type=positive_int, default=None,
                     help="recurrent units (the factory's hidden_dim or units)")
    run.add_argument("--learning-rate", type=positive_float, default=None)
    run.add_argument("--n-samples", type=positive_int, default=None,
                     help="number of samples to generate (default: the seed's)")
    run.add_argument("--random-state", type=int, default=0)
    run.add_argument("--quiet", action="store_true", help="no progress display")
    predict = commands.add_parser("predict", help="predict with a saved pipeline")
    predict.add_argument("artifact", type=Path)
    predict.add_argument("inputs", type=Path, help=".npy file of X")
    predict.add_argument("output", type=Path, help=".npy file to write")
    return parser, run


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``seqpipe`` command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["serve"]:
        from seqpipe.serving.server import main as serve  # FastAPI and uvicorn

        return serve(argv[1:], prog="seqpipe serve")
    if argv[:1] == ["search"]:
        from seqpipe.search._cli import main as search  # Optuna, Keras

        return search(argv[1:], prog="seqpipe search")
    parser, run_parser = _parser()
    args = parser.parse_args(argv)

    if args.command == "list":
        width = max(map(len, EXERCISES))
        print("\n".join(f"{name:<{width}}  {exercise.description}"
                        for name, exercise in EXERCISES.items()))
        return 0
    if args.command == "predict":
        return predict_file(args.artifact, args.inputs, args.output)
    try:
        data = _split(EXERCISES[args.exercise], args.n_samples, args.random_state)
    except ValueError as error:
        size = "its default size" if args.n_samples is None else f"--n-samples {args.n_samples}"
        run_parser.error(f"{size} is too small for {args.exercise}: "
                         f"{str(error).removeprefix('seqpipe run with ').rstrip('.')}")
    return run_exercise(args.exercise, args.out or Path("runs") / args.exercise,
                        epochs=args.epochs, batch_size=args.batch_size,
                        hidden_dim=args.hidden_dim, learning_rate=args.learning_rate,
                        random_state=args.random_state, quiet=args.quiet, data=data)
