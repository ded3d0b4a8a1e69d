"""Distributions to sample hyperparameters from.

Each distribution checks its bounds when it is built, prints as it was written, compares
equal to one built with the same arguments, and has ``rvs(size=None, random_state=None)``,
so scikit-learn's ``RandomizedSearchCV`` (and ``ParameterSampler``) accepts it as is.

==========================  ==============================  ==============================
Distribution                Draws                           Bounds
==========================  ==============================  ==============================
``Uniform(low, high)``      floats, uniformly               ``low <= x < high``
``LogUniform(low, high)``   floats, uniformly in log scale  ``low <= x < high``, ``low > 0``
``RandInt(low, high)``      ints, uniformly                 ``low <= x <= high`` (both in)
``LogRandInt(low, high)``   ints, uniformly in log scale    as RandInt, ``low >= 1``
``Choice(options)``         one option, equally likely      any non-empty list
==========================  ==============================  ==============================

``RandInt`` and ``LogRandInt`` include ``high`` (as Python's ``random.randint`` and Optuna's
``suggest_int`` do), unlike ``scipy.stats.randint``, which excludes it.

``random_state`` may be None (fresh entropy), an int seed, a ``numpy.random.Generator``
or a ``numpy.random.RandomState`` (what scikit-learn passes); a Generator or RandomState
is advanced by the draw, and the global NumPy random state is never used.

>>> from seqpipe.search import Choice, LogUniform, RandInt, Uniform
>>> LogUniform(1e-4, 1e-1)
LogUniform(low=0.0001, high=0.1)
>>> rate = LogUniform(1e-4, 1e-1).rvs(random_state=0)
>>> 1e-4 <= rate < 1e-1
True
>>> RandInt(1, 3).rvs(size=8, random_state=0).tolist()
[3, 2, 2, 1, 1, 1, 1, 1]
>>> Choice(["adam", "sgd"]).rvs(random_state=1)
'adam'
>>> RandInt(0, 3) == RandInt(0, 3), 2.5 in Uniform(0, 3)
(True, True)
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from seqpipe._validation import check_generator

__all__ = ["Distribution", "Uniform", "LogUniform", "RandInt", "LogRandInt", "Choice"]

Size = int | tuple[int, ...] | None
RandomState = int | np.random.Generator | np.random.RandomState | None


def _check_size(size: Any, owner: str) -> None:
    if size is None:
        return
    dims = size if isinstance(size, tuple) else (size,)
    if not all(isinstance(d, Integral) and not isinstance(d, bool) and d >= 0 for d in dims):
        raise ValueError(f"The 'size' argument of {owner}.rvs must be None, an int >= 0 or "
                         f"a tuple of them. Got {size!r} instead.")


def _real(value: Any, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"The '{name}' parameter of {owner} must be a real number. "
                        f"Got {value!r} of type {type(value).__name__} instead.")
    if not math.isfinite(value):
        raise ValueError(f"The '{name}' parameter of {owner} must be finite. "
                         f"Got {value!r} instead.")
    return float(value)


def _integer(value: Any, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"The '{name}' parameter of {owner} must be an int. "
                        f"Got {value!r} of type {type(value).__name__} instead.")
    return int(value)


def _same(a: Any, b: Any) -> bool:
    """``a == b`` as one bool, for options such as arrays whose ``==`` is elementwise."""
    try:
        return bool(np.all(a == b)) and np.shape(a) == np.shape(b)
    except (TypeError, ValueError):
        return False


class Distribution(abc.ABC):
    """Base of seqpipe's distributions: repr, equality and hashing from the parameters.

    A subclass sets ``_params`` (the names of its constructor's arguments, in order),
    stores them as attributes and implements ``_draw(rng, size)`` and ``__contains__``.

    Examples
    --------
    Every distribution draws with ``rvs`` (so scikit-learn's ``RandomizedSearchCV`` takes
    it) and tells whether a value belongs to it:

    >>> from seqpipe.search import Distribution, LogUniform
    >>> alpha = LogUniform(1e-3, 10.0)
    >>> isinstance(alpha, Distribution), alpha.rvs(size=3, random_state=0).shape
    (True, (3,))
    >>> 0.5 in alpha, 20.0 in alpha
    (True, False)
    """

    _params: tuple[str, ...] = ()

    def rvs(self, size: Size = None, random_state: RandomState = None) -> Any:
        """Draw a value (``size=None``) or an array of ``size`` values.

        Parameters
        ----------
        size : None, int or tuple of int, default=None
            None draws one Python scalar (or option); otherwise a NumPy array of that
            shape.
        random_state : None, int, numpy Generator or RandomState, default=None
            The source of randomness; the same int seed gives the same draws.
        """
        owner = type(self).__name__
        _check_size(size, owner)
        rng = check_generator(random_state, name=f"The 'random_state' argument of {owner}.rvs",
                              error=TypeError)
        return self._draw(rng, size)

    @abc.abstractmethod
    def _draw(self, rng: Any, size: Size) -> Any:
        """``size`` draws (one scalar for None) from ``rng``."""

    @abc.abstractmethod
    def __contains__(self, value: Any) -> bool:
        """Whether ``value`` can be drawn."""

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._params)

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._params)
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))


class Uniform(Distribution):
    """Floats drawn uniformly from ``[low, high)``.

    Parameters
    ----------
    low, high : float
        Finite bounds with ``low < high``.

    Examples
    --------
    >>> Uniform(0, 1)
    Uniform(low=0.0, high=1.0)
    >>> Uniform(0, 1).rvs(size=3, random_state=0).round(3).tolist()
    [0.637, 0.27, 0.041]
    """

    _params = ("low", "high")

    def __init__(self, low: float, high: float) -> None:
        owner = type(self).__name__
        self.low = _real(low, "low", owner)
        self.high = _real(high, "high", owner)
        if not self.low < self.high:
            raise ValueError(f"The 'low' parameter of {owner} must be smaller than 'high'. "
                             f"Got low={low!r} and high={high!r} instead.")

    def _draw(self, rng: Any, size: Size) -> Any:
        values = rng.uniform(self.low, self.high, size)
        # uniform's upper bound may be reached by rounding; keep [low, high)
        values = np.where(values >= self.high, np.nextafter(self.high, self.low), values)
        return float(values) if size is None else values

    def __contains__(self, value: Any) -> bool:
        return isinstance(value, Real) and self.low <= value < self.high


class LogUniform(Uniform):
    """Floats whose logarithm is uniform: as likely in [1e-4, 1e-3) as in [1e-2, 1e-1).

    For scales (learning rates, regularisation strengths) spanning decades.

    Parameters
    ----------
    low, high : float
        Finite bounds with ``0 < low < high``.

    Examples
    --------
    >>> LogUniform(1e-3, 10)
    LogUniform(low=0.001, high=10.0)
    >>> LogUniform(0, 1)
    Traceback (most recent call last):
    ...
    ValueError: The 'low' parameter of LogUniform must be > 0. Got 0 instead.
    """

    def __init__(self, low: float, high: float) -> None:
        owner = type(self).__name__
        for name, value in (("low", low), ("high", high)):
            if _real(value, name, owner) <= 0:
                raise ValueError(f"The '{name}' parameter of {owner} must be > 0. "
                                 f"Got {value!r} instead.")
        super().__init__(low, high)

    def _draw(self, rng: Any, size: Size) -> Any:
        values = np.exp(rng.uniform(math.log(self.low), math.log(self.high), size))
        values = np.clip(values, self.low, np.nextafter(self.high, self.low))
        return float(values) if size is None else values


class RandInt(Distribution):
    """Integers drawn uniformly from ``low`` to ``high``, **both included**.

    Unlike ``scipy.stats.randint(low, high)``, which excludes ``high``:
    ``RandInt(1, 3)`` draws 1, 2 or 3, like ``random.randint`` and Optuna's
    ``suggest_int``.

    Parameters
    ----------
    low, high : int
        Bounds with ``low <= high`` (equal bounds always draw ``low``).

    Examples
    --------
    >>> sorted(set(RandInt(1, 3).rvs(size=100, random_state=0).tolist()))
    [1, 2, 3]
    >>> type(RandInt(1, 3).rvs(random_state=0))
    <class 'int'>
    """

    _params = ("low", "high")

    def __init__(self, low: int, high: int) -> None:
        owner = type(self).__name__
        self.low = _integer(low, "low", owner)
        self.high = _integer(high, "high", owner)
        if self.low > self.high:
            raise ValueError(f"The 'low' parameter of {owner} must be <= 'high' (both are "
                             f"included). Got low={low!r} and high={high!r} instead.")

    def _draw(self, rng: Any, size: Size) -> Any:
        if isinstance(rng, np.random.Generator):
            values = rng.integers(self.low, self.high, size, endpoint=True)
        else:
            values = rng.randint(self.low, self.high + 1, size)
        return int(values) if size is None else np.asarray(values)

    def __contains__(self, value: Any) -> bool:
        return (isinstance(value, Integral) and not isinstance(value, bool)
                and self.low <= value <= self.high)


class LogRandInt(RandInt):
    """Integers from ``low`` to ``high`` (both included), uniform in log scale.

    For sizes spanning decades (hidden units, window lengths): 8 to 15 is as likely as
    64 to 127. Each integer k is drawn with the probability of
    ``[k - 0.5, k + 0.5)`` under a log-uniform law on ``[low - 0.5, high + 0.5)``, as
    Optuna's ``suggest_int(log=True)`` does.

    Parameters
    ----------
    low, high : int
        Bounds with ``1 <= low <= high``.

    Examples
    --------
    >>> LogRandInt(8, 256)
    LogRandInt(low=8, high=256)
    >>> values = LogRandInt(8, 256).rvs(size=1000, random_state=0)
    >>> bool(8 <= values.min() and values.max() <= 256 and (values < 64).mean() > 0.5)
    True
    """

    def __init__(self, low: int, high: int) -> None:
        owner = type(self).__name__
        if _integer(low, "low", owner) < 1:
            raise ValueError(f"The 'low' parameter of {owner} must be >= 1. "
                             f"Got {low!r} instead.")
        super().__init__(low, high)

    def _draw(self, rng: Any, size: Size) -> Any:
        logs = rng.uniform(math.log(self.low - 0.5), math.log(self.high + 0.5), size)
        values = np.clip(np.round(np.exp(logs)), self.low, self.high).astype(np.int64)
        return int(values) if size is None else values


class Choice(Distribution):
    """One of a list of options, each equally likely; options are returned as they are.

    Parameters
    ----------
    options : list or tuple
        At least one option, of any type (numbers, strings, None, estimators...).
        A string, set or dict is refused: their order or meaning would be ambiguous.

    Examples
    --------
    >>> Choice(["adam", "sgd", None])
    Choice(options=['adam', 'sgd', None])
    >>> Choice([(8, 8), (16,)]).rvs(size=2, random_state=0).tolist()
    [(16,), (16,)]
    """

    _params = ("options",)

    def __init__(self, options: Sequence[Any]) -> None:
        owner = type(self).__name__
        if isinstance(options, (str, bytes)) or not isinstance(options, (Sequence, np.ndarray)):
            raise TypeError(f"The 'options' parameter of {owner} must be a list or tuple of "
                            f"options. Got {options!r} of type {type(options).__name__} "
                            f"instead.")
        if isinstance(options, np.ndarray) and options.ndim != 1:
            raise ValueError(f"The 'options' parameter of {owner} must be one-dimensional. "
                             f"Got an array of shape {np.shape(options)} instead.")
        if len(options) == 0:
            raise ValueError(f"The 'options' parameter of {owner} must hold at least one "
                             f"option. Got {options!r} instead.")
        self.options = list(options.tolist() if isinstance(options, np.ndarray) else options)

    def _draw(self, rng: Any, size: Size) -> Any:
        n = len(self.options)
        if isinstance(rng, np.random.Generator):
            index = rng.integers(0, n, size)
        else:
            index = rng.randint(0, n, size)
        if size is None:
            return self.options[int(index)]
        values = np.empty(np.shape(index), dtype=object)
        for position, i in np.ndenumerate(index):
            values[position] = self.options[i]
        return values

    def __contains__(self, value: Any) -> bool:
        return any(value is option or _same(value, option) for option in self.options)

    def __hash__(self) -> int:
        # options may be unhashable (dicts, lists); equal Choices have equal lengths
        return hash((type(self).__name__, len(self.options)))
