"""forecast_gru: an encoder-decoder GRU for forecasting windows, whose decoder reads
the covariates known over the horizon.

>>> from seqpipe.models import forecast_gru
>>> model = forecast_gru(input_shape=(30, 4), output_shape=(6,), n_known_ahead=2,
...                      hidden_dim=8)
>>> model.output_shape
(None, 6)
"""

from __future__ import annotations

import keras
from keras import layers, regularizers


def forecast_gru(
    input_shape: tuple[int, int],
    output_shape: tuple[int, ...],
    *,
    n_known_ahead: int = 1,
    hidden_dim: int = 32,
    layers_stacked_count: int = 1,
    lambda_loss_amount: float = 0.0,
) -> keras.Model:
    """Build the forecasting encoder-decoder (uncompiled).

    It reads windows of ``P + H`` rows (:mod:`seqpipe.forecasting.windows`, scaled):
    the encoder, ``layers_stacked_count`` stacked GRUs, reads the ``P`` past rows of
    every channel; the decoder, as many GRUs started from the encoder's final
    states, reads the ``H`` forecast rows of the last ``n_known_ahead`` channels (the
    future covariates and the level), or the encoder's summary repeated when none is
    known ahead; a Dense layer maps each decoder step to one value.

    Parameters
    ----------
    input_shape : tuple of int
        ``(P + H, n_channels)``, inferred by ``KerasModelStep``.
    output_shape : tuple of int
        ``(H,)``, inferred.
    n_known_ahead : int, default=1
        Trailing channels known over the forecast rows.
    hidden_dim : int, default=32
        Units of every GRU.
    layers_stacked_count : int, default=1
        Stacked GRUs in the encoder and in the decoder.
    lambda_loss_amount : float, default=0.0
        L2 weight decay on every kernel and bias.

    Returns
    -------
    keras.Model
        Maps ``(batch, P + H, n_channels)`` to ``(batch, H)``.

    Examples
    --------
    Windows of 24 past and 6 forecast rows of 3 channels, the last 2 known ahead:

    >>> from seqpipe.models import forecast_gru
    >>> model = forecast_gru((30, 3), (6,), n_known_ahead=2, hidden_dim=4)
    >>> model.output_shape
    (None, 6)
    """
    horizon = int(output_shape[0])
    length, channels = int(input_shape[0]), int(input_shape[1])
    past = length - horizon
    if past < 1 or not 0 <= n_known_ahead <= channels:
        raise ValueError(f"forecast_gru: windows of shape {input_shape} cannot hold "
                         f"{horizon} forecast rows after a past and {n_known_ahead} "
                         f"channel(s) known ahead.")
    l2 = regularizers.L2(lambda_loss_amount) if lambda_loss_amount else None
    decay = {"kernel_regularizer": l2, "recurrent_regularizer": l2, "bias_regularizer": l2}

    window = keras.Input(shape=(length, channels), name="window")
    sequence, states = window[:, :past, :], []
    for i in range(layers_stacked_count):
        last = i == layers_stacked_count - 1
        sequence, state = layers.GRU(hidden_dim, return_sequences=not last,
                                     return_state=True, name=f"encoder_gru_{i}",
                                     **decay)(sequence)
        states.append(state)
    if n_known_ahead:
        sequence = window[:, past:, channels - n_known_ahead:]
    else:
        sequence = layers.RepeatVector(horizon, name="repeat_context")(sequence)
    for i, state in enumerate(states):
        sequence = layers.GRU(hidden_dim, return_sequences=True, name=f"decoder_gru_{i}",
                              **decay)(sequence, initial_state=state)
    steps = layers.Dense(1, name="output", kernel_regularizer=l2,
                         bias_regularizer=l2)(sequence)
    return keras.Model(window, layers.Reshape((horizon,), name="steps")(steps),
                       name="forecast_gru")
