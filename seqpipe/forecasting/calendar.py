"""CalendarFeatures: what the calendar says about each date, as numbers a model reads.

Cycles are encoded as a sine and a cosine (so 23:00 lies next to 00:00 and December
next to January); a country's public holidays as 0/1. Calendar features are known for
any future date, so a :class:`~seqpipe.forecasting.Forecaster` uses them as future
covariates.

>>> import pandas as pd
>>> dates = pd.date_range("2024-01-01", periods=24 * 400, freq="h")
>>> calendar = CalendarFeatures().fit(dates)
>>> calendar.features_                     # "auto": what varies at an hourly step
('hour', 'dayofweek', 'dayofyear')
>>> CalendarFeatures().fit(dates[:24 * 10]).features_   # ten days: no yearly cycle
('hour', 'dayofweek')
>>> calendar.transform(dates).columns.tolist()[:2]
['hour_sin', 'hour_cos']
>>> float(calendar.transform(dates)["hour_cos"].iloc[0])   # midnight
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["CalendarFeatures"]

#: Each cycle: its position in [0, 1) at each date, the largest step between dates at
#: which it still varies within the data (a cycle is only seen when it is sampled more
#: finely than its period), and its period (the data must span one to learn it).
_CYCLES = {
    "hour": (lambda d: (d.hour + d.minute / 60 + d.second / 3600) / 24, pd.Timedelta("1D"),
             pd.Timedelta("1D")),
    "dayofweek": (lambda d: d.day_of_week / 7, pd.Timedelta("7D"), pd.Timedelta("7D")),
    "dayofyear": (lambda d: (d.day_of_year - 1) / (365 + d.is_leap_year),
                  pd.Timedelta("28D"), pd.Timedelta("365D")),
    "month": (lambda d: (d.month - 1) / 12, pd.Timedelta("365D"), pd.Timedelta("365D")),
}
_AUTO_MONTH_FROM = pd.Timedelta("28D")  # from monthly steps on, month replaces dayofyear


class CalendarFeatures(TransformerMixin, BaseEstimator):
    """Cyclic calendar features (sine and cosine) and public holidays of dates.

    Parameters
    ----------
    features : "auto" or sequence of str, default="auto"
        Among ``"hour"`` (of the day), ``"dayofweek"``, ``"dayofyear"`` and
        ``"month"``. ``"auto"`` keeps those that vary at the step of the dates seen
        in ``fit`` and that the dates cover at least once: the hour below daily steps,
        the day of the week below weekly steps (over a week at least), the day of the
        year below monthly steps and the month from monthly to yearly steps (each over
        a year at least).
    country : str, optional
        An ISO country code (``"FR"``, ``"US"``, ...): adds a ``holiday`` column, 1 on
        that country's public holidays (from the ``holidays`` package), 0 elsewhere.
    subdivision : str, optional
        A state or province of ``country`` (``"CA"`` for California).

    Attributes
    ----------
    features_ : tuple of str
        The cycles encoded.
    feature_names_out_ : list of str
        The output columns: ``<cycle>_sin``, ``<cycle>_cos`` per cycle, then
        ``holiday`` with a country.

    Examples
    --------
    >>> import pandas as pd
    >>> from seqpipe.forecasting import CalendarFeatures
    >>> dates = pd.date_range("2024-01-01", periods=24 * 10, freq="h")
    >>> calendar = CalendarFeatures().fit(dates)
    >>> calendar.features_                               # ten days of hours: no yearly cycle
    ('hour', 'dayofweek')
    >>> calendar.transform(dates).columns.tolist()
    ['hour_sin', 'hour_cos', 'dayofweek_sin', 'dayofweek_cos']
    """

    def __init__(self, features: Any = "auto", *, country: str | None = None,
                 subdivision: str | None = None) -> None:
        self.features = features
        self.country = country
        self.subdivision = subdivision

    def fit(self, X: Any, y: Any = None) -> CalendarFeatures:
        """Choose the features (with ``features="auto"``) from the step of the dates.

        Parameters
        ----------
        X : DatetimeIndex, or a Series or DataFrame indexed by dates
        y : ignored
        """
        dates = _dates(X)
        if isinstance(self.features, str) and self.features == "auto":
            self.features_ = _auto_features(dates)
        else:
            chosen = [self.features] if isinstance(self.features, str) else self.features
            unknown = [name for name in chosen if name not in _CYCLES]
            if unknown or not chosen:
                raise ValueError(f"The 'features' parameter of CalendarFeatures must be "
                                 f"'auto' or a non-empty list among {list(_CYCLES)}. Got "
                                 f"{self.features!r} instead.")
            self.features_ = tuple(chosen)
        if self.subdivision is not None and self.country is None:
            raise ValueError("CalendarFeatures: a 'subdivision' needs a 'country'.")
        if self.country is not None:
            _holidays(self.country, self.subdivision, [dates[0].year])  # checks the code
        self.feature_names_out_ = [f"{name}_{part}" for name in self.features_
                                   for part in ("sin", "cos")]
        if self.country is not None:
            self.feature_names_out_.append("holiday")
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        """The features of each date, a DataFrame indexed by the dates.

        Parameters
        ----------
        X : DatetimeIndex, or a Series or DataFrame indexed by dates
        """
        check_is_fitted(self, "features_")
        dates = _dates(X)
        columns = {}
        for name in self.features_:
            angle = 2 * np.pi * np.asarray(_CYCLES[name][0](dates), dtype=np.float64)
            columns[f"{name}_sin"] = np.sin(angle)
            columns[f"{name}_cos"] = np.cos(angle)
        if self.country is not None:
            days = dates.normalize()
            calendar = _holidays(self.country, self.subdivision,
                                 sorted(set(days.year)))
            columns["holiday"] = np.array([day.date() in calendar for day in days],
                                          dtype=np.float64)
        return pd.DataFrame(columns, index=dates)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The output column names."""
        check_is_fitted(self, "features_")
        return np.asarray(self.feature_names_out_, dtype=object)


def _dates(X: Any) -> pd.DatetimeIndex:
    dates = X if isinstance(X, pd.DatetimeIndex) else getattr(X, "index", None)
    if not isinstance(dates, pd.DatetimeIndex):
        raise ValueError(f"CalendarFeatures needs dates: a DatetimeIndex, or a Series or "
                         f"DataFrame indexed by one; got {type(X).__name__}"
                         + (f" indexed by {type(dates).__name__}" if dates is not None
                            else "") + ".")
    if len(dates) == 0:
        raise ValueError("CalendarFeatures got no dates.")
    return dates


def _auto_features(dates: pd.DatetimeIndex) -> tuple[str, ...]:
    """The cycles sampled more finely than their period at the dates' usual step, over
    at least one whole period (a model cannot learn a cycle it saw part of, only
    extrapolate it)."""
    if len(dates) < 2:
        return ()
    step = (dates[1:] - dates[:-1]).median()
    span = dates[-1] - dates[0] + step
    chosen = [name for name, (_, finest, period) in _CYCLES.items()
              if step < finest and span >= period]
    if step >= _AUTO_MONTH_FROM:
        chosen = [name for name in chosen if name != "dayofyear"]
    else:
        chosen = [name for name in chosen if name != "month"]
    return tuple(chosen)


def _holidays(country: str, subdivision: str | None, years: list[int]) -> Any:
    try:
        import holidays
    except ImportError:  # pragma: no cover - the extra is not installed
        raise ImportError("CalendarFeatures(country=...) needs the 'holidays' package: "
                          "pip install 'seqpipe[forecasting]'") from None
    try:
        return holidays.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError:
        raise ValueError(f"CalendarFeatures: the holidays package knows no country "
                         f"{country!r}" + (f" with subdivision {subdivision!r}"
                                           if subdivision else "")
                         + " (give an ISO code such as 'US' or 'FR').") from None
