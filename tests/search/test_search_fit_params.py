"""seqpipe's searches take fit parameters as scikit-learn's do (issue 19, item 3): all to
the estimator's fit, or, with metadata routing, where they were requested; taken at each
fold's rows, in the trials, the refit and the study's name."""

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GroupKFold, KFold

from seqpipe import make_pipeline
from seqpipe.search import GridSearch
from seqpipe.steps import MeanStdNormalizer


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=60) * (1 + 3 * (np.arange(60) % 2))
    return X, y, rng.uniform(0.0, 2.0, size=60)


def weighted_fold(X, y, w, train, test, *, weighted_score):
    """The reference: one fold fitted (and scored) with the weights, by hand."""
    norm = MeanStdNormalizer().fit(X[train])
    ridge = Ridge(alpha=10.0).fit(norm.transform(X[train]), y[train], sample_weight=w[train])
    y_pred = ridge.predict(norm.transform(X[test]))
    return r2_score(y[test], y_pred, sample_weight=w[test] if weighted_score else None)


@pytest.mark.parametrize("with_routing", [False, True])
def test_a_search_fits_every_fold_and_the_refit_with_the_weights(data, with_routing):
    X, y, w = data
    with sklearn.config_context(enable_metadata_routing=with_routing):
        if with_routing:
            pipe = make_pipeline(MeanStdNormalizer(),
                                 Ridge().set_fit_request(sample_weight=True))
            pipe.set_score_request(sample_weight=True)
            params = {"sample_weight": w}
        else:
            pipe = make_pipeline(MeanStdNormalizer(), Ridge())
            params = {"ridge__sample_weight": w}
        search = GridSearch(pipe, {"ridge__alpha": [10.0]}, cv=KFold(3)).fit(X, y, **params)
    for k, (train, test) in enumerate(KFold(3).split(X)):
        assert search.cv_results_[f"split{k}_test_score"][0] == pytest.approx(
            weighted_fold(X, y, w, train, test, weighted_score=with_routing))
    refit = Ridge(alpha=10.0).fit(MeanStdNormalizer().fit_transform(X), y, sample_weight=w)
    np.testing.assert_allclose(search.best_estimator_[-1].coef_, refit.coef_)


def test_other_weights_are_another_study(data, tmp_path):
    X, y, w = data
    storage = tmp_path / "search.db"

    def search(**params):
        return GridSearch(make_pipeline(MeanStdNormalizer(), Ridge()), {"ridge__alpha": [1.0]},
                          cv=KFold(3), storage=storage).fit(X, y, **params)

    names = {search().study_.study_name, search(ridge__sample_weight=w).study_.study_name,
             search(ridge__sample_weight=w[::-1]).study_.study_name}
    assert len(names) == 3
    assert search().study_.study_name == search().study_.study_name


def test_with_routing_split_parameters_reach_cv(data):
    X, y, _ = data
    groups = np.arange(60) // 10  # 6 groups of consecutive samples
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearch(make_pipeline(MeanStdNormalizer(), Ridge()),
                            {"ridge__alpha": [10.0]}, cv=GroupKFold(3)
                            ).fit(X, y, groups=groups)
    for k, (train, test) in enumerate(GroupKFold(3).split(X, y, groups)):
        ridge = make_pipeline(MeanStdNormalizer(), Ridge(alpha=10.0)).fit(X[train], y[train])
        assert search.cv_results_[f"split{k}_test_score"][0] == pytest.approx(
            ridge.score(X[test], y[test]))


class WeightedMean(BaseEstimator):
    """Learns the weighted mean of X's first column; no targets (y is None)."""

    def __init__(self, shift=0.0):
        self.shift = shift

    def fit(self, X, y=None, sample_weight=None):
        self.mean_ = np.average(X[:, 0], weights=sample_weight) + self.shift
        return self

    def score(self, X, y=None):
        return -float(np.mean((X[:, 0] - self.mean_) ** 2))


def test_the_refit_of_an_estimator_without_targets_gets_the_fit_parameters(data):
    X, _, w = data
    search = GridSearch(WeightedMean(), {"shift": [0.0, 5.0]}, cv=KFold(3)
                        ).fit(X, sample_weight=w)
    assert search.best_params_ == {"shift": 0.0}
    assert search.best_estimator_.mean_ == pytest.approx(np.average(X[:, 0], weights=w))
