"""What a trial reported while it ran ends up on the study's trial, where the next trials'
pruners (and Optuna's tools) read it: each epoch's score, successive halving's rungs."""

import numpy as np
import optuna
from sklearn.linear_model import SGDRegressor

from seqpipe.search import GridSearch
from seqpipe.steps import EpochRepeater, MiniBatch, ValidationSplit


def test_the_scores_and_rungs_a_trial_reported_are_on_its_study_trial():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(scale=0.1, size=300)
    model = EpochRepeater(ValidationSplit(MiniBatch(SGDRegressor(
        learning_rate="constant", random_state=0), batch_size=30), validation_size=0.2),
        epochs=3)
    space = {"step__step__step__eta0": [1e-2, 3e-2, 1e-7]}
    pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    search = GridSearch(model, space, cv=2, pruner=pruner, random_state=0).fit(X, y)
    records = {t["number"]: t for t in search.trials_}
    for trial in search.study_.trials:
        reported = records[trial.number]["intermediate"]
        assert reported and trial.intermediate_values == reported
        assert "completed_rung_0" in trial.system_attrs  # successive halving's first rung
