"""Pipeline steps: data steps, the Keras model step and meta-steps.

See :mod:`seqpipe.base` for the step protocol. ``KerasModelStep`` is imported on
first use, so data steps work without loading TensorFlow.
"""

from typing import Any

from seqpipe.steps.convert import ToNumpy
from seqpipe.steps.epochs import EpochRepeater
from seqpipe.steps.flow import ForEach, TrainOnly
from seqpipe.steps.metrics import MetricsWrapper
from seqpipe.steps.minibatch import MiniBatch
from seqpipe.steps.normalize import MeanStdNormalizer
from seqpipe.steps.plotting import PlotPredictions
from seqpipe.steps.shuffle import DataShuffler
from seqpipe.steps.validation import ValidationSplit
from seqpipe.steps.window import Windower

__all__ = [
    "DataShuffler",
    "EpochRepeater",
    "ForEach",
    "KerasModelStep",
    "MeanStdNormalizer",
    "MetricsWrapper",
    "MiniBatch",
    "PlotPredictions",
    "ToNumpy",
    "TrainOnly",
    "ValidationSplit",
    "Windower",
]


def __getattr__(name: str) -> Any:
    if name == "KerasModelStep":
        from seqpipe.steps.keras_model import KerasModelStep

        return KerasModelStep
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
