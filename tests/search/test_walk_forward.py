"""WalkForwardSplit: time-ordered, expanding folds whose gap follows seqpipe's rule, so
that no test target is also a training target (item 3 of issue 11, the default CV)."""

import re

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score

from seqpipe import Pipeline
from seqpipe.search import WalkForwardSplit, check_time_order
from seqpipe.steps import MeanStdNormalizer, Windower


def clock(T=300):
    """A series whose value is its time step: targets name the time steps they cover."""
    return np.arange(T, dtype=float)[:, None]


def target_steps(y, indices):
    return set(y[indices].ravel().tolist())


@pytest.mark.parametrize("past, future", [(40, 40), (10, 1), (5, 7)])
@pytest.mark.parametrize("n_splits", [1, 3, 5])
def test_with_the_auto_gap_train_and_test_targets_cover_disjoint_time_steps(
        past, future, n_splits):
    X, y = Windower(past, future).fit_resample(clock())
    folds = list(WalkForwardSplit(n_splits).split(X, y))
    assert len(folds) == n_splits
    for train, test in folds:
        assert target_steps(y, train).isdisjoint(target_steps(y, test))
        assert test[0] - train[-1] == future + 1  # the gap is the future window's length
        assert np.array_equal(train, np.arange(train[-1] + 1))  # expanding, from the start
    tests = np.concatenate([test for _, test in folds])
    assert np.array_equal(tests, np.arange(tests[0], len(X)))  # consecutive, up to the end


@pytest.mark.parametrize("past, future", [(40, 40), (5, 7)])
def test_without_the_gap_training_targets_overlap_test_targets(past, future):
    """What the auto gap prevents: with gap=0, every fold leaks F - 1 time steps."""
    X, y = Windower(past, future).fit_resample(clock())
    for train, test in WalkForwardSplit(3, gap=0).split(X, y):
        shared = target_steps(y, train) & target_steps(y, test)
        assert len(shared) == future - 1


def test_a_series_windowed_inside_the_pipeline_needs_no_gap():
    series = clock()
    folds = list(WalkForwardSplit(3).split(series, series[:, 0]))
    assert all(test[0] == train[-1] + 1 for train, test in folds)


def test_like_time_series_split_when_there_is_no_gap():
    X = np.zeros((103, 2))
    for ours, theirs in zip(WalkForwardSplit(4, max_train_size=30, test_size=15).split(X),
                            TimeSeriesSplit(4, max_train_size=30, test_size=15).split(X)):
        assert all(np.array_equal(a, b) for a, b in zip(ours, theirs))
    for ours, theirs in zip(WalkForwardSplit(4).split(X), TimeSeriesSplit(4).split(X)):
        assert all(np.array_equal(a, b) for a, b in zip(ours, theirs))


def test_explicit_gap_test_size_and_max_train_size():
    X, y = np.zeros((50, 3, 1)), np.zeros((50, 4, 1))
    folds = list(WalkForwardSplit(2, gap=6, test_size=5, max_train_size=10).split(X, y))
    assert [(t[0], t[-1], v[0], v[-1]) for t, v in folds] == [(24, 33, 40, 44),
                                                             (29, 38, 45, 49)]


def test_cross_val_score_and_grid_search_accept_it():
    X, y = Windower(8, 1).fit_resample(clock(200) / 200)
    pipeline = Pipeline([MeanStdNormalizer(), Ridge()])
    X2, y2 = X[:, :, 0], y[:, 0, 0]
    scores = cross_val_score(pipeline, X2, y2, cv=WalkForwardSplit(3))
    assert scores.shape == (3,) and np.all(scores > 0.99)
    search = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=WalkForwardSplit(3)).fit(X2, y2)
    assert search.n_splits_ == 3
    assert repr(WalkForwardSplit(3, gap=2)) == (
        "WalkForwardSplit(gap=2, max_train_size=None, n_splits=3, test_size=None)")


def test_too_few_samples_name_the_numbers():
    X, y = np.zeros((20, 3, 1)), np.zeros((20, 5, 1))
    with pytest.raises(ValueError, match=re.escape(
            "WalkForwardSplit(n_splits=3) needs at least 22 samples (3 test block(s) of "
            "test_size=5, a gap of 6 and 1 training sample); got 20.")):
        list(WalkForwardSplit(3, gap=6, test_size=5).split(X, y))
    with pytest.raises(ValueError, match=re.escape(
            "WalkForwardSplit(n_splits=5) needs at least 11 samples (5 test block(s) of at "
            "least 1, a gap of 5 and 1 training sample); got 10.")):
        list(WalkForwardSplit(5).split(X[:10], y[:10]))
    assert len(list(WalkForwardSplit(5).split(X[:11], y[:11]))) == 5  # the minimum fits


@pytest.mark.parametrize("kwargs, message", [
    ({"n_splits": 0}, "The 'n_splits' parameter of WalkForwardSplit must be an int in the "
                      "range [1, inf). Got 0 instead."),
    ({"n_splits": 2.0}, "The 'n_splits' parameter of WalkForwardSplit must be an int"),
    ({"gap": -1}, "The 'gap' parameter of WalkForwardSplit must be 'auto' or an int in the "
                  "range [0, inf). Got -1 instead."),
    ({"gap": "future"}, "The 'gap' parameter of WalkForwardSplit must be 'auto' or an int"),
    ({"test_size": 0}, "The 'test_size' parameter of WalkForwardSplit must be None or an int "
                       "in the range [1, inf). Got 0 instead."),
    ({"max_train_size": True}, "The 'max_train_size' parameter of WalkForwardSplit must be "
                               "None or an int"),
])
def test_bad_parameters_are_refused_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        WalkForwardSplit(**kwargs)


def test_x_and_y_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        list(WalkForwardSplit(2).split(np.zeros((30, 2)), np.zeros(29)))


@pytest.mark.parametrize("train, test, gap, message", [
    ([0, 1, 2], [2, 3], 0, "test index 2 is not more than gap=0 samples after training "
                           "index 2."),
    ([5, 6], [0, 1], 0, "test index 0 is not more than gap=0 samples after training index 6"),
    ([0, 1, 2], [5, 6], 3, "test index 5 is not more than gap=3 samples after training "
                           "index 2."),
    ([], [5, 6], 0, "WalkForwardSplit made a fold with 0 training and 2 test sample(s)"),
])
def test_the_leak_check_refuses_folds_out_of_order(train, test, gap, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_time_order(train, test, gap=gap)
    check_time_order([0, 1, 2], [4, 5], gap=1)


def test_every_fold_goes_through_the_leak_check(monkeypatch):
    """The split checks what it yields (a broken split would raise, not leak)."""
    import seqpipe.search.walk_forward as module

    seen = []
    monkeypatch.setattr(module, "check_time_order",
                        lambda train, test, *, gap: seen.append((train[-1], test[0], gap)))
    list(WalkForwardSplit(3).split(np.zeros((40, 2, 1)), np.zeros((40, 4, 1))))
    assert seen == [(8, 13, 4), (17, 22, 4), (26, 31, 4)]


# ------------------------------------------------------------------ edges (mutation testing)
def test_the_defaults_are_five_folds_and_no_gap_for_check_time_order():
    X = np.zeros((60, 2))
    assert WalkForwardSplit().get_n_splits() == 5
    assert len(list(WalkForwardSplit().split(X))) == 5
    check_time_order([0, 1, 2], [3, 4])  # adjacent parts: no gap by default


def test_a_max_train_size_above_the_past_keeps_it_all_and_one_is_allowed():
    X = np.zeros((30, 2))
    for train, _ in WalkForwardSplit(2, max_train_size=1000).split(X):
        assert np.array_equal(train, np.arange(train[-1] + 1))  # from the first sample
    folds = list(WalkForwardSplit(2, max_train_size=1).split(X))
    assert [(len(train), train[-1] + 1 == test[0]) for train, test in folds] == [
        (1, True), (1, True)]


def test_a_sparse_x_is_split_by_its_rows():
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X = scipy_sparse.csr_matrix(np.ones((40, 3)))
    ours = [(list(a), list(b)) for a, b in WalkForwardSplit(3).split(X)]
    dense = [(list(a), list(b)) for a, b in WalkForwardSplit(3).split(np.ones((40, 3)))]
    assert ours == dense and ours[-1][1][-1] == 39


def test_groups_of_another_length_are_refused_as_scikit_learn_does():
    X = np.zeros((30, 2))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        list(WalkForwardSplit(2).split(X, groups=np.zeros(29)))


def test_a_bad_gap_set_after_construction_is_refused_by_split():
    cv = WalkForwardSplit(2)
    cv.gap = -1
    with pytest.raises(ValueError, match=re.escape(
            "The 'gap' parameter of WalkForwardSplit must be 'auto' or an int in the range "
            "[0, inf). Got -1 instead.")):
        list(cv.split(np.zeros((30, 2))))


def test_the_test_indices_of_scikit_learns_base_class_are_the_test_blocks():
    X, y = np.zeros((40, 2, 1)), np.zeros((40, 3, 1))
    cv = WalkForwardSplit(3)
    blocks = [test.tolist() for _, test in cv.split(X, y)]
    assert [test.tolist() for test in cv._iter_test_indices(X, y)] == blocks
    masks = list(cv._iter_test_masks(X, y))  # what BaseCrossValidator builds on them
    assert [np.flatnonzero(mask).tolist() for mask in masks] == blocks
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        list(cv._iter_test_indices(X, y, groups=np.zeros(39)))
