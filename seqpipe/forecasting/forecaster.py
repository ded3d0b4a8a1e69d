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
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from seqpipe.forecasting.calendar import CalendarFeatures
from seqpipe.forecasting.candidates import default_candidates, user_candidates
from seqpipe.forecasting.channels import Channels
from seqpipe.forecasting.chunked import windows_for
from seqpipe.forecasting.covariates import as_covariates
from seqpipe.forecasting.dates import future_dates, infer_frequency
from seqpipe.forecasting.intervals import check_levels, conformal_quantiles, interval_columns
from seqpipe.forecasting.panel import Panel, as_panel, series_covariates
from seqpipe.forecasting.selection import (
    resolve_season,
    resolve_window_past,
    score_candidates,
    series_scales,
)
from seqpipe.forecasting.windows import LazyWindows

__all__ = ["Forecaster"]


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
    candidates : "auto", list or dict of estimators, or callable, default="auto"
        What to choose from (see :mod:`seqpipe.forecasting.candidates`): ``"auto"``
        is Ridge autoregressions (alphas 1 to 1000), a seq2seq GRU reading the future
        covariates, and the seasonal-naive and last-value baselines. A list (or a dict
        by name) of the user's seqpipe pipelines (reading the windows of
        :mod:`seqpipe.forecasting.windows`) or scikit-learn regressors (given the
        linear candidate's features). A callable is called as
        :func:`~seqpipe.forecasting.candidates.default_candidates` is, with what fit
        found (horizon, n_known_ahead, season, window_past, random_state,
        n_future_covariates, n_series), and returns the candidates by name: e.g.
        ``functools.partial(default_candidates, gru={"epochs": 5})``.
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
        assumptions). With many series, each error is divided by its series'
        ``series_scales_``, and each interval multiplied by it.
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
        ``candidate_errors_``); with many series, of the errors divided by their
        series' ``series_scales_``, so that no series' scale dominates the choice.
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
        With many series, in units of each series' scale, time-major (by origin,
        then series).
    series_scales_ : pandas Series
        With many series, the mean absolute change between time steps of each
        series' training part: what its errors are divided by when candidates are
        scored and intervals calibrated.
    levels_ : tuple of float
    interval_widths_ : dict of float to ndarray of shape (horizon,)
        The half-width of each level's interval at each step ahead.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.forecasting import Forecaster, LastValue
    >>> t = np.arange(300)
    >>> y = pd.Series(np.sin(2 * np.pi * t / 12) + 0.01 * t,
    ...               index=pd.date_range("2000-01-01", periods=300, freq="MS"))
    >>> forecaster = Forecaster(3, candidates=[Ridge(alpha=1.0), LastValue()],
    ...                         levels=(80,)).fit(y)
    >>> forecaster.season_, forecaster.best_candidate_
    (12, 'ridge')
    >>> forecaster.predict().columns.tolist()
    ['prediction', 'lower_80', 'upper_80']
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
        y : pandas Series, DataFrame or 1-D array-like
            One series (a Series with a DatetimeIndex, or an array whose time steps
            are 0, 1, ...), or many: a DataFrame with one column per series, each NaN
            before it starts and after it ends (see :func:`from_long` for the long
            layout). Many series are learned by one global model; the held-out part
            is the same dates for all.
        past_covariates : DataFrame or dict of DataFrame, optional
            Known up to each forecast origin only; must cover ``y``'s dates. With
            many series, one DataFrame shared by all or a dict by series name.
        future_covariates : DataFrame or dict of DataFrame, optional
            Known ahead; must cover ``y``'s dates (and, at predict, the horizon's).

        Returns
        -------
        self
        """
        self._check_params()
        self.levels_ = check_levels(self.levels)
        panel = as_panel(y)
        index = panel.index
        past = self._covariates(past_covariates, panel, "past_covariates")
        future = self._covariates(future_covariates, panel, "future_covariates")
        self.frequency_ = infer_frequency(index)
        self.calendar_ = self._make_calendar(index)
        self.series_ = panel.names
        self.past_covariates_ = _columns(past)
        self.future_covariates_ = _columns(future)
        channels = self._channels()
        data = np.stack([channels.series_rows(panel, code, past[code], future[code])
                         for code in range(panel.n_series)])

        n = len(index)
        self.n_validation_ = math.ceil(self.validation_size * n)
        self.n_train_ = n - self.n_validation_
        if self.n_validation_ < self.horizon:
            raise ValueError(f"Forecaster: validation_size={self.validation_size} holds out "
                             f"{self.n_validation_} time step(s) of {n}, fewer than the "
                             f"horizon ({self.horizon}): give a longer series or a larger "
                             f"validation_size.")
        self.season_ = resolve_season(self.season, panel, self.n_train_)
        self.window_past_ = resolve_window_past(self.window_past, panel, horizon=self.horizon,
                                                season=self.season_, n_train=self.n_train_)
        scales = series_scales(panel, self.n_train_)
        pool = self._pool()
        self._choose(pool, panel, data, scales)
        self.interval_widths_ = conformal_quantiles(self.residuals_, self.levels_)
        best = pool[self.best_candidate_]
        X, y = self._windows(data, self._origins(panel), with_targets=True)
        self.pipeline_ = clone(best).fit(windows_for(best, X), y)
        if self.series_ is not None:
            self.series_scales_ = pd.Series(scales, index=self.series_, name="scale")
        self._history = np.stack([data[code, end - self.window_past_ + 1:end + 1]
                                  for code, end in enumerate(panel.ends)])
        self._last_dates = index[panel.ends]
        return self

    def _choose(self, pool: dict[str, Any], panel: Panel, data: np.ndarray,
                scales: np.ndarray) -> None:
        """Score every candidate fitted on the windows before the held-out part on the
        forecasts from its origins; keep the best, and its errors."""
        train = self._origins(panel, last_target=self.n_train_ - 1)
        validation = self._origins(panel, first=self.n_train_ - 1)
        # a series too short to train on before the held-out part is not scored on it
        scored_series = np.isin(validation[0], train[0])
        validation = (validation[0][scored_series], validation[1][scored_series])
        self.candidate_scores_, self.candidate_errors_, residuals = score_candidates(
            pool, self._windows(data, train, with_targets=True),
            self._windows(data, validation, with_targets=True), scales[validation[0]])
        scored = {k: v for k, v in self.candidate_scores_.items() if np.isfinite(v)}
        if not scored:
            raise ValueError("Forecaster: no candidate could be fitted: "
                             + "; ".join(f"{k}: {v}" for k, v in
                                         self.candidate_errors_.items()))
        self.best_candidate_ = min(scored, key=scored.get)
        self.residuals_ = residuals[self.best_candidate_]

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

    @staticmethod
    def _covariates(covariates: Any, panel: Panel, name: str, *, strict: bool = True
                    ) -> list[pd.DataFrame | None]:
        """The covariates of each series of ``panel``, checked (without ``strict``, a
        dict may hold other series too)."""
        return [as_covariates(each, panel.index, name)
                for each in series_covariates(covariates, panel.names, name, strict=strict)]

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

    def _pool(self) -> dict[str, Any]:
        n_known = self._channels().n_known_ahead
        n_series = None if self.series_ is None else len(self.series_)
        auto = isinstance(self.candidates, str) and self.candidates == "auto"
        if auto or callable(self.candidates):
            make = default_candidates if auto else self.candidates
            return make(horizon=self.horizon, n_known_ahead=n_known, season=self.season_,
                        window_past=self.window_past_, random_state=self.random_state,
                        n_future_covariates=len(self.future_covariates_), n_series=n_series)
        if isinstance(self.candidates, str) or not isinstance(self.candidates, Iterable):
            raise ValueError(f"The 'candidates' parameter of Forecaster must be 'auto' or a "
                             f"list (or dict) of estimators. Got {self.candidates!r} instead.")
        return user_candidates(self.candidates, n_known, per_series=n_series is not None)

    # ------------------------------------------------------------------ data
    def _channels(self) -> Channels:
        return Channels(self.past_covariates_, self.future_covariates_, self.calendar_,
                        self.frequency_, self.series_ is not None)

    def _origins(self, panel: Panel, *, first: int = 0, last_target: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """The (series, origin) of every window with a full past from ``first`` on and
        all its targets observed up to ``last_target``, ordered by origin, then series."""
        codes, origins = [], []
        for code, (start, end) in enumerate(zip(panel.starts, panel.ends)):
            stop = end if last_target is None else min(end, last_target)
            here = np.arange(max(first, start + self.window_past_ - 1), stop - self.horizon + 1)
            codes.append(np.full(len(here), code))
            origins.append(here)
        codes, origins = np.concatenate(codes), np.concatenate(origins)
        order = np.lexsort((codes, origins))
        return codes[order], origins[order]

    def _windows(self, data: np.ndarray, where: tuple[np.ndarray, np.ndarray], *,
                 with_targets: bool = False) -> Any:
        """The windows of ``data`` (series, time, channel) at ``where``: (series,
        origins), lazy (:func:`windows_for` a model); and their targets."""
        codes, origins = where
        windows = LazyWindows(data, origins, series=codes, window_past=self.window_past_,
                              horizon=self.horizon,
                              n_known_ahead=self._channels().n_known_ahead)
        return (windows, windows.targets()) if with_targets else windows

    def _predict_windows(self, windows: LazyWindows) -> np.ndarray:
        """The fitted model's forecasts of ``windows``, one row per window."""
        return np.asarray(self.pipeline_.predict(windows_for(self.pipeline_, windows)),
                          dtype=np.float64).reshape(len(windows), self.horizon)

    # ------------------------------------------------------------------ predict
    def predict(self, y: Any = None, *, past_covariates: Any = None,
                future_covariates: Any = None, levels: Any = None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of the series.

        Parameters
        ----------
        y : pandas Series, DataFrame or 1-D array-like, optional
            New histories (their last ``window_past_`` values are read) to forecast
            after, without refitting: one series, or with many series a DataFrame of
            some or all of them (by name); default the series seen in ``fit``.
        past_covariates : DataFrame or dict of DataFrame, optional
            With ``y``, when fitted with past covariates: covering ``y``'s last
            ``window_past_`` dates (a dict by series name, as in fit).
        future_covariates : DataFrame or dict of DataFrame, optional
            When fitted with future covariates: covering the ``horizon`` dates after
            each series' end (and, with ``y``, its last ``window_past_`` dates too).
        levels : sequence of float, optional
            Interval coverages in percent; default the ``levels`` given at
            construction (calibrated at fit).

        Returns
        -------
        DataFrame
            Indexed by the forecast dates (or time steps), or with many series by
            (series, date); column ``prediction``, then ``lower_L`` and ``upper_L``
            for each level.
        """
        check_is_fitted(self, "pipeline_")
        codes, history, last_dates = self._histories(y, past_covariates, future_covariates)
        future = series_covariates(future_covariates, self._names(codes),
                                   "future_covariates", strict=False)
        return self._forecast(codes, history, last_dates, future, levels)

    def predict_many(self, histories: Any, *, past_covariates: Any = None,
                     future_covariates: Any = None, levels: Any = None
                     ) -> list[pd.DataFrame]:
        """Forecast after each of many histories in one batched model call: what
        ``[predict(h) for h in histories]`` gives, without a model call per history.

        Parameters
        ----------
        histories : sequence
            Each what :meth:`predict` takes as ``y`` (a series, or with many series
            a DataFrame of some of them); two histories may be of the same series.
        past_covariates, future_covariates : sequence, optional
            The covariates of each history, as :meth:`predict` takes them (None for
            a history without).
        levels : sequence of float, optional
            As for :meth:`predict`.

        Returns
        -------
        list of DataFrame
            The forecast after each history, as :meth:`predict` gives it.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import Ridge
        >>> y = np.sin(np.arange(300) / 4)
        >>> forecaster = Forecaster(2, candidates=[Ridge()]).fit(y)
        >>> forecasts = forecaster.predict_many([y[:200], y[:250]])
        >>> [f.index.tolist() for f in forecasts]
        [[200, 201], [250, 251]]
        >>> bool(np.allclose(forecasts[1], forecaster.predict(y[:250])))
        True
        """
        check_is_fitted(self, "pipeline_")
        histories = list(histories)
        past = _each(past_covariates, len(histories), "past_covariates")
        future = _each(future_covariates, len(histories), "future_covariates")
        parts = [self._histories(*args) for args in zip(histories, past, future)]
        if not parts:
            return []
        codes = np.concatenate([part[0] for part in parts])
        futures = [covariates for (part_codes, _, _), given in zip(parts, future)
                   for covariates in series_covariates(given, self._names(part_codes),
                                                       "future_covariates", strict=False)]
        last_dates = parts[0][2].append([part[2] for part in parts[1:]])
        frame = self._forecast(codes, np.concatenate([part[1] for part in parts]),
                               last_dates, futures, levels)
        bounds = np.cumsum([0] + [len(part[0]) * self.horizon for part in parts])
        return [frame.iloc[start:stop] for start, stop in zip(bounds[:-1], bounds[1:])]

    def _forecast(self, codes: np.ndarray, history: np.ndarray, last_dates: pd.Index,
                  future: list, levels: Any) -> pd.DataFrame:
        """The forecasts after each history (rows of data up to an origin) of the
        series ``codes``, in one model call."""
        windows, index, channels = [], [], self._channels()
        for code, past_rows, last, covariates in zip(codes, history, last_dates, future):
            dates = future_dates(self._index_like(last), self.frequency_, self.horizon)
            windows.append(np.vstack([past_rows, channels.future_rows(dates, covariates, code)]))
            index.append(dates)
        prediction = self._predict_windows(self._windows(
            np.stack(windows), (np.arange(len(codes)), np.full(len(codes), self.window_past_ - 1))))
        widths = self.widths(levels)
        if self.series_ is not None:
            scales = self.series_scales_.to_numpy()[codes][:, None]
            widths = {level: width * scales for level, width in widths.items()}
        columns = {"prediction": prediction, **interval_columns(prediction, widths)}
        return pd.DataFrame({name: values.ravel() for name, values in columns.items()},
                            index=self._forecast_index(codes, index))

    def _index_like(self, last: Any) -> pd.Index:
        """A one-step index of the fitted kind ending at ``last``."""
        if isinstance(self._last_dates, pd.DatetimeIndex):
            return pd.DatetimeIndex([last], name=self._last_dates.name)
        return pd.RangeIndex(int(last), int(last) + 1, name=self._last_dates.name)

    def _forecast_index(self, codes: np.ndarray, dates: list[pd.Index]) -> pd.Index:
        name = self._last_dates.name if self._last_dates.name is not None else (
            "date" if isinstance(self._last_dates, pd.DatetimeIndex) else "step")
        every = dates[0].append(dates[1:]) if len(dates) > 1 else dates[0]
        if self.series_ is None:
            return every.rename(name)
        names = np.repeat([self.series_[code] for code in codes], self.horizon)
        return pd.MultiIndex.from_arrays([names, every], names=["series", name])

    def widths(self, levels: Any = None) -> dict[float, np.ndarray]:
        """The half-width of each level's interval at each step ahead: those calibrated
        at fit for ``levels=None``, else computed from ``residuals_`` (with many series,
        in units of each series' ``series_scales_``)."""
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
        y : pandas Series, DataFrame or 1-D array-like
            Indexed as the data seen in ``fit``, with its covariates; with many
            series, a DataFrame holding (at least) the fitted series.
        origins : array-like of int
            Positions in ``y``'s index of each forecast's last observed step; each
            needs ``window_past_ - 1`` steps before it and ``horizon`` rows after it
            (their target is not read, their future covariates are).
        past_covariates, future_covariates : DataFrame or dict of DataFrame, optional
            Covering ``y``'s dates, when fitted with them.

        Returns
        -------
        ndarray of shape (len(origins), horizon), or (n_series, len(origins), horizon)
            With many series, NaN where a series has no window at an origin (it has not
            started ``window_past_`` steps before, or it ends before the horizon).
        """
        check_is_fitted(self, "pipeline_")
        panel = self._known_series(self._as_fitted_layout(y))
        origins = np.asarray(origins)
        n = len(panel.index)
        if origins.ndim != 1 or not np.issubdtype(origins.dtype, np.integer) or (
                len(origins) and (origins.min() < self.window_past_ - 1
                                  or origins.max() + self.horizon >= n)):
            raise ValueError(f"origins must be positions in y (of {n} time steps) "
                             f"from {self.window_past_ - 1} (window_past_ - 1) to "
                             f"{n - 1 - self.horizon} (the last with a horizon "
                             f"of rows after it).")
        past = self._covariates(past_covariates, panel, "past_covariates")
        future = self._covariates(future_covariates, panel, "future_covariates")
        channels = self._channels()
        data = np.stack([channels.series_rows(panel, code, past[code], future[code])
                         for code in range(panel.n_series)])
        codes, at = np.repeat(np.arange(panel.n_series), len(origins)), np.tile(origins,
                                                                                panel.n_series)
        valid = ((at - self.window_past_ + 1 >= panel.starts[codes])
                 & (at + self.horizon <= panel.ends[codes]))
        forecasts = np.full((len(codes), self.horizon), np.nan)
        if valid.any():
            forecasts[valid] = self._predict_windows(self._windows(data, (codes[valid],
                                                                          at[valid])))
        if self.series_ is None:
            return forecasts
        return forecasts.reshape(panel.n_series, len(origins), self.horizon)

    def _as_fitted_layout(self, y: Any) -> Panel:
        """``y`` as a panel; ValueError unless it is one series or many as in fit."""
        if isinstance(y, pd.DataFrame) != (self.series_ is not None):
            fitted = "one series" if self.series_ is None else "many series (a DataFrame)"
            raise ValueError(f"y must be given as in fit: {fitted}.")
        return as_panel(y)

    def _known_series(self, panel: Panel) -> Panel:
        """``panel`` with the fitted series in fitted order (their codes); ValueError
        for a series unknown or missing."""
        if panel.names is None:
            return panel
        positions = {name: code for code, name in enumerate(panel.names)}
        missing = [name for name in self.series_ if name not in positions]
        if missing:
            raise ValueError(f"y lacks the fitted series {missing[:5]}.")
        order = [positions[name] for name in self.series_]
        return Panel(panel.index, panel.values[order], list(self.series_),
                     panel.starts[order], panel.ends[order])

    def _names(self, codes: np.ndarray) -> list | None:
        return None if self.series_ is None else [self.series_[code] for code in codes]

    def _histories(self, y: Any, past_covariates: Any, future_covariates: Any
                   ) -> tuple[np.ndarray, np.ndarray, pd.Index]:
        """The series' codes, the last ``window_past_`` rows of their data up to their
        origins, and the origins' dates."""
        if y is None:
            if past_covariates is not None:
                raise ValueError("past_covariates are only read with a new history y: the "
                                 "history seen in fit holds its own.")
            return np.arange(len(self._history)), self._history, self._last_dates
        panel = self._as_fitted_layout(y)
        if isinstance(panel.index, pd.DatetimeIndex) != isinstance(self._last_dates,
                                                                   pd.DatetimeIndex):
            raise ValueError("y must be indexed as the series seen in fit was (dates or "
                             "integer time steps).")
        codes = np.zeros(1, dtype=np.intp) if self.series_ is None else self._codes_of(panel)
        past = self._covariates(past_covariates, panel, "past_covariates", strict=False)
        future = self._covariates(future_covariates, panel, "future_covariates", strict=False)
        history = []
        for position, code in enumerate(codes):
            series = panel.series(position)
            if len(series) < self.window_past_:
                name = "y" if panel.names is None else f"y's series {panel.label(position)!r}"
                raise ValueError(f"{name} has {len(series)} time step(s); the forecaster "
                                 f"reads the last {self.window_past_}.")
            tail = series.iloc[-self.window_past_:]
            history.append(self._channels().rows(tail.to_numpy(), tail.index,
                                                 past[position], future[position], code))
        return codes, np.stack(history), panel.index[panel.ends]

    def _codes_of(self, panel: Panel) -> np.ndarray:
        unknown = [name for name in panel.names if name not in self.series_]
        if unknown:
            raise ValueError(f"y holds series the forecaster was not fitted on: "
                             f"{unknown[:5]} (it knows {len(self.series_)}, e.g. "
                             f"{list(self.series_[:3])}).")
        return np.array([self.series_.index(name) for name in panel.names])

def _each(covariates: Any, count: int, name: str) -> list:
    """One entry of ``covariates`` per history (None: none for any)."""
    if covariates is None:
        return [None] * count
    covariates = list(covariates)
    if len(covariates) != count:
        raise ValueError(f"{name} must give one entry per history ({count}); got "
                         f"{len(covariates)}.")
    return covariates


def _columns(covariates: list[pd.DataFrame | None]) -> list[str]:
    """The covariates' column names (those of the first series')."""
    return [] if covariates[0] is None else list(map(str, covariates[0].columns))


def _check_int(value: Any, name: str, others: str = "", low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"The '{name}' parameter of Forecaster must be {others}an int in "
                         f"the range [{low}, inf). Got {value!r} instead.")
