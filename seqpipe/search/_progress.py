"""A search's progress bar: trials ended, best score so far, failed and pruned ones."""

from __future__ import annotations

from typing import Any

from optuna.trial import TrialState
from tqdm.auto import tqdm


class _Progress:
    """A tqdm bar of the trials ended, with the best score so far and the failures."""

    def __init__(self, study: Any, n_trials: int, verbose: int) -> None:
        self.bar = None
        if verbose:
            self.bar = tqdm(total=n_trials, unit="trial", leave=True, desc="search")
            self.update(study)

    def update(self, study: Any) -> None:
        if self.bar is None:
            return
        trials = [t for t in study.get_trials(deepcopy=False)
                  if t.state.is_finished() and "record" in t.user_attrs]
        counts = {state: sum(t.state == state for t in trials) for state in TrialState}
        scores = [t.value for t in trials if t.state == TrialState.COMPLETE]
        best = f"{max(scores):.5g}" if scores else "-"
        self.bar.set_postfix(best=best, failed=counts[TrialState.FAIL],
                             pruned=counts[TrialState.PRUNED], refresh=False)
        self.bar.n = len(trials)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
