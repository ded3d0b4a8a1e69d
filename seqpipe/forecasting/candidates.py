"""The models a :class:`~seqpipe.forecasting.Forecaster` chooses from, each a seqpipe
Pipeline on forecasting windows (:mod:`seqpipe.forecasting.windows`):

- ``ridge-alpha-A``: a linear autoregression, scikit-learn's ``Ridge(alpha=A)`` on the
  scaled window (the past target relative to its last value, the past covariates, the
  future covariates over the horizon, the level), one output per step ahead;
- ``ridge-knots-alpha-A``: the same, with piecewise-linear features of the future
  covariates over the horizon (:class:`~seqpipe.forecasting.WindowFeatures`'s
  ``nonlinear``): a bent response to a covariate, such as a load's U against the
  temperature;
- ``series-ridge-alpha-A`` (many series only): the linear autoregression shared by
  all series, plus per series a correction shrunk toward it by ``A``
  (:class:`~seqpipe.forecasting.SeriesRidge`, partial pooling): each long series
  learns its own weights, a short one keeps to the shared ones; the corrections alone
  also read the series' level relative to its own training windows;
- ``gru``: :func:`seqpipe.models.forecast_gru`, whose decoder reads the future
  covariates, trained epoch by epoch with early stopping on the last 15 % of its
  training windows (``gap=horizon``: no validation target is a training target);
- ``seasonal-naive`` and ``last-value``: the baselines.

With a season, every model but the baselines also reads, on each forecast row, the
target one season (or the fewest whole seasons covering the horizon) before it
(:class:`~seqpipe.forecasting.WindowLags`), and only the last ``max(30, horizon)``
past rows of the window: the seasonal pattern where the step is forecast, not far
back in a long window (on the synthetic half-hourly load, weekly season, day ahead,
with covariates: the Ridge's selection MSE 40 -> 8, the GRU's 18 -> 11, and the
GRU runs over 96 rows instead of 720).

A user's candidate is used as is when it is a seqpipe estimator (it reads the raw
windows); any other scikit-learn regressor (and :class:`~seqpipe.forecasting.SeriesRidge`)
gets the linear candidate's features
(``WindowScaler -> WindowFeatures -> regressor``, one model per step ahead when it
predicts a single output).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sklearn.base import clone, is_regressor
from sklearn.linear_model import Ridge
from sklearn.multioutput import MultiOutputRegressor

from seqpipe.forecasting.baselines import LastValue, SeasonalNaive
from seqpipe.forecasting.chunked import ChunkedPipeline
from seqpipe.forecasting.series_ridge import SeriesRidge
from seqpipe.forecasting.window_features import WindowFeatures, WindowLags
from seqpipe.forecasting.windows import WindowScaler
from seqpipe.steps import EpochRepeater, MetricsWrapper, ValidationSplit

__all__ = ["KNOTS_ALPHAS", "RIDGE_ALPHAS", "SERIES_ALPHAS", "default_candidates", "gru_candidate",
           "linear_candidate", "recent_past", "seasonal_lags", "user_candidates"]

RIDGE_ALPHAS = (1.0, 10.0, 100.0, 1000.0)
KNOTS_ALPHAS = (10.0, 100.0, 1000.0)
SERIES_ALPHAS = (100.0, 1000.0)  # SeriesRidge's series_alpha, with many series
KNOTS = 4
RECENT_PAST = 30  # past rows the models read besides the seasonal lags: max(this, horizon)
_LEVEL = 1  # the channel WindowScaler appends, known over the horizon too

# ``n_known_ahead`` below: the trailing channels of the raw windows known over the
# horizon (the future covariates).


def seasonal_lags(horizon: int, season: int | None, window_past: int) -> tuple[int, ...]:
    """The lag :class:`WindowLags` brings to the forecast rows: the fewest whole
    seasons covering the horizon, when the window holds them; else none."""
    if not season:
        return ()
    lag = season * math.ceil(horizon / season)
    return (lag,) if lag <= window_past else ()


def recent_past(horizon: int, window_past: int) -> int:
    """Past rows the models read besides the lags: ``max(30, horizon)``, at most all."""
    return min(window_past, max(RECENT_PAST, horizon))


def _added(per_series: bool, level: bool = False) -> int:
    """Channels :class:`WindowScaler` appends: the level, but for many series unless
    ``level``."""
    return _LEVEL if level or not per_series else 0


def _windows(lags: tuple[int, ...], past: int | None, per_series: bool,
             level: bool = False) -> list[Any]:
    """``WindowScaler``, then ``WindowLags`` when it changes anything."""
    return [WindowScaler(per_series, level=True if level else None)] + (
        [WindowLags(lags, past)] if lags or past is not None else [])


def linear_candidate(regressor: Any, n_known_ahead: int, *, lags: tuple[int, ...] = (),
                     past: int | None = None, nonlinear: int = 0,
                     per_series: bool = False, level: bool = False) -> ChunkedPipeline:
    """``WindowScaler(per_series) -> [WindowLags(lags, past)] -> WindowFeatures ->
    regressor``, a :class:`~seqpipe.forecasting.ChunkedPipeline` (the regressor wrapped
    in ``MultiOutputRegressor`` when it predicts one output); ``nonlinear`` leading
    known-ahead channels get :data:`KNOTS` knots. With ``per_series``, the features end
    with the series' level (with ``level``), then its identity, once each."""
    if not regressor.__sklearn_tags__().target_tags.multi_output:
        regressor = MultiOutputRegressor(regressor)
    # the scaler's channels: ..., the identity (in place of the code), [the level],
    # then the lags
    identity = -1 - len(lags) - (1 if level else 0)
    per_window = ((identity + 1, identity) if level else (identity,)) if per_series else ()
    features = WindowFeatures(n_known_ahead + _added(per_series, level) + len(lags),
                              nonlinear=nonlinear, knots=KNOTS, per_window=per_window)
    return ChunkedPipeline([*_windows(lags, past, per_series, level), features, regressor])


def gru_candidate(horizon: int, n_known_ahead: int, *, random_state: Any = None,
                  hidden_dim: int = 64, learning_rate: float = 3e-3, batch_size: int = 64,
                  epochs: int = 60, patience: int = 8, lags: tuple[int, ...] = (),
                  past: int | None = None, per_series: bool = False,
                  gap: int | None = None) -> ChunkedPipeline:
    """The seq2seq GRU, trained with early stopping on its last 15 % of windows, ``gap``
    windows (default ``horizon``) left out before them; with ``lags`` or ``past``, on
    :class:`WindowLags`'s windows (the decoder reads the lags too)."""
    from seqpipe.models import forecast_gru  # Keras
    from seqpipe.steps.keras_model import KerasModelStep  # Keras

    model = KerasModelStep(forecast_gru,
                           n_known_ahead=n_known_ahead + _added(per_series) + len(lags),
                           hidden_dim=hidden_dim, learning_rate=learning_rate,
                           batch_size=batch_size, epochs=1, random_state=random_state)
    trained = EpochRepeater(
        ValidationSplit(MetricsWrapper(model, name="epoch_metrics"), validation_size=0.15,
                        gap=horizon if gap is None else gap, patience=patience,
                        restore_best_weights=True),
        epochs=epochs)
    return ChunkedPipeline([*_windows(lags, past, per_series), trained])


def default_candidates(*, horizon: int, n_known_ahead: int, season: int | None,
                       window_past: int, random_state: Any = None,
                       n_future_covariates: int | None = None,
                       gru: Mapping[str, Any] | None = None, n_series: int | None = None
                       ) -> dict[str, Any]:
    """The candidates of ``candidates="auto"``, by name.

    ``n_future_covariates``: how many of the ``n_known_ahead`` channels are the user's
    future covariates (they come first; the calendar features follow), given knots in
    the ``ridge-knots`` candidates; default all ``n_known_ahead``. ``gru``: keywords
    of :func:`gru_candidate` (``epochs``, ``hidden_dim``, ``learning_rate``,
    ``batch_size``, ``patience``) that replace its defaults. ``n_series``: for windows
    of many series (time-major, the series' code as the last channel), how many: the
    scaling is per series and the GRU's early stopping leaves ``horizon * n_series``
    windows out before its validation part."""
    per_series = n_series is not None
    gap = horizon * (n_series or 1)
    lags = seasonal_lags(horizon, season, window_past)
    past = recent_past(horizon, window_past)
    past = None if past == window_past else past
    nonlinear = n_known_ahead if n_future_covariates is None else n_future_covariates
    pool: dict[str, Any] = {
        f"ridge-alpha-{alpha:g}": linear_candidate(Ridge(alpha=alpha), n_known_ahead,
                                                   lags=lags, past=past,
                                                   per_series=per_series)
        for alpha in RIDGE_ALPHAS}
    if per_series:  # the level, relative to each series' history: the corrections' only
        pool.update({f"series-ridge-alpha-{alpha:g}": linear_candidate(
            SeriesRidge(alpha=RIDGE_ALPHAS[0], series_alpha=alpha, local_features=(-2,)),
            n_known_ahead, lags=lags, past=past, per_series=True, level=True)
            for alpha in SERIES_ALPHAS})
    if nonlinear:
        pool.update({f"ridge-knots-alpha-{alpha:g}": linear_candidate(
            Ridge(alpha=alpha), n_known_ahead, lags=lags, past=past, nonlinear=nonlinear,
            per_series=per_series) for alpha in KNOTS_ALPHAS})
    pool["gru"] = gru_candidate(horizon, n_known_ahead, random_state=random_state,
                                lags=lags, past=past, per_series=per_series, gap=gap,
                                **(gru or {}))
    pool.update(baseline_candidates(season, window_past))
    return pool


def baseline_candidates(season: int | None, window_past: int) -> dict[str, Any]:
    """``seasonal-naive`` (with a season the windows hold) and ``last-value``."""
    pool: dict[str, Any] = {}
    if season is not None and season <= window_past:
        pool["seasonal-naive"] = ChunkedPipeline([SeasonalNaive(season)])
    pool["last-value"] = ChunkedPipeline([LastValue()])
    return pool


def user_candidates(candidates: Any, n_known_ahead: int, per_series: bool = False
                    ) -> dict[str, Any]:
    """The user's candidates (a list or a dict by name), by name; each unfitted clone
    wrapped as the module docstring says (with ``per_series`` scaling for windows of
    many series). TypeError for anything but regressors."""
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
        reads_windows = not isinstance(candidate, SeriesRidge) and any(
            cls.__module__.startswith("seqpipe.") for cls in type(candidate).__mro__)
        if not reads_windows and not is_regressor(candidate):
            raise TypeError(f"Forecaster candidate {name!r} must be a regressor or a seqpipe "
                            f"estimator; got {type(candidate).__name__}.")
        pool[name] = clone(candidate) if reads_windows else linear_candidate(
            clone(candidate), n_known_ahead, per_series=per_series)
    return pool


def _unique(name: str, taken: Mapping[str, Any]) -> str:
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name}-{k}", k + 1
    return candidate
