"""Hyperparameter search: distributions, checked search spaces, walk-forward CV.

The searches (:class:`RandomSearch`, :class:`GridSearch`, :class:`TPESearch`) stand on
Optuna, imported only when one of them is first used: ``import seqpipe.search`` stays
light.

>>> import numpy as np
>>> from sklearn.linear_model import Ridge
>>> from sklearn.model_selection import RandomizedSearchCV
>>> from seqpipe.search import LogUniform, WalkForwardSplit, check_space
>>> X = np.random.default_rng(0).normal(size=(120, 3))
>>> y = X @ [1.0, -2.0, 0.5]
>>> space = check_space(Ridge(), {"alpha": LogUniform(1e-3, 10)})
>>> search = RandomizedSearchCV(Ridge(), space, n_iter=4, cv=WalkForwardSplit(3),
...                             random_state=0).fit(X, y)
>>> 1e-3 <= search.best_params_["alpha"] < 10
True
"""

from seqpipe.search.distributions import (
    Choice,
    Distribution,
    LogRandInt,
    LogUniform,
    RandInt,
    Uniform,
)
from seqpipe.search.space import check_space
from seqpipe.search.walk_forward import WalkForwardSplit, check_time_order

__all__ = ["Choice", "Distribution", "GridSearch", "LogRandInt", "LogUniform", "RandInt",
           "RandomSearch", "TPESearch", "Uniform", "WalkForwardSplit", "check_space",
           "check_time_order"]

_SEARCHES = ("GridSearch", "RandomSearch", "TPESearch")


def __getattr__(name: str) -> object:
    """The searches, imported on first use (they import Optuna)."""
    if name in _SEARCHES:
        import seqpipe.search.searches as searches

        return getattr(searches, name)
    raise AttributeError(f"module 'seqpipe.search' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SEARCHES))
