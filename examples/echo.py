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

# %%
# The data
# --------
# ``make_echo_sequences`` draws sequences of 10 integers from 0 to 24, one-hot encoded
# (``X`` of shape ``(n, 10, 25)``); each sequence's class is the integer at position 7
# (``y`` of shape ``(n,)``). The sequences are independent of each other, so the first
# 85 % train and the last 15 % validate, without a gap.


def split(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """``X_train, y_train, X_val, y_val``: the last 15 % of the sequences validate."""
    n_train = len(X) - int(np.ceil(VALIDATION_SIZE * len(X)))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


# %%
# The pipeline, trained and scored
# --------------------------------
# ``echo_pipeline`` is seed 004's ready pipeline: ``ToNumpy``, then a
# ``OneHotClassifier`` that encodes the labels as one-hot rows and trains a
# ``KerasModelStep`` on them: an LSTM of 25 units and a softmax over the 25 classes.
# The pipeline is a scikit-learn classifier, so ``score`` is the accuracy. The printed
# line puts it beside always answering the training part's most frequent class (about
# 1 in 25).


def train_and_score(X_train, y_train, X_val, y_val, quick: bool):
    """The fitted pipeline; prints the validation accuracy and the majority class's."""
    pipeline = echo_pipeline(**({"epochs": 3} if quick else {}))
    pipeline.fit(X_train, y_train)

    accuracy = pipeline.score(X_val, y_val)
    majority = float(np.mean(y_val == np.bincount(y_train).argmax()))
    print(f"echo: validation accuracy {accuracy:.4f}, majority class {majority:.4f}")
    return pipeline


# %%
# Plot, save, reload
# ------------------
# ``plot_predictions`` draws the first five validation sequences as integers, each
# followed by its true class and the predicted one. ``seqpipe.save`` writes the fitted
# pipeline to one file; the pipeline ``seqpipe.load`` reads back predicts the same
# classes.


def plot_and_save(pipeline, X_val, y_val, output: Path) -> None:
    """Write the plot and the pipeline to ``output``; check the reload."""
    # the sequences as integers (past), the class as a one-step future
    y_pred = pipeline.predict(X_val)
    plot_predictions(X_val.argmax(axis=-1)[..., None], y_val[:, None, None],
                     y_pred[:, None, None], output / "validation_predictions.png",
                     title="echo: the value at position 7")
    seqpipe.save(pipeline, output / "pipeline.seqpipe")
    assert np.array_equal(seqpipe.load(output / "pipeline.seqpipe").predict(X_val), y_pred)
    print(f"wrote {output}/validation_predictions.png and pipeline.seqpipe "
          f"(reloaded: same predictions)")


# %%
# Run it
# ------
# The gallery runs the script with ``--quick``: 3 epochs on 1,000 sequences, a smoke
# test. Below: the validation accuracy beside the majority class's, the files written,
# and the plot: in each row the 10 integers of a sequence (dots), then its class (a
# cross) and the predicted class (a square), which should equal the dot at position 7.


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few epochs on few sequences")
    parser.add_argument("--output", type=Path, default=Path("runs/echo"))
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    X, y = make_echo_sequences(1000 if args.quick else 10000, random_state=0)
    X_train, y_train, X_val, y_val = split(X, y)
    pipeline = train_and_score(X_train, y_train, X_val, y_val, args.quick)
    plot_and_save(pipeline, X_val, y_val, args.output)


if __name__ == "__main__":
    main()
