"""Seed 001: an LSTM predicts the next (sin(x), cos(x)) pair from a window of 5.
=============================================================================

Run: ``python examples/sin_cos.py [--quick] [--output runs/sin_cos]``

The public API end to end: the seed's data (make_sin_cos), its ready pipeline
(sin_cos_pipeline), a time-ordered split (the last 15 % validate; one target per
window, so no gap is needed), training, the validation MSE beside repeating the last
value, a plot of some predictions, then a save and a reload. ``--quick`` trains 5
epochs on 300 windows (a smoke test).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import seqpipe  # noqa: E402
from seqpipe.datasets import make_sin_cos  # noqa: E402
from seqpipe.pipelines import sin_cos_pipeline  # noqa: E402
from seqpipe.plotting import plot_predictions  # noqa: E402

VALIDATION_SIZE = 0.15

# %%
# The data, split in time order
# -----------------------------
# ``make_sin_cos`` cuts the pair (sin(x), cos(x)) into windows of 5 consecutive pairs,
# each with the pair that follows it as its target: ``X`` has shape ``(n, 5, 2)``,
# ``y`` ``(n, 2)``; both features are inputs and both are predicted. The windows are
# in time order, so the first 85 % train and the last 15 % validate: the model is
# scored on a later stretch of the curve than it learned from. Each target is a single
# next pair, so no validation target is among the training targets and no gap is
# needed between the two parts.


def time_split(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """``X_train, y_train, X_val, y_val``: the last 15 % of the windows validate."""
    n_train = len(X) - int(np.ceil(VALIDATION_SIZE * len(X)))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


# %%
# The pipeline, trained and scored
# --------------------------------
# ``sin_cos_pipeline`` is seed 001's ready pipeline:
# ``MeanStdNormalizer(per_sample=True)`` scales each window, feature by feature, by
# its own mean and standard deviation, ``ToNumpy`` hands float32 arrays on, and a
# ``KerasModelStep`` trains two stacked LSTMs of 16 units; the prediction is scaled
# back to the window's units. It is a scikit-learn estimator: ``fit``, then
# ``predict``. The printed line compares its validation MSE with repeating each
# window's last value, the forecast a model of a smooth curve has to beat.


def train_and_score(X_train, y_train, X_val, y_val, quick: bool):
    """The fitted pipeline and its validation predictions; prints the MSEs."""
    pipeline = sin_cos_pipeline(**({"epochs": 5, "batch_size": 32} if quick else {}))
    pipeline.fit(X_train, y_train)

    y_pred = pipeline.predict(X_val)
    model_mse = float(np.mean((y_pred - y_val) ** 2))
    baseline_name = "last value"
    baseline_mse = float(np.mean((X_val[:, -1, :] - y_val) ** 2))
    print(f"sin_cos: validation MSE {model_mse:.6g}, {baseline_name} {baseline_mse:.6g} "
          f"({model_mse / baseline_mse:.3f}x)")
    return pipeline, y_pred


# %%
# Plot, save, reload
# ------------------
# ``plot_predictions`` draws the first five validation windows, each followed by its
# true next pair and the predicted one (a future of one step; sine and cosine in two
# colours). ``seqpipe.save`` writes the fitted pipeline to one file; ``seqpipe.load``
# reads it back, and the reloaded pipeline predicts exactly the same values.


def plot_and_save(pipeline, X_val, y_val, y_pred, output: Path) -> None:
    """Write the plot and the pipeline to ``output``; check the reload."""
    # one step ahead: plot each window with its next value as a future of length 1
    plot_predictions(X_val, y_val[:, None, :], y_pred[:, None, :],
                     output / "validation_predictions.png", title="sin(x), cos(x)")
    seqpipe.save(pipeline, output / "pipeline.seqpipe")
    assert np.array_equal(seqpipe.load(output / "pipeline.seqpipe").predict(X_val), y_pred)
    print(f"wrote {output}/validation_predictions.png and pipeline.seqpipe "
          f"(reloaded: same predictions)")


# %%
# Run it
# ------
# The gallery runs the script with ``--quick``: 5 epochs on 300 windows, a smoke test
# whose MSE is far from a full run's (:doc:`../guide/performance`). Below: the
# validation MSE beside the last value's, the files written, and the plot (past values
# as dots, the true next value as a cross, the prediction as a square).


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few epochs on a few windows")
    parser.add_argument("--output", type=Path, default=Path("runs/sin_cos"))
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    X, y = make_sin_cos(300) if args.quick else make_sin_cos()
    X_train, y_train, X_val, y_val = time_split(X, y)
    pipeline, y_pred = train_and_score(X_train, y_train, X_val, y_val, args.quick)
    plot_and_save(pipeline, X_val, y_val, y_pred, args.output)


if __name__ == "__main__":
    main()
