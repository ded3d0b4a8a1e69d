"""A failed trial warns once, with seqpipe's FitFailedWarning naming it, and nothing else."""

import warnings

import numpy as np
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import Ridge

from seqpipe.search import GridSearch


def test_a_failed_trial_warns_only_with_a_fit_failed_warning():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ [1.0, -2.0, 0.5]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = GridSearch(Ridge(), {"alpha": [1.0, -1.0]}, cv=2, random_state=0).fit(X, y)
    assert [w.category for w in caught] == [FitFailedWarning]  # not Optuna's cast warning
    assert sorted(t["state"] for t in search.trials_) == ["COMPLETE", "FAIL"]
