"""Seeded generators of the one-step-ahead and echo exercises (seeds 000, 001, 004).

Every generator returns ``(X, y)`` as C-contiguous numpy arrays, with the seed's sizes
by default and ``n_samples`` as first argument:

- :func:`make_noisy_sine` (seed 000): windows of a noisy sine, target the next value;
- :func:`make_sin`, :func:`make_sin_cos`, :func:`make_x_sin` (seed 001): windows of
  ``sin(x)``, ``(sin(x), cos(x))`` and ``x sin(x)``, target the next value;
- :func:`make_echo_sequences` (seed 004): one-hot random integer sequences, target the
  class of the value at a fixed position.

The regression windows are ``X`` of shape ``(n_samples, window_size, n_features)``
and ``y`` of shape ``(n_samples, n_features)``: the stride-1 windows of one series of
``n_samples + window_size`` points, each followed by its next point. The series is
``numpy.concatenate([X[0], y])``. Randomness comes from
``numpy.random.default_rng(random_state)`` (or the generator passed), never from
NumPy's global generator.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from seqpipe._validation import check_generator, check_int_param

__all__ = [
    "make_echo_sequences",
    "make_noisy_sine",
    "make_sin",
    "make_sin_cos",
    "make_x_sin",
]

RandomStateLike = int | np.random.Generator | np.random.RandomState | None


def _check_float(owner: str, name: str, value: Any, *, low: float,
                 strict: bool) -> float:
    """``value`` as a finite float ``> low`` (strict) or ``>= low``, sklearn's words."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and np.isfinite(value) and (value > low if strict else value >= low))
    if not ok:
        bracket = "(" if strict else "["
        raise ValueError(
            f"The {name!r} parameter of {owner} must be a float in the range "
            f"{bracket}{low:g}, inf). Got {value!r} instead."
        )
    return float(value)


def _windows(series: np.ndarray, window_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Stride-1 windows of a ``(T, n_features)`` series and the point after each."""
    X = sliding_window_view(series[:-1], window_size, axis=0)  # (n, n_features, window)
    X = np.ascontiguousarray(np.moveaxis(X, -1, 1))
    return X, np.ascontiguousarray(series[window_size:])


def _noise(rng: Any, scale: float, shape: tuple[int, ...]) -> np.ndarray | float:
    return rng.normal(scale=scale, size=shape) if scale > 0 else 0.0


def make_noisy_sine(
    n_samples: int = 990,
    *,
    window_size: int = 10,
    time_step: float = 0.1,
    noise_std: float = 0.1,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of a noisy sine and the value that follows each (seed 000).

    The series is ``sin(t) + noise`` at ``t = 0, time_step, 2 time_step, ...``
    (``n_samples + window_size`` points), the noise normal with mean 0 and standard
    deviation ``noise_std``. Sample ``i`` is the lookback window of points ``i`` to
    ``i + window_size - 1``; its target is point ``i + window_size``. The defaults are
    the seed's: ``time_range=100``, ``time_step=0.1`` (1000 points), ``noise_std=0.1``
    and a lookback window of 10, so 990 windows. The seed then splits the series in
    time (80 % train); the noise variance ``noise_std**2`` is the best MSE reachable.

    Parameters
    ----------
    n_samples : int, default=990
        Number of windows.
    window_size : int, default=10
        Length of the lookback window.
    time_step : float, default=0.1
        Step between consecutive times.
    noise_std : float, default=0.1
        Standard deviation of the Gaussian noise; 0 gives a clean sine.
    random_state : int, numpy.random.Generator or RandomState, default=None
        Seed of the noise. ``None`` draws fresh noise (NumPy's global generator is
        not used).

    Returns
    -------
    X : ndarray of shape (n_samples, window_size, 1)
        The lookback windows.
    y : ndarray of shape (n_samples, 1)
        The value following each window.

    Examples
    --------
    >>> from seqpipe.datasets import make_noisy_sine
    >>> X, y = make_noisy_sine(random_state=0)
    >>> X.shape, y.shape
    ((990, 10, 1), (990, 1))
    >>> X, y = make_noisy_sine(3, window_size=2, noise_std=0.0)
    >>> X[:, :, 0].round(3).tolist(), y[:, 0].round(3).tolist()
    ([[0.0, 0.1], [0.1, 0.199], [0.199, 0.296]], [0.199, 0.296, 0.389])
    """
    owner = "make_noisy_sine"
    n_samples = check_int_param(owner, "n_samples", n_samples)
    window_size = check_int_param(owner, "window_size", window_size)
    time_step = _check_float(owner, "time_step", time_step, low=0, strict=True)
    noise_std = _check_float(owner, "noise_std", noise_std, low=0, strict=False)
    rng = check_generator(random_state)
    n_points = n_samples + window_size
    t = np.arange(n_points) * time_step
    series = np.sin(t) + _noise(rng, noise_std, (n_points,))
    return _windows(series.reshape(-1, 1), window_size)


def _seed001(owner: str, fct: Any, n_samples: Any, window_size: Any, x_max: Any,
             noise_std: Any, random_state: RandomStateLike
             ) -> tuple[np.ndarray, np.ndarray]:
    n_samples = check_int_param(owner, "n_samples", n_samples)
    window_size = check_int_param(owner, "window_size", window_size)
    x_max = _check_float(owner, "x_max", x_max, low=0, strict=True)
    noise_std = _check_float(owner, "noise_std", noise_std, low=0, strict=False)
    rng = check_generator(random_state)
    x = np.linspace(0.0, x_max, n_samples + window_size)
    series = fct(x)
    series = series + _noise(rng, noise_std, series.shape)
    return _windows(series, window_size)


_SEED001_PARAMS = """\
    Parameters
    ----------
    n_samples : int, default=9995
        Number of windows; the series has ``n_samples + window_size`` points.
    window_size : int, default=5
        Length of the lookback window (the seed's ``TIMESTEPS``).
    x_max : float, default=100.0
        The series is sampled at ``numpy.linspace(0, x_max, n_samples + window_size)``.
    noise_std : float, default=0.0
        Standard deviation of Gaussian noise added to the series; the seed has none.
    random_state : int, numpy.random.Generator or RandomState, default=None
        Seed of the noise; unused when ``noise_std=0`` (the data are then
        deterministic). NumPy's global generator is never used.
"""


def make_sin(
    n_samples: int = 9995,
    *,
    window_size: int = 5,
    x_max: float = 100.0,
    noise_std: float = 0.0,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``sin(x)`` and the value that follows each (seed 001).

    The seed's ``generate_data(np.sin, np.linspace(0, 100, 10000), TIMESTEPS=5)``:
    sample ``i`` is ``sin(x[i:i + window_size])``, its target ``sin(x[i + window_size])``.
    The seed splits the series in time (10 % test, then 10 % validation) and reports
    a test MSE of 0.000776.

    {params}
    Returns
    -------
    X : ndarray of shape (n_samples, window_size, 1)
    y : ndarray of shape (n_samples, 1)

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.datasets import make_sin
    >>> X, y = make_sin()
    >>> X.shape, y.shape
    ((9995, 5, 1), (9995, 1))
    >>> bool(np.allclose(y[:, 0], np.sin(np.linspace(0, 100, 10000))[5:]))
    True
    """
    return _seed001("make_sin", lambda x: np.sin(x)[:, None], n_samples, window_size,
                    x_max, noise_std, random_state)


def make_sin_cos(
    n_samples: int = 9995,
    *,
    window_size: int = 5,
    x_max: float = 100.0,
    noise_std: float = 0.0,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``(sin(x), cos(x))`` and the pair that follows each (seed 001).

    The seed's ``sin_cos`` data frame (columns ``a = sin(x)``, ``b = cos(x)``) on
    ``numpy.linspace(0, 100, 10000)`` with ``TIMESTEPS=5``: both features are inputs
    and both are predicted. The seed reports a test MSE of 0.001144.

    {params}
    Returns
    -------
    X : ndarray of shape (n_samples, window_size, 2)
        Feature 0 is ``sin(x)``, feature 1 ``cos(x)``.
    y : ndarray of shape (n_samples, 2)

    Examples
    --------
    >>> from seqpipe.datasets import make_sin_cos
    >>> X, y = make_sin_cos(2, window_size=3)
    >>> X.shape, y.shape
    ((2, 3, 2), (2, 2))
    >>> X[0, 0].tolist()  # sin(0), cos(0)
    [0.0, 1.0]
    """
    return _seed001("make_sin_cos", lambda x: np.stack((np.sin(x), np.cos(x)), axis=-1),
                    n_samples, window_size, x_max, noise_std, random_state)


def make_x_sin(
    n_samples: int = 9995,
    *,
    window_size: int = 5,
    x_max: float = 100.0,
    noise_std: float = 0.0,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``x sin(x)`` and the value that follows each (seed 001).

    The seed's ``x_sin`` on ``numpy.linspace(0, 100, 10000)`` with ``TIMESTEPS=5``;
    its amplitude grows with ``x`` (up to about 100), and the seed reports a test MSE
    of 61.0.

    {params}
    Returns
    -------
    X : ndarray of shape (n_samples, window_size, 1)
    y : ndarray of shape (n_samples, 1)

    Examples
    --------
    >>> from seqpipe.datasets import make_x_sin
    >>> X, y = make_x_sin()
    >>> X.shape, y.shape
    ((9995, 5, 1), (9995, 1))
    >>> round(float(y[-1, 0]), 2)  # 100 * sin(100)
    -50.64
    """
    return _seed001("make_x_sin", lambda x: (x * np.sin(x))[:, None], n_samples,
                    window_size, x_max, noise_std, random_state)


for _function in (make_sin, make_sin_cos, make_x_sin):
    _function.__doc__ = _function.__doc__.replace("    {params}\n", _SEED001_PARAMS)


def make_echo_sequences(
    n_samples: int = 10000,
    *,
    length: int = 10,
    n_classes: int = 25,
    output_index: int = 7,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One-hot random integer sequences; the target is the value at one position (seed 004).

    Each sequence has ``length`` integers drawn uniformly from ``0`` to
    ``n_classes - 1``, one-hot encoded; the target is the integer at position
    ``output_index``, which a recurrent classifier learns to echo. The defaults are
    the seed's: length 10, 25 features (classes), position 7 and 10000 training
    samples (the seed trains on 10000 sequences, one per step).

    Parameters
    ----------
    n_samples : int, default=10000
        Number of sequences.
    length : int, default=10
        Number of time steps per sequence.
    n_classes : int, default=25
        Number of possible integers, the one-hot width (the seed's ``n_features``).
    output_index : int, default=7
        Position, from 0 to ``length - 1``, of the value to echo.
    random_state : int, numpy.random.Generator or RandomState, default=None
        Seed of the sequences. NumPy's global generator is never used.

    Returns
    -------
    X : ndarray of shape (n_samples, length, n_classes), float64
        The one-hot sequences (one 1.0 per time step).
    y : ndarray of shape (n_samples,), int64
        The class (integer) at ``output_index``: ``X[i, output_index].argmax()``.
        Its one-hot form, the seed's target, is ``numpy.eye(n_classes)[y]``.

    Examples
    --------
    >>> from seqpipe.datasets import make_echo_sequences
    >>> X, y = make_echo_sequences(random_state=0)
    >>> X.shape, y.shape
    ((10000, 10, 25), (10000,))
    >>> bool((X[:, 7].argmax(axis=1) == y).all())
    True
    """
    owner = "make_echo_sequences"
    n_samples = check_int_param(owner, "n_samples", n_samples)
    length = check_int_param(owner, "length", length)
    n_classes = check_int_param(owner, "n_classes", n_classes)
    output_index = check_int_param(owner, "output_index", output_index, low=0)
    if output_index >= length:
        raise ValueError(
            f"The 'output_index' parameter of {owner} must be an int in the range "
            f"[0, {length - 1}] (length={length}). Got {output_index!r} instead."
        )
    rng = check_generator(random_state)
    draw = rng.integers if isinstance(rng, np.random.Generator) else rng.randint
    sequences = draw(0, n_classes, size=(n_samples, length))
    X = np.zeros((n_samples, length, n_classes))
    np.put_along_axis(X, sequences[..., None], 1.0, axis=-1)
    return X, sequences[:, output_index].astype(np.int64)
