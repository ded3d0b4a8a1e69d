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
Ridge and the two baselines as candidates.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from seqpipe import load, save
from seqpipe.datasets import make_load_series
from seqpipe.forecasting import Forecaster, backtest, summary
from seqpipe.plotting import plot_errors_by_step

# %%
# The load and its covariates
# ---------------------------
# ``make_load_series`` draws a half-hourly load in MW (``y``, a Series indexed by
# date) and a DataFrame of two covariates on the same dates: ``temperature`` and
# ``working_day``. Both are known a day ahead (a weather forecast, the calendar), so
# they are *future* covariates: a forecast may read their values at the dates it
# predicts.
#
# A ``Forecaster`` chooses its model among candidates on the last part of its training
# data, in time order. A full run uses the default ones (Ridge autoregressions, a GRU,
# the seasonal-naive and last-value forecasts); the quick run a Ridge and the two
# baselines.


def _quick_candidates() -> dict:
    from sklearn.linear_model import Ridge

    from seqpipe.forecasting import LastValue, SeasonalNaive

    return {"ridge": Ridge(alpha=10.0), "seasonal-naive": SeasonalNaive(48),
            "last-value": LastValue()}


# %%
# Two backtests
# -------------
# The same ``Forecaster(48)`` (48 half-hours: a day) is backtested twice, once reading
# only the past load (and the calendar features it derives from the dates) and once
# also reading the two covariates. ``backtest`` fits it on the data up to the first
# origin, then forecasts the next day from every midnight of the last two weeks;
# ``summary`` scores the forecasts overall and by step ahead, beside the last value
# and the seasonal-naive forecast (the same half-hour a day earlier).


def backtests(y: pd.Series, covariates: pd.DataFrame, start: int,
              options: dict) -> tuple[dict, pd.DataFrame]:
    """The overall scores of each backtest by name, and the backtest with covariates."""
    results = {}
    for name, future in (("load only", None), ("with covariates", covariates)):
        forecaster = Forecaster(48, random_state=0, **options)
        history = backtest(forecaster, y, future_covariates=future, start=start, step=48)
        results[name] = summary(history).loc["overall"]
    return results, history


def report(results: dict, fitted: Forecaster) -> None:
    """Print the model chosen with covariates and both backtests' scores."""
    print(f"with covariates: chose {fitted.best_candidate_} among "
          + ", ".join(f"{k} {v:.3g}" for k, v in fitted.candidate_scores_.items()))
    for name, row in results.items():
        print(f"forecasting ({name}): backtest MAE {row['mae']:.4g} MW, MASE "
              f"{row['mase']:.3g}; last value {row['last_value_mae']:.4g}, seasonal naive "
              f"{row['seasonal_naive_mae']:.4g}")
    ratio = results["with covariates"]["mse"] / results["load only"]["mse"]
    print(f"forecasting: MSE with covariates / without: {ratio:.3f}")


# %%
# Save, reload, forecast tomorrow
# -------------------------------
# The forecaster with covariates, fitted on the data up to the first origin, is saved
# and loaded back. Its forecast for the next day reads that day's covariates (the
# temperature forecast, the working-day flag) and comes as a DataFrame indexed by
# date.


def forecast_tomorrow(fitted: Forecaster, covariates: pd.DataFrame, start: int,
                      output: Path) -> None:
    """Save ``fitted``, reload it and print the start of the next day's forecast."""
    save(fitted, output / "forecaster.seqpipe")  # fitted with covariates
    tomorrow = covariates.iloc[start + 1:start + 49]  # the weather forecast, the calendar
    forecast = load(output / "forecaster.seqpipe").predict(future_covariates=tomorrow)
    print(f"the next day's load, from {forecast.index[0]}:")
    print(forecast.head(4).round(2).to_string())


# %%
# Run it
# ------
# The gallery runs the script with ``--quick``: four weeks of data (two to fit, two to
# backtest). Below: the candidates' validation scores and the one chosen, each
# backtest's MAE and MASE (the MAE over the seasonal-naive forecast's on the training
# part) beside the baselines', how much the covariates cut the MSE, the next day's
# first forecasts, and the backtest with covariates' mean absolute error by half-hour
# ahead, beside the baselines'.


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 weeks, a Ridge and two baselines")
    parser.add_argument("--output", type=Path, default=Path("runs/forecasting"))
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    weeks = 4 if args.quick else 12
    y, covariates = make_load_series(weeks * 7 * 48, random_state=0)
    start = len(y) - 14 * 48 - 1  # backtest the last two weeks, from midnight to midnight
    options = {"candidates": _quick_candidates()} if args.quick else {}
    results, history = backtests(y, covariates, start, options)
    fitted = Forecaster(48, random_state=0, **options).fit(
        y.iloc[:start + 1], future_covariates=covariates)
    report(results, fitted)
    plot_errors_by_step(summary(history), args.output / "backtest_errors.png",
                        title="day-ahead load: backtest errors by half-hour ahead")
    forecast_tomorrow(fitted, covariates, start, args.output)


if __name__ == "__main__":
    main()
