"""lstm_classifier: an LSTM reading a sequence, a softmax over the classes (seed 004).

>>> from seqpipe.models import lstm_classifier
>>> model = lstm_classifier(input_dim=25, output_dim=25, units=8)
>>> model.output_shape
(None, 25)
"""

from __future__ import annotations

import keras
from keras import layers


def lstm_classifier(
    input_dim: int,
    output_dim: int,
    *,
    units: int = 25,
    layers_stacked_count: int = 1,
) -> keras.Model:
    """Build a sequence classifier (uncompiled): stacked LSTMs, then a softmax.

    Seed 004's echo model: an LSTM of 25 units and a Dense softmax layer with one
    unit per class. Train it on one-hot targets with
    ``loss="categorical_crossentropy"`` (see :class:`seqpipe.pipelines.OneHotClassifier`).

    Parameters
    ----------
    input_dim : int
        Number of input features per time step (inferred by ``KerasModelStep``).
    output_dim : int
        Number of classes (inferred from the one-hot y).
    units : int, default=25
        Units of every LSTM.
    layers_stacked_count : int, default=1
        Number of stacked LSTMs.

    Returns
    -------
    keras.Model
        Maps ``(batch, n_timesteps, input_dim)``, any ``n_timesteps``, to class
        probabilities ``(batch, output_dim)`` (rows sum to 1).

    Examples
    --------
    >>> from seqpipe.models import lstm_classifier
    >>> model = lstm_classifier(10, 10, units=8)
    >>> model.output_shape
    (None, 10)
    """
    sequence = keras.Input(shape=(None, input_dim), name="sequence")
    hidden = sequence
    for i in range(layers_stacked_count):
        last = i == layers_stacked_count - 1
        hidden = layers.LSTM(units, return_sequences=not last, name=f"lstm_{i}")(hidden)
    probabilities = layers.Dense(output_dim, activation="softmax", name="probabilities")(hidden)
    return keras.Model(sequence, probabilities, name="lstm_classifier")
