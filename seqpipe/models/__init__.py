"""Keras model builders, to pass as ``build_fn`` to :class:`~seqpipe.steps.KerasModelStep`."""

from seqpipe.models.classifier import lstm_classifier
from seqpipe.models.forecast import forecast_gru
from seqpipe.models.lstm import lstm_regressor
from seqpipe.models.seq2seq import seq2seq_gru

__all__ = ["forecast_gru", "lstm_classifier", "lstm_regressor", "seq2seq_gru"]
