"""Item 1 of the foundations: the truth of a pipeline is y itself only when every step,
the last one included and recursively through nested pipelines and meta-steps, keeps
the samples; otherwise it is what the last step saw, undone."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics import r2_score

from seqpipe import Pipeline
from seqpipe.base import StepTags, get_step_tags
from seqpipe.steps import (
    DataShuffler,
    EpochRepeater,
    MeanStdNormalizer,
    MetricsWrapper,
    MiniBatch,
    ToNumpy,
    TrainOnly,
    ValidationSplit,
    Windower,
)


class LastValue(RegressorMixin, BaseEstimator):
    """Predicts the last past value of each window for every future step; learns only
    the horizon (so it can be trained incrementally)."""

    def fit(self, X, y):
        self.horizon_ = np.asarray(y).shape[1]
        self.n_features_in_ = np.asarray(X).shape[-1]
        return self

    def partial_fit(self, X, y):
        return self.fit(X, y)

    def predict(self, X):
        X = np.asarray(X)
        return np.repeat(X[:, -1:, :], self.horizon_, axis=1)


def series(T=200):
    t = np.arange(T, dtype=float)
    return np.column_stack([np.sin(t / 7.0), np.cos(t / 11.0)]) + 3.0


def normalized(s):
    return (s - s.mean(axis=0)) / (s.std(axis=0) + 1e-5)


def last_value_windows(X_series, y_series, past=10, future=5):
    """(y_true, y_pred) of LastValue by hand: windows of X_series, futures of y_series."""
    X, y = Windower(past, future).fit_resample(X_series, y_series)
    return y, np.repeat(X[:, -1:, :], future, axis=1)


def by_hand_r2(X_series, y_series):
    y, y_pred = last_value_windows(X_series, y_series)
    return r2_score(y.reshape(len(y), -1), y_pred.reshape(len(y), -1))


def test_scoring_a_nested_pipeline_whose_last_step_derives_y():
    s = series()
    pipeline = Pipeline([MeanStdNormalizer(normalize_y=False),
                         Pipeline([Windower(10, 5), LastValue()])]).fit(s, s)
    # windows of the normalized series, futures of y as given (normalize_y=False)
    assert pipeline.score(s, s) == pytest.approx(by_hand_r2(normalized(s), s), rel=1e-9)


def test_scoring_with_an_empty_head_and_a_nested_windower():
    s = series()
    pipeline = Pipeline([Pipeline([Windower(10, 5), LastValue()])]).fit(s)
    assert pipeline.score(s) == pytest.approx(by_hand_r2(s, s), rel=1e-12)
    y_true, y_pred = pipeline.predict_with_truth(s)
    assert y_true.shape == y_pred.shape == (186, 5, 2)


def test_scoring_through_a_meta_step_whose_step_derives_y():
    s = series()
    pipeline = Pipeline([ToNumpy(dtype=None),
                         MetricsWrapper(Pipeline([Windower(10, 5), LastValue()]))]).fit(s)
    assert pipeline.score(s) == pytest.approx(by_hand_r2(s, s), rel=1e-12)


def test_training_metrics_of_a_pipeline_whose_last_step_derives_y():
    s = series()
    inner = Pipeline([MeanStdNormalizer(normalize_y=False), Pipeline([Windower(10, 5),
                                                                      LastValue()])])
    wrapper = MetricsWrapper(inner, metrics="r2")
    wrapper.partial_fit(s, s)
    expected = by_hand_r2(normalized(s), s)
    assert wrapper.history_["train"]["r2"] == [pytest.approx(expected, rel=1e-9)]


def test_keeping_samples_is_derived_recursively():
    assert get_step_tags(Pipeline([MeanStdNormalizer(), LastValue()])).keeps_samples
    assert get_step_tags(Pipeline([MeanStdNormalizer(), LastValue()])) == StepTags(
        keeps_samples=True, samplewise=False)
    assert not get_step_tags(Pipeline([Pipeline([Windower(3, 2), LastValue()])])).keeps_samples
    assert not get_step_tags(MetricsWrapper(Pipeline([Windower(3, 2)]))).keeps_samples
    assert not get_step_tags(TrainOnly(DataShuffler())).keeps_samples
    assert get_step_tags(TrainOnly(MeanStdNormalizer())).samplewise
    assert get_step_tags(Pipeline([MeanStdNormalizer(), ToNumpy()])).samplewise


def test_an_empty_head_is_not_fused_when_the_last_step_derives_y():
    """all([]) made an empty head count as samplewise: a MiniBatch then handed the raw
    series back as the truth of windowed predictions."""
    s = series(120)
    pipeline = Pipeline([Pipeline([Windower(10, 5), LastValue()])])
    pairs = MiniBatch(pipeline, batch_size=60).fit(s).partial_fit_batches(s, None, 120,
                                                                          predict=True)
    y_true, y_pred = pairs[0]
    assert y_true.shape == y_pred.shape
    X_windows, y_windows = Windower(10, 5).fit_resample(s[60:])
    assert_array_equal(y_true[-len(y_windows):], y_windows)


def test_fused_and_batch_by_batch_training_metrics_agree_with_a_derived_y():
    """A samplewise head before a last step that derives y falls back to batch by batch,
    whose metrics equal those computed by hand on each batch."""
    s = series(120)
    model = EpochRepeater(ValidationSplit(MetricsWrapper(MiniBatch(MetricsWrapper(
        Pipeline([MeanStdNormalizer(normalize_y=False),
                  Pipeline([Windower(10, 5), LastValue()])]), name="batches"),
        batch_size=50), name="epochs"), validation_size=0.25), epochs=2).fit(s)
    batches = model.history_["batches"]["train"]["mse"]
    train = s[:90]
    train_normalized = normalized(train)  # the statistics of the training part
    expected = []
    for start in range(0, 90, 50):
        part = slice(start, start + 50)
        y, y_pred = last_value_windows(train_normalized[part], train_normalized[part])
        expected.append(np.mean((y_pred - y) ** 2))
    assert_allclose(batches, expected * 2, rtol=1e-9)
