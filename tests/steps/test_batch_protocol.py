"""The batch loop pushed down to the last step (``partial_fit_batches``): a pipeline of
samplewise steps preprocesses a whole pass at once, with the same results as batch by
batch; other pipelines fall back to batch by batch. Also the numerics behind it
(normalizer statistics, mse) and the shuffler's adapt."""

import re

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import SGDRegressor
from sklearn.metrics import mean_squared_error

from seqpipe import Pipeline
from seqpipe._validation import _TRUSTED, trusted_input
from seqpipe.base import DivergedError, StepTags
from seqpipe.scoring import mse
from seqpipe.steps import (
    DataShuffler,
    EpochRepeater,
    MeanStdNormalizer,
    MetricsWrapper,
    MiniBatch,
    PlotPredictions,
    ToNumpy,
    TrainOnly,
    ValidationSplit,
)
from tests.steps.test_meta_steps import Recorder, Weighted, make_data, row_ids


class RunningMean(RegressorMixin, BaseEstimator):
    """Learns the running mean of y over the batches it saw; predicts it everywhere."""

    def partial_fit(self, X, y):
        y = np.asarray(y, dtype=float)
        if not hasattr(self, "mean_"):
            self.mean_, self.n_ = np.zeros(y.shape[1:]), 0
        self.n_ += len(y)
        self.mean_ = self.mean_ + (y.sum(axis=0) - len(y) * self.mean_) / self.n_
        return self

    def fit(self, X, y):
        self.__dict__.pop("mean_", None)
        return self.partial_fit(X, y)

    def predict(self, X):
        return np.broadcast_to(self.mean_, (len(X), *self.mean_.shape)).copy()


def unfuse(pipeline):
    """Make every step of ``pipeline`` look non-samplewise: batch by batch again."""
    for step in pipeline.steps:
        step.__seqpipe_tags__ = lambda: StepTags(keeps_samples=True, samplewise=False)
    return pipeline


def training_composition(final, *, fused, normalize_y=True, dtype="float32"):
    inner = Pipeline([MeanStdNormalizer(normalize_y=normalize_y), ToNumpy(dtype=dtype), final])
    if not fused:
        unfuse(inner)
    return EpochRepeater(ValidationSplit(MetricsWrapper(Pipeline([
        TrainOnly(DataShuffler(random_state=0)),
        MiniBatch(MetricsWrapper(inner, name="batches"), batch_size=32),
    ]), name="epochs"), validation_size=0.2), epochs=3)


def count_calls(monkeypatch, cls, name):
    calls = []
    method = getattr(cls, name)

    def counted(self, *args, **kwargs):
        calls.append(len(args[0]))
        return method(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, counted)
    return calls


# --------------------------------------------------------------------- fused = batch by batch
def test_fused_pass_trains_bitwise_like_batch_by_batch():
    X, y = make_data(250, n_features=4)
    y = y[:, 0]
    models = {}
    for fused in (True, False):
        sgd = SGDRegressor(random_state=0)
        models[fused] = training_composition(sgd, fused=fused, normalize_y=False,
                                             dtype=None).fit(X, y)
        models[fused].sgd = sgd
    np.testing.assert_array_equal(models[True].sgd.coef_, models[False].sgd.coef_)
    assert models[True].history_ == models[False].history_
    assert len(models[True].history_["batches"]["train"]["mse"]) == 3 * 7  # 200 rows / 32


def test_fused_pass_with_normalized_y_matches_batch_by_batch_within_rounding():
    rng = np.random.default_rng(0)
    X, y = rng.normal(5.0, 3.0, size=(150, 6, 2)), rng.normal(5.0, 3.0, size=(150, 4, 2))
    fused = training_composition(RunningMean(), fused=True).fit(X, y)
    batchwise = training_composition(RunningMean(), fused=False).fit(X, y)
    np.testing.assert_array_equal(fused.predict(X), batchwise.predict(X))
    for name in ("batches", "epochs"):
        for subset in ("train", "validation"):
            a = fused.history_[name][subset]["mse"]
            b = batchwise.history_[name][subset]["mse"]
            assert len(a) == len(b)
            np.testing.assert_allclose(a, b, rtol=1e-6)  # y itself vs y's float32 round trip


def test_fused_pass_preprocesses_once_per_pass(monkeypatch):
    calls = count_calls(monkeypatch, MeanStdNormalizer, "resample")
    X, y = make_data(100)
    step = MiniBatch(Pipeline([MeanStdNormalizer(normalize_y=False), Recorder()]),
                     batch_size=30).fit(X, y)
    calls.clear()
    step.partial_fit(X, y)
    assert calls == [100]  # one pass of 100 rows, not 4 batches
    assert step.step_[-1].batch_sizes() == [30, 30, 30, 10] * 2
    unfuse(step.step_)
    step.fit(X, y)  # whether a pass is fused is settled when training starts
    calls.clear()
    step.partial_fit(X, y)
    assert calls == [30, 30, 30, 10]


def test_fused_pass_keeps_the_rows_of_each_batch():
    X, y = make_data(95)
    recorder = Recorder()
    MiniBatch(Pipeline([ToNumpy(dtype=None), recorder]), batch_size=20, keep_last=False).fit(X, y)
    assert recorder.seen_ == [list(range(start, start + 20)) for start in range(0, 80, 20)]


def test_a_step_that_is_not_samplewise_falls_back_to_batch_by_batch():
    X, y = make_data(50)
    recorder = Recorder()
    pipe = Pipeline([TrainOnly(DataShuffler(random_state=0)), recorder])
    MiniBatch(pipe, batch_size=10).fit(X, y)
    # each batch shuffled on its own: its rows stay within the batch
    assert [sorted(ids) for ids in recorder.seen_] == [list(range(i, i + 10))
                                                       for i in range(0, 50, 10)]
    assert recorder.seen_ != [list(range(i, i + 10)) for i in range(0, 50, 10)]


def test_divergence_in_a_fused_pass_names_the_batch_and_restores_the_pass():
    X, y = make_data(40)
    weighted = Weighted(fail_at=6)  # second pass, third batch
    step = MiniBatch(Pipeline([MeanStdNormalizer(normalize_y=False), weighted]),
                     batch_size=10).fit(X, y)
    with pytest.raises(DivergedError, match=re.escape(
            "at batch 2. Weights were restored to the start of this pass.")):
        step.partial_fit(X, y)
    assert weighted.weight_ == 4.0


def test_plot_predictions_stays_inactive_while_training(tmp_path):
    X, y = make_data(40)
    plot = PlotPredictions(Recorder(), path=tmp_path / "p.png", enabled=True)
    for pipe in (Pipeline([MeanStdNormalizer(normalize_y=False), plot]),
                 unfuse(Pipeline([MeanStdNormalizer(normalize_y=False), plot]))):
        MiniBatch(MetricsWrapper(pipe), batch_size=10).fit(X, y)
        assert plot.last_plot_ is None and not (tmp_path / "p.png").exists()


def test_a_samplewise_pipeline_evaluates_against_y_itself():
    X, y = make_data(30)
    pipe = Pipeline([MeanStdNormalizer(), ToNumpy(), Recorder()]).fit(X, X)
    y_true, y_pred = pipe.predict_with_truth(X, X)
    assert y_true is X or np.shares_memory(y_true, X)
    assert y_pred.shape == X.shape


# ------------------------------------------------------------------------------ the shuffler
def test_adapting_does_not_shuffle_and_the_first_pass_does():
    X, y = make_data(20)
    recorder = Recorder()
    pipe = Pipeline([TrainOnly(DataShuffler(random_state=3)), recorder]).adapt(X, y)
    assert recorder.adapt_ids_ == list(range(20))
    pipe.partial_fit(X, y)
    pipe.partial_fit(X, y)
    rng = np.random.RandomState(3)
    assert recorder.seen_ == [rng.permutation(20).tolist(), rng.permutation(20).tolist()]


def test_fitting_a_shuffler_still_shuffles():
    X, y = make_data(20)
    Xs, ys = DataShuffler(random_state=3).fit_resample(X, y)
    assert row_ids(Xs) == np.random.RandomState(3).permutation(20).tolist()


# ---------------------------------------------------------------------------------- numerics
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, y_shape", [((40, 6, 3), (40, 4, 3)), ((40, 3), (40, 3)),
                                            ((40, 6, 3), (40, 3))])
def test_normalizer_matches_the_plain_formula_bitwise(dtype, shape, y_shape):
    rng = np.random.default_rng(0)
    X = rng.normal(10.0, 4.0, size=shape).astype(dtype)
    y = rng.normal(10.0, 4.0, size=y_shape).astype(dtype)
    normalizer = MeanStdNormalizer(std_factor=2.5)
    Xt, yt = normalizer.fit_resample(X, y)
    axes = tuple(range(X.ndim - 1))
    np.testing.assert_allclose(normalizer.mean_, X.mean(axis=axes), rtol=1e-12 if
                               dtype == np.float64 else 1e-5)
    np.testing.assert_allclose(normalizer.std_, X.std(axis=axes), rtol=1e-12 if
                               dtype == np.float64 else 1e-5)
    mean = normalizer.mean_.astype(dtype)
    scale = (2.5 * (normalizer.std_ + 1e-5)).astype(dtype)
    np.testing.assert_array_equal(Xt, (X - mean) / scale)
    np.testing.assert_array_equal(yt, (y - mean) / scale)
    np.testing.assert_array_equal(normalizer.inverse_transform_y(yt, X), yt * scale + mean)
    assert Xt.dtype == dtype


def test_normalizer_statistics_stay_accurate_on_a_large_offset():
    X = 1e8 + np.tile([0.1, 0.2, 0.3, 0.4, 0.5], (200_000, 1))[:, :, None]
    normalizer = MeanStdNormalizer().fit(X)
    assert normalizer.mean_[0] == pytest.approx(1e8 + 0.3, abs=1e-6)
    assert normalizer.std_[0] == pytest.approx(np.sqrt(0.02), rel=1e-6)


@pytest.mark.parametrize("dtypes", [(np.float64, np.float64), (np.float64, np.float32),
                                    (np.float32, np.float32)])
def test_mse_matches_scikit_learn(dtypes):
    rng = np.random.default_rng(0)
    y_true = rng.normal(size=(30, 4, 2)).astype(dtypes[0])
    y_pred = rng.normal(size=(30, 4, 2)).astype(dtypes[1])
    expected = mean_squared_error(y_true.reshape(30, -1).astype(np.float64),
                                  y_pred.reshape(30, -1).astype(np.float64))
    assert mse(y_true, y_pred) == pytest.approx(expected, rel=1e-12)


def test_trusted_input_nests_and_survives_errors():
    assert not _TRUSTED.get()
    with trusted_input():
        with trusted_input():
            assert _TRUSTED.get()
        assert _TRUSTED.get()
    assert not _TRUSTED.get()
    with pytest.raises(RuntimeError), trusted_input():
        raise RuntimeError
    assert not _TRUSTED.get()


# ------------------------------------------------------------------- epoch training metrics
@pytest.mark.parametrize("n, keep_last", [(30, True), (35, True), (35, False)])
def test_epoch_metrics_use_the_predictions_made_during_the_pass(n, keep_last):
    X, y = make_data(n)
    model = EpochRepeater(MetricsWrapper(MiniBatch(Weighted(), batch_size=10,
                                                   keep_last=keep_last)), epochs=2).fit(X, y)
    n_batches = -(-n // 10) if keep_last else n // 10
    expected = []
    for epoch in range(2):
        # Weighted predicts its number of updates so far: each batch right after its own
        weights = np.repeat(np.arange(1, n_batches + 1) + epoch * n_batches, 10)[:n]
        if not keep_last:  # rows left out: all rows are predicted after the pass
            weights = np.full(n, (epoch + 1) * n_batches)
        expected.append(mean_squared_error(y, np.repeat(weights[:, None], 2, axis=1)))
    np.testing.assert_allclose(model.history_["metrics"]["train"]["mse"], expected, rtol=1e-12)
