"""Seed 004: an LSTM classifier echoes the value at position 7 of a one-hot sequence.
==================================================================================

Run: ``python examples/echo.py [--quick] [--output runs/echo]``

The public API end to end: the seed's data (make_echo_sequences: 10,000 sequences of
10 integers in 0..24, one-hot), its ready pipeline (echo_pipeline: an LSTM of 25
units and a softmax), training on the first 85 %, the validation accuracy beside the
majority class's, a plot of some validation sequences with their true and predicted
classes, then a save and a reload. ``--quick`` trains 3 epochs on 1,000 sequences
(a smoke test).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import seqpipe  # noqa: E402
from seqpipe.datasets import make_echo_sequences  # noqa: E402
from seqpipe.pipelines import echo_pipeline  # noqa: E402
from seqpipe.plotting import plot_predictions  # noqa: E402

VALIDATION_SIZE = 0.15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few epochs on few sequences")
    parser.add_argument("--output", type=Path, default=Path("runs/echo"))
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    X, y = make_echo_sequences(1000 if args.quick else 10000, random_state=0)
    n_train = len(X) - int(np.ceil(VALIDATION_SIZE * len(X)))
    X_train, y_train, X_val, y_val = X[:n_train], y[:n_train], X[n_train:], y[n_train:]

    pipeline = echo_pipeline(**({"epochs": 3} if args.quick else {}))
    pipeline.fit(X_train, y_train)

    accuracy = pipeline.score(X_val, y_val)
    majority = float(np.mean(y_val == np.bincount(y_train).argmax()))
    print(f"echo: validation accuracy {accuracy:.4f}, majority class {majority:.4f}")

    # the sequences as integers (past), the class as a one-step future
    y_pred = pipeline.predict(X_val)
    plot_predictions(X_val.argmax(axis=-1)[..., None], y_val[:, None, None],
                     y_pred[:, None, None], args.output / "validation_predictions.png",
                     title="echo: the value at position 7")
    seqpipe.save(pipeline, args.output / "pipeline.seqpipe")
    assert np.array_equal(seqpipe.load(args.output / "pipeline.seqpipe").predict(X_val), y_pred)
    print(f"wrote {args.output}/validation_predictions.png and pipeline.seqpipe "
          f"(reloaded: same predictions)")


if __name__ == "__main__":
    main()
