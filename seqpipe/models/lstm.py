"""lstm_regressor: stacked LSTMs reading a window, a Dense layer predicting the next value.

The model of seeds 000 (noisy sine) and 001 (sin, sin+cos, x sin): a lookback
window in, the value(s) that follow it out.

>>> from seqpipe.models import lstm_regressor
>>> model = lstm_regressor(input_dim=2, output_dim=2, units=4)
>>> model.output_shape
(None, 2)
"""

from __future__ import annotations

import keras
from keras import layers


def lstm_regressor(
    input_dim: int,
    output_dim: int,
    *,
    units: int = 32,
    layers_stacked_count: int = 1,
    dropout: float = 0.0,
    dense_units: int = 0,
) -> keras.Model:
    """Build a window-to-next-value LSTM regressor (uncompiled).

    ``layers_stacked_count`` stacked LSTMs of ``units`` units read the window; the
    last one's final output goes through ``Dropout(dropout)`` (seed 000's
    regularization), an optional ReLU Dense layer of ``dense_units`` units (seed
    001's ``DENSE_LAYERS``) and a linear Dense layer of ``output_dim`` units.

    Parameters
    ----------
    input_dim : int
        Number of input features (inferred by ``KerasModelStep``).
    output_dim : int
        Number of values predicted (inferred from y: ``y.shape[-1]``, 1 for 1-D y).
    units : int, default=32
        Units of every LSTM.
    layers_stacked_count : int, default=1
        Number of stacked LSTMs.
    dropout : float, default=0.0
        Dropout rate after the last LSTM (active while training only).
    dense_units : int, default=0
        Units of a hidden ReLU Dense layer before the output; 0 for none.

    Returns
    -------
    keras.Model
        Maps ``(batch, n_timesteps, input_dim)``, any ``n_timesteps``, to
        ``(batch, output_dim)``.

    Examples
    --------
    >>> from seqpipe.models import lstm_regressor
    >>> model = lstm_regressor(1, 1, units=8)
    >>> model.output_shape
    (None, 1)
    """
    window = keras.Input(shape=(None, input_dim), name="window")
    hidden = window
    for i in range(layers_stacked_count):
        last = i == layers_stacked_count - 1
        hidden = layers.LSTM(units, return_sequences=not last, name=f"lstm_{i}")(hidden)
    if dropout:
        hidden = layers.Dropout(dropout, name="dropout")(hidden)
    if dense_units:
        hidden = layers.Dense(dense_units, activation="relu", name="dense")(hidden)
    output = layers.Dense(output_dim, name="output")(hidden)
    return keras.Model(window, output, name="lstm_regressor")
