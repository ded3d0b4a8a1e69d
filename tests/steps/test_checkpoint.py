"""The meta-steps put back the whole training state — weights and optimizer state —
through one Checkpoint (item 5 of the foundations)."""

import itertools

import pytest

from seqpipe.base import Checkpoint, DivergedError
from seqpipe.models import seq2seq_gru
from seqpipe.steps import EpochRepeater, KerasModelStep, MiniBatch, ValidationSplit
from tests.steps.test_keras_training_state import assert_bitwise_equal, values

FAIL_AT = {"call": None}


class Diverging(KerasModelStep):
    """Makes its real update, then reports a divergence on call ``FAIL_AT["call"]``
    (0-based), leaving the half-done update for the meta-steps to undo."""

    def partial_fit(self, X, y):
        super().partial_fit(X, y)
        self.calls_ = getattr(self, "calls_", 0) + 1
        if self.calls_ - 1 == FAIL_AT["call"]:
            raise DivergedError(float("nan"))
        return self


def keras_step(cls=KerasModelStep):
    return cls(seq2seq_gru, hidden_dim=3, layers_stacked_count=1, learning_rate=0.05,
               random_state=0)


def state_values(step):
    return values(step.model_.weights) + values(step.model_.optimizer.variables)


def test_a_diverged_epoch_puts_back_the_optimizer_state_of_the_epoch_before(sine_windows):
    X, y = sine_windows
    reference = EpochRepeater(MiniBatch(keras_step(), batch_size=40), epochs=2).fit(X, y)
    FAIL_AT["call"] = 2 * 5 + 1  # second batch of the third epoch
    try:
        diverging = EpochRepeater(MiniBatch(keras_step(Diverging), batch_size=40), epochs=3)
        with pytest.raises(DivergedError, match="at epoch 2, batch 1"):
            diverging.fit(X, y)
    finally:
        FAIL_AT["call"] = None
    assert diverging.n_epochs_ == 2
    expected = state_values(reference.step_.step_)
    assert_bitwise_equal(state_values(diverging.step_.step_), expected)
    assert int(diverging.step_.step_.model_.optimizer.iterations) == 10


def test_restore_best_weights_puts_back_the_optimizer_state_too(sine_windows):
    X, y = sine_windows
    scores = itertools.cycle([1.0, 3.0, 2.0, 0.0])  # the second pass is the best

    def scripted(y_true, y_pred):
        return next(scores)

    split = ValidationSplit(MiniBatch(keras_step(), batch_size=40), validation_size=0.25,
                            scoring=scripted, restore_best_weights=True)
    EpochRepeater(split, epochs=4).fit(X, y)
    assert split.best_epoch_ == 1
    reference = ValidationSplit(MiniBatch(keras_step(), batch_size=40), validation_size=0.25)
    EpochRepeater(reference, epochs=2).fit(X, y)
    assert_bitwise_equal(state_values(split.step_.step_), state_values(reference.step_.step_))


def test_checkpoint_finds_every_holder_and_skips_unbuilt_ones(sine_windows):
    X, y = sine_windows
    built, unbuilt = keras_step().partial_fit(X[:20], y[:20]), keras_step()
    checkpoint = Checkpoint(MiniBatch([built]))
    checkpoint.holders.append(unbuilt)
    snapshot = checkpoint.save()
    assert [holder for holder, _ in snapshot] == [built]
    before = state_values(built)
    built.partial_fit(X[20:40], y[20:40])
    Checkpoint.restore(snapshot)
    assert_bitwise_equal(state_values(built), before)
