"""The Keras builders of seeds 000, 001 (lstm_regressor) and 004 (lstm_classifier)."""

import numpy as np
import pytest

from seqpipe.models import lstm_classifier, lstm_regressor


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("input_dim, output_dim", [(1, 1), (2, 2), (3, 1)])
def test_lstm_regressor_shapes_and_stacking(layers, input_dim, output_dim):
    model = lstm_regressor(input_dim=input_dim, output_dim=output_dim, units=4,
                           layers_stacked_count=layers)
    assert model.output_shape == (None, output_dim)
    assert sum("lstm" in layer.name for layer in model.layers) == layers
    out = model(np.zeros((3, 7, input_dim), dtype="float32"))  # any window length
    assert tuple(out.shape) == (3, output_dim)


def test_lstm_regressor_optional_dropout_and_dense_layers():
    names = [layer.name for layer in lstm_regressor(1, 1, units=4).layers]
    assert "dropout" not in names and "dense" not in names
    model = lstm_regressor(1, 1, units=4, dropout=0.2, dense_units=3)
    assert model.get_layer("dropout").rate == 0.2
    assert model.get_layer("dense").units == 3
    assert model.get_layer("output").activation.__name__ == "linear"


@pytest.mark.parametrize("layers", [1, 2])
def test_lstm_classifier_outputs_probabilities(layers):
    model = lstm_classifier(input_dim=5, output_dim=4, units=4, layers_stacked_count=layers)
    assert model.output_shape == (None, 4)
    X = np.random.default_rng(0).normal(size=(6, 10, 5)).astype("float32")
    proba = np.asarray(model(X))
    assert proba.shape == (6, 4)
    assert (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
