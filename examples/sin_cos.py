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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few epochs on a few windows")
    parser.add_argument("--output", type=Path, default=Path("runs/sin_cos"))
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    X, y = make_sin_cos(300) if args.quick else make_sin_cos()
    n_train = len(X) - int(np.ceil(VALIDATION_SIZE * len(X)))
    X_train, y_train, X_val, y_val = X[:n_train], y[:n_train], X[n_train:], y[n_train:]

    pipeline = sin_cos_pipeline(**({"epochs": 5, "batch_size": 32} if args.quick else {}))
    pipeline.fit(X_train, y_train)

    y_pred = pipeline.predict(X_val)
    model_mse = float(np.mean((y_pred - y_val) ** 2))
    baseline_name = "last value"
    baseline_mse = float(np.mean((X_val[:, -1, :] - y_val) ** 2))
    print(f"sin_cos: validation MSE {model_mse:.6g}, {baseline_name} {baseline_mse:.6g} "
          f"({model_mse / baseline_mse:.3f}x)")

    # one step ahead: plot each window with its next value as a future of length 1
    plot_predictions(X_val, y_val[:, None, :], y_pred[:, None, :],
                     args.output / "validation_predictions.png", title="sin(x), cos(x)")
    seqpipe.save(pipeline, args.output / "pipeline.seqpipe")
    assert np.array_equal(seqpipe.load(args.output / "pipeline.seqpipe").predict(X_val), y_pred)
    print(f"wrote {args.output}/validation_predictions.png and pipeline.seqpipe "
          f"(reloaded: same predictions)")


if __name__ == "__main__":
    main()
