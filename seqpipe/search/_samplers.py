"""Optuna samplers fitted to seqpipe's ask/tell trial loop: each trial drawn from its
number (seeded searches), and a grid sampler that does not stop the study itself."""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna


class _NumberSeededSampler(optuna.samplers.BaseSampler):
    """Draws each trial with a fresh sampler seeded from (seed, the trial's number).

    A trial's draws then depend on its number alone: a resumed search does not repeat
    the first draws, and processes sharing one storage, whose trials get distinct
    numbers from it, never draw the same parameters.
    """

    def __init__(self, make: Any, seed: int) -> None:
        self._make, self._seed = make, seed
        self._current: tuple[int, Any] | None = None

    def _for(self, trial: Any) -> Any:
        if self._current is None or self._current[0] != trial.number:
            state = np.random.SeedSequence([self._seed, trial.number]).generate_state(1)[0]
            self._current = trial.number, self._make(int(state))
        return self._current[1]

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict:
        return self._for(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study: Any, trial: Any, search_space: dict) -> dict:
        return self._for(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study: Any, trial: Any, param_name: str,
                           param_distribution: Any) -> Any:
        return self._for(trial).sample_independent(study, trial, param_name,
                                                   param_distribution)

    def before_trial(self, study: Any, trial: Any) -> None:
        self._for(trial).before_trial(study, trial)

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        self._for(trial).after_trial(study, trial, state, values)


class _LoopGridSampler(optuna.samplers.GridSampler):
    """GridSampler for an ask/tell loop: its ``after_trial`` calls ``study.stop()``,
    which Optuna allows only inside ``study.optimize``; the search stops by itself."""

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        pass
