"""seq2seq_gru: seed 003's stacked-GRU encoder-decoder for signal forecasting.

>>> from seqpipe.models import seq2seq_gru
>>> model = seq2seq_gru(input_dim=2, output_dim=2, window_size_future=10, hidden_dim=8)
>>> model.output_shape
(None, 10, 2)
"""

from __future__ import annotations

import keras
from keras import layers, regularizers


def seq2seq_gru(
    input_dim: int,
    output_dim: int,
    window_size_future: int,
    *,
    hidden_dim: int = 12,
    layers_stacked_count: int = 2,
    lambda_loss_amount: float = 3e-4,
) -> keras.Model:
    """Build the encoder-decoder of seed 003 (uncompiled).

    The encoder, ``layers_stacked_count`` stacked GRUs of ``hidden_dim`` units,
    reads the past window; its last output is repeated over the
    ``window_size_future`` future steps and fed to a decoder of as many stacked
    GRUs, each initialised with the final state of its encoder counterpart; a Dense
    layer maps every decoder step to ``output_dim`` values. Stacked GRU layers
    compute exactly what the seed's stacked GRU cells do, faster.

    Parameters
    ----------
    input_dim : int
        Number of input features (inferred by ``KerasModelStep``).
    output_dim : int
        Number of output features (inferred).
    window_size_future : int
        Number of future steps to predict (inferred).
    hidden_dim : int, default=12
        Units of every GRU.
    layers_stacked_count : int, default=2
        Number of stacked GRUs in the encoder and in the decoder.
    lambda_loss_amount : float, default=3e-4
        L2 weight decay: ``lambda_loss_amount * sum(w ** 2)`` over all kernels,
        recurrent kernels and biases is added to the loss.

    Returns
    -------
    keras.Model
        Maps ``(batch, n_timesteps, input_dim)`` to
        ``(batch, window_size_future, output_dim)``.

    Examples
    --------
    Usually passed to :class:`~seqpipe.steps.KerasModelStep`, which infers the shapes;
    called directly, it returns the model:

    >>> from seqpipe.models import seq2seq_gru
    >>> model = seq2seq_gru(2, 2, 10, hidden_dim=4)
    >>> model.input_shape, model.output_shape
    ((None, None, 2), (None, 10, 2))
    """
    l2 = regularizers.L2(lambda_loss_amount) if lambda_loss_amount else None
    decay = {"kernel_regularizer": l2, "recurrent_regularizer": l2, "bias_regularizer": l2}

    past = keras.Input(shape=(None, input_dim), name="past")
    sequence, states = past, []
    for i in range(layers_stacked_count):
        last = i == layers_stacked_count - 1
        sequence, state = layers.GRU(
            hidden_dim, return_sequences=not last, return_state=True,
            name=f"encoder_gru_{i}", **decay,
        )(sequence)
        states.append(state)

    sequence = layers.RepeatVector(window_size_future, name="repeat_context")(sequence)
    for i, state in enumerate(states):
        sequence = layers.GRU(
            hidden_dim, return_sequences=True, name=f"decoder_gru_{i}", **decay,
        )(sequence, initial_state=state)
    future = layers.Dense(
        output_dim, name="output", kernel_regularizer=l2, bias_regularizer=l2
    )(sequence)
    return keras.Model(past, future, name="seq2seq_gru")
