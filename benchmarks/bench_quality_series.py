"""Quality of ``seqpipe run stock`` (seed 002) and ``seqpipe run csv`` on series, beside
naive baselines and skforecast.

Run: ``python benchmarks/bench_quality_series.py [NAME ...]`` (``benchmarks/
bench_quality.py`` prints these rows too, through :func:`rows`).

Each row runs the command's own code (:func:`seqpipe.cli.forecast.run_series`, with
its defaults) on a series split as the command splits it: the last 15 % of the time steps
are held out, scored by rolling one-step predictions (each from the
``window_past`` values before it). Beside it:

- the naive baselines: last value, seasonal naive (the value one cycle earlier, when a
  cycle is detected on the training part);
- the peer a forecaster user would pick instead: skforecast's
  ``ForecasterRecursive(Ridge(), lags=window_past)`` fitted on the same training part,
  predicting the same validation steps from the same windows (a bench-only dependency:
  ``pip install skforecast``).

Targets (each row within 3 minutes on 2 CPU cores):

- ``stock-btc``, ``stock-walk``: seed 002 on the shipped BTC USD closes and on a
  synthetic random walk: MSE <= 1.05x last value, and not below 0.8x (far below last
  value on a random walk would mean the model sees what it forecasts);
- ``csv-seasonal`` (hourly, a daily cycle, noise, a slow trend): MSE below seasonal
  naive and at most skforecast's;
- ``csv-btc``: MSE at most skforecast's and <= 1.05x last value (not below 0.8x).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from seqpipe.cli.forecast import VALIDATION_SIZE, SeriesRun, run_series
from seqpipe.datasets import load_btc_usd_eur, make_random_walk, make_seasonal_series

LEAK_FLOOR = 0.8  # x last value: below it on a random walk, something leaks


@dataclass
class Row:
    """One line of the report (the fields ``bench_quality.format_row`` prints)."""

    name: str
    metric: str
    value: float
    target: float
    target_text: str
    baselines: dict[str, float]
    seconds: float
    floor: float = 0.0

    @property
    def met(self) -> bool:
        return self.floor <= self.value <= self.target


def _btc() -> pd.Series:
    return load_btc_usd_eur()["close_usd"].rename("value")


def _walk() -> pd.Series:
    return make_random_walk(2000, drift=0.02, random_state=0).rename("value")


def _seasonal() -> pd.Series:
    return make_seasonal_series(2000, period=24, random_state=0).rename("value")


def _run(task: str, series: pd.Series) -> dict:
    """``seqpipe run TASK`` on ``series`` (written to a CSV): its metrics.json."""
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(io.StringIO()):
        data = Path(folder) / "series.csv"
        series.rename_axis("date").to_frame().to_csv(data)
        run = SeriesRun(task, "value", "date", data=data, quiet=True)
        status = run_series(run, Path(folder) / "run")
        metrics = json.loads((Path(folder) / "run" / "metrics.json").read_text())
    if status != 0:
        raise RuntimeError(f"seqpipe run {task}: the reloaded model predicted differently")
    return metrics


def skforecast_mse(series: pd.Series, window_past: int) -> float:
    """skforecast's ForecasterRecursive(Ridge(), lags=window_past): fitted on the training
    part, one-step predictions of every validation step from the values before it."""
    from skforecast.recursive import ForecasterRecursive
    from sklearn.linear_model import Ridge

    values = series.to_numpy()
    n_train = len(values) - math.ceil(VALIDATION_SIZE * len(values))
    forecaster = ForecasterRecursive(Ridge(), lags=window_past)
    forecaster.fit(y=pd.Series(values[:n_train], name="y"))
    predictions = []
    for t in range(n_train, len(values)):
        window = pd.Series(values[t - window_past:t], index=pd.RangeIndex(t - window_past, t),
                           name="y")
        predictions.append(forecaster.predict(steps=1, last_window=window,
                                              check_inputs=False).iloc[0])
    return float(np.mean((values[n_train:] - np.array(predictions)) ** 2))


def _row(name: str, task: str, load: Callable[[], pd.Series], *, peer: bool) -> Row:
    series = load()
    start = time.perf_counter()
    metrics = _run(task, series)
    seconds = time.perf_counter() - start
    baselines = {key.removesuffix("_mse"): value for key, value in metrics["baselines"].items()
                 if key in ("last_value_mse", "seasonal_naive_mse", "linear_ar_mse")}
    if peer:
        baselines["skforecast"] = skforecast_mse(series, metrics["window_past"])
    last = baselines["last_value"]
    if "seasonal_naive" in baselines:
        target, text = min(baselines["seasonal_naive"], baselines.get("skforecast", np.inf)), \
            "< seasonal naive and <= skforecast"
        floor = 0.0
    else:
        target = min(1.05 * last, baselines.get("skforecast", np.inf))
        text = "<= 1.05x last value" + (" and <= skforecast" if peer else "")
        floor = LEAK_FLOOR * last
    return Row(f"{name}:{metrics['chosen']}", "MSE", metrics["validation_mse"], target, text,
               {**baselines, "x last value": metrics["validation_mse"] / last}, seconds,
               floor)


CASES: dict[str, tuple[str, Callable[[], pd.Series], bool]] = {
    "stock-btc": ("stock", _btc, False),
    "stock-walk": ("stock", _walk, False),
    "csv-seasonal": ("csv", _seasonal, True),
    "csv-btc": ("csv", _btc, True),
}


def rows(names: Iterable[str] | None = None) -> Iterable[Row]:
    """The rows of ``names`` (default: every case), computed one by one."""
    for name in names or CASES:
        task, load, peer = CASES[name]
        yield _row(name, task, load, peer=peer)


def format_row(row: Row) -> str:
    baselines = "  ".join(f"{key} {value:.4g}" for key, value in row.baselines.items())
    return (f"{row.name:<20} {row.metric} {row.value:.4g}  target {row.target_text} = "
            f"{row.target:.4g}: {'MET' if row.met else 'MISSED'}  |  {baselines}  |  "
            f"{row.seconds:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="one or more of: " + ", ".join(CASES))
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in CASES]
    if unknown:
        parser.error(f"unknown NAME {', '.join(unknown)}; expected one of {', '.join(CASES)}")
    missed = 0
    for row in rows(args.names):
        print(format_row(row), flush=True)
        missed += not row.met
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
