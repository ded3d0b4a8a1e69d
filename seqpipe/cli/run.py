"""The ``seqpipe`` command line: ``list``, ``run NAME``, ``predict``, ``serve``, ``search``."""

from __future__ import annotations

import argparse
import json
import os
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
    detect_window_season,
    mse,
    regression_baselines,
)
from seqpipe._cli_csv import SeriesRun, metric_history, run_series
from seqpipe._cli_exercises import EXERCISES, Exercise, build_pipeline
from seqpipe._cli_series import SeriesSpec, detect_season, load_series, read_spec, split_series
from seqpipe._time_split import holdout_split, resolve_gap
from seqpipe.datasets import load_csv_series
from seqpipe.plotting import plot_history, plot_predictions

VALIDATION_SIZE = 0.15

#: The series tasks of ``seqpipe run`` besides the generated exercises.
SERIES_TASKS = {
    "stock": "seed 002: LSTM, next closing price from the last 30 (linear trend removed, "
             "optional CPI deflation); --data FILE.csv, else the shipped BTC USD closes",
    "csv": "your own series: --data FILE.csv --column NAME; a seq2seq GRU or a linear "
           "autoregression, chosen on the training part",
}


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


def _split(exercise: Exercise, n_samples: int | None, random_state: int
           ) -> tuple[np.ndarray, np.ndarray, int, slice, slice]:
    """The exercise's data and its time-ordered split; ValueError if too small."""
    X, y = exercise.load(n_samples, random_state)
    gap = resolve_gap("auto", y, owner="seqpipe run")
    train, validation = holdout_split(len(X), VALIDATION_SIZE, gap=gap, owner="seqpipe run")
    return X, y, gap, train, validation


def predict_file(artifact: Path, inputs: Path, output: Path | None) -> int:
    """Load a saved pipeline and predict.

    A ``.npy`` input gives ``.npy`` predictions (``output`` is required). A ``.csv``
    input, for a model trained by ``seqpipe run csv``/``stock`` on a CSV series, gives
    the forecast of the ``window_future`` values after the series' end as CSV (with
    their dates when the series has a date column), to ``output`` or stdout.
    """
    if not artifact.is_file():
        raise ValueError(f"no saved model at {artifact}")
    if inputs.suffix.lower() == ".csv":
        return _forecast_csv(artifact, inputs, output)
    if output is None:
        raise ValueError("predicting from a .npy file needs --out FILE.npy")
    try:
        X = np.load(inputs, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise ValueError(f"{inputs} is not a readable .npy array ({error})") from None
    pipeline = load(artifact)
    np.save(output, pipeline.predict(X))
    return 0


def _forecast_csv(artifact: Path, inputs: Path, output: Path | None) -> int:
    """The forecast after the end of a CSV series (see predict_file)."""
    import pandas as pd

    spec = read_spec(artifact)
    if spec is None:
        raise ValueError(f"{artifact} was not trained on a CSV series (no "
                         f"{artifact.name}.series.json beside it): give a .npy input")
    series = load_csv_series(inputs, spec.column, spec.date_column, gaps="ignore")
    if len(series.values) < spec.window_past:
        raise ValueError(f"{inputs} has {len(series.values)} value(s) in column "
                         f"{spec.column!r}; the model needs the last {spec.window_past}")
    pipeline = load(artifact)
    forecast = np.asarray(pipeline.predict(series.values[-spec.window_past:]))
    values = forecast[-1].reshape(spec.window_future)
    if series.dates is not None and series.step is not None:
        frame = pd.DataFrame({spec.date_column: series.future_dates(spec.window_future),
                              spec.column: values})
    else:
        frame = pd.DataFrame({"step": np.arange(1, spec.window_future + 1),
                              spec.column: values})
    text = frame.to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S"
                        if _has_time(frame) else "%Y-%m-%d")
    if output is None:
        sys.stdout.write(text)
    else:
        Path(output).write_text(text)
    return 0


def _has_time(frame: Any) -> bool:
    """Whether a date column holds times of day (hourly data), not only dates."""
    import pandas as pd

    dates = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    return bool(dates) and bool((frame[dates[0]] != frame[dates[0]].dt.normalize()).any())


def parser() -> tuple[_Parser, _Parser, _Parser]:
    """The ``seqpipe`` parser and its ``run`` and ``predict`` subparsers."""
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
        description="Train an exercise on its data (the last 15% validates, after a gap "
        "where windows overlap), print train and validation scores beside naive "
        "baselines, write metrics.json, pipeline.seqpipe and plots, and check a reload "
        "in a fresh process. 'stock' and 'csv' train on a series of yours (--data).")
    names = [*EXERCISES, *SERIES_TASKS]
    run.add_argument("exercise", metavar="NAME", choices=names,
                     help="one of: " + ", ".join(names))
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
    series = run.add_argument_group("series (stock and csv only)")
    series.add_argument("--data", type=Path, default=None, metavar="FILE",
                        help="a CSV with a header line (stock: default the shipped BTC "
                        "USD closes)")
    series.add_argument("--column", default=None, metavar="NAME",
                        help="the column of values (stock: default 'close')")
    series.add_argument("--date-column", default=None, metavar="NAME",
                        help="the column of dates (rows are sorted by it)")
    series.add_argument("--cpi", type=Path, default=None, metavar="FILE",
                        help="stock: a CSV of a price index (date, value) to deflate by")
    series.add_argument("--cpi-column", default=None, metavar="NAME",
                        help="the CPI file's value column (default: its second)")
    series.add_argument("--window-past", type=positive_int, default=None, metavar="N",
                        help="values per input window (stock 30; csv: 30, or 2 seasons)")
    series.add_argument("--window-future", type=positive_int, default=None, metavar="M",
                        help="values forecast (stock: 1; csv default 1)")
    series.add_argument("--season", type=positive_int, default=None, metavar="K",
                        help="the cycle's length in time steps (default: detected on the "
                        "training part)")
    predict = commands.add_parser(
        "predict", help="predict with a saved pipeline",
        description="Predict with a saved pipeline: X.npy in, predictions .npy out; or, "
        "for a model trained by 'seqpipe run csv/stock' on a CSV, a CSV of the series "
        "in and the forecast of the values after its end out, as CSV (stdout without "
        "--out).")
    predict.add_argument("artifact", type=Path, metavar="MODEL")
    predict.add_argument("inputs", type=Path, metavar="INPUT",
                         help=".npy file of X, or .csv of the series")
    predict.add_argument("output", type=Path, nargs="?", default=None, metavar="OUTPUT",
                         help="where to write (the same as --out)")
    predict.add_argument("--out", dest="out", type=Path, default=None, metavar="FILE")
    return parser, run, predict


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``seqpipe`` command."""
    # TensorFlow's C++ start-up logs (CPU features, absl) are noise on a command line;
    # a value the user set is kept, and child processes inherit it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["serve"]:
        from seqpipe.serving.server import main as serve  # FastAPI and uvicorn

        return serve(argv[1:], prog="seqpipe serve")
    if argv[:1] == ["search"]:
        from seqpipe.search._cli import main as search  # Optuna, Keras

        return search(argv[1:], prog="seqpipe search")
    main_parser, run_parser, predict_parser = parser()
    args = main_parser.parse_args(argv)

    if args.command == "list":
        tasks = {**{name: e.description for name, e in EXERCISES.items()}, **SERIES_TASKS}
        width = max(map(len, tasks))
        print("\n".join(f"{name:<{width}}  {description}"
                        for name, description in tasks.items()))
        return 0
    if args.command == "predict":
        if args.output is not None and args.out is not None:
            predict_parser.error("give the output once: OUTPUT or --out FILE")
        try:
            return predict_file(args.artifact, args.inputs, args.out or args.output)
        except (ValueError, OSError) as error:
            predict_parser.error(_one_line(error))
    if args.exercise in SERIES_TASKS:
        try:
            return _run_series(args)
        except (ValueError, OSError) as error:
            run_parser.error(_one_line(error))
    given = [f"--{name.replace('_', '-')}" for name in _SERIES_OPTIONS
             if getattr(args, name) is not None]
    if given:
        run_parser.error(f"{', '.join(given)}: only for 'stock' and 'csv', not "
                         f"{args.exercise}")
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


_SERIES_OPTIONS = ("data", "column", "date_column", "cpi", "cpi_column", "window_past",
                   "window_future", "season")


def _one_line(error: BaseException) -> str:
    """An exception as one line: its message (a file error's path and reason)."""
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return " ".join(str(error).split()).rstrip(".")


def _run_series(args: argparse.Namespace) -> int:
    """``seqpipe run stock`` / ``seqpipe run csv``."""
    run, series = prepare_series_run(args)
    return run_series(run, series, args.out or Path("runs") / args.exercise)


def prepare_series_run(args: argparse.Namespace) -> tuple[SeriesRun, Any]:
    """The options and the series of ``seqpipe run stock``/``csv``; ValueError or
    OSError naming a bad option or file."""
    task = args.exercise
    if args.n_samples is not None:
        raise ValueError(f"--n-samples is for the generated exercises, not {task} (its "
                         f"length is the series')")
    notes = []
    if task == "csv":
        missing = [flag for flag, value in (("--data", args.data), ("--column", args.column))
                   if value is None]
        if missing:
            raise ValueError(f"csv needs {' and '.join(missing)} (a CSV file and the "
                             f"column of values)")
        if args.cpi is not None:
            raise ValueError("--cpi is for stock only")
        past, future = args.window_past, args.window_future or 1
    else:
        if args.window_future not in (None, 1):
            raise ValueError("stock predicts the next value only: --window-future must "
                             "be 1")
        past, future = args.window_past or 30, 1
        if args.data is None:
            given = [f for f, v in (("--column", args.column), ("--date-column",
                                                                 args.date_column)) if v]
            if given:
                raise ValueError(f"{', '.join(given)} without --data: give the CSV too")
            notes.append("no --data given: running on the shipped BTC USD daily closes")
    column = args.column or ("close" if args.data is not None else "close_usd")
    date_column = args.date_column if args.data is not None else "date"
    series = load_series(args.data, column, date_column, args.cpi, args.cpi_column)
    if past is None:
        season = args.season or detect_season(
            series.values[split_series(len(series.values), 1, future)[0]])
        past = max(30, 2 * season) if season else 30
    spec = None
    if args.cpi is None:
        spec = SeriesSpec(column, date_column, past, future, None)
    else:
        notes.append("prices deflated by the CPI: predictions are in CPI-deflated units")
    run = SeriesRun(task, past, future, season=args.season, epochs=args.epochs,
                    batch_size=args.batch_size, hidden_dim=args.hidden_dim,
                    learning_rate=args.learning_rate, random_state=args.random_state,
                    quiet=args.quiet, spec=spec, notes=notes)
    return run, series
