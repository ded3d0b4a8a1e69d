"""Seed 003, exercise 4: predict 40 days of Bitcoin closes (USD and EUR) from the 40 before.
=========================================================================================

Run: ``python examples/exercise4.py [--quick] [--output runs/exercise4]``

The public API end to end: the exercise's data, its ready pipeline (the seq2seq GRU
trained through seed 003's composition, see ``seqpipe.pipelines.exercise_pipeline``),
a time-ordered split (the last 15 % validate, one future window left out before
them), training, the validation MSE beside repeating the last value (prices are close
to a random walk: a model far below it would be leaking), plots of the curves and of
some predictions, then a save and a reload. The data are the daily BTC closes shipped
with seqpipe (no download). ``--quick`` trains 3 epochs
on 400 windows (a smoke test).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import seqpipe  # noqa: E402
from seqpipe.datasets import load_exercise  # noqa: E402
from seqpipe.pipelines import exercise_pipeline  # noqa: E402
from seqpipe.plotting import plot_history, plot_predictions  # noqa: E402

VALIDATION_SIZE = 0.15
QUICK = {"epochs": 3, "hidden_dim": 8}  # --quick: a smoke test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few epochs on a few windows")
    parser.add_argument("--output", type=Path, default=Path("runs/exercise4"))
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    X, y = load_exercise(4, n_samples=400 if args.quick else None, random_state=0)
    n_validation = int(np.ceil(VALIDATION_SIZE * len(X)))
    gap = y.shape[1]  # consecutive windows overlap: leave one future window out
    train = slice(0, len(X) - n_validation - gap)
    validation = slice(len(X) - n_validation, len(X))

    pipeline = exercise_pipeline(4, **(QUICK if args.quick else {}))
    pipeline.fit(X[train], y[train])

    y_pred = pipeline.predict(X[validation])
    model_mse = float(np.mean((y_pred - y[validation]) ** 2))
    last_value = np.repeat(X[validation][:, -1:, :], y.shape[1], axis=1)
    baseline_name = "last value"
    baseline_mse = float(np.mean((last_value - y[validation]) ** 2))
    print(f"exercise 4: validation MSE {model_mse:.6g}, {baseline_name} {baseline_mse:.6g} "
          f"({model_mse / baseline_mse:.3f}x)")

    plot_history(pipeline.history_["epoch_metrics"], args.output / "metrics.png",
                 title="exercise 4: MSE per epoch")
    plot_predictions(X[validation], y[validation], y_pred,
                     args.output / "validation_predictions.png", title="exercise 4")
    seqpipe.save(pipeline, args.output / "pipeline.seqpipe")
    reloaded = seqpipe.load(args.output / "pipeline.seqpipe")
    assert np.array_equal(reloaded.predict(X[validation]), y_pred)
    print(f"wrote {args.output}/metrics.png, validation_predictions.png and "
          f"pipeline.seqpipe (reloaded: same predictions)")


if __name__ == "__main__":
    main()
