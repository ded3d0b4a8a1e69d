"""Tests of seqpipe.datasets: the exercise generators and the offline BTC loader."""

import math
import re

import numpy as np
import pandas as pd
import pytest

from seqpipe.datasets import (
    load_btc_usd_eur,
    load_exercise,
    make_sin_cos_exercise,
    make_two_frequencies,
)


def _check_arrays(X, y, x_shape, y_shape):
    assert X.shape == x_shape and y.shape == y_shape
    for array in (X, y):
        assert array.dtype == np.float64
        assert array.flags.c_contiguous
        assert np.isfinite(array).all()


# ---------------------------------------------------------------- exercise 1


def test_exercise1_default_shapes():
    X, y = load_exercise(1, random_state=0)
    _check_arrays(X, y, (1000, 10, 2), (1000, 10, 2))


def test_exercise1_matches_the_original_loop():
    n, length = 7, 10
    X, y = load_exercise(1, n_samples=n, random_state=3)
    rand = np.random.default_rng(3).random((n, 1)) * 2 * math.pi
    for i in range(n):
        t = np.linspace(0.0 * math.pi + rand[i, 0], 3.0 * math.pi + rand[i, 0], length * 2)
        expected = np.stack((np.sin(t), np.cos(t)), axis=-1)
        np.testing.assert_allclose(X[i], expected[:length], atol=1e-12)
        np.testing.assert_allclose(y[i], expected[length:], atol=1e-12)


def test_exercise1_y_continues_X():
    length = 10
    X, y = make_sin_cos_exercise(50, window_size_past=length, random_state=1)
    np.testing.assert_allclose(X[..., 0] ** 2 + X[..., 1] ** 2, 1.0)
    np.testing.assert_allclose(y[..., 0] ** 2 + y[..., 1] ** 2, 1.0)
    phase = np.arctan2(X[:, 0, 0], X[:, 0, 1])
    step = 3 * np.pi / (2 * length - 1)
    np.testing.assert_allclose(y[:, 0, 0], np.sin(phase + length * step), atol=1e-12)
    np.testing.assert_allclose(y[:, 0, 1], np.cos(phase + length * step), atol=1e-12)


def test_other_future_length_continues_the_same_signal():
    X, y = make_sin_cos_exercise(6, window_size_past=10, random_state=5)
    X_short, y_short = make_sin_cos_exercise(
        6, window_size_past=10, window_size_future=4, random_state=5
    )
    X_long, y_long = make_sin_cos_exercise(
        6, window_size_past=10, window_size_future=13, random_state=5
    )
    _check_arrays(X_short, y_short, (6, 10, 2), (6, 4, 2))
    _check_arrays(X_long, y_long, (6, 10, 2), (6, 13, 2))
    np.testing.assert_array_equal(X_short, X)
    np.testing.assert_array_equal(X_long, X)
    np.testing.assert_array_equal(y_short, y[:, :4])
    np.testing.assert_array_equal(y_long[:, :10], y)


# ------------------------------------------------------------ exercises 2, 3


def _original_two_freqs(rng, n, length):
    """The original per-sample loop, on draws made as (n, 1) arrays in the same order."""
    draws = [rng.random((n, 1))[:, 0] for _ in range(6)]
    signals = []
    for i in range(n):
        offset, freq, amp = draws[0][i], draws[1][i], draws[2][i]
        offset, freq, amp = offset * 2 * math.pi, (freq - 0.5) / 1.5 * 15 + 0.5, amp + 0.1
        sig = amp * np.sin(np.linspace(
            length / 15.0 * freq * 0.0 * math.pi + offset,
            length / 15.0 * freq * 3.0 * math.pi + offset,
            length * 2,
        ))
        offset, freq, amp = draws[3][i], draws[4][i], draws[5][i]
        offset, freq, amp = offset * 2 * math.pi, (freq - 0.5) / 1.5 * 15 + 0.5, amp * 1.2
        sig = amp * np.cos(np.linspace(
            length / 15.0 * freq * 0.0 * math.pi + offset,
            length / 15.0 * freq * 3.0 * math.pi + offset,
            length * 2,
        )) + sig
        signals.append(sig)
    signals = np.array(signals)[:, :, np.newaxis]
    return signals[:, :length], signals[:, length:]


def test_exercise2_shapes_and_maths():
    X, y = load_exercise(2, n_samples=20, random_state=7)
    _check_arrays(X, y, (20, 15, 1), (20, 15, 1))
    X_expected, y_expected = _original_two_freqs(np.random.default_rng(7), 20, 15)
    np.testing.assert_allclose(X, X_expected, atol=1e-12)
    np.testing.assert_allclose(y, y_expected, atol=1e-12)


def test_exercise3_noise_and_normalization():
    n, length = 200, 30
    X, y = load_exercise(3, n_samples=n, random_state=11)
    _check_arrays(X, y, (n, length, 1), (n, length, 1))
    assert abs(X.mean()) < 1e-12
    np.testing.assert_allclose(X.std(), 1 / 2.5, rtol=1e-3)

    rng = np.random.default_rng(11)
    X_clean, y_clean = _original_two_freqs(rng, n, length)
    noisy = X_clean + (rng.random() * 0.15 + 0.10) * rng.standard_normal((n, length, 1))
    avg, std = noisy.mean(), noisy.std() + 0.0001
    np.testing.assert_allclose(X, (noisy - avg) / std / 2.5, atol=1e-10)
    np.testing.assert_allclose(y, (y_clean - avg) / std / 2.5, atol=1e-10)


def test_make_two_frequencies_noise_flag():
    X, y = make_two_frequencies(10, window_size_past=8, window_size_future=3, random_state=2)
    _check_arrays(X, y, (10, 8, 1), (10, 3, 1))
    X_noisy, _ = make_two_frequencies(10, window_size_past=8, noise=True, random_state=2)
    assert abs(X_noisy.mean()) < 1e-12 and not np.allclose(X_noisy, X)


# -------------------------------------------------------------- determinism


@pytest.mark.parametrize("number", [1, 2, 3])
def test_same_seed_same_arrays_other_seed_other_arrays(number):
    first = load_exercise(number, n_samples=16, random_state=42)
    again = load_exercise(number, n_samples=16, random_state=42)
    other = load_exercise(number, n_samples=16, random_state=43)
    for a, b, c in zip(first, again, other, strict=True):
        np.testing.assert_array_equal(a, b)
        assert not np.allclose(a, c)


def test_generator_and_random_state_instances_are_accepted():
    from_int = make_sin_cos_exercise(4, random_state=9)
    from_generator = make_sin_cos_exercise(4, random_state=np.random.default_rng(9))
    np.testing.assert_array_equal(from_int[0], from_generator[0])
    rs_a = make_two_frequencies(4, random_state=np.random.RandomState(9))
    rs_b = make_two_frequencies(4, random_state=np.random.RandomState(9))
    np.testing.assert_array_equal(rs_a[0], rs_b[0])
    with pytest.raises(ValueError, match="random_state must be None, an int"):
        make_sin_cos_exercise(4, random_state="seed")


# --------------------------------------------------------------- exercise 4


def test_exercise4_default_windows():
    X, y = load_exercise(4, random_state=0)  # random_state is ignored
    _check_arrays(X, y, (1615, 40, 2), (1615, 40, 2))
    X_again, _ = load_exercise(4, random_state=1)
    np.testing.assert_array_equal(X, X_again)
    prices = load_btc_usd_eur()
    # Row 1000 of the shipped CSV (which starts one day after the original series).
    assert prices.index[1000] == pd.Timestamp("2013-04-13")
    np.testing.assert_array_equal(X[0, 0], prices.iloc[1000].to_numpy())
    # The last window is kept: it ends on the last day of the series, 2017-12-01.
    np.testing.assert_array_equal(y[-1, -1], [10861.50, 9149.50])


def test_exercise4_windows_are_consistent():
    past, future = 30, 20
    X, y = load_exercise(4, n_samples=100, window_size_past=past, window_size_future=future)
    _check_arrays(X, y, (51, past, 2), (51, future, 2))
    series = load_btc_usd_eur().to_numpy()[1000:1100]
    np.testing.assert_array_equal(X[:, 0], series[:51])
    np.testing.assert_array_equal(y[:, 0], X[1:, -1].tolist() + [series[past + 50]])
    np.testing.assert_array_equal(y[: 51 - past, 0], X[past:, 0])
    np.testing.assert_array_equal(y[-1, -1], series[-1])


def test_exercise4_future_defaults_to_40():
    X, y = load_exercise(4, n_samples=100, window_size_past=10)
    _check_arrays(X, y, (51, 10, 2), (51, 40, 2))


# --------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"number": 5},
            "The 'number' parameter of load_exercise must be one of {1, 2, 3, 4}. "
            "Got 5 instead.",
        ),
        (
            {"number": 1, "n_samples": 0},
            "The 'n_samples' parameter of load_exercise must be an int in the range "
            "[1, inf). Got 0 instead.",
        ),
        (
            {"number": 2, "window_size_past": 0},
            "The 'window_size_past' parameter of load_exercise must be an int in the range "
            "[1, inf). Got 0 instead.",
        ),
        (
            {"number": 3, "window_size_future": 2.5},
            "The 'window_size_future' parameter of load_exercise must be an int in the "
            "range [1, inf). Got 2.5 instead.",
        ),
        (
            {"number": 4, "n_samples": 5000},
            "Exercise 4 has 1694 days of BTC prices (2013-04-13 to 2017-12-01: the shipped "
            "CSV up to 2017-12-01 without its first 1000 days). Got n_samples=5000.",
        ),
        (
            {"number": 4, "n_samples": 79},
            "Exercise 4 needs at least past+future = 80 days to make one window "
            "(40 + 40); got 79 days.",
        ),
    ],
)
def test_load_exercise_bad_inputs(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        load_exercise(**kwargs)


def test_generator_errors_name_the_generator():
    message = (
        "The 'n_samples' parameter of make_two_frequencies must be an int in the range "
        "[1, inf). Got True instead."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        make_two_frequencies(True)


# ------------------------------------------------------------------ BTC CSV


def test_load_btc_usd_eur_shipped_file():
    prices = load_btc_usd_eur()
    assert len(prices) == 5880
    assert isinstance(prices.index, pd.DatetimeIndex) and prices.index.name == "date"
    assert list(prices.columns) == ["close_usd", "close_eur"]
    assert (prices.dtypes == np.float64).all()
    assert prices.index[0] == pd.Timestamp("2010-07-18")
    assert prices.index[-1] == pd.Timestamp("2026-08-22")
    assert prices.loc["2013-04-01", "close_usd"] == 104.00
    assert prices.loc["2017-12-01", "close_usd"] == 10861.50


def test_load_btc_usd_eur_start_end_are_inclusive():
    prices = load_btc_usd_eur(start="2013-04-01", end=pd.Timestamp("2013-04-10"))
    assert len(prices) == 10
    assert prices.index[0] == pd.Timestamp("2013-04-01")
    assert prices.index[-1] == pd.Timestamp("2013-04-10")
    assert len(load_btc_usd_eur(end="2017-12-01")) == 2694


def _write(tmp_path, text):
    path = tmp_path / "prices.csv"
    path.write_text(text)
    return path


def test_load_btc_usd_eur_user_csv(tmp_path):
    path = _write(
        tmp_path, "date,close_eur,close_usd,volume\n2013-01-01,1,2,5\n2013-01-02,3,4,6\n"
    )
    prices = load_btc_usd_eur(path)
    assert list(prices.columns) == ["close_usd", "close_eur"]
    np.testing.assert_array_equal(prices.to_numpy(), [[2.0, 1.0], [4.0, 3.0]])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "date,close_usd\n2013-01-01,1\n",
            "missing column(s) ['close_eur']; expected the columns "
            "['date', 'close_usd', 'close_eur'].",
        ),
        (
            "date,close_usd,close_eur\n2013-01-01,1,1\n2013-01-02,2,2\n2013-01-02,3,3\n",
            "dates must be strictly increasing; found duplicate 2013-01-02.",
        ),
        (
            "date,close_usd,close_eur\n2013-01-05,1,1\n2013-01-03,2,2\n",
            "dates must be strictly increasing; unsorted at 2013-01-03 (after 2013-01-05).",
        ),
        (
            "date,close_usd,close_eur\n2013-01-01,1,1\n2013-01-02,2,\n2013-01-03,,\n",
            "missing price (NaN) in column(s) ['close_eur'], first on 2013-01-02.",
        ),
        (
            "date,close_usd,close_eur\n2013-01-01,1,1\n,2,2\n",
            "missing date in data row 2.",
        ),
    ],
)
def test_load_btc_usd_eur_bad_csv(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        load_btc_usd_eur(path)
    assert str(error.value).startswith(str(path))
