"""The channels of a :class:`~seqpipe.forecasting.Forecaster`'s windows, in order: the
target, the past covariates, the future covariates, the calendar features and, with
many series, the series' code (:mod:`seqpipe.forecasting.windows` reads them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seqpipe.forecasting.calendar import CalendarFeatures
from seqpipe.forecasting.covariates import align, as_covariates
from seqpipe.forecasting.panel import Panel

__all__ = ["Channels"]


@dataclass(frozen=True)
class Channels:
    """What a fitted forecaster puts in each row of its data.

    Parameters
    ----------
    past_covariates, future_covariates : list of str
        The covariate columns fitted on.
    calendar : CalendarFeatures or None
        The fitted calendar features.
    frequency : Any
        The time axis' frequency (what covariates are aligned on).
    many_series : bool
        Whether a last channel holds the series' code.
    """

    past_covariates: list[str]
    future_covariates: list[str]
    calendar: CalendarFeatures | None
    frequency: Any
    many_series: bool

    @property
    def n_known_ahead(self) -> int:
        """The trailing channels known over the forecast rows."""
        calendar = 0 if self.calendar is None else len(self.calendar.feature_names_out_)
        return len(self.future_covariates) + calendar + int(self.many_series)

    def rows(self, target: np.ndarray, index: pd.Index, past: pd.DataFrame | None,
             future: pd.DataFrame | None, code: int = 0) -> np.ndarray:
        """The channels at ``index`` of series ``code``. ``target`` may be shorter than
        ``index`` (the forecast rows): the rest of it, and of the past covariates, is
        NaN."""
        columns = [np.concatenate([target, np.full(len(index) - len(target), np.nan)])]
        n_observed = len(target)
        if self.past_covariates:
            values = np.full((len(index), len(self.past_covariates)), np.nan)
            if n_observed:
                values[:n_observed] = align(self._named(past, "past_covariates"),
                                            index[:n_observed], "past_covariates",
                                            self.frequency)
            columns.append(values)
        if self.future_covariates:
            columns.append(align(self._named(future, "future_covariates"), index,
                                 "future_covariates", self.frequency))
        if self.calendar is not None:
            columns.append(self.calendar.transform(index).to_numpy())
        if self.many_series:
            columns.append(np.full(len(index), float(code)))
        return np.column_stack(columns)

    def series_rows(self, panel: Panel, code: int, past: pd.DataFrame | None,
                    future: pd.DataFrame | None) -> np.ndarray:
        """The channels of series ``code`` over the whole time axis (NaN outside its
        span)."""
        span = slice(panel.starts[code], panel.ends[code] + 1)
        rows = self.rows(panel.values[code, span], panel.index[span], past, future, code)
        data = np.full((len(panel.index), rows.shape[1]), np.nan)
        data[span] = rows
        return data

    def future_rows(self, dates: pd.Index, future_covariates: Any, code: int) -> np.ndarray:
        """The channels of the forecast rows at ``dates`` (the target unknown)."""
        future = as_covariates(future_covariates, dates, "future_covariates")
        if future is not None and not self.future_covariates:
            raise ValueError("future_covariates given, but the forecaster was fitted "
                             "without them.")
        return self.rows(np.empty(0), dates, None, future, code)

    def _named(self, covariates: pd.DataFrame | None, name: str) -> pd.DataFrame:
        """The fitted covariate columns of ``covariates``; ValueError when absent."""
        expected = getattr(self, name)
        if covariates is None:
            raise ValueError(f"{name} is required: the forecaster was fitted with "
                             f"{name} {expected}.")
        covariates = covariates.set_axis(list(map(str, covariates.columns)), axis=1)
        missing = [column for column in expected if column not in covariates.columns]
        if missing:
            raise ValueError(f"{name} lacks the column(s) {missing} the forecaster was "
                             f"fitted with (it has {list(covariates.columns)}).")
        return covariates[expected]
