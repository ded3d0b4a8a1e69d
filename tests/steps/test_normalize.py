"""MeanStdNormalizer: statistics, y scaling, inverses, dtypes, fit vs evaluation paths."""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from seqpipe.steps import MeanStdNormalizer

EPS = 1e-5
Y_MSG = re.escape("normalize_y=True scales y with X's statistics")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _by_hand(X, axes, std_factor=1.0, epsilon=EPS):
    mean = X.mean(axis=axes, keepdims=True)
    std = X.std(axis=axes, keepdims=True)
    return (X - mean) / (std_factor * (std + epsilon))


# ---------------------------------------------------------------- global statistics
def test_global_stats_2d_match_numpy(rng):
    X = rng.normal(loc=[5.0, -3.0, 100.0], scale=[1.0, 4.0, 20.0], size=(200, 3))
    norm = MeanStdNormalizer()
    Xt = norm.fit_transform(X)
    assert norm.mean_.shape == (3,) and norm.std_.shape == (3,)
    assert_allclose(norm.mean_, X.mean(axis=0))
    assert_allclose(norm.std_, X.std(axis=0))
    assert_allclose(Xt, (X - X.mean(axis=0)) / (X.std(axis=0) + EPS))
    assert_allclose(Xt.mean(axis=0), 0.0, atol=1e-12)
    assert_allclose(Xt.std(axis=0), 1.0, atol=1e-4)
    assert norm.n_features_in_ == 3


def test_global_stats_3d_over_samples_and_time(rng):
    X = rng.normal(loc=[1.0, 50.0], scale=[2.0, 7.0], size=(12, 9, 2))
    norm = MeanStdNormalizer().fit(X)
    # by hand: every value of a feature, whatever its sample and time step
    flat = X.reshape(-1, 2)
    assert_allclose(norm.mean_, flat.mean(axis=0))
    assert_allclose(norm.std_, flat.std(axis=0))
    for j in range(2):
        values = [X[i, t, j] for i in range(12) for t in range(9)]
        assert_allclose(norm.mean_[j], np.mean(values))
        assert_allclose(norm.std_[j], np.std(values))
    Xt = norm.transform(X)
    assert Xt.shape == X.shape
    assert_allclose(Xt, _by_hand(X, (0, 1)))


def test_std_factor_divides_by_factor_times_std(rng):
    X = rng.normal(size=(100, 2)) * [3.0, 0.5] + [1.0, 2.0]
    Xt1 = MeanStdNormalizer().fit_transform(X)
    Xt25 = MeanStdNormalizer(std_factor=2.5).fit_transform(X)
    assert_allclose(Xt25, Xt1 / 2.5)
    assert_allclose(Xt25, _by_hand(X, (0,), std_factor=2.5))
    assert_allclose(Xt25.std(axis=0), 1 / 2.5, rtol=1e-4)


@pytest.mark.parametrize("std_factor", [0, -1.0, "2"])
def test_bad_std_factor(std_factor, rng):
    with pytest.raises(ValueError, match=re.escape("The 'std_factor' parameter of")):
        MeanStdNormalizer(std_factor=std_factor).fit(rng.normal(size=(5, 2)))


def test_epsilon_is_added_to_std(rng):
    X = rng.normal(size=(50, 2))
    Xt = MeanStdNormalizer(epsilon=0.5, std_factor=2.0).fit_transform(X)
    assert_allclose(Xt, (X - X.mean(0)) / (2.0 * (X.std(0) + 0.5)))


def test_constant_feature_gives_finite_output(rng):
    X = np.column_stack([rng.normal(size=30), np.full(30, 7.0)])
    norm = MeanStdNormalizer()
    Xt, yt = norm.fit_resample(X, X.copy())
    assert np.isfinite(Xt).all() and np.isfinite(yt).all()
    assert_allclose(Xt[:, 1], 0.0)
    assert norm.std_[1] == 0.0
    # a constant feature of a new X is scaled by std_factor * epsilon
    Xt_new = norm.transform(X + [0.0, 1.0])
    assert_allclose(Xt_new[:, 1], 1.0 / EPS)
    # per-sample: a constant sample
    X3 = np.ones((3, 5, 2))
    Xt3 = MeanStdNormalizer(per_sample=True).fit_transform(X3)
    assert np.isfinite(Xt3).all()
    assert_allclose(Xt3, 0.0)


# ---------------------------------------------------------------- per-sample mode
def test_per_sample_each_sample_centered_over_time(rng):
    X = rng.normal(size=(6, 20, 3)) * rng.uniform(1, 10, size=(6, 1, 3)) + rng.uniform(
        -50, 50, size=(6, 1, 3)
    )
    norm = MeanStdNormalizer(per_sample=True)
    Xt = norm.fit_transform(X)
    assert_allclose(Xt.mean(axis=1), 0.0, atol=1e-10)
    assert_allclose(Xt.std(axis=1), 1.0, atol=1e-4)
    assert_allclose(Xt, _by_hand(X, (1,)))
    assert not hasattr(norm, "mean_")


def test_per_sample_stats_are_recomputed_for_new_data(rng):
    norm = MeanStdNormalizer(per_sample=True).fit(rng.normal(size=(4, 10, 2)))
    X_new = rng.normal(loc=1000.0, scale=50.0, size=(3, 10, 2))
    Xt = norm.transform(X_new)
    assert_allclose(Xt.mean(axis=1), 0.0, atol=1e-9)
    assert_allclose(Xt, _by_hand(X_new, (1,)))
    # a different number of samples and time steps is fine: nothing is learned per sample
    X_other = rng.normal(loc=-5.0, size=(7, 4, 2))
    assert_allclose(norm.transform(X_other), _by_hand(X_other, (1,)))


def test_per_sample_needs_3d(rng):
    with pytest.raises(ValueError, match=re.escape("Expected a 3-D")):
        MeanStdNormalizer(per_sample=True).fit(rng.normal(size=(10, 2)))


# ---------------------------------------------------------------- y
def test_normalize_y_uses_X_statistics(rng):
    X = rng.normal(loc=10.0, scale=3.0, size=(40, 8, 2))
    y = rng.normal(loc=10.0, scale=3.0, size=(40, 4, 2))
    norm = MeanStdNormalizer(std_factor=2.0)
    Xt, yt = norm.fit_resample(X, y)
    mean, std = X.reshape(-1, 2).mean(0), X.reshape(-1, 2).std(0)
    assert_allclose(Xt, (X - mean) / (2.0 * (std + EPS)))
    assert_allclose(yt, (y - mean) / (2.0 * (std + EPS)))


@pytest.mark.parametrize("normalize_y, y_shape", [
    (True, (30,)), (True, (30, 1)), (True, (30, 5, 1)), ("auto", (30, 1)), ("auto", (30, 5, 1))])
def test_normalize_y_single_feature_shapes(normalize_y, y_shape, rng):
    X = rng.normal(loc=4.0, scale=2.0, size=(30, 1))
    y = rng.normal(size=y_shape)
    norm = MeanStdNormalizer(normalize_y=normalize_y)
    _, yt = norm.fit_resample(X, y)
    assert norm.scales_y_ is True and norm.y_shape_ == y_shape[1:]
    assert yt.shape == y.shape
    assert_allclose(yt, (y - X.mean()) / (X.std() + EPS))


def test_normalize_y_false_leaves_y_unchanged(rng):
    X = rng.normal(loc=3.0, size=(20, 2))
    y = rng.normal(size=(20, 5))  # any shape: y is not touched
    norm = MeanStdNormalizer(normalize_y=False)
    Xt, yt = norm.fit_resample(X, y)
    assert yt is y
    assert_allclose(Xt, _by_hand(X, (0,)))
    assert norm.inverse_transform_y(y, X) is y
    assert norm.resample(X, y)[1] is y


@pytest.mark.parametrize("y_shape", [(20, 3), (20,), (20, 4, 5)])
def test_normalize_y_wrong_feature_count(y_shape, rng):
    X = rng.normal(size=(20, 2))
    with pytest.raises(ValueError, match=Y_MSG):
        MeanStdNormalizer(normalize_y=True).fit_resample(X, rng.normal(size=y_shape))


@pytest.mark.parametrize("y_shape", [(20, 3), (20,), (20, 4, 5)])
def test_auto_leaves_y_without_X_features(y_shape, rng):
    X = rng.normal(loc=3.0, size=(20, 2))
    y = rng.normal(size=y_shape)
    norm = MeanStdNormalizer()
    Xt, yt = norm.fit_resample(X, y)
    assert yt is y
    assert norm.scales_y_ is False and norm.y_shape_ is None
    assert_allclose(Xt, _by_hand(X, (0,)))
    assert norm.resample(X, y)[1] is y
    assert norm.inverse_transform_y(y, X) is y


def test_normalize_y_wrong_feature_count_in_inverse(rng):
    X = rng.normal(size=(20, 2))
    norm = MeanStdNormalizer(normalize_y=True).fit(X)
    with pytest.raises(ValueError, match=Y_MSG):
        norm.inverse_transform_y(np.zeros((20, 3)), X)


# ---------------------------------------------------------------- normalize_y="auto"
def test_default_passes_sklearn_check_estimator():
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(MeanStdNormalizer())


def test_default_leaves_1d_y_unchanged(rng):
    X = rng.normal(loc=[5.0, -3.0], scale=[2.0, 10.0], size=(40, 2))
    y = X @ [1.0, 0.5] + 100.0
    norm = MeanStdNormalizer()
    Xt, yt = norm.fit_resample(X, y)
    assert yt is y
    assert norm.scales_y_ is False and norm.y_shape_ is None
    assert_allclose(Xt, _by_hand(X, (0,)))
    y_new = y[:7] - 500.0
    assert norm.resample(X[:7], y_new)[1] is y_new
    predictions = rng.normal(size=40)
    assert norm.inverse_transform_y(predictions, X) is predictions


def test_default_in_pipeline_predicts_in_y_units(rng):
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline as sk_make_pipeline
    from sklearn.preprocessing import StandardScaler

    from seqpipe import Pipeline

    X = rng.normal(loc=[5.0, -3.0], scale=[2.0, 10.0], size=(60, 2))
    y = X @ [3.0, 0.5] + 1000.0  # far from X's units
    pipe = Pipeline([MeanStdNormalizer(), LinearRegression()]).fit(X, y)
    reference = sk_make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)
    assert_allclose(pipe.predict(X), reference.predict(X))
    assert_allclose(pipe.predict(X), y)
    assert pipe.score(X, y) == pytest.approx(1.0)


def test_default_scales_y_with_X_features_and_undoes_it(rng):
    X = rng.normal(loc=[10.0, -50.0], scale=[3.0, 20.0], size=(30, 8, 2))
    y = rng.normal(loc=[10.0, -50.0], scale=[3.0, 20.0], size=(30, 4, 2))
    norm = MeanStdNormalizer(std_factor=2.5)
    Xt, yt = norm.fit_resample(X, y)
    assert norm.scales_y_ is True and norm.y_shape_ == (4, 2)
    mean, std = X.reshape(-1, 2).mean(0), X.reshape(-1, 2).std(0)
    assert_allclose(yt, (y - mean) / (2.5 * (std + EPS)))
    assert_allclose(norm.inverse_transform_y(yt, X), y, rtol=1e-12)
    # the evaluation path scales the same way
    assert_array_equal(norm.resample(X, y)[1], yt)


def test_default_pipeline_unscales_predictions(rng):
    from sklearn.linear_model import LinearRegression

    from seqpipe import Pipeline

    X = rng.normal(loc=[10.0, -50.0], scale=[3.0, 20.0], size=(50, 2))
    y = X @ [[1.0, 0.5], [0.2, 1.0]] + [7.0, -9.0]  # y holds X's 2 features: scaled
    pipe = Pipeline([MeanStdNormalizer(), LinearRegression()]).fit(X, y)
    assert pipe[0].scales_y_ is True
    assert_allclose(pipe.predict(X), y, atol=1e-8)


def test_normalize_y_true_with_1d_y_raises(rng):
    X = rng.normal(size=(20, 2))
    with pytest.raises(ValueError, match=re.escape(
            "normalize_y=True scales y with X's statistics, so y's last axis must hold X's 2 "
            "features; got y of shape (20,). Set normalize_y=False to leave y unchanged, or "
            "normalize_y='auto' to scale y only when it holds X's features.")):
        MeanStdNormalizer(normalize_y=True).fit_resample(X, rng.normal(size=20))


def test_auto_one_feature_scales_y_only_with_a_feature_axis(rng):
    """X (n, 1) with y (n,) is ambiguous; "auto" scales y only when y.ndim >= 2."""
    X = rng.normal(loc=50.0, scale=5.0, size=(30, 1))
    y1 = rng.normal(loc=50.0, scale=5.0, size=30)
    norm = MeanStdNormalizer().fit(X, y1)
    assert norm.scales_y_ is False
    assert norm.resample(X, y1)[1] is y1
    y2 = y1[:, None]
    norm = MeanStdNormalizer().fit(X, y2)
    assert norm.scales_y_ is True
    assert_allclose(norm.resample(X, y2)[1], (y2 - X.mean()) / (X.std() + EPS))


def test_decision_of_fit_is_kept_for_predictions(rng):
    # fitted on a 1-D y (not scaled), predictions of shape (n, 1) are not un-scaled
    X = rng.normal(loc=50.0, scale=5.0, size=(30, 1))
    norm = MeanStdNormalizer().fit(X, rng.normal(size=30))
    predictions = rng.normal(size=(30, 1))
    assert norm.inverse_transform_y(predictions, X) is predictions
    assert norm.resample(X, predictions)[1] is predictions
    # refitting decides again
    norm.fit(X, rng.normal(size=(30, 1)))
    assert norm.scales_y_ is True
    assert not np.allclose(norm.inverse_transform_y(predictions, X), predictions)
    norm.fit(X, rng.normal(size=30))
    assert norm.scales_y_ is False and norm.y_shape_ is None


@pytest.mark.parametrize("normalize_y", ["auto", True])
@pytest.mark.parametrize("other_shape", [(20,), (20, 3, 2), (20, 1, 2)])
def test_y_of_another_shape_than_at_fit_refused_when_scaled(normalize_y, other_shape, rng):
    X = rng.normal(size=(20, 5, 2))
    norm = MeanStdNormalizer(normalize_y=normalize_y).fit(X, rng.normal(size=(20, 4, 2)))
    message = re.escape(
        f"MeanStdNormalizer scaled y of shape (n_samples, 4, 2) during fit, so it scales and "
        f"un-scales only y of that shape; got y of shape {other_shape}.")
    with pytest.raises(ValueError, match=message):
        norm.resample(X, np.zeros(other_shape))
    with pytest.raises(ValueError, match=message):
        norm.inverse_transform_y(np.zeros(other_shape), X)


def test_fitted_without_y_auto_decides_on_each_y(rng):
    """As ForEach fits a copy on each X[i] alone: the "auto" rule on the y given."""
    X = rng.normal(loc=3.0, size=(10, 6, 2))
    norm = MeanStdNormalizer(per_sample=True).fit(X)
    assert norm.scales_y_ is None and norm.y_shape_ is None
    y = rng.normal(size=(10, 4, 2))
    _, yt = norm.resample(X, y)
    assert not np.allclose(yt, y)
    assert_allclose(norm.inverse_transform_y(yt, X), y)
    y_other = rng.normal(size=(10, 3))
    assert norm.resample(X, y_other)[1] is y_other
    assert norm.inverse_transform_y(y_other, X) is y_other


@pytest.mark.parametrize("normalize_y", ["yes", None, 1, "True"])
def test_bad_normalize_y(normalize_y, rng):
    with pytest.raises(ValueError, match=re.escape(
            f"The 'normalize_y' parameter of MeanStdNormalizer must be a bool or a str among "
            f"{{'auto'}}. Got {normalize_y!r} instead.")):
        MeanStdNormalizer(normalize_y=normalize_y).fit(rng.normal(size=(5, 2)))


def test_y_with_wrong_number_of_samples(rng):
    with pytest.raises(ValueError, match=re.escape("inconsistent numbers of samples")):
        MeanStdNormalizer().fit_resample(rng.normal(size=(20, 2)), rng.normal(size=(19, 2)))


# ---------------------------------------------------------------- inverses
@pytest.mark.parametrize("normalize_y, y_shape", [
    (True, (25,)), (True, (25, 1)), (True, (25, 6, 1)), ("auto", (25, 1)), ("auto", (25, 6, 1))])
@pytest.mark.parametrize("std_factor", [1.0, 2.5])
def test_inverse_transform_y_round_trip_global(normalize_y, y_shape, std_factor, rng):
    X = rng.normal(loc=100.0, scale=10.0, size=(25, 8, 1))
    y = rng.normal(loc=100.0, scale=10.0, size=y_shape)
    norm = MeanStdNormalizer(normalize_y=normalize_y, std_factor=std_factor)
    Xt, yt = norm.fit_resample(X, y)
    assert not np.allclose(yt, y)
    assert_allclose(norm.inverse_transform_y(yt, X), y)


@pytest.mark.parametrize("y_shape", [(9,), (9, 1), (9, 3, 1)])
def test_inverse_transform_y_round_trip_per_sample_one_feature(y_shape, rng):
    X = rng.normal(size=(9, 12, 1)) * rng.uniform(1, 5, size=(9, 1, 1)) + rng.uniform(
        -20, 20, size=(9, 1, 1)
    )
    y = rng.normal(size=y_shape)
    norm = MeanStdNormalizer(per_sample=True, normalize_y=True)  # "auto" leaves 1-D y alone
    _, yt = norm.fit_resample(X, y)
    mean, std = X.mean(axis=1), X.std(axis=1)  # (9, 1)
    expected = (y.reshape(9, -1, 1) - mean[:, None]) / (std[:, None] + EPS)
    assert_allclose(yt.reshape(9, -1, 1), expected)
    assert_allclose(norm.inverse_transform_y(yt, X), y)


@pytest.mark.parametrize("y_shape", [(9, 3), (9, 4, 3)])
def test_inverse_transform_y_round_trip_per_sample_many_features(y_shape, rng):
    X = rng.normal(loc=5.0, scale=2.0, size=(9, 12, 3))
    y = rng.normal(size=y_shape)
    norm = MeanStdNormalizer(per_sample=True, std_factor=2.5)
    _, yt = norm.fit_resample(X, y)
    assert yt.shape == y.shape
    assert_allclose(norm.inverse_transform_y(yt, X), y)
    # on new data the statistics come from the X passed along
    X_new = rng.normal(loc=-30.0, scale=4.0, size=(9, 12, 3))
    _, yt_new = norm.resample(X_new, y)
    assert_allclose(norm.inverse_transform_y(yt_new, X_new), y)


def test_inverse_transform_y_with_integer_X(rng):
    X = rng.integers(0, 10, size=(50, 2))
    norm = MeanStdNormalizer()
    Xt, yt = norm.fit_resample(X, X)
    assert_allclose(norm.inverse_transform_y(yt, X), X)


def test_inverse_transform_round_trip(rng):
    for shape in [(30, 2), (5, 6, 2)]:
        X = rng.normal(loc=[3.0, -7.0], scale=[0.5, 9.0], size=shape)
        norm = MeanStdNormalizer(std_factor=2.5)
        Xt = norm.fit_transform(X)
        assert_allclose(norm.inverse_transform(Xt), X)


def test_inverse_transform_per_sample_refused(rng):
    X = rng.normal(size=(3, 5, 2))
    norm = MeanStdNormalizer(per_sample=True).fit(X)
    with pytest.raises(ValueError, match=re.escape("use inverse_transform_y(y, X) instead")):
        norm.inverse_transform(norm.transform(X))


# ---------------------------------------------------------------- dtypes
def test_float32_stays_float32(rng):
    X = rng.normal(loc=2.0, size=(20, 6, 2)).astype(np.float32)
    y = rng.normal(size=(20, 3, 2)).astype(np.float32)
    for per_sample in (False, True):
        norm = MeanStdNormalizer(per_sample=per_sample, std_factor=2.5)
        Xt, yt = norm.fit_resample(X, y)
        assert Xt.dtype == np.float32 and yt.dtype == np.float32
        assert norm.transform(X).dtype == np.float32
        back = norm.inverse_transform_y(yt, X)
        assert back.dtype == np.float32
        assert_allclose(back, y, rtol=1e-5, atol=1e-5)


def test_integer_input_becomes_float(rng):
    X = rng.integers(0, 10, size=(20, 2))
    Xt = MeanStdNormalizer().fit_transform(X)
    assert Xt.dtype == np.float64
    assert_allclose(Xt, _by_hand(X.astype(float), (0,)))


# ---------------------------------------------------------------- fit vs evaluation path
def test_resample_uses_fitted_stats_without_refitting(rng):
    A = rng.normal(loc=10.0, scale=2.0, size=(50, 2))
    B = rng.normal(loc=-4.0, scale=8.0, size=(30, 2))
    yA = rng.normal(size=(50, 2))
    yB = rng.normal(size=(30, 2))
    norm = MeanStdNormalizer(std_factor=2.5)
    norm.fit_resample(A, yA)
    mean, std = norm.mean_.copy(), norm.std_.copy()
    XBt, yBt = norm.resample(B, yB)
    assert_array_equal(norm.mean_, mean)
    assert_array_equal(norm.std_, std)
    assert norm.n_samples_seen_ == 50
    scale = 2.5 * (A.std(0) + EPS)
    assert_allclose(XBt, (B - A.mean(0)) / scale)
    assert_allclose(yBt, (yB - A.mean(0)) / scale)
    # same scaling as fit_resample on the data it was fitted on
    XAt, yAt = norm.resample(A, yA)
    XAt_fit, yAt_fit = MeanStdNormalizer(std_factor=2.5).fit_resample(A, yA)
    assert_allclose(XAt, XAt_fit)
    assert_allclose(yAt, yAt_fit)
    assert_allclose(norm.transform(B), XBt)


def test_resample_without_y(rng):
    X = rng.normal(size=(10, 2))
    norm = MeanStdNormalizer().fit(X)
    Xt, yt = norm.resample(X)
    assert yt is None
    assert_allclose(Xt, norm.transform(X))


def test_not_fitted(rng):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MeanStdNormalizer().transform(rng.normal(size=(3, 2)))


def test_transform_checks_feature_count(rng):
    norm = MeanStdNormalizer().fit(rng.normal(size=(10, 2)))
    with pytest.raises(ValueError, match=re.escape("X has 3 features, but MeanStdNormalizer")):
        norm.transform(rng.normal(size=(10, 3)))


# ------------------------------------------------------------------ found by mutation testing
@pytest.mark.parametrize("X, largest", [
    (np.array([[1e200], [-1e200], [0.0]]), "1e+200"),  # a finite mean, an infinite deviation
    (np.repeat([[1e308], [-1e308]], 256, axis=0), "1e+308"),  # partial sums inf and -inf
])
def test_a_standard_deviation_that_overflows_is_refused_silently_and_in_full(X, largest):
    from seqpipe._validation import trusted_input

    message = ("X has values too large to normalize: its standard deviation overflows "
               f"(max |X| = {largest}); expected |X| below about 1e150. Rescale X first.")
    # trusted (as inside a pipeline): the input checks, which have warnings of their own
    # on such data, are skipped
    with warnings.catch_warnings(), trusted_input():
        warnings.simplefilter("error")  # no numpy RuntimeWarning on the way
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            MeanStdNormalizer().fit(X)


def test_inverse_transform_of_a_per_sample_normalizer_says_what_to_use_instead():
    X = np.arange(24.0).reshape(4, 3, 2)
    normalizer = MeanStdNormalizer(per_sample=True).fit(X)
    message = ("inverse_transform of a per_sample MeanStdNormalizer needs the original X; "
               "use inverse_transform_y(y, X) instead.")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        normalizer.inverse_transform(np.zeros((4, 3, 2)))


def test_a_refit_forgets_the_statistics_cached_for_transform():
    normalizer = MeanStdNormalizer()
    first = np.arange(30.0).reshape(5, 3, 2)
    standardized = normalizer.fit(first).transform(first)  # caches the tiled statistics
    second = first * 10.0 + 7.0
    assert_allclose(normalizer.fit(second).transform(second), standardized, rtol=1e-4)
    assert_allclose(normalizer.transform(second).mean(axis=(0, 1)), 0.0, atol=1e-12)


def test_its_tags_let_a_pipeline_preprocess_a_whole_pass_at_once():
    from seqpipe.base import StepTags, get_step_tags

    assert get_step_tags(MeanStdNormalizer()) == StepTags(keeps_samples=True, samplewise=True)


def test_a_table_keeps_its_index_through_fit_resample_and_resample():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [0.0, 1.0, 5.0]}, index=[10, 11, 12])
    norm = MeanStdNormalizer().set_output(transform="pandas")
    Xt, _ = norm.fit_resample(X)
    assert list(Xt.index) == [10, 11, 12] and list(Xt.columns) == ["a", "b"]
    Xr, _ = norm.resample(X.iloc[1:])
    assert list(Xr.index) == [11, 12]
    assert_allclose(Xr.to_numpy(), Xt.to_numpy()[1:])
