"""The four sequence-to-sequence exercises: synthetic signals and Bitcoin prices.

Each exercise returns ``X`` of shape ``(n_samples, window_size_past, n_features)`` (the
past) and ``y`` of shape ``(n_samples, window_size_future, n_features)`` (the future to
predict), as C-contiguous float64 arrays. Exercises 1 to 3 reproduce the maths of the
original generators, vectorized and seeded with a ``numpy.random.Generator``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from seqpipe._validation import check_generator, check_int_param
from seqpipe.datasets.btc import load_btc_usd_eur

RandomStateLike = int | np.random.Generator | np.random.RandomState | None

# number -> (n_samples, window_size_past, window_size_future); None future: same as past.
_DEFAULTS = {1: (1000, 10, None), 2: (10000, 15, None), 3: (10000, 30, None), 4: (None, 40, 40)}
BTC_EXERCISE_END = "2017-12-01"
BTC_SKIPPED_DAYS = 1000


def _check_sizes(owner: str, n_samples: Any, past: Any,
                 future: Any) -> tuple[int, int, int]:
    """Checked (n_samples, past, future); the future defaults to the past's length."""
    n_samples = check_int_param(owner, "n_samples", n_samples)
    past = check_int_param(owner, "window_size_past", past)
    future = check_int_param(owner, "window_size_future", past if future is None else future)
    return n_samples, past, future


def _phases(start: np.ndarray, span: np.ndarray | float, past: int, future: int) -> np.ndarray:
    """``past + future`` points from ``start``, with the step of the original
    ``linspace(start, start + span, 2 * past)``; shape ``(n_samples, past + future)``."""
    step = span / (2 * past - 1)
    return start + step * np.arange(past + future)


def _split(sequences: np.ndarray, past: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``(n, past + future, n_features)`` sequences into contiguous X and y."""
    return np.ascontiguousarray(sequences[:, :past]), np.ascontiguousarray(sequences[:, past:])


def _sin_cos(n_samples: int, past: int, future: int, rng: Any) -> tuple[np.ndarray, np.ndarray]:
    start = rng.random((n_samples, 1)) * 2 * np.pi
    phases = _phases(start, 3 * np.pi, past, future)
    return _split(np.stack((np.sin(phases), np.cos(phases)), axis=-1), past)


def _random_phases(n_samples: int, past: int, future: int, rng: Any) -> np.ndarray:
    offset = rng.random((n_samples, 1)) * 2 * np.pi
    freq = (rng.random((n_samples, 1)) - 0.5) / 1.5 * 15 + 0.5
    return _phases(offset, past / 15 * freq * 3 * np.pi, past, future)


def _two_frequencies(
    n_samples: int, past: int, future: int, noise: bool, rng: Any
) -> tuple[np.ndarray, np.ndarray]:
    phases = _random_phases(n_samples, past, future, rng)
    signal = (rng.random((n_samples, 1)) + 0.1) * np.sin(phases)
    phases = _random_phases(n_samples, past, future, rng)
    signal = rng.random((n_samples, 1)) * 1.2 * np.cos(phases) + signal
    X, y = _split(signal[:, :, np.newaxis], past)
    if not noise:
        return X, y
    noise_amount = rng.random() * 0.15 + 0.10
    X = X + noise_amount * rng.standard_normal(X.shape)
    avg, std = X.mean(), X.std() + 0.0001
    return (X - avg) / std / 2.5, (y - avg) / std / 2.5


def _btc_windows(n_samples: int | None, past: int, future: int) -> tuple[np.ndarray, np.ndarray]:
    prices = load_btc_usd_eur(end=BTC_EXERCISE_END).iloc[BTC_SKIPPED_DAYS:]
    available = len(prices)
    if n_samples is not None and n_samples > available:
        first, last = prices.index[0].date(), prices.index[-1].date()
        raise ValueError(
            f"Exercise 4 has {available} days of BTC prices ({first} to {last}: the shipped "
            f"CSV up to {BTC_EXERCISE_END} without its first {BTC_SKIPPED_DAYS} days). "
            f"Got n_samples={n_samples}."
        )
    series = prices.to_numpy()[:n_samples]
    if len(series) < past + future:
        raise ValueError(
            f"Exercise 4 needs at least past+future = {past + future} days to make one "
            f"window ({past} + {future}); got {len(series)} days."
        )
    windows = sliding_window_view(series, past + future, axis=0).transpose(0, 2, 1)
    return _split(windows, past)


def make_sin_cos_exercise(
    n_samples: int,
    *,
    window_size_past: int = 10,
    window_size_future: int | None = None,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exercise 1: a sine and a cosine of the same random phase, to be continued.

    Each sample follows ``sin(t)`` and ``cos(t)`` with ``t`` starting at a random phase
    in ``[0, 2*pi)`` and increasing by ``3*pi / (2 * window_size_past - 1)`` per step:
    the original ``linspace(phase, phase + 3*pi, 2 * window_size_past)``, continued (or
    cut) when ``window_size_future`` differs from ``window_size_past``.

    Parameters
    ----------
    n_samples : int
        Number of sequences.
    window_size_past : int, default=10
        Length of the input sequences ``X``.
    window_size_future : int, default=None
        Length of the target sequences ``y``; ``None`` means ``window_size_past``.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        Source of the random phases. An int seeds ``numpy.random.default_rng``; ``None``
        draws fresh entropy. The same seed gives the same arrays.

    Returns
    -------
    X : ndarray of shape (n_samples, window_size_past, 2)
        The past: sine on feature 0, cosine on feature 1.
    y : ndarray of shape (n_samples, window_size_future, 2)
        The future that follows ``X``.

    Examples
    --------
    >>> from seqpipe.datasets import make_sin_cos_exercise
    >>> X, y = make_sin_cos_exercise(5, window_size_future=4, random_state=0)
    >>> X.shape, y.shape
    ((5, 10, 2), (5, 4, 2))
    """
    sizes = _check_sizes("make_sin_cos_exercise", n_samples, window_size_past,
                         window_size_future)
    return _sin_cos(*sizes, check_generator(random_state))


def make_two_frequencies(
    n_samples: int,
    *,
    window_size_past: int = 15,
    window_size_future: int | None = None,
    noise: bool = False,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exercises 2 and 3: the sum of a sine and a cosine of random frequencies.

    With ``L = window_size_past``, each sample is
    ``a1 * sin(t1) + a2 * cos(t2)`` where each ``t`` starts at a random offset in
    ``[0, 2*pi)`` and spans the original ``linspace`` over ``2 * L`` points up to
    ``L / 15 * f * 3*pi``, with a random frequency factor ``f`` in ``[-4.5, 5.5)``,
    ``a1`` in ``[0.1, 1.1)`` and ``a2`` in ``[0, 1.2)``. Per wave, the offsets,
    frequencies and amplitudes are drawn (in that order) as arrays of shape
    ``(n_samples, 1)``. A ``window_size_future`` other than ``L`` continues (or cuts)
    the signal with the same step.

    With ``noise=True`` (exercise 3), Gaussian noise of a random amplitude in
    ``[0.10, 0.25)`` is added to ``X``, then ``X`` and ``y`` are standardized with the
    mean and standard deviation of the noisy ``X`` and divided by 2.5.

    Parameters
    ----------
    n_samples : int
        Number of sequences.
    window_size_past : int, default=15
        Length ``L`` of the input sequences ``X``; also scales the frequencies.
    window_size_future : int, default=None
        Length of the target sequences ``y``; ``None`` means ``window_size_past``.
    noise : bool, default=False
        Add noise to ``X`` and normalize, as in exercise 3.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        Source of the random draws. An int seeds ``numpy.random.default_rng``; ``None``
        draws fresh entropy. The same seed gives the same arrays.

    Returns
    -------
    X : ndarray of shape (n_samples, window_size_past, 1)
        The past.
    y : ndarray of shape (n_samples, window_size_future, 1)
        The future that follows ``X`` (noise-free).

    Examples
    --------
    >>> from seqpipe.datasets import make_two_frequencies
    >>> X, y = make_two_frequencies(8, window_size_past=30, noise=True, random_state=0)
    >>> X.shape, y.shape
    ((8, 30, 1), (8, 30, 1))
    """
    sizes = _check_sizes("make_two_frequencies", n_samples, window_size_past,
                         window_size_future)
    return _two_frequencies(*sizes, noise, check_generator(random_state))


def load_exercise(
    number: int,
    *,
    n_samples: int | None = None,
    window_size_past: int | None = None,
    window_size_future: int | None = None,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load the data of one of the four sequence-to-sequence exercises.

    1. A sine and a cosine of the same phase (:func:`make_sin_cos_exercise`):
       1000 samples, 10 past steps, 2 features.
    2. A sum of two waves of random frequencies (:func:`make_two_frequencies`):
       10000 samples, 15 past steps, 1 feature.
    3. Exercise 2 with noise on ``X``, normalized (``make_two_frequencies(noise=True)``):
       10000 samples, 30 past steps, 1 feature.
    4. Daily Bitcoin closes in USD and EUR: all 1694 days, 40 past and 40 future
       steps, 2 features.

    ``window_size_future`` defaults to ``window_size_past`` for exercises 1 to 3.

    Exercise 4 is deterministic (``random_state`` is ignored): the daily closes of
    :func:`load_btc_usd_eur` up to 2017-12-01, without the first 1000 days, of which the
    first ``n_samples`` days are kept and cut into every window of
    ``window_size_past + window_size_future`` consecutive days (stride 1, the last
    window included). The original exercise fetched prices from 2010-07-17 through a
    web API; the shipped CSV starts on 2010-07-18, so dropping its first 1000 rows
    starts the series one day later than the original did, on 2013-04-13, and leaves
    1694 days. The original asked for 2000 days, more than that period holds, and so
    used all of them: here ``n_samples=None`` uses all 1694 days (1615 windows of
    40 + 40 days), and a larger ``n_samples`` raises a ValueError.

    Parameters
    ----------
    number : {1, 2, 3, 4}
        The exercise.
    n_samples : int, default=None
        Number of sequences (exercises 1 to 3) or of days of prices (exercise 4);
        ``None`` uses the default of the exercise, listed above.
    window_size_past : int, default=None
        Length of ``X``; ``None`` uses the default of the exercise.
    window_size_future : int, default=None
        Length of ``y``; ``None`` means ``window_size_past`` (40 for exercise 4).
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        Seed of exercises 1 to 3, see :func:`make_sin_cos_exercise`.

    Returns
    -------
    X : ndarray of shape (n_sequences, window_size_past, n_features)
        The past, C-contiguous float64.
    y : ndarray of shape (n_sequences, window_size_future, n_features)
        The future, C-contiguous float64.

    Examples
    --------
    >>> from seqpipe.datasets import load_exercise
    >>> X, y = load_exercise(2, n_samples=100, random_state=0)
    >>> X.shape, y.shape
    ((100, 15, 1), (100, 15, 1))
    >>> X, y = load_exercise(4)
    >>> X.shape, y.shape
    ((1615, 40, 2), (1615, 40, 2))
    """
    if not isinstance(number, numbers.Integral) or isinstance(number, bool) or (
        number not in _DEFAULTS
    ):
        raise ValueError(
            "The 'number' parameter of load_exercise must be one of {1, 2, 3, 4}. "
            f"Got {number!r} instead."
        )
    default_n, default_past, default_future = _DEFAULTS[number]
    owner = "load_exercise"
    if n_samples is not None:
        n_samples = check_int_param(owner, "n_samples", n_samples)
    past = default_past if window_size_past is None else window_size_past
    past = check_int_param(owner, "window_size_past", past)
    future = default_future if window_size_future is None else window_size_future
    future = check_int_param(owner, "window_size_future", past if future is None else future)
    if number == 4:
        return _btc_windows(n_samples, past, future)
    n_samples = default_n if n_samples is None else n_samples
    rng = check_generator(random_state)
    if number == 1:
        return _sin_cos(n_samples, past, future, rng)
    return _two_frequencies(n_samples, past, future, number == 3, rng)
