"""Exercise 1 trained with seed 003's composition of meta-steps, seqpipe's names.
==============================================================================

Run: ``python examples/exercise1_neuraxle_style.py [--epochs 15] [--output runs/neuraxle_style]``

Trains the signal-prediction pipeline (normalize, to numpy, seq2seq GRU) with
EpochRepeater(ValidationSplit(MetricsWrapper(Pipeline([TrainOnly(DataShuffler()),
MiniBatch(MetricsWrapper(...))])))), prints the metrics of every epoch, then writes
the train/validation curves and plots of validation predictions.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from seqpipe import Pipeline, save  # noqa: E402
from seqpipe.datasets import load_exercise  # noqa: E402
from seqpipe.models import seq2seq_gru  # noqa: E402
from seqpipe.pipelines import seed003_training  # noqa: E402
from seqpipe.plotting import plot_history  # noqa: E402
from seqpipe.steps import KerasModelStep, MeanStdNormalizer, PlotPredictions, ToNumpy  # noqa: E402

# %%
# The signal-prediction pipeline and its training
# -----------------------------------------------
# Normalize, convert to float32 and predict with the seq2seq GRU, wrapped in a
# ``PlotPredictions`` that plots only when asked. ``seed003_training`` wraps it in
# seed 003's composition: ``EpochRepeater(ValidationSplit(MetricsWrapper(Pipeline([
# TrainOnly(DataShuffler()), MiniBatch(MetricsWrapper(...))]))))``.


def build(epochs: int, output: Path):
    """The composition of seed 003 (see ``seqpipe.pipelines.seed003_training``)."""
    signal_prediction = Pipeline([
        MeanStdNormalizer(),
        ToNumpy(),
        PlotPredictions(
            KerasModelStep(seq2seq_gru, hidden_dim=12, layers_stacked_count=2,
                           lambda_loss_amount=1e-5, learning_rate=1e-2, random_state=0),
            max_plotted=5, path=output / "validation_predictions.png"),
    ])
    return seed003_training(signal_prediction, epochs=epochs, batch_size=100,
                            validation_size=0.15, verbose=1)


# %%
# Fit, read the metrics, plot
# ---------------------------
# ``fit`` runs the epochs and returns the pipeline; ``history_`` holds the metrics both
# ``MetricsWrapper``\s recorded. The predictions are plotted on request: enable the
# ``PlotPredictions`` step, score the validation part, disable it again.


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--output", type=Path, default=Path("runs/neuraxle_style"))
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    X, y = load_exercise(1, random_state=0)
    pipeline = build(args.epochs, args.output).fit(X, y)

    history = pipeline.history_["epoch_metrics"]
    print(f"last train MSE {history['train']['mse'][-1]:.6f}, "
          f"last validation MSE {history['validation']['mse'][-1]:.6f}")
    plot_history(pipeline, args.output / "metrics.png", title="exercise 1")

    # Plots on request: enable the PlotPredictions step, then evaluate the validation part.
    plotting = [key for key in pipeline.get_params() if key.endswith("plotpredictions__enabled")]
    validation = pipeline.step_.validation_indices_
    pipeline.set_params(**dict.fromkeys(plotting, True))
    pipeline.score(X[validation], y[validation])
    pipeline.set_params(**dict.fromkeys(plotting, False))
    save(pipeline, args.output / "pipeline.seqpipe")
    print(f"wrote {args.output / 'metrics.png'}, {args.output / 'validation_predictions.png'} "
          f"and {args.output / 'pipeline.seqpipe'}")


# %%
# Run it (the documentation's gallery runs it with ``--epochs 2``).

if __name__ == "__main__":
    main()
