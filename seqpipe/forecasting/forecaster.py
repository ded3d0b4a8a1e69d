"""Forecaster: fit on a series (and its covariates), forecast the next ``horizon``
steps, the model chosen among candidates by validation in time order.

>>> import numpy as np, pandas as pd
>>> from seqpipe.forecasting import Forecaster, LastValue
>>> from sklearn.linear_model import Ridge
>>> t = np.arange(300)
>>> y = pd.Series(np.sin(2 * np.pi * t / 12) + 0.01 * t,
...               index=pd.date_range("2000-01-01", periods=300, freq="MS"))
>>> forecaster = Forecaster(3, candidates=[Ridge(alpha=1.0), LastValue()]).fit(y)
>>> forecaster.season_, forecaster.window_past_, forecaster.best_candidate_
(12, 30, 'ridge')
>>> forecast = forecaster.predict()
>>> forecast.index.strftime("%Y-%m-%d").tolist()
['2025-01-01', '2025-02-01', '2025-03-01']
>>> forecast.columns.tolist()
['prediction']
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from seqpipe.forecasting.calendar import CalendarFeatures
from seqpipe.forecasting.candidates import default_candidates, user_candidates
from seqpipe.forecasting.covariates import align, as_covariates
from seqpipe.forecasting.dates import as_target, future_dates, infer_frequency
from seqpipe.forecasting.intervals import check_levels, conformal_quantiles, interval_columns
from seqpipe.forecasting.season import detect_season
from seqpipe.forecasting.windows import make_windows

__all__ = ["Forecaster", "auto_window_past"]

_MIN_WINDOW_PAST = 30
_MIN_TRAIN_WINDOWS = 10


class Forecaster(BaseEstimator):
    """Forecast the next ``horizon`` steps of a series, with past and future covariates.

    ``fit`` holds out the last ``validation_size`` of the series' time steps, fits every
    candidate on the windows whose targets all lie before them, scores each on the
    forecasts made from every origin of the held-out part (walk-forward, no refit: no
    validation target is a training target), then refits the best candidate on the
    whole series.

    Parameters
    ----------
    horizon : int, default=1
        Steps ahead to forecast.
    window_past : "auto" or int, default="auto"
        Past time steps each forecast reads. ``"auto"``: two seasons, at least 30,
        at most a third of the training part.
    season : "auto", int or None, default="auto"
        The cycle's length in time steps, for the seasonal-naive candidate and the
        default window. ``"auto"``: :func:`~seqpipe.forecasting.detect_season` on the
        training part; None: no season.
    candidates : "auto", list or dict of estimators, default="auto"
        What to choose from (see :mod:`seqpipe.forecasting.candidates`): ``"auto"``
        is Ridge autoregressions (alphas 1 to 1000), a seq2seq GRU reading the future
        covariates, and the seasonal-naive and last-value baselines. A list (or a dict
        by name) of the user's seqpipe pipelines (reading the windows of
        :mod:`seqpipe.forecasting.windows`) or scikit-learn regressors (given the
        linear candidate's features).
    calendar : "auto", bool, list of str or CalendarFeatures, default="auto"
        Calendar features added to the future covariates (dates only).
        ``"auto"``/True: :class:`CalendarFeatures` ``("auto")``, the cycles that vary
        at the series' frequency; False or None: none; a list of cycle names or a
        CalendarFeatures (with a ``country`` for holidays): those.
    levels : sequence of float, default=()
        Coverages in percent of the prediction intervals ``predict`` gives beside the
        forecast (``lower_L``, ``upper_L``), e.g. ``(80, 95)``: split conformal, from
        the chosen model's out-of-sample errors on the held-out part, calibrated once
        here (see :mod:`seqpipe.forecasting.intervals` for the guarantee and its
        assumptions).
    validation_size : float, default=0.15
        Fraction of the time steps held out to choose the candidate, in (0, 1).
    random_state : int, optional
        Seeds the neural candidates.

    Attributes
    ----------
    season_ : int or None
    window_past_ : int
    candidate_scores_ : dict of str to float
        Each candidate's validation MSE (NaN when it could not be fitted; see
        ``candidate_errors_``).
    candidate_errors_ : dict of str to str
        Why a candidate was left out.
    best_candidate_ : str
    pipeline_ : estimator
        The chosen candidate, refitted on the whole series.
    frequency_ : pandas.DateOffset or None
        The series' calendar frequency (None for integer time steps).
    calendar_ : CalendarFeatures or None
    past_covariates_, future_covariates_ : list of str
        The covariates' column names seen in fit.
    n_train_, n_validation_ : int
        Time steps of the series before and in the held-out part.
    residuals_ : ndarray of shape (n_origins, horizon)
        The chosen candidate's errors (prediction - actual) from every origin of the
        held-out part, fitted on the data before it: what the intervals stand on.
    levels_ : tuple of float
    interval_widths_ : dict of float to ndarray of shape (horizon,)
        The half-width of each level's interval at each step ahead.
    """

    def __init__(self, horizon: int = 1, *, window_past: Any = "auto", season: Any = "auto",
                 candidates: Any = "auto", calendar: Any = "auto", levels: Any = (),
                 validation_size: float = 0.15, random_state: Any = None) -> None:
        self.horizon = horizon
        self.window_past = window_past
        self.season = season
        self.candidates = candidates
        self.calendar = calendar
        self.levels = levels
        self.validation_size = validation_size
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, y: Any, *, past_covariates: Any = None,
            future_covariates: Any = None) -> Forecaster:
        """Choose a candidate on the held-out end of ``y``, then refit it on all of it.

        Parameters
        ----------
        y : pandas Series with a DatetimeIndex, or 1-D array-like
            The series (an array's time steps are 0, 1, ...).
        past_covariates : DataFrame, optional
            Known up to each forecast origin only; must cover ``y``'s dates.
        future_covariates : DataFrame, optional
            Known ahead; must cover ``y``'s dates (and, at predict, the horizon's).

        Returns
        -------
        self
        """
        self._check_params()
        self.levels_ = check_levels(self.levels)
        target = as_target(y)
        index = target.index
        past = as_covariates(past_covariates, index, "past_covariates")
        future = as_covariates(future_covariates, index, "future_covariates")
        self.frequency_ = infer_frequency(index)
        self.calendar_ = self._make_calendar(index)
        self.past_covariates_ = [] if past is None else list(map(str, past.columns))
        self.future_covariates_ = [] if future is None else list(map(str, future.columns))
        data = self._data(target.to_numpy(), index, past, future)

        n = len(target)
        self.n_validation_ = math.ceil(self.validation_size * n)
        self.n_train_ = n - self.n_validation_
        if self.n_validation_ < self.horizon:
            raise ValueError(f"Forecaster: validation_size={self.validation_size} holds out "
                             f"{self.n_validation_} time step(s) of {n}, fewer than the "
                             f"horizon ({self.horizon}): give a longer series or a larger "
                             f"validation_size.")
        self.season_ = self._resolve_season(target.to_numpy()[:self.n_train_])
        self.window_past_ = self._resolve_window_past()
        pool = self._pool()
        train = np.arange(self.window_past_ - 1, self.n_train_ - self.horizon)
        validation = np.arange(self.n_train_ - 1, n - self.horizon)
        self.candidate_scores_, self.candidate_errors_, residuals = _score(
            pool, self._windows(data, train, with_targets=True),
            self._windows(data, validation, with_targets=True))
        scored = {k: v for k, v in self.candidate_scores_.items() if np.isfinite(v)}
        if not scored:
            raise ValueError("Forecaster: no candidate could be fitted: "
                             + "; ".join(f"{k}: {v}" for k, v in
                                         self.candidate_errors_.items()))
        self.best_candidate_ = min(scored, key=scored.get)
        self.residuals_ = residuals[self.best_candidate_]
        self.interval_widths_ = conformal_quantiles(self.residuals_, self.levels_)
        everything = np.arange(self.window_past_ - 1, n - self.horizon)
        self.pipeline_ = clone(pool[self.best_candidate_]).fit(
            *self._windows(data, everything, with_targets=True))
        self._history = data[-self.window_past_:]
        self._history_index = index[-self.window_past_:]
        return self

    def _check_params(self) -> None:
        _check_int(self.horizon, "horizon")
        if not (isinstance(self.window_past, str) and self.window_past == "auto"):
            _check_int(self.window_past, "window_past", "'auto' or ")
        if not (self.season is None or (isinstance(self.season, str) and self.season == "auto")):
            _check_int(self.season, "season", "'auto', None or ", low=2)
        size = self.validation_size
        if isinstance(size, bool) or not isinstance(size, numbers.Real) or not 0 < size < 1:
            raise ValueError(f"The 'validation_size' parameter of Forecaster must be a float "
                             f"in the range (0, 1). Got {size!r} instead.")

    def _make_calendar(self, index: pd.Index) -> CalendarFeatures | None:
        calendar = self.calendar
        if calendar is None or calendar is False:
            return None
        if not isinstance(index, pd.DatetimeIndex):
            if isinstance(calendar, str) and calendar == "auto":
                return None
            raise ValueError("Forecaster: calendar features need dates; y is indexed by "
                             "integer time steps (give calendar=None).")
        if calendar is True or (isinstance(calendar, str) and calendar == "auto"):
            calendar = CalendarFeatures()
        elif not isinstance(calendar, CalendarFeatures):
            calendar = CalendarFeatures(calendar)
        calendar = clone(calendar).fit(index)
        return calendar if calendar.feature_names_out_ else None

    def _resolve_season(self, train: np.ndarray) -> int | None:
        if isinstance(self.season, str):
            return detect_season(train)
        return self.season

    def _resolve_window_past(self) -> int:
        if isinstance(self.window_past, str):
            past = auto_window_past(self.n_train_, self.horizon, self.season_)
        else:
            past = self.window_past
        if self.n_train_ - self.horizon - past + 1 < _MIN_TRAIN_WINDOWS:
            raise ValueError(
                f"Forecaster: the series is too short: {self.n_train_} time steps before "
                f"the held-out {self.n_validation_} leave fewer than {_MIN_TRAIN_WINDOWS} "
                f"training windows of {past} past and {self.horizon} future steps.")
        return past

    def _pool(self) -> dict[str, Any]:
        n_known = self._n_known_ahead()
        if isinstance(self.candidates, str) and self.candidates == "auto":
            return default_candidates(horizon=self.horizon, n_known_ahead=n_known,
                                      season=self.season_, window_past=self.window_past_,
                                      random_state=self.random_state,
                                      n_future_covariates=len(self.future_covariates_))
        if isinstance(self.candidates, str):
            raise ValueError(f"The 'candidates' parameter of Forecaster must be 'auto' or a "
                             f"list (or dict) of estimators. Got {self.candidates!r} instead.")
        return user_candidates(self.candidates, n_known)

    # ------------------------------------------------------------------ data
    def _n_known_ahead(self) -> int:
        calendar = 0 if self.calendar_ is None else len(self.calendar_.feature_names_out_)
        return len(self.future_covariates_) + calendar

    def _data(self, target: np.ndarray, index: pd.Index, past: pd.DataFrame | None,
              future: pd.DataFrame | None) -> np.ndarray:
        """The channels of the windows at ``index``: target, past covariates, future
        covariates, calendar features. ``target`` may be shorter than ``index`` (the
        forecast rows): the rest is NaN."""
        columns = [np.concatenate([target, np.full(len(index) - len(target), np.nan)])]
        n_observed = len(target)
        if self.past_covariates_:
            values = np.full((len(index), len(self.past_covariates_)), np.nan)
            if n_observed:
                values[:n_observed] = align(self._named(past, "past_covariates"),
                                            index[:n_observed], "past_covariates",
                                            self.frequency_)
            columns.append(values)
        if self.future_covariates_:
            columns.append(align(self._named(future, "future_covariates"), index,
                                 "future_covariates", self.frequency_))
        if self.calendar_ is not None:
            columns.append(self.calendar_.transform(index).to_numpy())
        return np.column_stack(columns)

    def _named(self, covariates: pd.DataFrame | None, name: str) -> pd.DataFrame:
        """The fitted covariate columns of ``covariates``; ValueError when absent."""
        expected = getattr(self, f"{name}_")
        if covariates is None:
            raise ValueError(f"{name} is required: the forecaster was fitted with "
                             f"{name} {expected}.")
        covariates = covariates.set_axis(list(map(str, covariates.columns)), axis=1)
        missing = [column for column in expected if column not in covariates.columns]
        if missing:
            raise ValueError(f"{name} lacks the column(s) {missing} the forecaster was "
                             f"fitted with (it has {list(covariates.columns)}).")
        return covariates[expected]

    def _windows(self, data: np.ndarray, origins: np.ndarray, *, with_targets: bool = False
                 ) -> Any:
        return make_windows(data, origins, window_past=self.window_past_,
                            horizon=self.horizon, n_known_ahead=self._n_known_ahead(),
                            with_targets=with_targets)

    # ------------------------------------------------------------------ predict
    def predict(self, y: Any = None, *, past_covariates: Any = None,
                future_covariates: Any = None, levels: Any = None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of the series.

        Parameters
        ----------
        y : pandas Series or 1-D array-like, optional
            A new history (its last ``window_past_`` values are read) to forecast
            after, without refitting; default the series seen in ``fit``.
        past_covariates : DataFrame, optional
            With ``y``, when fitted with past covariates: covering ``y``'s last
            ``window_past_`` dates.
        future_covariates : DataFrame, optional
            When fitted with future covariates: covering the ``horizon`` dates after
            the series' end (and, with ``y``, its last ``window_past_`` dates too).
        levels : sequence of float, optional
            Interval coverages in percent; default the ``levels`` given at
            construction (calibrated at fit).

        Returns
        -------
        DataFrame
            Indexed by the forecast dates (or time steps), column ``prediction``, then
            ``lower_L`` and ``upper_L`` for each level.
        """
        check_is_fitted(self, "pipeline_")
        history, index = self._history_of(y, past_covariates, future_covariates)
        dates = future_dates(index, self.frequency_, self.horizon)
        data = np.vstack([history, self._future_rows(dates, future_covariates)])
        window = self._windows(data, np.array([self.window_past_ - 1]))
        prediction = np.asarray(self.pipeline_.predict(window), dtype=np.float64)
        dates = dates.rename(dates.name if dates.name is not None else
                             ("date" if isinstance(dates, pd.DatetimeIndex) else "step"))
        prediction = prediction.reshape(self.horizon)
        return pd.DataFrame({"prediction": prediction,
                             **interval_columns(prediction, self.widths(levels))},
                            index=dates)

    def widths(self, levels: Any = None) -> dict[float, np.ndarray]:
        """The half-width of each level's interval at each step ahead: those calibrated
        at fit for ``levels=None``, else computed from ``residuals_``."""
        check_is_fitted(self, "pipeline_")
        if levels is None:
            return self.interval_widths_
        return conformal_quantiles(self.residuals_, check_levels(levels, "predict"))

    def predict_origins(self, y: Any, origins: Any, *, past_covariates: Any = None,
                        future_covariates: Any = None) -> np.ndarray:
        """Forecasts from many origins of ``y`` in one batched model call, each reading
        only the data up to its origin (what :func:`~seqpipe.forecasting.backtest`
        uses).

        Parameters
        ----------
        y : pandas Series or 1-D array-like
            A series indexed as the one seen in ``fit``, with its covariates.
        origins : array-like of int
            Positions in ``y`` of each forecast's last observed step; each needs
            ``window_past_ - 1`` steps before it and ``horizon`` rows after it (their
            target is not read, their future covariates are).
        past_covariates, future_covariates : DataFrame, optional
            Covering ``y``'s dates, when fitted with them.

        Returns
        -------
        ndarray of shape (len(origins), horizon)
        """
        check_is_fitted(self, "pipeline_")
        target = as_target(y)
        origins = np.asarray(origins)
        if origins.ndim != 1 or not np.issubdtype(origins.dtype, np.integer) or (
                len(origins) and (origins.min() < self.window_past_ - 1
                                  or origins.max() + self.horizon >= len(target))):
            raise ValueError(f"origins must be positions in y (of {len(target)} time steps) "
                             f"from {self.window_past_ - 1} (window_past_ - 1) to "
                             f"{len(target) - 1 - self.horizon} (the last with a horizon "
                             f"of rows after it).")
        past = as_covariates(past_covariates, target.index, "past_covariates")
        future = as_covariates(future_covariates, target.index, "future_covariates")
        data = self._data(target.to_numpy(), target.index, past, future)
        prediction = self.pipeline_.predict(self._windows(data, origins))
        return np.asarray(prediction, dtype=np.float64).reshape(len(origins), self.horizon)

    def _history_of(self, y: Any, past_covariates: Any, future_covariates: Any
                    ) -> tuple[np.ndarray, pd.Index]:
        """The last ``window_past_`` rows of data before the origin, and their index."""
        if y is None:
            if past_covariates is not None:
                raise ValueError("past_covariates are only read with a new history y: the "
                                 "history seen in fit holds its own.")
            return self._history, self._history_index
        target = as_target(y)
        if len(target) < self.window_past_:
            raise ValueError(f"y has {len(target)} time step(s); the forecaster reads the "
                             f"last {self.window_past_}.")
        if isinstance(target.index, pd.DatetimeIndex) != isinstance(self._history_index,
                                                                    pd.DatetimeIndex):
            raise ValueError("y must be indexed as the series seen in fit was (dates or "
                             "integer time steps).")
        tail = target.iloc[-self.window_past_:]
        past = as_covariates(past_covariates, tail.index, "past_covariates")
        future = as_covariates(future_covariates, tail.index, "future_covariates")
        return self._data(tail.to_numpy(), tail.index, past, future), tail.index

    def _future_rows(self, dates: pd.Index, future_covariates: Any) -> np.ndarray:
        future = as_covariates(future_covariates, dates, "future_covariates")
        if future is not None and not self.future_covariates_:
            raise ValueError("future_covariates given, but the forecaster was fitted "
                             "without them.")
        return self._data(np.empty(0), dates, None, future)


def _score(pool: dict[str, Any], train: tuple[np.ndarray, np.ndarray],
           validation: tuple[np.ndarray, np.ndarray]) -> tuple[dict, dict, dict]:
    """Each candidate's validation MSE once fitted on ``train`` (NaN, with the reason in
    the second dict, when it cannot be fitted on it), and its validation errors."""
    scores, reasons, residuals = {}, {}, {}
    X_val, y_val = validation
    for name, candidate in pool.items():
        try:
            y_pred = np.asarray(clone(candidate).fit(*train).predict(X_val), np.float64)
        except ValueError as error:
            scores[name] = float("nan")
            reasons[name] = " ".join(str(error).split())
            continue
        residuals[name] = y_pred.reshape(y_val.shape) - y_val
        scores[name] = float(np.mean(residuals[name] ** 2))
    return scores, reasons, residuals


def auto_window_past(n_train: int, horizon: int, season: int | None) -> int:
    """The past time steps ``window_past="auto"`` reads: two seasons, at least 30, at
    most a third of the training part (``n_train`` time steps) less the horizon."""
    wanted = max(_MIN_WINDOW_PAST, 2 * (season or 0))
    return max(1, min(wanted, (n_train - horizon) // 3))


def _check_int(value: Any, name: str, others: str = "", low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"The '{name}' parameter of Forecaster must be {others}an int in "
                         f"the range [{low}, inf). Got {value!r} instead.")
