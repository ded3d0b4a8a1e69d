"""Fit parameters as in scikit-learn (issue 19, item 3): ``step__param`` routing, metadata
routing (``set_fit_request``) inside cross_validate and GridSearchCV, and row-aligned
parameters (``sample_weight``) following the rows through seqpipe's meta-steps."""

import re

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from seqpipe import Pipeline, make_pipeline
from seqpipe.models import lstm_regressor, seq2seq_gru
from seqpipe.steps import (
    DataShuffler,
    EpochRepeater,
    KerasModelStep,
    MeanStdNormalizer,
    MetricsWrapper,
    MiniBatch,
    PlotPredictions,
    ToNumpy,
    TrainOnly,
    ValidationSplit,
    Windower,
)


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=60) * (1 + 3 * (np.arange(60) % 2))
    return X, y, rng.uniform(0.0, 2.0, size=60)


def weighted_ridge(X, y, w, alpha=1.0):
    """The reference: a normalizer then a Ridge fitted with the weights, by hand."""
    Xt = MeanStdNormalizer().fit_transform(X)
    return Ridge(alpha=alpha).fit(Xt, y, sample_weight=w).coef_


# ------------------------------------------------------------------ step__param
def test_step_params_reach_the_named_step(data):
    X, y, w = data
    pipe = make_pipeline(MeanStdNormalizer(), Ridge()).fit(X, y, ridge__sample_weight=w)
    np.testing.assert_allclose(pipe[-1].coef_, weighted_ridge(X, y, w))
    assert not np.allclose(pipe[-1].coef_, weighted_ridge(X, y, None))


def test_a_param_without_a_step_name_is_refused_as_in_sklearn(data):
    X, y, w = data
    with pytest.raises(ValueError, match=re.escape(
            "Pipeline.fit does not accept the sample_weight parameter. Pass parameters to "
            "specific steps with the stepname__parameter format, e.g. `Pipeline.fit(X, y, "
            "ridge__sample_weight=sample_weight)`")):
        make_pipeline(MeanStdNormalizer(), Ridge()).fit(X, y, sample_weight=w)


def test_a_param_for_an_unknown_step_is_refused(data):
    X, y, w = data
    with pytest.raises(ValueError, match=re.escape(
            "Pipeline.fit got the parameter 'lasso__sample_weight' for a step named "
            "'lasso', but the Pipeline has no such step (passthrough steps take none); its "
            "steps are ['meanstdnormalizer', 'ridge'].")):
        make_pipeline(MeanStdNormalizer(), Ridge()).fit(X, y, lasso__sample_weight=w)


# ------------------------------------------------------------------ metadata routing
def test_sample_weight_reaches_the_steps_that_requested_it(data, routing):
    X, y, w = data
    asked = make_pipeline(MeanStdNormalizer(), Ridge().set_fit_request(sample_weight=True))
    np.testing.assert_allclose(asked.fit(X, y, sample_weight=w)[-1].coef_,
                               weighted_ridge(X, y, w))
    aliased = make_pipeline(MeanStdNormalizer(), Ridge().set_fit_request(sample_weight="w2"))
    np.testing.assert_allclose(aliased.fit(X, y, w2=w[::-1])[-1].coef_,
                               weighted_ridge(X, y, w[::-1]))


def test_an_unset_request_is_sklearns_error(data, routing):
    X, y, w = data
    with pytest.raises(UnsetMetadataPassedError, match=re.escape(
            "[sample_weight] are passed but are not explicitly set as requested or not "
            "requested for Ridge.fit")):
        make_pipeline(MeanStdNormalizer(), Ridge()).fit(X, y, sample_weight=w)


def test_cross_validate_routes_weights_to_fit_and_to_score(data, routing):
    X, y, w = data
    pipe = make_pipeline(MeanStdNormalizer(), Ridge().set_fit_request(sample_weight=True))
    pipe.set_score_request(sample_weight=True)
    cv = KFold(3)
    result = cross_validate(pipe, X, y, cv=cv, params={"sample_weight": w},
                            return_estimator=True)
    for (train, test), fitted, score in zip(cv.split(X), result["estimator"],
                                            result["test_score"]):
        np.testing.assert_allclose(fitted[-1].coef_, weighted_ridge(X[train], y[train], w[train]))
        assert score == pytest.approx(r2_score(y[test], fitted.predict(X[test]),
                                               sample_weight=w[test]))
        assert score != pytest.approx(r2_score(y[test], fitted.predict(X[test])))


def test_grid_search_routes_weights_to_every_fit_and_the_refit(data, routing):
    X, y, w = data
    pipe = make_pipeline(MeanStdNormalizer(), Ridge().set_fit_request(sample_weight=True))
    pipe.set_score_request(sample_weight=False)
    search = GridSearchCV(pipe, {"ridge__alpha": [0.1, 10.0]}, cv=KFold(3)).fit(
        X, y, sample_weight=w)
    np.testing.assert_allclose(search.best_estimator_[-1].coef_,
                               weighted_ridge(X, y, w, search.best_params_["ridge__alpha"]))
    train, test = next(iter(KFold(3).split(X)))
    norm = MeanStdNormalizer().fit(X[train])
    ridge = Ridge(alpha=0.1).fit(norm.transform(X[train]), y[train], sample_weight=w[train])
    expected = r2_score(y[test], ridge.predict(norm.transform(X[test])))
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(expected)


# ------------------------------------------------------------------ weights follow the rows
class RowRecorder(RegressorMixin, BaseEstimator):
    """Records, for every training call, the rows it got (y holds each row's number) and
    their weights."""

    def fit(self, X, y, sample_weight=None):
        self.calls_ = []
        return self.partial_fit(X, y, sample_weight)

    def partial_fit(self, X, y, sample_weight=None):
        self.__dict__.setdefault("calls_", []).append(
            (np.asarray(y)[:, 0].copy(), None if sample_weight is None
             else np.asarray(sample_weight).copy()))
        return self

    def predict(self, X):
        return np.zeros((len(X), 1))


def seed003_composition(final):
    """The seed 003 composition around ``final``: epochs, a validation split, metrics,
    a training-only shuffle and mini-batches."""
    inner = Pipeline([MeanStdNormalizer(), ToNumpy(dtype=None), PlotPredictions(final)])
    return EpochRepeater(
        ValidationSplit(
            MetricsWrapper(Pipeline([
                TrainOnly(DataShuffler(random_state=0)),
                MiniBatch(MetricsWrapper(inner, name="batch_metrics"), batch_size=16),
            ]), name="epoch_metrics"),
            validation_size=0.2),
        epochs=3)


@pytest.mark.parametrize("with_routing", [False, True])
def test_weights_follow_their_rows_through_shuffles_batches_and_splits(with_routing):
    X = np.random.default_rng(1).normal(size=(100, 2))
    rows = np.arange(100.0)
    weights = rows + 1.0  # each row's weight tells which row it belongs to
    with sklearn.config_context(enable_metadata_routing=with_routing):
        recorder = RowRecorder()
        if with_routing:
            recorder.set_fit_request(sample_weight=True)
            params = {"sample_weight": weights}
        else:  # the pipelines name the step; meta-steps pass parameters on as they are
            params = {"minibatch__plotpredictions__sample_weight": weights}
        seed003_composition(recorder).fit(X, rows[:, None], **params)
    calls = recorder.calls_
    assert len(calls) == 3 * 5  # 3 epochs of 80 training rows in batches of 16
    for seen, weight in calls:
        np.testing.assert_array_equal(weight, seen + 1.0)
    epoch = np.concatenate([seen for seen, _ in calls[:5]])
    assert sorted(epoch) == list(range(80))  # the training part, each row once
    assert list(epoch) != list(range(80))  # shuffled


def test_weights_of_the_rows_a_minibatch_leaves_out_are_left_out(routing):
    rows = np.arange(40.0)
    recorder = RowRecorder().set_fit_request(sample_weight=True)
    MiniBatch(recorder, batch_size=16, keep_last=False).fit(
        np.zeros((40, 2)), rows[:, None], sample_weight=rows + 1.0)
    assert [len(seen) for seen, _ in recorder.calls_] == [16, 16]
    for seen, weight in recorder.calls_:
        np.testing.assert_array_equal(weight, seen + 1.0)


@pytest.mark.parametrize("wrap", [lambda p: p, lambda p: MiniBatch(p, batch_size=8)],
                         ids=["fit", "adapt"])
def test_weights_cannot_follow_windows_cut_from_a_series(routing, wrap):
    series = np.random.default_rng(2).normal(size=(100, 1))
    step = wrap(Pipeline([Windower(5, 2), RowRecorder().set_fit_request(sample_weight=True)]))
    with pytest.raises(ValueError, match=re.escape(
            "Windower changes the samples (100 in, 94 out) without saying which input "
            "sample each output sample comes from (sample_indices_), so the fit "
            "parameter(s) ['sample_weight'], given per input sample, cannot follow them")):
        step.fit(series, sample_weight=np.ones(100))


def test_per_window_weights_pass_a_windowed_pipeline(routing):
    series = np.random.default_rng(2).normal(size=(100, 1))
    X, y = Windower(5, 2).fit_resample(series)
    recorder = RowRecorder().set_fit_request(sample_weight=True)
    Pipeline([MeanStdNormalizer(), recorder]).fit(X[:, :, 0], y[:, :, 0],
                                                   sample_weight=np.arange(94.0))
    np.testing.assert_array_equal(recorder.calls_[0][1], np.arange(94.0))


# ------------------------------------------------------------------ Keras
def halves():
    """Windows whose target is +5 for the first half, -5 for the second; weights that
    keep only the second half."""
    X = np.random.default_rng(0).normal(size=(64, 5, 1)).astype("float32")
    y = np.where(np.arange(64) < 32, 5.0, -5.0).astype("float32")[:, None]
    return X, y, (np.arange(64) >= 32).astype(float)


def keras_step(**params):
    return KerasModelStep(lstm_regressor, units=4, learning_rate=0.05, random_state=0, **params)


def test_keras_fit_honours_sample_weight():
    X, y, w = halves()
    weighted = keras_step(epochs=15).fit(X, y, sample_weight=w).predict(X)
    plain = keras_step(epochs=15).fit(X, y).predict(X)
    assert weighted.mean() < -3.5
    assert abs(plain.mean()) < 1.5


def test_keras_partial_fit_honours_sample_weight_through_minibatch_and_epochs(routing):
    X, y, w = halves()
    step = keras_step().set_fit_request(sample_weight=True)
    EpochRepeater(MiniBatch(step, batch_size=16), epochs=8).fit(X, y, sample_weight=w)
    assert step.predict(X).mean() < -3.5


def test_keras_weights_routed_by_grid_search_are_those_of_a_direct_fit(routing):
    X, y, w = halves()
    pipe = make_pipeline(ToNumpy(), keras_step(epochs=2).set_fit_request(sample_weight=True))
    pipe.set_score_request(sample_weight=False)
    search = GridSearchCV(pipe, {"kerasmodelstep__units": [3]}, cv=KFold(2)).fit(
        X, y, sample_weight=w)
    direct = keras_step(epochs=2).set_params(units=3).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(search.predict(X), direct.predict(X))


@pytest.mark.parametrize("weights, message", [
    (np.ones(10), "The sample_weight of KerasModelStep must have one weight per sample, "
                  "shape (64,); got shape (10,)."),
    (np.ones((64, 1)), "The sample_weight of KerasModelStep must have one weight per "
                       "sample, shape (64,); got shape (64, 1)."),
    (np.r_[np.ones(63), -1.0], "The sample_weight of KerasModelStep must be finite and "
                               "non-negative; got -1.0 at sample 63."),
    (np.r_[np.nan, np.ones(63)], "The sample_weight of KerasModelStep must be finite and "
                                 "non-negative; got nan at sample 0."),
])
@pytest.mark.parametrize("method", ["fit", "partial_fit", "adapt"])
def test_keras_refuses_bad_weights_before_training(weights, message, method):
    X, y, _ = halves()
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(keras_step(), method)(X, y, sample_weight=weights)


def sequences():
    X = np.random.default_rng(0).normal(size=(32, 6, 2)).astype("float32")
    return X, X[:, ::-1].copy()


def gru(**params):
    # no L2 term: zero weights make zero gradients
    return KerasModelStep(seq2seq_gru, hidden_dim=2, lambda_loss_amount=0.0, random_state=0,
                          **params)


def test_keras_partial_fit_weighs_sequences_per_sample():
    """y of shape (n, t, d): Keras' losses have one value per sample and time step, which
    weights of shape (n,) do not broadcast against; each sample's weight covers its steps."""
    X, y = sequences()

    def trained(weights):
        step = gru()
        MiniBatch(step, batch_size=16).fit(X, y, sample_weight=weights)
        return step.get_weights()

    untrained = gru().adapt(X, y).get_weights()
    for before, after in zip(untrained, trained(np.zeros(32))):
        np.testing.assert_array_equal(before, after)  # weighed to nothing
    assert any(not np.array_equal(before, after)
               for before, after in zip(untrained, trained(np.r_[np.zeros(16), np.ones(16)])))


def test_keras_fit_weighs_sequences_per_sample():
    """Weights 1 on the first 16 samples and 0 on the others train (Adam: up to its
    epsilon) as the first 16 samples alone, in one batch."""
    X, y = sequences()
    weighted = gru(batch_size=32, shuffle=False).fit(X, y, sample_weight=np.r_[np.ones(16),
                                                                            np.zeros(16)])
    first_half = gru(batch_size=32, shuffle=False).fit(X[:16], y[:16])
    everything = gru(batch_size=32, shuffle=False).fit(X, y)
    for w, w_half in zip(weighted.get_weights(), first_half.get_weights()):
        np.testing.assert_allclose(w, w_half, atol=1e-4)
    assert max(np.abs(w - w_all).max() for w, w_all in
               zip(weighted.get_weights(), everything.get_weights())) > 1e-3


def test_keras_fit_refuses_weights_that_are_all_zero():
    X, y = sequences()
    with pytest.raises(ValueError, match=re.escape(
            "The sample_weight of KerasModelStep must hold at least one non-zero weight: "
            "with all weights zero nothing is learned.")):
        gru().fit(X, y, sample_weight=np.zeros(32))
