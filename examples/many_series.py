"""Forecast many related series with one model, with calibrated prediction intervals.
==================================================================================

Run: ``python examples/many_series.py [--quick] [--output runs/many_series]``

A synthetic panel of daily series (:func:`seqpipe.datasets.make_panel`: shared yearly
and weekly cycles, each series with its own level, trend, start date and a scale
between 1 and 1,000) is forecast a week ahead by one
:class:`seqpipe.forecasting.Forecaster` learning all the series at once, with 80 % and
95 % intervals. It is backtested from one origin a week over the last 15 % of the
dates, scored per series (MASE: each series' own, averaged, so no scale dominates)
beside the seasonal-naive forecast, and the intervals' coverage is checked. The GRU
candidate is left out: on hundreds of series it trains for minutes on 2 cores.
``--quick``: 30 series over 2 years.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from sklearn.linear_model import Ridge

from seqpipe.datasets import make_panel
from seqpipe.forecasting import (
    Forecaster,
    LastValue,
    SeasonalNaive,
    SeriesRidge,
    backtest,
    summary,
)
from seqpipe.plotting import plot_intervals

# %%
# The panel and the forecaster
# ----------------------------
# ``make_panel`` returns a DataFrame with a column per series and a row per day (NaN
# before a series starts). One ``Forecaster`` learns all the columns at once: it
# forecasts 7 days ahead, chooses among Ridge autoregressions of three penalties
# shared by all series, a ``SeriesRidge`` (the shared Ridge plus a correction per
# series, shrunk toward it) and the seasonal-naive (weekly) and last-value forecasts,
# and adds 80 % and 95 % prediction intervals (``levels``), calibrated on its own
# training part.


def weekly_forecaster() -> Forecaster:
    """A week ahead, with 80 % and 95 % intervals; no GRU (minutes on many series)."""
    candidates = [Ridge(alpha=alpha) for alpha in (1.0, 10.0, 100.0)] + [
        SeriesRidge(series_alpha=1000.0), SeasonalNaive(7), LastValue()]
    return Forecaster(7, candidates=candidates, levels=(80, 95))


# %%
# Backtest and scores per series
# ------------------------------
# ``backtest`` fits the forecaster on the first 85 % of the dates and forecasts a week
# from every 7th day after. ``summary`` scores the forecasts overall and, with
# ``per_series=True``, series by series. The scale of the series spans three orders of
# magnitude, so the score is the MASE: each series' mean absolute error divided by the
# seasonal-naive forecast's on its training part, averaged over the series. The
# coverage is the share of actual values inside each interval: close to 80 % and 95 %
# when the intervals are calibrated.


def backtest_and_report(forecaster: Forecaster, panel: pd.DataFrame) -> pd.DataFrame:
    """Print the backtest's overall and hardest series' scores; the backtest."""
    history = backtest(forecaster, panel, start=0.85, step=7)
    overall = summary(history).loc["overall"]
    per_series = summary(history, per_series=True)
    print(f"many series: {panel.shape[1]} series, {history['origin'].nunique()} weekly "
          f"origins; MASE {overall['mase']:.3f} (seasonal naive "
          f"{overall['seasonal_naive_mase']:.3f}, last value {overall['last_value_mase']:.3f})")
    print(f"many series: intervals cover {overall['coverage_80']:.1%} at 80 %, "
          f"{overall['coverage_95']:.1%} at 95 %")
    print("the three hardest series:")
    print(per_series.nlargest(3, "mase")[["mase", "seasonal_naive_mase", "coverage_80"]]
          .round(3).to_string())
    return history


# %%
# Next week
# ---------
# Fitted on the whole panel, the forecaster predicts the week after the last date for
# every series; the forecast is a DataFrame indexed by series and date, with the
# intervals' bounds beside each prediction.


def next_week(forecaster: Forecaster, panel: pd.DataFrame) -> None:
    """Fit on the whole panel; print the next week of the first series."""
    fitted = forecaster.fit(panel)
    forecast = fitted.predict()
    print("next week of series-0:")
    print(forecast.loc["series-0"].round(1).to_string())


# %%
# Run it
# ------
# The gallery runs the script with ``--quick``: 30 series over 2 years. Below: the
# MASE beside the baselines', the intervals' coverage, the three series forecast
# worst, the next week of one series, and the plot: for three series, the actual
# values and the forecasts one day ahead, the intervals shaded.


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 series, 2 years")
    parser.add_argument("--output", type=Path, default=Path("runs/many_series"))
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    panel = make_panel(30 if args.quick else 200, 730 if args.quick else 1200,
                       random_state=0)
    forecaster = weekly_forecaster()
    history = backtest_and_report(forecaster, panel)
    plot_intervals(history, args.output / "intervals.png", step=1, max_series=3,
                   title="a week ahead, 1 day ahead shown")
    next_week(forecaster, panel)


if __name__ == "__main__":
    main()
