"""seqpipe.scoring: scikit-learn scorers for any y shape (3-D windows, y derived by a step)."""

import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (
    accuracy_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
)
from sklearn.metrics import make_scorer as sklearn_make_scorer
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score, cross_validate

from seqpipe import Pipeline
from seqpipe.datasets import load_exercise
from seqpipe.scoring import get_scorer, make_scorer, mse, resolve_metric, resolve_metrics
from seqpipe.steps import MeanStdNormalizer, Windower

CV = TimeSeriesSplit(2)
PREDICT_CALLS = []


class FlatRidge(RegressorMixin, BaseEstimator):
    """Ridge on windows: X and y flattened per sample, predictions in y's shape."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        X, y = np.asarray(X), np.asarray(y)
        self.y_shape_ = y.shape[1:]
        self.ridge_ = Ridge(alpha=self.alpha).fit(X.reshape(len(X), -1), y.reshape(len(y), -1))
        return self

    def predict(self, X):
        PREDICT_CALLS.append(len(X))
        X = np.asarray(X)
        return self.ridge_.predict(X.reshape(len(X), -1)).reshape((len(X), *self.y_shape_))


class FlatLogistic(ClassifierMixin, BaseEstimator):
    """Logistic regression on windows flattened per sample."""

    def fit(self, X, y):
        X = np.asarray(X)
        self.model_ = LogisticRegression(C=0.1).fit(X.reshape(len(X), -1), y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(np.asarray(X).reshape(len(X), -1))

    def predict_proba(self, X):
        return self.model_.predict_proba(np.asarray(X).reshape(len(X), -1))


@pytest.fixture(scope="module")
def exercise1():
    X, y = load_exercise(1, n_samples=300, random_state=0)
    assert X.ndim == y.ndim == 3
    return X, y


def regressor(alpha=1.0):
    return Pipeline([MeanStdNormalizer(), FlatRidge(alpha=alpha)])


def held_out(estimator, X, y):
    """Per fold of CV: (y_test, predictions of a clone fitted on the training part)."""
    return [(y[test], clone(estimator).fit(X[train], y[train]).predict(X[test]))
            for train, test in CV.split(X)]


def test_sklearn_scorer_names_give_nan_on_3d_y(exercise1):
    # the problem: scikit-learn's metric refuses 3-D y, cross_val_score turns it into NaN
    X, y = exercise1
    with pytest.warns(UserWarning, match="Scoring failed"):
        scores = cross_val_score(regressor(), X, y, cv=CV, scoring="neg_mean_squared_error")
    assert np.isnan(scores).all()


@pytest.mark.parametrize("n_jobs", [1, 2])  # 2: the scorer is pickled to joblib's workers
def test_get_scorer_scores_3d_y_as_minus_the_held_out_mse(exercise1, n_jobs):
    X, y = exercise1
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "Scoring failed"
        scores = cross_val_score(regressor(), X, y, cv=CV, n_jobs=n_jobs,
                                 scoring=get_scorer("neg_mean_squared_error"))
    by_hand = [-np.mean((y_pred - y_test) ** 2) for y_test, y_pred in held_out(regressor(), X, y)]
    np.testing.assert_allclose(scores, by_hand, rtol=1e-6)
    # and the model beats predicting the training mean, on the same folds
    baseline = [-np.mean((y[train].mean(axis=0) - y[test]) ** 2) for train, test in CV.split(X)]
    assert (scores > baseline).all()


def test_mse_scorer_is_the_negated_mse_and_other_names_flatten(exercise1):
    X, y = exercise1
    fitted = regressor().fit(X[:200], y[:200])
    y_test, y_pred = y[200:], fitted.predict(X[200:])
    flat_true, flat_pred = y_test.reshape(100, -1), y_pred.reshape(100, -1)
    assert get_scorer("mse")(fitted, X[200:], y_test) == pytest.approx(-mse(y_test, y_pred))
    assert get_scorer("mse")(fitted, X[200:], y_test) < 0
    assert get_scorer("neg_mean_absolute_error")(fitted, X[200:], y_test) == pytest.approx(
        -mean_absolute_error(flat_true, flat_pred))
    assert get_scorer("r2")(fitted, X[200:], y_test) == pytest.approx(
        r2_score(flat_true, flat_pred))
    # None: the estimator's own score; a scikit-learn make_scorer: flattened too
    assert get_scorer(None)(fitted, X[200:], y_test) == fitted.score(X[200:], y_test)
    mae = sklearn_make_scorer(mean_absolute_error, greater_is_better=False)
    assert get_scorer(mae)(fitted, X[200:], y_test) == pytest.approx(
        -mean_absolute_error(flat_true, flat_pred))
    weights = np.linspace(0.0, 1.0, 100)
    assert get_scorer("neg_mean_squared_error")(
        fitted, X[200:], y_test, sample_weight=weights) == pytest.approx(
        -np.average(((flat_pred - flat_true) ** 2).mean(axis=1), weights=weights))
    scorer = get_scorer("neg_mean_squared_error")
    assert pickle.loads(pickle.dumps(scorer))(fitted, X[200:], y_test) == scorer(
        fitted, X[200:], y_test)


def test_grid_search_with_the_scorer_on_3d_y(exercise1):
    X, y = exercise1
    grid = {"flatridge__alpha": [1e-3, 1e4]}
    by_hand = [np.mean([-np.mean((y_pred - y_test) ** 2)
                        for y_test, y_pred in held_out(regressor(alpha), X, y)])
               for alpha in grid["flatridge__alpha"]]
    assert by_hand[0] != pytest.approx(by_hand[1])  # the grid has a best point
    search = GridSearchCV(regressor(), grid, cv=CV,
                          scoring=get_scorer("neg_mean_squared_error")).fit(X, y)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], by_hand, rtol=1e-6)
    assert search.best_params_["flatridge__alpha"] == grid["flatridge__alpha"][
        int(np.argmax(by_hand))]
    assert search.best_score_ == pytest.approx(max(by_hand))
    with pytest.warns(UserWarning):  # scikit-learn's own scorer name: every score NaN
        nan_search = GridSearchCV(regressor(), grid, cv=CV,
                                  scoring="neg_mean_squared_error").fit(X, y)
    assert np.isnan(nan_search.cv_results_["mean_test_score"]).all()


def test_several_scorers_predict_once_per_fold(exercise1):
    X, y = exercise1
    PREDICT_CALLS.clear()
    results = cross_validate(regressor(), X, y, cv=CV, scoring={
        "mse": get_scorer("mse"), "mae": get_scorer("neg_mean_absolute_error")})
    assert len(PREDICT_CALLS) == CV.get_n_splits()
    held = held_out(regressor(), X, y)
    np.testing.assert_allclose(results["test_mse"], [-mse(t, p) for t, p in held], rtol=1e-6)
    np.testing.assert_allclose(
        results["test_mae"],
        [-mean_absolute_error(t.reshape(len(t), -1), p.reshape(len(p), -1)) for t, p in held],
        rtol=1e-6)


def _series(n_timesteps=240):
    t = np.arange(n_timesteps)
    noise = np.random.default_rng(0).normal(scale=0.05, size=(n_timesteps, 2))
    return np.column_stack([np.sin(0.3 * t), np.cos(0.17 * t)]) + noise


def _windows(series, past, future):
    """Every (past, future) pair of the series, by a plain loop."""
    starts = range(len(series) - past - future + 1)
    return (np.stack([series[s:s + past] for s in starts]),
            np.stack([series[s + past:s + past + future] for s in starts]))


def test_scorer_with_y_derived_by_a_windower():
    series = _series()
    pipeline = Pipeline([Windower(5, 2), FlatRidge()])
    with pytest.warns(UserWarning, match="Scoring failed"):  # scikit-learn's: no y, NaN
        assert np.isnan(cross_val_score(pipeline, series, None, cv=CV,
                                        scoring="neg_mean_squared_error")).all()
    scores = cross_val_score(pipeline, series, None, cv=CV,
                             scoring=get_scorer("neg_mean_squared_error"))
    by_hand, baseline = [], []
    for train, test in CV.split(series):
        fitted = clone(pipeline).fit(series[train])
        X_test, y_test = _windows(series[test], 5, 2)
        by_hand.append(-np.mean((fitted[-1].predict(X_test) - y_test) ** 2))
        baseline.append(-np.mean((series[train].mean(axis=0) - y_test) ** 2))
    np.testing.assert_allclose(scores, by_hand, rtol=1e-6)
    assert (scores > baseline).all()
    # called directly, without y
    fitted = clone(pipeline).fit(series[:160])
    X_test, y_test = _windows(series[160:], 5, 2)
    assert get_scorer("mse")(fitted, series[160:]) == pytest.approx(
        -np.mean((fitted[-1].predict(X_test) - y_test) ** 2))


def test_a_plain_estimator_without_y_is_refused_clearly(exercise1):
    X, y = exercise1
    fitted = FlatRidge().fit(X, y)
    with pytest.raises(ValueError, match=re.escape("Scoring needs y: pass y, or derive it")):
        get_scorer("r2")(fitted, X)


@pytest.fixture(scope="module")
def classification():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6, 2))
    y = (X[:, :, 0].mean(axis=1) + rng.normal(scale=0.3, size=300) > 0).astype(int)
    return X, y


def classifier():
    return Pipeline([MeanStdNormalizer(normalize_y=False), FlatLogistic()])


def test_classifier_scorers_use_their_response_method(classification):
    X, y = classification
    fitted, X, y = classifier().fit(X[:200], y[:200]), X[200:], y[200:]
    proba = fitted.predict_proba(X)
    assert get_scorer("accuracy")(fitted, X, y) == pytest.approx(
        accuracy_score(y, fitted.predict(X)))
    assert get_scorer("neg_log_loss")(fitted, X, y) == pytest.approx(-log_loss(y, proba))
    # roc_auc: decision_function or predict_proba, the positive class's column
    assert get_scorer("roc_auc")(fitted, X, y) == pytest.approx(roc_auc_score(y, proba[:, 1]))
    assert 0.5 < get_scorer("roc_auc")(fitted, X, y) < 1  # better than chance, not degenerate


def test_cross_val_score_of_a_classifier_with_probabilities(classification):
    X, y = classification
    scores = cross_val_score(classifier(), X, y, cv=CV, scoring=get_scorer("neg_log_loss"))
    by_hand = [-log_loss(y[test], clone(classifier()).fit(X[train], y[train]).predict_proba(
        X[test])) for train, test in CV.split(X)]
    np.testing.assert_allclose(scores, by_hand, rtol=1e-6)


def test_make_scorer_flattens_and_keeps_the_sign(exercise1):
    X, y = exercise1
    fitted = regressor().fit(X[:200], y[:200])
    expected = mean_absolute_error(y[200:].reshape(100, -1),
                                   fitted.predict(X[200:]).reshape(100, -1))
    loss = make_scorer(mean_absolute_error, greater_is_better=False)
    assert loss(fitted, X[200:], y[200:]) == pytest.approx(-expected)
    weighted = make_scorer(mean_absolute_error, multioutput=np.full(20, 0.05))
    assert weighted(fitted, X[200:], y[200:]) == pytest.approx(expected)
    assert "mean_absolute_error" in repr(loss) and "greater_is_better=False" in repr(loss)
    with pytest.raises(ValueError, match="response_method"):
        make_scorer(mean_absolute_error, response_method="transform")


def test_unknown_scoring_names():
    with pytest.raises(ValueError, match=re.escape(
            "'mean_squared_error' is not a valid scoring value: expected 'mse' or a name of "
            "sklearn.metrics.get_scorer_names().")):
        get_scorer("mean_squared_error")
    with pytest.raises(TypeError, match="scoring must be a str, a callable or None"):
        get_scorer(3)


def test_metrics_share_the_scorers():
    y_true = np.zeros((4, 3, 2))
    y_pred = y_true + np.arange(24).reshape(4, 3, 2) / 10
    flat_true, flat_pred = y_true.reshape(4, -1), y_pred.reshape(4, -1)
    metrics = resolve_metrics(["mse", "neg_mean_absolute_error", mean_absolute_error,
                               make_scorer(r2_score)])
    assert list(metrics) == ["mse", "neg_mean_absolute_error", "mean_absolute_error",
                             "r2_score"]
    mae = mean_absolute_error(flat_true, flat_pred)
    assert metrics["mse"](y_true, y_pred) == pytest.approx(np.mean((y_pred - y_true) ** 2))
    assert metrics["neg_mean_absolute_error"](y_true, y_pred) == pytest.approx(-mae)
    assert metrics["mean_absolute_error"](y_true, y_pred) == pytest.approx(mae)
    r2 = r2_score(flat_true + flat_pred[::-1], flat_pred)
    assert metrics["r2_score"](y_true + y_pred[::-1], y_pred) == pytest.approx(r2)
    assert resolve_metric(get_scorer("r2"))(y_true + y_pred[::-1], y_pred) == pytest.approx(r2)
    loss = resolve_metric(sklearn_make_scorer(mean_absolute_error, greater_is_better=False))
    assert loss.__name__ == "neg_mean_absolute_error"
    assert loss(y_true, y_pred) == pytest.approx(-mae)
    assert pickle.loads(pickle.dumps(metrics["neg_mean_absolute_error"]))(
        y_true, y_pred) == pytest.approx(-mae)


def test_metrics_refuse_scorers_of_probabilities():
    with pytest.raises(ValueError, match=re.escape(
            "Metric 'neg_log_loss' scores 'predict_proba', not predictions")):
        resolve_metric("neg_log_loss")
