"""The example scripts run end to end (shortened)."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from seqpipe.datasets import load_exercise

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_exercise1_neuraxle_style(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "exercise1_neuraxle_style.py"), "--epochs", "2",
         "--output", str(tmp_path)], capture_output=True, text=True, check=True)
    assert result.stdout.count("epoch_metrics validation: mse=") == 2
    validation_mse = float(re.search(r"last validation MSE ([0-9.e+-]+)", result.stdout)[1])
    _, y = load_exercise(1, random_state=0)
    zero_mse = float(np.mean(y[-150:] ** 2))  # predicting zeros on the validation part
    assert validation_mse < 0.5 * zero_mse
    for name in ("metrics.png", "validation_predictions.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "pipeline.seqpipe").read_bytes()[:8] == b"SEQPIPE\n"


# One example per generated seed's exercise, each run with --quick; all in one
# subprocess (one TensorFlow start-up) that runs each script as __main__.
QUICK_EXAMPLES = {
    "exercise1": r"exercise 1: validation MSE ([0-9.e+-]+), predict zero ([0-9.e+-]+)",
    "exercise2": r"exercise 2: validation MSE ([0-9.e+-]+), predict zero ([0-9.e+-]+)",
    "exercise3": r"exercise 3: validation MSE ([0-9.e+-]+), predict zero ([0-9.e+-]+)",
    "exercise4": r"exercise 4: validation MSE ([0-9.e+-]+), last value ([0-9.e+-]+)",
    "noisy_sine": r"noisy_sine: validation MSE ([0-9.e+-]+), noise floor \(noise variance\) "
                  r"([0-9.e+-]+)",
    "sin": r"sin: validation MSE ([0-9.e+-]+), last value ([0-9.e+-]+)",
    "sin_cos": r"sin_cos: validation MSE ([0-9.e+-]+), last value ([0-9.e+-]+)",
    "x_sin": r"x_sin: validation MSE ([0-9.e+-]+), last value ([0-9.e+-]+)",
    "echo": r"echo: validation accuracy ([0-9.e+-]+), majority class ([0-9.e+-]+)",
}
# How far from its baseline each smoke run must be (the ratio model / baseline; for
# echo, accuracy over the majority class's). Quick runs are short: loose bounds that a
# broken pipeline still fails; exercises 2 and 3 learn nothing in a smoke run's few
# steps (their quality is benchmarks/bench_quality.py's), so they only must not diverge.
QUICK_BOUNDS = {"exercise1": 0.5, "exercise2": 1.1, "exercise3": 1.1, "exercise4": 3.0,
                "noisy_sine": 5.0, "sin": 1.0, "sin_cos": 1.0, "x_sin": 1.0}

RUNNER = """
import runpy, sys
for name, output in zip(sys.argv[1::2], sys.argv[2::2]):
    sys.argv = [name, "--quick", "--output", output]
    runpy.run_path(name, run_name="__main__")
"""


def test_every_seed_example_runs_quickly_beats_its_baseline_and_saves(tmp_path):
    args = []
    for name in QUICK_EXAMPLES:
        args += [str(EXAMPLES / f"{name}.py"), str(tmp_path / name)]
    result = subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    for name, pattern in QUICK_EXAMPLES.items():
        match = re.search(pattern, result.stdout)
        assert match, (name, result.stdout)
        value, baseline = float(match[1]), float(match[2])
        if name == "echo":
            assert value > 3 * baseline, (name, value, baseline)
        else:
            assert value < QUICK_BOUNDS[name] * baseline, (name, value, baseline)
        assert (tmp_path / name / "pipeline.seqpipe").read_bytes()[:8] == b"SEQPIPE\n"
        plot = tmp_path / name / "validation_predictions.png"
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stock_example_trains_saves_and_streams_one_price_at_a_time(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "stock.py"), "--quick", "--output", str(tmp_path)],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"stock: validation MSE ([0-9.e+-]+), last value ([0-9.e+-]+)",
                      result.stdout)
    assert match, result.stdout
    model_mse, last_value_mse = float(match[1]), float(match[2])
    # Prices are close to a random walk: a model far below last value would be leaking
    # (an untrained one also lands near it: quality is bench_quality_series.py's; this
    # pins the leak bound and the train, save, reload and stream path).
    assert 0.8 * last_value_mse < model_mse < 1.5 * last_value_mse
    assert re.search(r"next close predicted [0-9.]+", result.stdout), result.stdout
    assert (tmp_path / "stock.seqpipe").read_bytes()[:8] == b"SEQPIPE\n"


def test_csv_forecast_example_beats_seasonal_naive_and_forecasts_dated_values(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "csv_forecast.py"), "--quick", "--output",
         str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"csv_forecast: validation MSE ([0-9.e+-]+), seasonal naive "
                      r"([0-9.e+-]+)", result.stdout)
    assert match, result.stdout
    assert float(match[1]) < float(match[2])
    header, *rows = result.stdout.split("the next 6 values:\n")[1].strip().splitlines()
    assert header == "date,value" and len(rows) == 6, result.stdout
    dates = pd.to_datetime([row.split(",")[0] for row in rows])
    last = pd.to_datetime(pd.read_csv(tmp_path / "series.csv")["date"]).max()
    assert dates.is_monotonic_increasing and dates.is_unique and dates[0] > last
    assert np.isfinite([float(row.split(",")[1]) for row in rows]).all()
    assert (tmp_path / "run" / "pipeline.seqpipe").read_bytes()[:8] == b"SEQPIPE\n"


def test_forecasting_example_gains_from_its_covariates_and_reloads(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "forecasting.py"), "--quick", "--output",
         str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"forecasting: MSE with covariates / without: ([0-9.]+)", result.stdout)
    assert match and float(match[1]) < 0.9, result.stdout
    assert "the next day's load, from 2023-04-17 00:00:00" in result.stdout
    assert (tmp_path / "backtest_errors.png").stat().st_size > 0
    assert (tmp_path / "forecaster.seqpipe").read_bytes()[:8] == b"SEQPIPE\n"


def test_many_series_example_beats_seasonal_naive_with_calibrated_intervals(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "many_series.py"), "--quick", "--output",
         str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"MASE ([0-9.]+) \(seasonal naive ([0-9.]+)", result.stdout)
    assert match and float(match[1]) < 0.8 * float(match[2]), result.stdout
    coverage = re.search(r"intervals cover ([0-9.]+)% at 80 %, ([0-9.]+)% at 95 %",
                         result.stdout)
    assert coverage and abs(float(coverage[1]) - 80) < 5 and abs(float(coverage[2]) - 95) < 3
    assert (tmp_path / "intervals.png").stat().st_size > 0
