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


def seqpipe(*args: str) -> str:
    """Run the ``seqpipe`` command; its standard output."""
    result = subprocess.run([sys.executable, "-m", "seqpipe", *args], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        sys.exit(result.stderr.strip().splitlines()[-1])
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--column", default="value")
    parser.add_argument("--date-column", default="date")
    parser.add_argument("--quick", action="store_true", help="2 epochs on 600 hours")
    parser.add_argument("--output", type=Path, default=Path("runs/csv_forecast"))
    args = parser.parse_args()

    args.output.mkdir(parents=True, exist_ok=True)
    data = args.data
    if data is None:
        data = args.output / "series.csv"
        make_seasonal_series(600 if args.quick else 2000, random_state=0).to_frame().to_csv(data)
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
    print("the next 6 values:")
    print(seqpipe("predict", str(run / "pipeline.seqpipe"), str(data)))


if __name__ == "__main__":
    main()
