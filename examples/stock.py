"""Seed 002: the next closing price from the last 30, deflated, detrended, deployed.
=================================================================================

Run: ``python examples/stock.py [--data FILE.csv --column close --date-column date]
[--cpi CPI.csv] [--quick] [--output runs/stock]``

Reads a CSV of daily closes (default: the shipped BTC USD closes), optionally divides
them by a price index (CPI) interpolated linearly to their dates, fits
``seqpipe.pipelines.stock_pipeline`` (windows of 30 values, the linear trend learned on
the training windows only, an LSTM) on all but the last 15 %, scores rolling one-step
predictions over that later period beside repeating the last value, plots them,
saves the model, and deploys it as the seed does: one price at a time
(``StreamingPredictor``).
``--quick`` trains 2 epochs on the last 800 days.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from seqpipe import StreamingPredictor, load, save  # noqa: E402
from seqpipe.datasets import load_btc_usd_eur, load_csv_series  # noqa: E402
from seqpipe.pipelines import stock_pipeline  # noqa: E402
from seqpipe.pipelines.stock import deflate_by_cpi  # noqa: E402

WINDOW = 30  # stock_pipeline's window_size_past

# %%
# The closes
# ----------
# By default the daily BTC closes in USD shipped with seqpipe; ``--data`` reads a CSV
# of your own instead. With ``--cpi``, each close is divided by the price index
# interpolated linearly to its date (``deflate_by_cpi``), as the seed deflated S&P 500
# closes. The quick run keeps the last 800 days.


def read_closes(args: argparse.Namespace) -> pd.Series:
    """The closes, by date, deflated by the CPI when one is given."""
    if args.data is None:
        closes = load_btc_usd_eur()["close_usd"]
    else:
        closes = load_csv_series(args.data, args.column, args.date_column,
                                 gaps="ignore").to_series()
    if args.cpi is not None:
        cpi = pd.read_csv(args.cpi, parse_dates=[0], index_col=0).iloc[:, 0]
        closes = deflate_by_cpi(closes, cpi)
    return closes.iloc[-800:] if args.quick else closes


# %%
# Fit on the earlier part, score on the later
# -------------------------------------------
# ``stock_pipeline`` takes the series itself, shape ``(T, 1)``: its ``Windower`` cuts
# windows of 30 days with the next day as target, ``WindowDetrender`` expresses each
# window relative to its last value minus a trend learned on the training windows
# only, then ``MeanStdNormalizer``, ``ToNumpy`` and an LSTM in a ``KerasModelStep``.
# It is fitted on the first 85 % of the days. ``predict_with_truth`` on the last 15 %
# (with the 30 days before them) gives, for every day of that period, the close
# predicted from the 30 days before it and the true one: rolling one-step predictions.
# Prices are close to a random walk, so the yardstick is repeating the last close; a
# model far below it would be leaking the future.


def fit_and_score(closes: pd.Series, quick: bool):
    """The pipeline fitted on the first 85 % of the days; prints the test MSEs and
    returns the pipeline, the test period's dates, true and predicted closes."""
    values = closes.to_numpy()[:, None]
    split = int(len(values) * 0.85)  # a later test period, as the seed's split date
    pipeline = stock_pipeline(**({"epochs": 2} if quick else {}))
    pipeline.fit(values[:split])

    # rolling one-step predictions over the test period, each from the 30 days before
    test = values[split - WINDOW:]
    y_true, y_pred = pipeline.predict_with_truth(test)
    model_mse = float(np.mean((y_true - y_pred) ** 2))
    last_mse = float(np.mean((y_true[:, 0, 0] - test[WINDOW - 1:-1, 0]) ** 2))
    print(f"test period {closes.index[split].date()} to {closes.index[-1].date()}, rolling "
          f"one-step predictions ({model_mse / last_mse:.3f}x last value's MSE)")
    print(f"stock: validation MSE {model_mse:.6g}, last value {last_mse:.6g}")
    return pipeline, closes.index[split:], y_true[:, 0, 0], y_pred[:, 0, 0]


# %%
# The test period, drawn
# ----------------------
# The true closes of the test period and, for each day, the close the model predicted
# from the 30 days before it.


def plot_test_period(dates: pd.DatetimeIndex, y_true: np.ndarray, y_pred: np.ndarray,
                     path: Path) -> None:
    """Write a PNG of the true and predicted closes over the test period."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.2))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(dates, y_true, color="C0", lw=1, label="close")
    ax.plot(dates, y_pred, color="C1", lw=1, alpha=0.8, label="predicted the day before")
    ax.set_title("test period: rolling one-step predictions")
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=80)


# %%
# Save, reload, stream
# --------------------
# ``save`` writes the fitted pipeline to one file. Deployed as the seed deploys it,
# the reloaded pipeline sits in a ``StreamingPredictor``: each ``update`` takes one
# closing price, and once 30 have arrived it answers the next day's predicted close.
# Here the last 30 closes are streamed in, so the answer is the forecast for the day
# after the data end.


def deploy(path: Path, closes: pd.Series) -> None:
    """Stream the last 30 closes through the saved pipeline; print the next close."""
    stream = StreamingPredictor(load(path))
    answer = None
    for price in closes.to_numpy()[-WINDOW:]:
        answer = stream.update(price)
    print(f"after {closes.index[-1].date()} (close {closes.iloc[-1]:.2f}): next close "
          f"predicted {float(np.ravel(answer)[0]):.2f}; saved {path}")


# %%
# Run it
# ------
# The gallery runs the script with ``--quick``: 2 epochs on the last 800 days. Below:
# the test period and the model's MSE beside the last value's, the forecast after the
# last day, and the plot, where the predictions follow the closes about a day late, as
# repeating the last close does.


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--column", default="close")
    parser.add_argument("--date-column", default="date")
    parser.add_argument("--cpi", type=Path, default=None)
    parser.add_argument("--quick", action="store_true", help="2 epochs on 800 days")
    parser.add_argument("--output", type=Path, default=Path("runs/stock"))
    args = parser.parse_args()

    closes = read_closes(args)
    pipeline, dates, y_true, y_pred = fit_and_score(closes, args.quick)
    args.output.mkdir(parents=True, exist_ok=True)
    plot_test_period(dates, y_true, y_pred, args.output / "test_predictions.png")
    path = args.output / "stock.seqpipe"
    save(pipeline, path)
    deploy(path, closes)


if __name__ == "__main__":
    main()
