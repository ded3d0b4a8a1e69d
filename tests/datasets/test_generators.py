"""Tests of the seeded generators of seeds 000, 001 and 004 (seqpipe.datasets.generators)."""

import re

import numpy as np
import pytest

from seqpipe.datasets import (
    make_echo_sequences,
    make_noisy_sine,
    make_sin,
    make_sin_cos,
    make_x_sin,
)

SEED001 = [
    (make_sin, lambda x: np.sin(x)[:, None]),
    (make_sin_cos, lambda x: np.stack((np.sin(x), np.cos(x)), axis=-1)),
    (make_x_sin, lambda x: (x * np.sin(x))[:, None]),
]
ALL = [make_noisy_sine, make_sin, make_sin_cos, make_x_sin, make_echo_sequences]


def _contiguous(*arrays):
    return all(array.flags.c_contiguous for array in arrays)


# ------------------------------------------------------------------ seed 000
def test_noisy_sine_defaults_are_the_seeds():
    """time_range=100, time_step=0.1 (1000 points), window 10 -> 990 windows."""
    X, y = make_noisy_sine(random_state=0)
    assert X.shape == (990, 10, 1) and y.shape == (990, 1)
    assert X.dtype == y.dtype == np.float64 and _contiguous(X, y)
    series = np.concatenate([X[0, :, 0], y[:, 0]])
    noise = series - np.sin(np.arange(0, 100, 0.1))
    assert noise.shape == (1000,)
    assert abs(noise.mean()) < 0.02 and 0.09 < noise.std() < 0.11  # noise_std=0.1


def test_noisy_sine_windows_follow_the_seed_loop():
    """X[i] = series[i:i + w], y[i] = series[i + w], as in the seed's create_dataset."""
    X, y = make_noisy_sine(50, window_size=4, random_state=1)
    series = np.concatenate([X[0, :, 0], y[:, 0]])
    for i in range(50):
        np.testing.assert_array_equal(X[i, :, 0], series[i:i + 4])
        assert y[i, 0] == series[i + 4]


def test_noisy_sine_without_noise_is_the_sine():
    X, y = make_noisy_sine(20, window_size=3, time_step=0.5, noise_std=0.0)
    t = np.arange(23) * 0.5
    np.testing.assert_allclose(y[:, 0], np.sin(t[3:]))
    np.testing.assert_allclose(X[5, :, 0], np.sin(t[5:8]))


def test_noisy_sine_noise_scales_with_noise_std():
    X, y = make_noisy_sine(5000, window_size=1, time_step=1.0, noise_std=2.0, random_state=0)
    residual = y[:, 0] - np.sin(np.arange(1, 5001, dtype=float))
    assert 1.9 < residual.std() < 2.1


# ------------------------------------------------------------------ seed 001
@pytest.mark.parametrize(("make", "fct"), SEED001)
def test_seed001_defaults_reproduce_generate_data(make, fct):
    """The seed's generate_data(fct, np.linspace(0, 100, 10000), TIMESTEPS=5)."""
    X, y = make()
    data = fct(np.linspace(0, 100, 10000))
    n_features = data.shape[1]
    assert X.shape == (9995, 5, n_features) and y.shape == (9995, n_features)
    assert _contiguous(X, y)
    np.testing.assert_allclose(y, data[5:])
    np.testing.assert_allclose(X[123], data[123:128])
    np.testing.assert_allclose(X[-1], data[-6:-1])


def test_sin_cos_feature_order():
    X, y = make_sin_cos(10, window_size=2, x_max=9.0)
    x = np.linspace(0, 9.0, 12)
    np.testing.assert_allclose(y[:, 0], np.sin(x[2:]))
    np.testing.assert_allclose(y[:, 1], np.cos(x[2:]))


def test_x_sin_amplitude_grows():
    _, y = make_x_sin()
    assert np.abs(y[:1000]).max() < 10.1 and np.abs(y[-1000:]).max() > 95


@pytest.mark.parametrize(("make", "fct"), SEED001)
def test_seed001_noise_is_optional_and_seeded(make, fct):
    clean = make(200)[1]
    noisy_a = make(200, noise_std=0.5, random_state=3)[1]
    noisy_b = make(200, noise_std=0.5, random_state=3)[1]
    np.testing.assert_array_equal(noisy_a, noisy_b)
    assert 0.4 < (noisy_a - clean).std() < 0.6
    np.testing.assert_array_equal(clean, make(200, random_state=5)[1])  # no noise: fixed


# ------------------------------------------------------------------ seed 004
def test_echo_defaults_are_the_seeds():
    X, y = make_echo_sequences(random_state=0)
    assert X.shape == (10000, 10, 25) and y.shape == (10000,)
    assert X.dtype == np.float64 and y.dtype == np.int64 and _contiguous(X)
    assert set(np.unique(X)) == {0.0, 1.0}
    np.testing.assert_array_equal(X.sum(axis=-1), 1.0)  # one hot per time step
    np.testing.assert_array_equal(y, X[:, 7].argmax(axis=1))  # the value at index 7
    assert set(np.unique(y)) == set(range(25))  # every class, roughly uniform
    counts = np.bincount(X.argmax(axis=-1).ravel(), minlength=25)
    assert counts.min() > 0.8 * 4000 and counts.max() < 1.2 * 4000


def test_echo_other_position_and_sizes():
    X, y = make_echo_sequences(30, length=4, n_classes=3, output_index=0, random_state=1)
    assert X.shape == (30, 4, 3)
    np.testing.assert_array_equal(y, X[:, 0].argmax(axis=1))
    assert y.min() >= 0 and y.max() <= 2


def test_echo_target_is_not_another_position():
    X, y = make_echo_sequences(500, random_state=2)
    assert (X[:, 6].argmax(axis=1) != y).mean() > 0.8


def test_echo_accepts_a_legacy_random_state():
    rng = np.random.RandomState(0)
    X, y = make_echo_sequences(5, random_state=rng)
    np.testing.assert_array_equal(y, X[:, 7].argmax(axis=1))


# ------------------------------------------------------------------ seeding
def _noisy(make):
    if make in (make_sin, make_sin_cos, make_x_sin):
        return lambda n, **kw: make(n, noise_std=0.1, **kw)
    return make


@pytest.mark.parametrize("make", ALL)
def test_same_seed_same_data_other_seed_other_data(make):
    generate = _noisy(make)
    X1, y1 = generate(40, random_state=0)
    X2, y2 = generate(40, random_state=0)
    X3, y3 = generate(40, random_state=1)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("make", ALL)
def test_global_numpy_generator_is_untouched(make):
    generate = _noisy(make)
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    a = generate(40, random_state=None)
    b = generate(40, random_state=None)
    np.testing.assert_array_equal(np.random.random(3), expected)
    assert not np.array_equal(a[0], b[0])  # None: fresh randomness each call


@pytest.mark.parametrize("make", ALL)
def test_generator_instance_is_used(make):
    generate = _noisy(make)
    X1, _ = generate(40, random_state=np.random.default_rng(7))
    X2, _ = generate(40, random_state=np.random.default_rng(7))
    np.testing.assert_array_equal(X1, X2)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("make", ALL)
@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", True, None])
def test_bad_n_samples(make, bad):
    message = (f"The 'n_samples' parameter of {make.__name__} must be an int in the "
               f"range [1, inf). Got {bad!r} instead.")
    with pytest.raises(ValueError, match=re.escape(message)):
        make(bad)


@pytest.mark.parametrize(("make", "param", "value", "message"), [
    (make_sin, "window_size", 0, "must be an int in the range [1, inf). Got 0 instead."),
    (make_noisy_sine, "window_size", 1.0,
     "must be an int in the range [1, inf). Got 1.0 instead."),
    (make_noisy_sine, "time_step", 0, "must be a float in the range (0, inf). Got 0 instead."),
    (make_noisy_sine, "noise_std", -0.1,
     "must be a float in the range [0, inf). Got -0.1 instead."),
    (make_noisy_sine, "noise_std", float("nan"),
     "must be a float in the range [0, inf). Got nan instead."),
    (make_x_sin, "x_max", -1.0, "must be a float in the range (0, inf). Got -1.0 instead."),
    (make_sin_cos, "noise_std", "0.1",
     "must be a float in the range [0, inf). Got '0.1' instead."),
    (make_echo_sequences, "n_classes", 0, "must be an int in the range [1, inf). Got 0 instead."),
    (make_echo_sequences, "length", -1, "must be an int in the range [1, inf). Got -1 instead."),
    (make_echo_sequences, "output_index", -1,
     "must be an int in the range [0, inf). Got -1 instead."),
    (make_echo_sequences, "output_index", 10,
     "must be an int in the range [0, 9] (length=10). Got 10 instead."),
])
def test_bad_parameters(make, param, value, message):
    full = f"The {param!r} parameter of {make.__name__} {message}"
    with pytest.raises(ValueError, match=re.escape(full)):
        make(5, **{param: value})


@pytest.mark.parametrize("make", ALL)
def test_bad_random_state(make):
    with pytest.raises(ValueError, match=re.escape("random_state must be None, an int")):
        make(5, random_state="seed")
