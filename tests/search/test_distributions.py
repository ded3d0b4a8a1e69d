"""seqpipe.search's distributions: bounds checked at construction, draws within bounds and
distributed as claimed, seeded draws reproduce, scikit-learn's RandomizedSearchCV accepts
them (item 1 of issue 11)."""

import math
import pickle
import re

import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import ParameterSampler, RandomizedSearchCV

from seqpipe.search import Choice, LogRandInt, LogUniform, RandInt, Uniform

DISTRIBUTIONS = [Uniform(-1, 2), LogUniform(1e-3, 1e1), RandInt(2, 5), LogRandInt(1, 1000),
                 Choice(["adam", "sgd", None, (8, 8)])]


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=repr)
@pytest.mark.parametrize("random_state", [0, np.random.RandomState(0),
                                          np.random.default_rng(0)],
                         ids=["int", "RandomState", "Generator"])
def test_draws_lie_within_the_bounds(dist, random_state):
    values = dist.rvs(size=500, random_state=random_state)
    assert values.shape == (500,)
    assert all(value in dist for value in values)
    one = dist.rvs(random_state=random_state)
    assert not isinstance(one, np.ndarray) and one in dist


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=repr)
def test_seeded_draws_reproduce_and_seeds_differ(dist):
    first = dist.rvs(size=20, random_state=7).tolist()
    assert first == dist.rvs(size=20, random_state=7).tolist()
    assert first != dist.rvs(size=20, random_state=8).tolist()


def test_no_seed_never_touches_the_global_random_state():
    np.random.seed(3)
    expected = np.random.random_sample()
    np.random.seed(3)
    for dist in DISTRIBUTIONS:
        dist.rvs(size=5)
    assert np.random.random_sample() == expected


def test_scalar_draws_are_python_numbers():
    assert type(Uniform(0, 1).rvs(random_state=0)) is float
    assert type(LogUniform(1, 2).rvs(random_state=0)) is float
    assert type(RandInt(0, 9).rvs(random_state=np.random.RandomState(0))) is int
    assert Choice([(8, 8)]).rvs(random_state=0) == (8, 8)
    assert RandInt(0, 9).rvs(size=(2, 3), random_state=0).shape == (2, 3)
    assert Choice([1, "a"]).rvs(size=(2, 3), random_state=0).shape == (2, 3)
    arrays = Choice([np.zeros(2), np.ones(3)])
    assert np.ones(3) in arrays and np.ones(2) not in arrays and "a" not in arrays


# --------------------------------------------------------------- distributed as claimed
def test_uniform_is_uniform():
    values = Uniform(-1, 2).rvs(size=2000, random_state=0)
    assert stats.kstest(values, stats.uniform(-1, 3).cdf).pvalue > 0.01


def test_loguniform_is_uniform_in_log_scale():
    values = LogUniform(1e-3, 1e1).rvs(size=2000, random_state=0)
    logs = np.log10(values)
    assert stats.kstest(logs, stats.uniform(-3, 4).cdf).pvalue > 0.01
    # ... and not uniform in linear scale: a test that can fail
    assert stats.kstest(values, stats.uniform(1e-3, 10).cdf).pvalue < 1e-6


def test_randint_includes_both_bounds_evenly():
    values = RandInt(1, 3).rvs(size=3000, random_state=0)
    counts = np.bincount(values, minlength=4)[1:]
    assert counts.sum() == 3000 and set(values.tolist()) == {1, 2, 3}
    assert stats.chisquare(counts).pvalue > 0.01
    assert RandInt(4, 4).rvs(size=5, random_state=0).tolist() == [4] * 5


def test_lograndint_is_uniform_in_log_scale_and_includes_both_bounds():
    low, high = 2, 40
    values = LogRandInt(low, high).rvs(size=5000, random_state=0)
    ks = np.arange(low, high + 1)
    edges = np.log(np.r_[ks - 0.5, high + 0.5])
    expected = np.diff(edges) / (edges[-1] - edges[0]) * len(values)
    observed = np.bincount(values, minlength=high + 1)[low:]
    assert observed.sum() == 5000 and observed[0] > 0 and observed[-1] > 0
    assert stats.chisquare(observed, expected).pvalue > 0.01
    # ... and not uniform over the integers: a test that can fail
    assert stats.chisquare(observed).pvalue < 1e-6
    assert LogRandInt(7, 7).rvs(size=3, random_state=0).tolist() == [7, 7, 7]


def test_choice_picks_every_option_evenly_and_returns_it_as_is():
    options = ["a", None, (1, 2), Ridge()]
    values = Choice(options).rvs(size=4000, random_state=0)
    counts = [sum(value is option for value in values) for option in options]
    assert sum(counts) == 4000
    assert stats.chisquare(counts).pvalue > 0.01


# -------------------------------------------------------------------- scikit-learn
def test_randomized_search_cv_accepts_them():
    X = np.random.default_rng(0).normal(size=(80, 3))
    y = X @ [1.0, -2.0, 0.5]
    search = RandomizedSearchCV(Ridge(), {"alpha": LogUniform(1e-3, 1e1)}, n_iter=5,
                                random_state=0, cv=3).fit(X, y)
    alphas = search.cv_results_["param_alpha"].tolist()
    assert len(set(alphas)) == 5
    assert all(1e-3 <= alpha < 1e1 for alpha in alphas)
    again = RandomizedSearchCV(Ridge(), {"alpha": LogUniform(1e-3, 1e1)}, n_iter=5,
                               random_state=0, cv=3).fit(X, y)
    assert again.cv_results_["param_alpha"].tolist() == alphas


def test_parameter_sampler_mixes_them_with_lists():
    space = {"a": Uniform(0, 1), "b": RandInt(1, 3), "c": Choice(["x", "y"]), "d": [7]}
    draws = list(ParameterSampler(space, n_iter=20, random_state=0))
    assert all(d["a"] in space["a"] and d["b"] in space["b"] and d["c"] in ("x", "y")
               and d["d"] == 7 for d in draws)
    assert draws == list(ParameterSampler(space, n_iter=20, random_state=0))


# ------------------------------------------------------------ repr, equality, copies
def test_repr_equality_and_hash():
    assert repr(Uniform(0, 1)) == "Uniform(low=0.0, high=1.0)"
    assert repr(LogUniform(1e-3, 10)) == "LogUniform(low=0.001, high=10.0)"
    assert repr(RandInt(1, 3)) == "RandInt(low=1, high=3)"
    assert repr(LogRandInt(1, 3)) == "LogRandInt(low=1, high=3)"
    assert RandInt(1, 3) != LogRandInt(1, 3)
    assert repr(Choice(("a", 1))) == "Choice(options=['a', 1])"
    assert Uniform(0, 1) == Uniform(0.0, 1.0) and hash(Uniform(0, 1)) == hash(Uniform(0.0, 1))
    assert Uniform(0, 1) != Uniform(0, 2)
    assert Uniform(1, 2) != LogUniform(1, 2)
    assert RandInt(1, 3) == RandInt(np.int64(1), 3)
    assert Choice([1, [2]]) == Choice([1, [2]]) and hash(Choice([1, [2]])) is not None
    assert Choice([1, 2]) != Choice([2, 1])
    assert len({Uniform(0, 1), Uniform(0, 1), RandInt(0, 1)}) == 2


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=repr)
def test_pickles_and_clones_inside_an_estimator(dist):
    assert pickle.loads(pickle.dumps(dist)) == dist
    search = RandomizedSearchCV(Ridge(), {"alpha": dist}, n_iter=1)
    assert clone(search).param_distributions["alpha"] == dist


# ------------------------------------------------------------------ bad bounds
@pytest.mark.parametrize("make, error, message", [
    (lambda: Uniform(1, 0), ValueError,
     "The 'low' parameter of Uniform must be smaller than 'high'. Got low=1 and high=0"),
    (lambda: Uniform(1, 1), ValueError, "The 'low' parameter of Uniform must be smaller"),
    (lambda: Uniform(0, math.inf), ValueError,
     "The 'high' parameter of Uniform must be finite. Got inf instead."),
    (lambda: Uniform(math.nan, 1), ValueError, "The 'low' parameter of Uniform must be finite"),
    (lambda: Uniform("0", 1), TypeError,
     "The 'low' parameter of Uniform must be a real number. Got '0' of type str instead."),
    (lambda: Uniform(0, True), TypeError, "The 'high' parameter of Uniform must be a real"),
    (lambda: LogUniform(0, 1), ValueError,
     "The 'low' parameter of LogUniform must be > 0. Got 0 instead."),
    (lambda: LogUniform(-1, 1), ValueError, "The 'low' parameter of LogUniform must be > 0"),
    (lambda: LogUniform(1, -1), ValueError, "The 'high' parameter of LogUniform must be > 0"),
    (lambda: LogUniform(2, 1), ValueError,
     "The 'low' parameter of LogUniform must be smaller than 'high'"),
    (lambda: LogUniform(1e-3, math.inf), ValueError,
     "The 'high' parameter of LogUniform must be finite"),
    (lambda: RandInt(3, 1), ValueError,
     "The 'low' parameter of RandInt must be <= 'high' (both are included). Got low=3 and "
     "high=1 instead."),
    (lambda: RandInt(1.0, 3), TypeError,
     "The 'low' parameter of RandInt must be an int. Got 1.0 of type float instead."),
    (lambda: RandInt(1, None), TypeError, "The 'high' parameter of RandInt must be an int"),
    (lambda: LogRandInt(0, 10), ValueError,
     "The 'low' parameter of LogRandInt must be >= 1. Got 0 instead."),
    (lambda: LogRandInt(5, 4), ValueError, "The 'low' parameter of LogRandInt must be <= 'high'"),
    (lambda: LogRandInt(1, 2.5), TypeError, "The 'high' parameter of LogRandInt must be an int"),
    (lambda: Choice([]), ValueError,
     "The 'options' parameter of Choice must hold at least one option. Got [] instead."),
    (lambda: Choice("abc"), TypeError,
     "The 'options' parameter of Choice must be a list or tuple of options. Got 'abc'"),
    (lambda: Choice({1, 2}), TypeError, "The 'options' parameter of Choice must be a list"),
    (lambda: Choice(np.zeros((2, 2))), ValueError,
     "The 'options' parameter of Choice must be one-dimensional"),
])
def test_bad_bounds_are_refused_at_construction(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


@pytest.mark.parametrize("kwargs, message", [
    ({"random_state": "0"}, "The 'random_state' argument of RandInt.rvs must be None, an int"),
    ({"random_state": 1.5}, "The 'random_state' argument of RandInt.rvs"),
    ({"size": -1}, "The 'size' argument of RandInt.rvs must be None, an int >= 0"),
    ({"size": 2.0}, "The 'size' argument of RandInt.rvs"),
])
def test_bad_rvs_arguments_are_refused(kwargs, message):
    error = TypeError if "random_state" in kwargs else ValueError
    with pytest.raises(error, match=re.escape(message)):
        RandInt(0, 3).rvs(**kwargs)
