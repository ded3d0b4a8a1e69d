"""Forecast a series of your own from a CSV: ``seqpipe run csv`` then ``seqpipe predict``.
=======================================================================================

Run: ``python examples/csv_forecast.py [--data FILE.csv --column NAME --date-column NAME]
[--quick] [--output runs/csv_forecast]``

Without ``--data`` it writes a synthetic hourly series with a daily cycle, noise and a
slow trend to ``OUTPUT/series.csv`` and uses that. It then runs the two commands a user
would: ``seqpipe run csv`` (a seq2seq GRU and linear autoregressions, chosen on the
training part; scores beside the naive baselines) and ``seqpipe predict`` on the CSV
(the forecast of the values after its end, with their dates). ``--quick`` trains the
GRU for 2 epochs on 600 hours.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from seqpipe.datasets import make_seasonal_series

# %%
# The ``seqpipe`` command
# -----------------------
# The example drives the command line as a user would, each command a subprocess; a
# failing command stops the script with its last error line.


def seqpipe(*args: str) -> str:
    """Run the ``seqpipe`` command; its standard output."""
    result = subprocess.run([sys.executable, "-m", "seqpipe", *args], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        sys.exit(result.stderr.strip().splitlines()[-1])
    return result.stdout


# %%
# A CSV to forecast
# -----------------
# Without ``--data``, ``make_seasonal_series`` draws an hourly series (a daily cycle,
# noise and a slow trend, from 2020-01-01) and writes it as a CSV of two columns,
# ``date`` and ``value``: the shape of file ``seqpipe run csv`` expects.


def series_csv(args: argparse.Namespace) -> Path:
    """The CSV to forecast: ``--data``, or a synthetic one written to the output."""
    if args.data is not None:
        return args.data
    data = args.output / "series.csv"
    make_seasonal_series(600 if args.quick else 2000, random_state=0).to_frame().to_csv(data)
    return data


# %%
# Train, choose, score: ``seqpipe run csv``
# -----------------------------------------
# ``seqpipe run csv`` forecasts 6 values ahead (``--window-future 6``). It keeps the
# last 15 % of the series to validate, scores each candidate (linear autoregressions
# of several penalties, a GRU, the seasonal-naive and last-value forecasts) on the
# last 15 % of the training part, refits the best on the whole training part and
# prints its MSE beside the naive baselines'. It writes the pipeline, a plot of
# validation forecasts and ``metrics.json``, and checks the saved pipeline reloads in
# a fresh process. The script then reads ``metrics.json`` for one summary line.


def run_csv(args: argparse.Namespace, data: Path) -> Path:
    """Run ``seqpipe run csv`` on ``data``; print its report and a summary; the run's
    folder."""
    run = args.output / "run"
    print(seqpipe("run", "csv", "--data", str(data), "--column", args.column,
                  "--date-column", args.date_column, "--window-future", "6", "--quiet",
                  "--out", str(run), *(["--epochs", "2"] if args.quick else [])))
    metrics = json.loads((run / "metrics.json").read_text())
    baselines = metrics["baselines"]
    print(f"chosen: {metrics['chosen']} (season {metrics['season']})")
    print(f"csv_forecast: validation MSE {metrics['validation_mse']:.6g}, seasonal naive "
          f"{baselines.get('seasonal_naive_mse', float('nan')):.6g}, last value "
          f"{baselines['last_value_mse']:.6g}")
    return run


# %%
# Forecast after the end: ``seqpipe predict``
# -------------------------------------------
# ``seqpipe predict`` loads the saved pipeline and forecasts the 6 values after the
# CSV's last row, printed as CSV with their dates (for the synthetic series, the next
# 6 hours).


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--column", default="value")
    parser.add_argument("--date-column", default="date")
    parser.add_argument("--quick", action="store_true", help="2 epochs on 600 hours")
    parser.add_argument("--output", type=Path, default=Path("runs/csv_forecast"))
    args = parser.parse_args()

    args.output.mkdir(parents=True, exist_ok=True)
    data = series_csv(args)
    run = run_csv(args, data)
    print("the next 6 values:")
    print(seqpipe("predict", str(run / "pipeline.seqpipe"), str(data)))


# %%
# Run it
# ------
# The gallery runs the script with ``--quick`` (600 hours, the GRU trained 2 epochs).
# Below: ``seqpipe run csv``'s report (each candidate's MSE, the detected season, the
# chosen model's train and validation MSE beside the baselines', the files written),
# the summary line, the forecast of the next 6 hours, and the plot of validation
# forecasts ``seqpipe run csv`` wrote.

if __name__ == "__main__":
    main()
