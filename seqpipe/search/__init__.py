"""Hyperparameter search: distributions, checked search spaces, walk-forward CV.

Nothing here imports Optuna or Dask; the searches built on them come next.

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

__all__ = ["Choice", "Distribution", "LogRandInt", "LogUniform", "RandInt", "Uniform",
           "WalkForwardSplit", "check_space", "check_time_order"]
