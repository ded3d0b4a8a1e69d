import numpy as np
import pytest

from seqpipe.models import seq2seq_gru


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_shapes_and_stacking(layers):
    model = seq2seq_gru(input_dim=3, output_dim=1, window_size_future=7, hidden_dim=5,
                        layers_stacked_count=layers)
    assert model.output_shape == (None, 7, 1)
    gru_names = [layer.name for layer in model.layers if "gru" in layer.name]
    assert len(gru_names) == 2 * layers
    out = model(np.zeros((4, 11, 3), dtype="float32"))  # any past length
    assert tuple(out.shape) == (4, 7, 1)


def test_l2_weight_decay_matches_lambda():
    model = seq2seq_gru(input_dim=2, output_dim=2, window_size_future=3, hidden_dim=4,
                        lambda_loss_amount=0.5)
    model(np.zeros((1, 3, 2), dtype="float32"))
    expected = 0.5 * sum(float(np.sum(np.square(w))) for w in model.trainable_weights)
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)
    plain = seq2seq_gru(input_dim=2, output_dim=2, window_size_future=3, lambda_loss_amount=0)
    assert len(plain.losses) == 0
