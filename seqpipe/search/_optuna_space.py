"""A search space in Optuna's terms: each parameter's Optuna distribution, and options
Optuna cannot hold (estimators, tuples, values it cannot tell apart) given to it as
readable labels and mapped back (see :mod:`seqpipe.search.searches`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from seqpipe.search.distributions import Choice, LogRandInt, LogUniform, RandInt, Uniform

_PRIMITIVES = (type(None), bool, int, float, str)


class _Param:
    """One parameter of the space: its Optuna distribution and how to decode a value."""

    def __init__(self, name: str, distribution: BaseDistribution,
                 options: list[Any] | None = None) -> None:
        self.name = name
        self.distribution = distribution
        self.options = options  # the options, when Optuna sees their labels
        if options is not None:
            self._index = {label: i for i, label in enumerate(distribution.choices)}

    def decode(self, value: Any) -> Any:
        return value if self.options is None else self.options[self._index[value]]

    def describe(self, values: Any) -> Any:
        """The parameter in the study's user attributes (JSON): the options Optuna sees,
        or the distribution's repr."""
        if isinstance(self.distribution, CategoricalDistribution):
            return list(self.distribution.choices)
        return repr(values)


def _short(value: Any, limit: int = 200) -> str:
    """``repr(value)`` on one line, cut at ``limit`` characters."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _labels(options: list[Any]) -> list[str]:
    """Distinct readable labels of options Optuna cannot take as they are: their reprs
    (``"Ridge(alpha=0.1)"``), numbered (``"0: Ridge()"``) when two reprs are the same."""
    labels = [_short(option, 80) for option in options]
    if len(set(labels)) < len(labels):
        labels = [f"{i}: {label}" for i, label in enumerate(labels)]
    return labels


def _categorical(name: str, options: Sequence[Any]) -> _Param:
    options = list(options)
    plain = (all(type(option) in _PRIMITIVES for option in options)
             and all(option == option for option in options)  # no NaN
             and len(set(options)) == len(options))  # True == 1 == 1.0 would merge
    if plain:
        return _Param(name, CategoricalDistribution(options))
    return _Param(name, CategoricalDistribution(_labels(options)), options)


def _options(values: Any) -> list[Any] | None:
    """A list's or a Choice's options; None for anything else."""
    if isinstance(values, Choice):
        return list(values.options)
    if isinstance(values, np.ndarray):
        return values.tolist()
    if isinstance(values, Sequence) and not isinstance(values, (str, bytes)):
        return list(values)
    return None


def _to_optuna(name: str, values: Any, owner: str) -> _Param:
    if isinstance(values, LogUniform):
        return _Param(name, FloatDistribution(values.low, values.high, log=True))
    if isinstance(values, Uniform):
        return _Param(name, FloatDistribution(values.low, values.high))
    if isinstance(values, LogRandInt):
        return _Param(name, IntDistribution(values.low, values.high, log=True))
    if isinstance(values, RandInt):
        return _Param(name, IntDistribution(values.low, values.high))
    options = _options(values)
    if options is None:
        raise TypeError(
            f"{owner} samples with Optuna, which cannot sample {values!r} (parameter "
            f"{name!r}). Use seqpipe.search's Uniform, LogUniform, RandInt, LogRandInt, "
            f"Choice or a list of values.")
    return _categorical(name, options)


def _check_dict(space: Any, owner: str) -> Mapping[str, Any]:
    if not isinstance(space, Mapping):
        raise TypeError(f"The search space of {owner} must be one dict "
                        f"{{'step__param': distribution_or_list}}; a list of dicts is not "
                        f"supported. Got {type(space).__name__} instead.")
    return space
