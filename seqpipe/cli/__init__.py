"""The ``seqpipe`` command line: ``list``, ``run NAME``, ``predict``, ``search``, ``serve``.

One module per command (:mod:`~seqpipe.cli.run` with :mod:`~seqpipe.cli.forecast`,
:mod:`~seqpipe.cli.predict`, :mod:`~seqpipe.cli.search`, :mod:`~seqpipe.cli.serve`):
each parses its arguments, calls the library and prints. Nothing in the library
imports this package.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqpipe.cli._common import (
    Parser,
    backend_line,
    one_line,
    positive_float,
    positive_int,
    quiet_tensorflow,
)
from seqpipe.cli.exercises import EXERCISES
from seqpipe.cli.forecast import SERIES_TASKS, SeriesRun, run_series
from seqpipe.cli.panel import run_panel
from seqpipe.cli.predict import predict_file
from seqpipe.cli.run import run_exercise, split_exercise
from seqpipe.forecasting.intervals import check_levels

__all__ = ["build_parser", "main", "series_run"]

_SERIES_OPTIONS = ("data", "column", "date_column", "cpi", "cpi_column", "window_past",
                   "window_future", "season", "past_covariates", "future_covariates",
                   "calendar", "holidays", "levels", "id_column")


def _levels(text: str) -> tuple[float, ...]:
    """An argparse type: ``L[,L...]``, coverages in percent."""
    try:
        return check_levels([float(level) for level in text.split(",")], "--levels")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected coverages in percent in (0, 100) such "
                                         f"as 80,95, got {text!r}") from None


def _columns(text: str) -> list[str]:
    """An argparse type: ``COL[,COL...]``."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected COLUMN[,COLUMN...], got {text!r}")
    return names


def build_parser() -> tuple[Parser, Parser, Parser]:
    """The ``seqpipe`` parser and its ``run`` and ``predict`` subparsers."""
    parser = Parser(prog="seqpipe", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the runnable exercises",
                        description="List the runnable exercises, one per line.")
    commands.add_parser("serve", help="serve saved models over HTTP (Open Inference "
                        "Protocol v2); see seqpipe serve --help")
    commands.add_parser("search", help="search an exercise's hyperparameters; see "
                        "seqpipe search --help")
    run = commands.add_parser(
        "run", help="train an exercise end to end",
        description="Train an exercise on its data (the last 15%% validates, after a gap "
        "where windows overlap), print train and validation scores beside naive "
        "baselines, write metrics.json, pipeline.seqpipe and plots, and check a reload "
        "in a fresh process. 'stock' and 'csv' forecast a series of yours (--data).")
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
    series.add_argument("--id-column", default=None, metavar="NAME",
                        help="csv: the column naming the series of a long CSV (a row per "
                        "series and date): one model learns them all")
    series.add_argument("--past-covariates", type=_columns, default=None, metavar="COL[,COL]",
                        help="csv: columns known up to each forecast's origin only")
    series.add_argument("--future-covariates", type=_columns, default=None,
                        metavar="COL[,COL]", help="csv: columns known ahead (forecasts, "
                        "plans); the forecast reads them at its dates too")
    series.add_argument("--calendar", action=argparse.BooleanOptionalAction, default=None,
                        help="csv: calendar features of the dates as future covariates "
                        "(default: on, with a date column)")
    series.add_argument("--holidays", default=None, metavar="COUNTRY",
                        help="csv: a country's public holidays as a calendar feature "
                        "(ISO code, e.g. US, FR)")
    series.add_argument("--levels", type=_levels, default=None, metavar="L[,L]",
                        help="csv: prediction intervals of these coverages in percent "
                        "(e.g. 80,95), calibrated on the training part")
    series.add_argument("--backtest", action="store_true",
                        help="also write backtest.csv (forecasts from every horizon-th "
                        "origin of the validation part) and backtest_errors.png")
    series.add_argument("--cpi", type=Path, default=None, metavar="FILE",
                        help="stock: a CSV of a price index (date, value) to deflate by")
    series.add_argument("--cpi-column", default=None, metavar="NAME",
                        help="the CPI file's value column (default: its second)")
    series.add_argument("--window-past", type=positive_int, default=None, metavar="N",
                        help="values each forecast reads (stock 30; csv: 30, or 2 seasons)")
    series.add_argument("--window-future", type=positive_int, default=None, metavar="M",
                        help="values forecast (stock: 1; csv default 1)")
    series.add_argument("--season", type=positive_int, default=None, metavar="K",
                        help="the cycle's length in time steps (default: detected on the "
                        "training part)")
    predict = commands.add_parser(
        "predict", help="predict with a saved pipeline or forecaster",
        description="Predict with a saved pipeline: X.npy in, predictions .npy out; or, "
        "with a forecaster saved by 'seqpipe run csv/stock', a CSV of the series in and "
        "the forecast of the values after its end out, as CSV (stdout without --out). "
        "Future covariates of the forecast dates come from rows after the last value "
        "(its cell empty) or from --future FILE.")
    predict.add_argument("artifact", type=Path, metavar="MODEL")
    predict.add_argument("inputs", type=Path, metavar="INPUT",
                         help=".npy file of X, or .csv of the series")
    predict.add_argument("output", type=Path, nargs="?", default=None, metavar="OUTPUT",
                         help="where to write (the same as --out)")
    predict.add_argument("--out", dest="out", type=Path, default=None, metavar="FILE")
    predict.add_argument("--future", type=Path, default=None, metavar="FILE",
                         help="a CSV of the future covariates (with the date column)")
    return parser, run, predict


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``seqpipe`` command; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (["serve"], ["search"], ["run"], ["predict"]) and "--help" not in argv \
            and "-h" not in argv:
        quiet_tensorflow()
    if argv[:1] == ["serve"]:
        from seqpipe.cli.serve import main as serve  # FastAPI and uvicorn

        return serve(argv[1:], prog="seqpipe serve")
    if argv[:1] == ["search"]:
        from seqpipe.cli.search import main as search  # Optuna, Keras

        return search(argv[1:], prog="seqpipe search")
    main_parser, run_parser, predict_parser = build_parser()
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
            return predict_file(args.artifact, args.inputs, args.out or args.output,
                                args.future)
        except (ValueError, OSError) as error:
            predict_parser.error(one_line(error))
    if args.exercise in SERIES_TASKS:
        try:
            run = series_run(args)
        except ValueError as error:
            run_parser.error(one_line(error))
        print(backend_line(), flush=True)
        try:
            if run.id_column is not None:
                return run_panel(run, args.out or Path("runs") / args.exercise)
            return run_series(run, args.out or Path("runs") / args.exercise)
        except (ValueError, OSError) as error:
            run_parser.error(one_line(error))
    given = [f"--{name.replace('_', '-')}" for name in _SERIES_OPTIONS
             if getattr(args, name) is not None] + (["--backtest"] if args.backtest else [])
    if given:
        run_parser.error(f"{', '.join(given)}: only for 'stock' and 'csv', not "
                         f"{args.exercise}")
    try:
        data = split_exercise(EXERCISES[args.exercise], args.n_samples, args.random_state)
    except ValueError as error:
        size = "its default size" if args.n_samples is None else f"--n-samples {args.n_samples}"
        run_parser.error(f"{size} is too small for {args.exercise}: "
                         f"{str(error).removeprefix('seqpipe run with ').rstrip('.')}")
    print(backend_line(), flush=True)
    return run_exercise(args.exercise, args.out or Path("runs") / args.exercise,
                        epochs=args.epochs, batch_size=args.batch_size,
                        hidden_dim=args.hidden_dim, learning_rate=args.learning_rate,
                        random_state=args.random_state, quiet=args.quiet, data=data)


def series_run(args: argparse.Namespace) -> SeriesRun:
    """The options of ``seqpipe run stock``/``csv``; ValueError naming a bad option."""
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
        horizon = args.window_future or 1
    else:
        if args.window_future not in (None, 1):
            raise ValueError("stock predicts the next value only: --window-future must "
                             "be 1")
        for flag in ("past_covariates", "future_covariates", "calendar", "holidays",
                     "levels", "id_column"):
            if getattr(args, flag) is not None:
                raise ValueError(f"--{flag.replace('_', '-')} is for csv only")
        horizon = 1
        if args.data is None:
            given = [f for f, v in (("--column", args.column), ("--date-column",
                                                                 args.date_column)) if v]
            if given:
                raise ValueError(f"{', '.join(given)} without --data: give the CSV too")
            notes.append("no --data given: running on the shipped BTC USD daily closes")
    if args.id_column is not None:
        _check_many_series(args)
    covariates = [*(args.past_covariates or []), *(args.future_covariates or [])]
    if covariates and args.date_column is None:
        raise ValueError("covariates need --date-column, to align them with the series "
                         "by date")
    twice = sorted({c for c in covariates if covariates.count(c) > 1})
    if twice:
        raise ValueError(f"column(s) {twice} given twice among the covariates")
    column = args.column or ("close" if args.data is not None else "close_usd")
    if column in covariates:
        raise ValueError(f"the target column {column!r} cannot be a covariate too")
    if args.cpi is not None:
        notes.append("prices deflated by the CPI: predictions are in CPI-deflated units")
    return SeriesRun(
        task, column, args.date_column if args.data is not None else "date", data=args.data,
        past_covariates=args.past_covariates or [],
        future_covariates=args.future_covariates or [],
        calendar=task == "csv" and args.calendar is not False, country=args.holidays,
        cpi=args.cpi, cpi_column=args.cpi_column, window_past=args.window_past,
        horizon=horizon, season=args.season, epochs=args.epochs, batch_size=args.batch_size,
        hidden_dim=args.hidden_dim, learning_rate=args.learning_rate,
        random_state=args.random_state, quiet=args.quiet, backtest=args.backtest,
        levels=args.levels or (), id_column=args.id_column, notes=notes)


def _check_many_series(args: argparse.Namespace) -> None:
    """ValueError for the options ``--id-column`` cannot take."""
    if args.date_column is None:
        raise ValueError("--id-column needs --date-column: the series are aligned by date")
    if args.id_column in (args.column, args.date_column):
        raise ValueError(f"--id-column {args.id_column!r} is also the value or the date "
                         f"column")

