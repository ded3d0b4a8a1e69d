"""Pipeline steps: data steps, the Keras model step and meta-steps.

See :mod:`seqpipe.base` for the step protocol.
"""

from seqpipe.steps.convert import ToNumpy
from seqpipe.steps.flow import ForEach, TrainOnly
from seqpipe.steps.keras_model import KerasModelStep
from seqpipe.steps.normalize import MeanStdNormalizer
from seqpipe.steps.shuffle import DataShuffler
from seqpipe.steps.window import Windower

__all__ = [
    "DataShuffler",
    "ForEach",
    "KerasModelStep",
    "MeanStdNormalizer",
    "ToNumpy",
    "TrainOnly",
    "Windower",
]
