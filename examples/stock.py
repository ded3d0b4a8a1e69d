"""Seed 002: the next closing price from the last 30, deflated, detrended, deployed.
=================================================================================

Run: ``python examples/stock.py [--data FILE.csv --column close --date-column date]
[--cpi CPI.csv] [--quick] [--output runs/stock]``

Reads a CSV of daily closes (default: the shipped BTC USD closes), optionally divides
them by a price index (CPI) interpolated linearly to their dates, fits
``seqpipe.pipelines.stock_pipeline`` (windows of 30 values, the linear trend learned on
the training windows only, an LSTM) on all but the last 15 %, scores rolling one-step
predictions over that later period beside repeating the last value, saves the model,
and deploys it as the seed does: one price at a time (``StreamingPredictor``).
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
    values = closes.to_numpy()[:, None]
    split = int(len(values) * 0.85)  # a later test period, as the seed's split date
    pipeline = stock_pipeline(**({"epochs": 2} if args.quick else {}))
    pipeline.fit(values[:split])

    # rolling one-step predictions over the test period, each from the 30 days before
    test = values[split - 30:]
    y_true, y_pred = pipeline.predict_with_truth(test)
    model_mse = float(np.mean((y_true - y_pred) ** 2))
    last_mse = float(np.mean((y_true[:, 0, 0] - test[29:-1, 0]) ** 2))
    print(f"test period {closes.index[split].date()} to {closes.index[-1].date()}, rolling "
          f"one-step predictions ({model_mse / last_mse:.3f}x last value's MSE)")
    print(f"stock: validation MSE {model_mse:.6g}, last value {last_mse:.6g}")

    args.output.mkdir(parents=True, exist_ok=True)
    path = save(pipeline, args.output / "stock.seqpipe")

    # deployed: one closing price in, the next day's predicted close out
    stream = StreamingPredictor(load(path))
    answer = None
    for price in values[-30:, 0]:
        answer = stream.update(price)
    print(f"after {closes.index[-1].date()} (close {values[-1, 0]:.2f}): next close "
          f"predicted {float(np.ravel(answer)[0]):.2f}; saved {path}")


if __name__ == "__main__":
    main()
