"""The models a :class:`~seqpipe.forecasting.Forecaster` chooses from, each a seqpipe
Pipeline on forecasting windows (:mod:`seqpipe.forecasting.windows`):

- ``ridge-alpha-A``: a linear autoregression, scikit-learn's ``Ridge(alpha=A)`` on the
  scaled window (the past target relative to its last value, the past covariates, the
  future covariates over the horizon, the level), one output per step ahead;
- ``gru``: :func:`seqpipe.models.forecast_gru`, whose decoder reads the future
  covariates, trained epoch by epoch with early stopping on the last 15 % of its
  training windows (``gap=horizon``: no validation target is a training target);
- ``seasonal-naive`` and ``last-value``: the baselines.

A user's candidate is used as is when it is a seqpipe estimator (it reads the raw
windows); any other scikit-learn regressor gets the linear candidate's features
(``WindowScaler -> WindowFeatures -> regressor``, one model per step ahead when it
predicts a single output).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sklearn.base import clone, is_regressor
from sklearn.linear_model import Ridge
from sklearn.multioutput import MultiOutputRegressor

from seqpipe.forecasting.baselines import LastValue, SeasonalNaive
from seqpipe.forecasting.windows import WindowFeatures, WindowScaler
from seqpipe.pipeline import Pipeline
from seqpipe.steps import EpochRepeater, MetricsWrapper, ValidationSplit

__all__ = ["RIDGE_ALPHAS", "default_candidates", "gru_candidate", "linear_candidate",
           "user_candidates"]

RIDGE_ALPHAS = (1.0, 10.0, 100.0, 1000.0)
_LEVEL = 1  # the channel WindowScaler appends, known over the horizon too

# ``n_known_ahead`` below: the trailing channels of the raw windows known over the
# horizon (the future covariates).


def linear_candidate(regressor: Any, n_known_ahead: int) -> Pipeline:
    """``WindowScaler -> WindowFeatures -> regressor`` (wrapped in
    ``MultiOutputRegressor`` when it predicts one output)."""
    if not regressor.__sklearn_tags__().target_tags.multi_output:
        regressor = MultiOutputRegressor(regressor)
    return Pipeline([WindowScaler(), WindowFeatures(n_known_ahead + _LEVEL), regressor])


def gru_candidate(horizon: int, n_known_ahead: int, *, random_state: Any = None,
                  hidden_dim: int = 32, learning_rate: float = 3e-3, batch_size: int = 64,
                  epochs: int = 30, patience: int = 4) -> Pipeline:
    """The seq2seq GRU, trained with early stopping on its last 15 % of windows."""
    from seqpipe.models import forecast_gru  # Keras
    from seqpipe.steps.keras_model import KerasModelStep  # Keras

    model = KerasModelStep(forecast_gru, n_known_ahead=n_known_ahead + _LEVEL,
                           hidden_dim=hidden_dim, learning_rate=learning_rate,
                           batch_size=batch_size, epochs=1, random_state=random_state)
    trained = EpochRepeater(
        ValidationSplit(MetricsWrapper(model, name="epoch_metrics"), validation_size=0.15,
                        gap=horizon, patience=patience, restore_best_weights=True),
        epochs=epochs)
    return Pipeline([WindowScaler(), trained])


def default_candidates(*, horizon: int, n_known_ahead: int, season: int | None,
                       window_past: int, random_state: Any = None) -> dict[str, Any]:
    """The candidates of ``candidates="auto"``, by name."""
    pool: dict[str, Any] = {f"ridge-alpha-{alpha:g}": linear_candidate(Ridge(alpha=alpha),
                                                                       n_known_ahead)
                            for alpha in RIDGE_ALPHAS}
    pool["gru"] = gru_candidate(horizon, n_known_ahead, random_state=random_state)
    pool.update(baseline_candidates(season, window_past))
    return pool


def baseline_candidates(season: int | None, window_past: int) -> dict[str, Any]:
    """``seasonal-naive`` (with a season the windows hold) and ``last-value``."""
    pool: dict[str, Any] = {}
    if season is not None and season <= window_past:
        pool["seasonal-naive"] = Pipeline([SeasonalNaive(season)])
    pool["last-value"] = Pipeline([LastValue()])
    return pool


def user_candidates(candidates: Any, n_known_ahead: int) -> dict[str, Any]:
    """The user's candidates (a list or a dict by name), by name; each unfitted clone
    wrapped as the module docstring says. TypeError for anything but regressors."""
    items = list(candidates.items()) if isinstance(candidates, Mapping) else [
        (None, candidate) for candidate in candidates]
    if not items:
        raise ValueError("The 'candidates' parameter of Forecaster must be 'auto' or a "
                         "non-empty list (or dict) of estimators. Got an empty one.")
    pool: dict[str, Any] = {}
    for name, candidate in items:
        if not hasattr(candidate, "fit") or not hasattr(candidate, "predict"):
            raise TypeError(f"Forecaster candidates must be estimators with fit and "
                            f"predict; got {candidate!r}.")
        name = str(name) if name is not None else _unique(type(candidate).__name__.lower(),
                                                          pool)
        if name in pool:
            raise ValueError(f"Forecaster candidates: the name {name!r} is given twice.")
        reads_windows = any(cls.__module__.startswith("seqpipe.")
                            for cls in type(candidate).__mro__)
        if not reads_windows and not is_regressor(candidate):
            raise TypeError(f"Forecaster candidate {name!r} must be a regressor or a seqpipe "
                            f"estimator; got {type(candidate).__name__}.")
        pool[name] = clone(candidate) if reads_windows else linear_candidate(
            clone(candidate), n_known_ahead)
    return pool


def _unique(name: str, taken: Mapping[str, Any]) -> str:
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name}-{k}", k + 1
    return candidate
