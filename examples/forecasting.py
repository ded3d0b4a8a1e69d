"""Forecast an electricity load a day ahead from Python, with covariates and a backtest.
=====================================================================================

Run: ``python examples/forecasting.py [--quick] [--output runs/forecasting]``

A synthetic half-hourly load (:func:`seqpipe.datasets.make_load_series`: daily and
weekly cycles, holidays, a U-shaped response to the temperature) is forecast 48
half-hours (a day) ahead by a :class:`seqpipe.forecasting.Forecaster`, once from the
past load alone and once also reading the temperature and the working-day flag as
future covariates (a weather forecast and the calendar are known a day ahead). Each is
backtested over the last two weeks, from every origin at midnight, and scored beside
the last value and the seasonal-naive forecast. ``--quick``: four weeks of data, a
GRU of 4 epochs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from seqpipe import load, save
from seqpipe.datasets import make_load_series
from seqpipe.forecasting import Forecaster, backtest, summary
from seqpipe.plotting import plot_errors_by_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 weeks, a short GRU")
    parser.add_argument("--output", type=Path, default=Path("runs/forecasting"))
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    weeks = 4 if args.quick else 12
    y, covariates = make_load_series(weeks * 7 * 48, random_state=0)
    start = len(y) - 14 * 48 - 1  # backtest the last two weeks, from midnight to midnight
    options = {"candidates": _quick_candidates()} if args.quick else {}
    results = {}
    for name, future in (("load only", None), ("with covariates", covariates)):
        forecaster = Forecaster(48, random_state=0, **options)
        history = backtest(forecaster, y, future_covariates=future, start=start, step=48)
        results[name] = summary(history).loc["overall"]
    fitted = forecaster.fit(y.iloc[:start + 1], future_covariates=covariates)
    print(f"with covariates: chose {fitted.best_candidate_} among "
          + ", ".join(f"{k} {v:.3g}" for k, v in fitted.candidate_scores_.items()))
    for name, row in results.items():
        print(f"forecasting ({name}): backtest MAE {row['mae']:.4g} MW, MASE "
              f"{row['mase']:.3g}; last value {row['last_value_mae']:.4g}, seasonal naive "
              f"{row['seasonal_naive_mae']:.4g}")
    ratio = results["with covariates"]["mse"] / results["load only"]["mse"]
    print(f"forecasting: MSE with covariates / without: {ratio:.3f}")
    plot_errors_by_step(summary(history), args.output / "backtest_errors.png",
                        title="day-ahead load: backtest errors by half-hour ahead")

    save(fitted, args.output / "forecaster.seqpipe")  # fitted with covariates
    tomorrow = covariates.iloc[start + 1:start + 49]  # the weather forecast, the calendar
    forecast = load(args.output / "forecaster.seqpipe").predict(future_covariates=tomorrow)
    print(f"the next day's load, from {forecast.index[0]}:")
    print(forecast.head(4).round(2).to_string())


def _quick_candidates() -> dict:
    from sklearn.linear_model import Ridge

    from seqpipe.forecasting import LastValue, SeasonalNaive

    return {"ridge": Ridge(alpha=10.0), "seasonal-naive": SeasonalNaive(48),
            "last-value": LastValue()}


if __name__ == "__main__":
    main()
