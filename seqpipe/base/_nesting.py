"""The steps nested in a step, through its constructor parameters."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any


def iter_steps(step: Any) -> Iterator[Any]:
    """Yield ``step`` and every step nested in it (depth first, through its params).

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.base import iter_steps
    >>> from seqpipe.steps import EpochRepeater, MiniBatch
    >>> [type(step).__name__ for step in iter_steps(EpochRepeater(MiniBatch(Ridge())))]
    ['EpochRepeater', 'MiniBatch', 'Ridge']
    """
    yield step
    for name in _param_names(type(step)):
        value = getattr(step, name, None)
        if isinstance(value, (list, tuple)):
            for item in value:
                item = item[1] if isinstance(item, tuple) else item
                if hasattr(item, "fit"):
                    yield from iter_steps(item)
        elif hasattr(value, "fit"):
            yield from iter_steps(value)


@functools.cache
def _param_names(cls: type) -> tuple[str, ...]:
    """Constructor parameter names of an estimator class (inspected once per class)."""
    getter = getattr(cls, "_get_param_names", None)
    return tuple(getter()) if getter is not None else ()
