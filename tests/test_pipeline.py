"""Pipeline: naming, access, params, cloning, errors, and the fit/predict/score paths."""

import re

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from seqpipe import Pipeline, make_pipeline
from seqpipe.steps import DataShuffler, MeanStdNormalizer, ToNumpy, TrainOnly, Windower


class Flat3DRidge(RegressorMixin, BaseEstimator):
    """Test-only: Ridge on flattened windows; predicts y's (n, future, d) shape back."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        X, y = np.asarray(X), np.asarray(y)
        self.y_shape_ = y.shape[1:]
        self.y_seen_ = y  # what the pipeline handed to the model, for the tests
        self.ridge_ = Ridge(alpha=self.alpha).fit(X.reshape(len(X), -1), y.reshape(len(y), -1))
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = np.asarray(X)
        return self.ridge_.predict(X.reshape(len(X), -1)).reshape((len(X), *self.y_shape_))


class NoTransform(BaseEstimator):
    def fit(self, X, y=None):
        return self


def sine_series(T=300, mean=0.0, std=1.0, noise=0.0, seed=0):
    t = np.arange(T)
    rng = np.random.default_rng(seed)
    values = np.sin(t / 5.0) + noise * rng.normal(size=T)
    return (mean + std * np.sqrt(2) * values)[:, None]  # sin has std 1/sqrt(2)


def two_feature_series(T=300, seed=0):
    t = np.arange(T)
    rng = np.random.default_rng(seed)
    a = 100 + 10 * np.sin(t / 6.0) + 0.5 * rng.normal(size=T)
    b = -20 + 3 * np.cos(t / 9.0) + 0.2 * rng.normal(size=T)
    return np.column_stack([a, b])


# ====================================================================== naming / access
def test_default_names_like_make_pipeline():
    pipe = Pipeline([ToNumpy(), MeanStdNormalizer(), Ridge()])
    assert list(pipe.named_steps) == ["tonumpy", "meanstdnormalizer", "ridge"]
    assert list(make_pipeline(ToNumpy(), Ridge()).named_steps) == ["tonumpy", "ridge"]


def test_default_names_with_duplicate_classes():
    a, b = MeanStdNormalizer(), MeanStdNormalizer(std_factor=2.0)
    pipe = Pipeline([a, Windower(5, 2), b, Ridge()])
    assert list(pipe.named_steps) == [
        "meanstdnormalizer-1", "windower", "meanstdnormalizer-2", "ridge"
    ]
    assert pipe["meanstdnormalizer-1"] is a and pipe["meanstdnormalizer-2"] is b


def test_named_pairs_and_mixed():
    norm, ridge = MeanStdNormalizer(), Ridge()
    pipe = Pipeline([("norm", norm), ("model", ridge)])
    assert list(pipe.named_steps) == ["norm", "model"]
    assert pipe.named_steps.norm is norm and pipe.named_steps["model"] is ridge
    mixed = Pipeline([("first", MeanStdNormalizer()), MeanStdNormalizer(), ToNumpy(), Ridge()])
    assert list(mixed.named_steps) == ["first", "meanstdnormalizer", "tonumpy", "ridge"]
    two_bare = Pipeline([("n", MeanStdNormalizer()), MeanStdNormalizer(), MeanStdNormalizer()])
    assert list(two_bare.named_steps) == ["n", "meanstdnormalizer-1", "meanstdnormalizer-2"]


def test_indexing_and_len():
    steps = [ToNumpy(), ("norm", MeanStdNormalizer()), Windower(5, 2), Ridge()]
    pipe = Pipeline(steps)
    assert len(pipe) == 4
    assert pipe[0] is steps[0]
    assert pipe[1] is steps[1][1]
    assert pipe[-1] is steps[3]
    assert pipe["norm"] is steps[1][1]
    assert pipe["windower"] is steps[2]
    sub = pipe[1:3]
    assert isinstance(sub, Pipeline) and len(sub) == 2
    assert list(sub.named_steps) == ["norm", "windower"]
    assert sub[0] is steps[1][1]
    assert isinstance(pipe[:-1], Pipeline) and len(pipe[:-1]) == 3
    with pytest.raises(KeyError):
        pipe["nope"]


# ====================================================================== params
def test_nested_get_and_set_params():
    pipe = Pipeline([MeanStdNormalizer(), Flat3DRidge()])
    params = pipe.get_params()
    assert params["meanstdnormalizer__std_factor"] == 1.0
    assert params["flat3dridge__alpha"] == 1.0
    assert params["meanstdnormalizer"] is pipe[0]
    assert "steps" in params
    assert set(pipe.get_params(deep=False)) == {"steps"}
    assert pipe.set_params(meanstdnormalizer__std_factor=2.5, flat3dridge__alpha=3.0) is pipe
    assert pipe[0].std_factor == 2.5 and pipe[1].alpha == 3.0
    assert pipe.get_params()["meanstdnormalizer__std_factor"] == 2.5


def test_nested_params_through_meta_step():
    pipe = Pipeline([TrainOnly(DataShuffler(random_state=0)), Ridge()])
    assert pipe.get_params()["trainonly__step__random_state"] == 0
    pipe.set_params(trainonly__step__random_state=5)
    assert pipe[0].step.random_state == 5


def test_replace_whole_step_keeps_form():
    bare = Pipeline([MeanStdNormalizer(), Ridge()])
    new = MeanStdNormalizer(std_factor=3.0)
    bare.set_params(meanstdnormalizer=new)
    assert bare.steps[0] is new
    assert not isinstance(bare.steps[0], tuple)
    named = Pipeline([("norm", MeanStdNormalizer()), ("model", Ridge())])
    new_model = Ridge(alpha=9.0)
    named.set_params(model=new_model)
    assert named.steps[1] == ("model", new_model)
    assert named["model"] is new_model
    # replace and tune in one call
    named.set_params(norm=MeanStdNormalizer(), norm__std_factor=4.0)
    assert named["norm"].std_factor == 4.0
    # steps itself
    named.set_params(steps=[Ridge()])
    assert list(named.named_steps) == ["ridge"]


def test_set_params_unknown_key():
    pipe = Pipeline([MeanStdNormalizer(), Ridge()])
    msg = re.escape("Invalid parameter 'nope' for estimator Pipeline")
    with pytest.raises(ValueError, match=msg):
        pipe.set_params(nope=1)
    with pytest.raises(ValueError, match=msg):
        pipe.set_params(nope__alpha=1)
    with pytest.raises(ValueError):
        pipe.set_params(ridge__nope=1)


def test_clone_gives_unfitted_copy():
    series = sine_series(100)
    pipe = Pipeline([Windower(10, 5), ("norm", MeanStdNormalizer(std_factor=2.0)), Flat3DRidge()])
    pipe.fit(series)
    copy = clone(pipe)
    assert isinstance(copy, Pipeline)
    assert list(copy.named_steps) == list(pipe.named_steps)
    assert isinstance(copy.steps[1], tuple) and copy.steps[1][0] == "norm"
    for (_, original), (_, cloned) in zip(pipe._named(), copy._named()):
        assert cloned is not original
        assert type(cloned) is type(original)
        assert cloned.get_params() == original.get_params()
        assert not hasattr(cloned, "n_features_in_")
    assert not hasattr(copy["norm"], "mean_")
    assert not hasattr(copy[-1], "ridge_")
    assert copy.get_params()["norm__std_factor"] == 2.0
    with pytest.raises(NotFittedError):
        copy.predict(series)


# ====================================================================== errors
def test_fit_returns_self():
    X = np.random.default_rng(0).normal(size=(30, 2))
    pipe = Pipeline([MeanStdNormalizer(normalize_y=False), Ridge()])
    assert pipe.fit(X, X[:, 0]) is pipe


def test_predict_before_fit():
    pipe = Pipeline([MeanStdNormalizer(), Ridge()])
    with pytest.raises(NotFittedError):
        pipe.predict(np.zeros((3, 2)))
    with pytest.raises(NotFittedError):
        pipe.score(np.zeros((3, 2)), np.zeros(3))


def test_duplicated_names():
    X = np.zeros((5, 2))
    pipe = Pipeline([("a", MeanStdNormalizer()), ("a", Ridge())])
    with pytest.raises(ValueError, match=re.escape("Pipeline step names must be unique")):
        pipe.fit(X, X[:, 0])
    mixed = Pipeline([("meanstdnormalizer", MeanStdNormalizer()), MeanStdNormalizer(), Ridge()])
    with pytest.raises(ValueError, match=re.escape("duplicated: ['meanstdnormalizer']")):
        mixed.fit(X, X)


def test_intermediate_step_without_transform():
    X = np.zeros((5, 2))
    with pytest.raises(TypeError, match=re.escape("All steps but the last must transform X")):
        Pipeline([Ridge(), Ridge()]).fit(X, X[:, 0])
    with pytest.raises(TypeError, match=re.escape("All steps but the last must transform X")):
        Pipeline([NoTransform(), Ridge()]).fit(X, X[:, 0])


def test_step_without_fit():
    with pytest.raises(TypeError, match=re.escape("must be an estimator with a fit method")):
        Pipeline([object(), Ridge()]).fit(np.zeros((5, 2)), np.zeros(5))


@pytest.mark.parametrize("steps", [[], ()])
def test_empty_steps(steps):
    with pytest.raises(ValueError, match=re.escape("non-empty list of steps")):
        Pipeline(steps).fit(np.zeros((5, 2)), np.zeros(5))


# ====================================================================== fit / predict / score
def test_predict_answers_in_y_units():
    series = sine_series(400, mean=100.0, std=10.0, noise=0.1)
    assert abs(series.mean() - 100) < 1 and abs(series.std() - 10) < 1
    pipe = Pipeline([Windower(10, 5), MeanStdNormalizer(normalize_y=True), Flat3DRidge()])
    pipe.fit(series)
    # the model was trained in normalized units
    assert abs(pipe[-1].y_seen_.mean()) < 0.2
    pred = pipe.predict(series)
    assert pred.shape == (400 - 10 + 1, 5, 1)
    assert abs(pred.mean() - 100.0) < 2.0
    # by hand: window, normalize with the training statistics, predict, scale back
    X, _ = Windower(10, 5).fit_resample(series)
    Xp = Windower(10, 5).fit(series).transform(series)
    mean, std = X.mean(), X.std()
    raw = pipe[-1].predict((Xp - mean) / (std + 1e-5))
    assert_allclose(pred, raw * (std + 1e-5) + mean)


def test_score_derives_y_with_windower():
    series = sine_series(300)
    pipe = Pipeline([Windower(10, 5), MeanStdNormalizer(), Flat3DRidge(alpha=0.01)]).fit(series)
    score = pipe.score(series)
    assert score > 0.9
    X, y = Windower(10, 5).fit_resample(series)
    pred = pipe.predict(series)[: len(X)]
    expected = r2_score(y.reshape(len(y), -1), pred.reshape(len(pred), -1))
    assert score == pytest.approx(expected, rel=1e-10)


def test_score_without_any_y():
    X = np.random.default_rng(0).normal(size=(20, 2))
    pipe = Pipeline([MeanStdNormalizer(normalize_y=False), Ridge()]).fit(X, X[:, 0])
    with pytest.raises(ValueError, match=re.escape("Pipeline.score needs y")):
        pipe.score(X)


def test_score_with_explicit_windows_in_y_units():
    series = two_feature_series(300)
    X, y = Windower(12, 3).fit_resample(series)
    X, y = np.ascontiguousarray(X), np.ascontiguousarray(y)
    train, test = slice(0, 200), slice(200, None)
    pipe = Pipeline([MeanStdNormalizer(std_factor=2.5), Flat3DRidge(alpha=1.0)])
    pipe.fit(X[train], y[train])
    pred = pipe.predict(X[test])
    assert pred.shape == y[test].shape
    assert abs(pred[..., 0].mean() - y[test][..., 0].mean()) < 3.0  # y's units
    score = pipe.score(X[test], y[test])
    expected = r2_score(y[test].reshape(len(pred), -1), pred.reshape(len(pred), -1))
    assert score == pytest.approx(expected, rel=1e-10)
    assert 0.5 < score < 1.0


def test_grid_search_and_cross_val_score():
    series = two_feature_series(240)
    X, y = Windower(10, 2).fit_resample(series)
    pipe = Pipeline([MeanStdNormalizer(), Flat3DRidge()])
    search = GridSearchCV(pipe, {"flat3dridge__alpha": [0.1, 1.0]}, cv=TimeSeriesSplit(3))
    search.fit(X, y)
    means = search.cv_results_["mean_test_score"]
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(means))]
    assert search.best_estimator_.predict(X).shape == y.shape
    scores = cross_val_score(pipe, X, y, cv=TimeSeriesSplit(3))
    by_hand = [clone(pipe).fit(X[train], y[train]).score(X[test], y[test])
               for train, test in TimeSeriesSplit(3).split(X)]
    assert_allclose(scores, by_hand, rtol=1e-12)
    assert not hasattr(pipe[0], "mean_")  # cross-validation works on clones


def test_grid_search_on_a_raw_series_with_y_derived_by_the_windower():
    series = two_feature_series(300)
    pipe = Pipeline([Windower(10, 2), MeanStdNormalizer(), Flat3DRidge()])
    search = GridSearchCV(pipe, {"windower__window_size_past": [5, 10]},
                          cv=TimeSeriesSplit(3)).fit(series)
    assert search.best_params_["windower__window_size_past"] in (5, 10)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    past = best.get_params()["windower__window_size_past"]
    X, y = Windower(past, 2).fit_resample(series)
    y_pred = best.predict(series)[:len(X)]  # the windows with a full future come first
    expected = r2_score(y.reshape(len(y), -1), y_pred.reshape(len(y), -1))
    assert best.score(series) == pytest.approx(expected, rel=1e-10)
    scores = cross_val_score(pipe, series, cv=TimeSeriesSplit(3))
    # better than repeating the last value on every fold's test part
    last_value = []
    for _, test in TimeSeriesSplit(3).split(series):
        X, y = Windower(10, 2).fit_resample(series[test])
        flat = y.reshape(len(y), -1)
        last_value.append(r2_score(flat, np.repeat(X[:, -1:], 2, axis=1).reshape(len(y), -1)))
    assert scores.shape == (3,) and (scores > np.array(last_value)).all()


def test_nested_pipeline_as_sample_step_propagates_y():
    series = two_feature_series(200)
    inner = Pipeline([Windower(10, 4), MeanStdNormalizer(std_factor=2.0)])
    outer = Pipeline([("data", inner), ("model", Flat3DRidge(alpha=0.5))])
    outer.fit(series)
    X, y = Windower(10, 4).fit_resample(series)
    Xn, yn = MeanStdNormalizer(std_factor=2.0).fit_resample(X, y)
    # the model saw the windowed and normalized y
    assert_allclose(outer["model"].y_seen_, yn)
    assert outer["model"].y_seen_.shape == (200 - 14 + 1, 4, 2)
    # predictions are scaled back through the inner pipeline
    flat = Pipeline([Windower(10, 4), MeanStdNormalizer(std_factor=2.0), Flat3DRidge(alpha=0.5)])
    flat.fit(series)
    assert_allclose(outer.predict(series), flat.predict(series))
    assert outer.score(series) == pytest.approx(flat.score(series))
    # the inner pipeline alone: resample equals fit_resample on the training series
    Xr, yr = inner.resample(series)
    assert_allclose(Xr, Xn)
    assert_allclose(yr, yn)


def test_transformer_steps_and_sample_steps_mix():
    X = np.random.default_rng(0).normal(size=(60, 3))
    y = X @ [1.0, -2.0, 0.5]
    pipe = Pipeline([StandardScaler(), TrainOnly(DataShuffler(random_state=0)), Ridge()])
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.99
    assert pipe.n_features_in_ == 3


def test_joblib_round_trip(tmp_path):
    series = two_feature_series(150)
    pipe = Pipeline([Windower(8, 3), MeanStdNormalizer(), Flat3DRidge()]).fit(series)
    path = tmp_path / "pipe.joblib"
    joblib.dump(pipe, path)
    loaded = joblib.load(path)
    assert loaded is not pipe
    assert_array_equal(loaded.predict(series), pipe.predict(series))
    assert loaded.score(series) == pipe.score(series)


def test_integer_input_predicts_in_y_units():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 10, size=(80, 2))
    y = X + rng.integers(0, 2, size=(80, 2))
    pipe = Pipeline([MeanStdNormalizer(), Ridge()]).fit(X, y)
    assert_allclose(pipe.predict(X), pipe.predict(X.astype(float)))
