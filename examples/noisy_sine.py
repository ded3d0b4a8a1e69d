"""Seed 000: an LSTM predicts the next value of a noisy sine from a window of 10.
==============================================================================

Run: ``python examples/noisy_sine.py [--quick] [--output runs/noisy_sine]``

The public API end to end: the seed's data (make_noisy_sine), its ready pipeline
(noisy_sine_pipeline), a time-ordered split (the last 15 % validate; one target per
window, so no gap is needed), training, the validation MSE beside the noise floor
(the noise's variance: the best any model can do), a plot of some predictions, then
a save and a reload. ``--quick`` trains 5 epochs on 300 windows (a smoke test).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import seqpipe  # noqa: E402
from seqpipe.datasets import make_noisy_sine  # noqa: E402
from seqpipe.pipelines import noisy_sine_pipeline  # noqa: E402
from seqpipe.plotting import plot_predictions  # noqa: E402

VALIDATION_SIZE = 0.15
NOISE_STD = 0.1  # make_noisy_sine's default, the seed's

# %%
# The data, split in time order
# -----------------------------
# ``make_noisy_sine`` samples sin(t) every 0.1 and adds normal noise of standard
# deviation 0.1; each window of 10 points has the point after it as its target (``X``
# of shape ``(n, 10, 1)``, ``y`` ``(n, 1)``). The first 85 % of the windows train and
# the last 15 % validate, in time order. Each target is a single next value, so no
# validation target is among the training targets and no gap is needed.


def time_split(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """``X_train, y_train, X_val, y_val``: the last 15 % of the windows validate."""
    n_train = len(X) - int(np.ceil(VALIDATION_SIZE * len(X)))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


# %%
# The pipeline, trained and scored
# --------------------------------
# ``noisy_sine_pipeline`` is seed 000's ready pipeline: ``MeanStdNormalizer``
# (statistics of the whole training set: the sine is stationary), ``ToNumpy`` and a
# ``KerasModelStep`` training an LSTM of 128 units whose learning rate decays along a
# cosine. The quick run replaces it with a small LSTM of 16 units at a constant rate.
#
# The next value carries noise no model can predict, so the yardstick is the noise
# floor: the noise's variance, 0.01. A validation MSE near it means the model predicts
# the clean sine.


def train_and_score(X_train, y_train, X_val, y_val, quick: bool):
    """The fitted pipeline and its validation predictions; prints the MSEs."""
    settings = {"epochs": 5, "units": 16, "learning_rate": 1e-2}  # a smoke test
    pipeline = noisy_sine_pipeline(**(settings if quick else {}))
    pipeline.fit(X_train, y_train)

    y_pred = pipeline.predict(X_val)
    model_mse = float(np.mean((y_pred - y_val) ** 2))
    baseline_name = "noise floor (noise variance)"
    baseline_mse = NOISE_STD**2  # no model can predict the noise of the next value
    print(f"noisy_sine: validation MSE {model_mse:.6g}, {baseline_name} {baseline_mse:.6g} "
          f"({model_mse / baseline_mse:.3f}x)")
    return pipeline, y_pred


# %%
# Plot, save, reload
# ------------------
# ``plot_predictions`` draws the first five validation windows, each followed by its
# true (noisy) next value and the predicted one. ``seqpipe.save`` writes the fitted
# pipeline to one file; the pipeline ``seqpipe.load`` reads back predicts exactly the
# same values.


def plot_and_save(pipeline, X_val, y_val, y_pred, output: Path) -> None:
    """Write the plot and the pipeline to ``output``; check the reload."""
    # one step ahead: plot each window with its next value as a future of length 1
    plot_predictions(X_val, y_val[:, None, :], y_pred[:, None, :],
                     output / "validation_predictions.png", title="noisy sine")
    seqpipe.save(pipeline, output / "pipeline.seqpipe")
    assert np.array_equal(seqpipe.load(output / "pipeline.seqpipe").predict(X_val), y_pred)
    print(f"wrote {output}/validation_predictions.png and pipeline.seqpipe "
          f"(reloaded: same predictions)")


# %%
# Run it
# ------
# The gallery runs the script with ``--quick``: 5 epochs on 300 windows, a smoke test
# (a full run's numbers are on :doc:`../guide/performance`). Below: the validation MSE
# beside the noise floor, the files written, and the plot (past values as dots, the
# true next value as a cross, the prediction as a square).


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few epochs on a few windows")
    parser.add_argument("--output", type=Path, default=Path("runs/noisy_sine"))
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    X, y = make_noisy_sine(300, random_state=0) if args.quick else make_noisy_sine(random_state=0)
    X_train, y_train, X_val, y_val = time_split(X, y)
    pipeline, y_pred = train_and_score(X_train, y_train, X_val, y_val, args.quick)
    plot_and_save(pipeline, X_val, y_val, y_pred, args.output)


if __name__ == "__main__":
    main()
