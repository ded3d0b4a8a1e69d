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


# %%
# The data, split in time order
# -----------------------------
# ``load_exercise(4)`` cuts the daily Bitcoin closes in USD and EUR shipped with
# seqpipe (2013-04-13 to 2017-12-01, no download) into every window of 40 + 40
# consecutive days: ``X`` holds 40 days of both prices (shape ``(n, 40, 2)``), ``y``
# the 40 days after. The last 15 % of the windows, the latest dates, validate.
#
# Consecutive windows overlap: a training window's future holds prices that validation
# windows see. One future window of samples (40) is left out between the two parts,
# the gap rule of :doc:`../guide/time_order`, so no validation day is a training
# target.


def time_split(X: np.ndarray, y: np.ndarray) -> tuple[slice, slice]:
    """The training and validation slices: the last 15 % validate, one future window
    of samples left out before them."""
    n_validation = int(np.ceil(VALIDATION_SIZE * len(X)))
    gap = y.shape[1]  # consecutive windows overlap: leave one future window out
    train = slice(0, len(X) - n_validation - gap)
    validation = slice(len(X) - n_validation, len(X))
    return train, validation


# %%
# The pipeline, trained and scored
# --------------------------------
# ``exercise_pipeline(4)`` is the ready pipeline of seed 003: a signal-prediction
# pipeline (``MeanStdNormalizer``, ``ToNumpy``, a seq2seq GRU in a ``KerasModelStep``)
# trained through seed 003's composition of meta-steps,
# ``EpochRepeater(ValidationSplit(MetricsWrapper(Pipeline([TrainOnly(DataShuffler()),
# MiniBatch(MetricsWrapper(...))]))))`` (:doc:`../guide/training`). It is one
# scikit-learn regressor: ``fit`` on the training part, ``predict`` on the validation
# part.
#
# The printed line sets the validation MSE beside repeating each window's last prices
# for the 40 days ahead: prices are close to a random walk, so a model far below that
# baseline would be leaking the future.


def train_and_score(X: np.ndarray, y: np.ndarray, train: slice, validation: slice,
                    quick: bool):
    """The fitted pipeline and its validation predictions; prints the MSEs."""
    pipeline = exercise_pipeline(4, **(QUICK if quick else {}))
    pipeline.fit(X[train], y[train])

    X_val, y_val = X[validation], y[validation]
    y_pred = pipeline.predict(X_val)
    model_mse = float(np.mean((y_pred - y_val) ** 2))
    last_value = np.repeat(X_val[:, -1:, :], y.shape[1], axis=1)
    baseline_name = "last value"
    baseline_mse = float(np.mean((last_value - y_val) ** 2))
    print(f"exercise 4: validation MSE {model_mse:.6g}, {baseline_name} {baseline_mse:.6g} "
          f"({model_mse / baseline_mse:.3f}x)")
    return pipeline, y_pred


# %%
# Plots, save, reload
# -------------------
# ``history_["epoch_metrics"]`` holds the MSE of every epoch on the training batches
# and on the part of the training data ``ValidationSplit`` held out (its last 15 %);
# ``plot_history`` draws both curves. ``plot_predictions`` draws the first five
# validation samples: the past, the true future and the predicted one.
# ``seqpipe.save`` writes the fitted pipeline to one file; the pipeline
# ``seqpipe.load`` reads back predicts exactly the same values.


def plot_and_save(pipeline, X_val: np.ndarray, y_val: np.ndarray, y_pred: np.ndarray,
                  output: Path) -> None:
    """Write the two plots and the pipeline to ``output``; check the reload."""
    plot_history(pipeline.history_["epoch_metrics"], output / "metrics.png",
                 title="exercise 4: MSE per epoch")
    plot_predictions(X_val, y_val, y_pred, output / "validation_predictions.png",
                     title="exercise 4")
    seqpipe.save(pipeline, output / "pipeline.seqpipe")
    reloaded = seqpipe.load(output / "pipeline.seqpipe")
    assert np.array_equal(reloaded.predict(X_val), y_pred)
    print(f"wrote {output}/metrics.png, validation_predictions.png and "
          f"pipeline.seqpipe (reloaded: same predictions)")


# %%
# Run it
# ------
# The gallery runs the script with ``--quick``: 3 epochs of a GRU of 8 units on 400
# days. Below: the validation MSE beside the baseline's, the files written, the MSE
# per epoch, and the validation samples (past as dots, true future as crosses,
# prediction as squares; one colour per feature).


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few epochs on a few windows")
    parser.add_argument("--output", type=Path, default=Path("runs/exercise4"))
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    X, y = load_exercise(4, n_samples=400 if args.quick else None, random_state=0)
    train, validation = time_split(X, y)
    pipeline, y_pred = train_and_score(X, y, train, validation, args.quick)
    plot_and_save(pipeline, X[validation], y[validation], y_pred, args.output)


if __name__ == "__main__":
    main()
