"""Keras model builders, to pass as ``build_fn`` to :class:`~seqpipe.steps.KerasModelStep`."""

from seqpipe.models.seq2seq import seq2seq_gru

__all__ = ["seq2seq_gru"]
