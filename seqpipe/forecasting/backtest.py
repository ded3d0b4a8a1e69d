"""Backtests: the forecasts a forecaster would have made from successive origins of a
series' past, and how good they were.

Each origin sees only the data up to itself: the forecaster is fitted (a clone) on
the data before the first origin and, with ``refit``, again at later origins; the
windows of every origin hide what follows it (:mod:`seqpipe.forecasting.windows`).
Without refit, all origins are forecast in one batched call of the model.

>>> import numpy as np, pandas as pd
>>> from sklearn.linear_model import Ridge
>>> from seqpipe.forecasting import Forecaster, backtest, summary
>>> y = pd.Series(np.sin(np.arange(400) / 3), index=pd.date_range("2024-01-01",
...               periods=400, freq="D"))
>>> history = backtest(Forecaster(2, candidates=[Ridge()]), y, start=0.9)
>>> history.columns.tolist()
['origin', 'date', 'step', 'actual', 'prediction', 'last_value', 'seasonal_naive']
>>> len(history), history["origin"].nunique()
(40, 20)
>>> float(summary(history).loc["overall", "mase"]) < 0.1
True
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from seqpipe.forecasting.baselines import LastValue, SeasonalNaive
from seqpipe.forecasting.covariates import as_covariates
from seqpipe.forecasting.intervals import interval_columns
from seqpipe.forecasting.panel import Panel, as_panel, series_covariates
from seqpipe.forecasting.selection import SeriesTooShortError
from seqpipe.forecasting.windows import make_windows

__all__ = ["backtest", "backtest_fitted", "summary"]


def backtest(forecaster: Any, y: Any, *, past_covariates: Any = None,
             future_covariates: Any = None, start: Any = 0.85, step: int | None = None,
             refit: bool | int = False, window: str = "expanding", n_jobs: int = 1,
             backend: str = "loky") -> pd.DataFrame:
    """Historical forecasts of ``forecaster`` from successive origins of ``y``.

    Parameters
    ----------
    forecaster : Forecaster
        Unfitted (it is cloned).
    y, past_covariates, future_covariates
        As for :meth:`Forecaster.fit`, over the whole period: one series, or many (a
        DataFrame with a column per series). A series without data before an origin
        where the forecaster is fitted, or without enough for one window, is left out
        of that fit and its forecasts.
    start : float, int or date, default=0.85
        The first origin (the last time step observed by the first forecast): a
        fraction of the time steps, an integer position, or a date of ``y``'s index.
    step : int, optional
        Time steps between origins; default the forecaster's horizon.
    refit : bool or int, default=False
        False: fit once, on the data up to the first origin. True: refit at every
        origin. k: refit every k origins.
    window : {"expanding", "rolling"}, default="expanding"
        Fit on everything up to the origin, or on as many time steps as the first
        fit had (the most recent ones).
    n_jobs : int, default=1
        Fits run in parallel (with ``refit``), by joblib.
    backend : str, default="loky"
        joblib's backend (``"loky"``, ``"threading"``, ...), or ``"dask"``: the fits
        run on the workers of the current ``dask.distributed`` Client, as in
        :mod:`seqpipe.search`.

    Returns
    -------
    DataFrame
        One row per origin and step ahead (and series, first column ``series``, with
        many), columns ``origin``, ``date``, ``step`` (1..horizon), ``actual``,
        ``prediction``, ``lower_L`` and ``upper_L`` for each of the forecaster's
        ``levels``, and the baselines ``last_value`` and ``seasonal_naive`` (NaN
        without a season) on the same origins. ``attrs`` holds the ``mase_scale`` (the
        mean absolute error of the one-season naive forecast over the first fit's
        data; with many series, a dict by series) that :func:`summary` divides by.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.forecasting import Forecaster, backtest
    >>> y = pd.Series(np.sin(np.arange(400) / 3),
    ...               index=pd.date_range("2024-01-01", periods=400, freq="D"))
    >>> history = backtest(Forecaster(2, candidates=[Ridge()]), y, start=0.9)
    >>> history.columns.tolist()
    ['origin', 'date', 'step', 'actual', 'prediction', 'last_value', 'seasonal_naive']
    >>> len(history), history["origin"].nunique()         # 20 origins, 2 steps each
    (40, 20)
    """
    panel = as_panel(y)
    y = _as_pandas(y, panel)
    horizon = _check_horizon(forecaster)
    n = len(panel.index)
    first = _first_origin(start, panel.index)
    step = horizon if step is None else _positive_int(step, "step")
    origins = np.arange(first, n - horizon, step)
    if len(origins) == 0:
        raise ValueError(f"backtest: no origin from {panel.index[first]} leaves "
                         f"{horizon} time step(s) to compare with (the series has {n}).")
    every = _refit_every(refit, len(origins))
    if window not in ("expanding", "rolling"):
        raise ValueError(f"The 'window' parameter of backtest must be 'expanding' or "
                         f"'rolling'. Got {window!r} instead.")
    for covariates, name in ((past_covariates, "past_covariates"),
                             (future_covariates, "future_covariates")):
        for each in series_covariates(covariates, panel.names, name):
            as_covariates(each, panel.index, name)

    groups = [origins[i:i + every] for i in range(0, len(origins), every)]
    length = first + 1
    tasks = [(forecaster, y, past_covariates, future_covariates, group,
              length if window == "rolling" else None) for group in groups]
    fits = _run(tasks, n_jobs, backend)
    frame = pd.concat([part for part, _ in fits], ignore_index=True)
    return _with_baselines(frame, panel, first, fits[0][1])


def backtest_fitted(forecaster: Any, y: Any, *, past_covariates: Any = None,
                    future_covariates: Any = None, start: Any = None,
                    step: int | None = None) -> pd.DataFrame:
    """:func:`backtest` of a forecaster already fitted on the data up to ``start``,
    without refit: its forecasts from every ``step``-th origin from ``start`` on, in
    one batched call.

    Parameters
    ----------
    forecaster : Forecaster
        Fitted on ``y`` up to ``start`` (not checked: forecasts from origins inside
        its training data are in-sample).
    y, past_covariates, future_covariates
        As for :func:`backtest`.
    start : int or date, optional
        The first origin; default the last time step the forecaster was fitted on.
    step : int, optional
        Time steps between origins; default the forecaster's horizon.

    Returns
    -------
    DataFrame
        As :func:`backtest`'s.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.forecasting import Forecaster
    >>> y = pd.Series(np.sin(np.arange(400) / 3),
    ...               index=pd.date_range("2024-01-01", periods=400, freq="D"))
    >>> fitted = Forecaster(2, candidates=[Ridge()]).fit(y.iloc[:360])
    >>> len(backtest_fitted(fitted, y)["origin"].unique())
    20
    """
    check_is_fitted(forecaster, "pipeline_")
    panel = as_panel(y)
    y = _as_pandas(y, panel)
    horizon = _check_horizon(forecaster)
    first = int(panel.index.get_indexer(forecaster._last_dates).max()) if start is None \
        else _first_origin(start, panel.index)
    step = horizon if step is None else _positive_int(step, "step")
    origins = np.arange(first, len(panel.index) - horizon, step)
    if len(origins) == 0:
        raise ValueError(f"backtest_fitted: no origin from {panel.index[first]} leaves "
                         f"{horizon} time step(s) to compare with.")
    frame = _forecasts(forecaster, y, past_covariates, future_covariates, origins)
    return _with_baselines(frame, panel, first, forecaster.season_)


def _with_baselines(frame: pd.DataFrame, panel: Panel, first: int, season: int | None
                    ) -> pd.DataFrame:
    """``frame`` with the baselines' forecasts, and the MASE scales over the data up to
    ``first`` in its attrs."""
    codes = np.zeros(len(frame), dtype=np.intp) if panel.names is None else \
        pd.Index(panel.names).get_indexer(frame["series"])
    at = panel.index.get_indexer(frame["origin"])
    frame["last_value"] = _baseline(LastValue(), panel, codes, at, frame["step"])
    frame["seasonal_naive"] = (np.nan if season is None else _baseline(
        SeasonalNaive(season), panel, codes, at, frame["step"]))
    scales = {panel.label(code): _mase_scale(
        panel.values[code, panel.starts[code]:first + 1], season or 1)
        for code in range(panel.n_series)}
    frame.attrs["mase_scale"] = scales["y"] if panel.names is None else scales
    frame.attrs["season"] = season
    return frame


def _as_pandas(y: Any, panel: Panel) -> pd.Series | pd.DataFrame:
    """``y`` as pandas (an array becomes a Series indexed by its time steps)."""
    if panel.names is None:
        return pd.Series(panel.values[0], index=panel.index, name=getattr(y, "name", None))
    return y


def _fit_and_forecast(forecaster: Any, y: pd.Series | pd.DataFrame, past: Any, future: Any,
                      origins: np.ndarray, length: int | None) -> tuple[pd.DataFrame, Any]:
    """Fit a clone on the data up to ``origins[0]`` (the last ``length`` steps of it),
    then forecast from every origin in one batched call."""
    begin = 0 if length is None else origins[0] + 1 - length
    before = y.iloc[begin:origins[0] + 1]
    if isinstance(before, pd.DataFrame):
        before = before.loc[:, before.notna().any().to_numpy()]
    while True:
        try:
            fitted = clone(forecaster).fit(before,
                                           past_covariates=_rows(past, before),
                                           future_covariates=_rows(future, before))
            break
        except SeriesTooShortError as error:  # series just started: left out, as unstarted
            # (raised only beside a series long enough: some series always stay)
            before = before.drop(columns=error.series)
    return _forecasts(fitted, y, past, future, origins), fitted.season_


def _forecasts(fitted: Any, y: pd.Series | pd.DataFrame, past: Any, future: Any,
               origins: np.ndarray) -> pd.DataFrame:
    """The forecasts of ``fitted`` from ``origins``, one row per (series,) origin and
    step ahead."""
    names = getattr(fitted, "series_", None)
    known = y if names is None else y[names]
    predictions = fitted.predict_origins(known, origins,
                                         past_covariates=_rows(past, known, every_row=True),
                                         future_covariates=_rows(future, known,
                                                                 every_row=True))
    horizon = predictions.shape[-1]
    if names is None:
        predictions = predictions[None]
    values = known.to_numpy().T.reshape(len(predictions), -1)
    code, which = np.nonzero(np.isfinite(predictions[:, :, 0]))
    at = origins[which]
    ahead = at[:, None] + np.arange(1, horizon + 1)
    chosen = predictions[code, which]
    part = pd.DataFrame({
        "origin": np.repeat(y.index[at], horizon),
        "date": y.index[ahead.ravel()],
        "step": np.tile(np.arange(1, horizon + 1), len(at)),
        "actual": values[code[:, None], ahead].ravel(),
        "prediction": chosen.ravel(),
    })
    if names is not None:
        part.insert(0, "series", np.repeat(np.asarray(names, dtype=object)[code], horizon))
    scales = 1.0 if names is None else fitted.series_scales_.to_numpy()[code][:, None]
    widths = {level: width * scales for level, width in fitted.interval_widths_.items()}
    for name, columns in interval_columns(chosen, widths).items():
        part[name] = columns.ravel()
    return part


def _run(tasks: list[tuple], n_jobs: int, backend: str) -> list:
    """``_fit_and_forecast`` of every task, by joblib or on the current Dask client."""
    if backend != "dask":
        return Parallel(n_jobs=n_jobs, backend=backend)(
            delayed(_fit_and_forecast)(*task) for task in tasks)
    from distributed import get_client  # the dask extra

    try:
        client = get_client()
    except ValueError:
        raise ValueError("backtest with backend='dask' runs on the current Dask client: "
                         "create one first (distributed.Client(address)).") from None
    return client.gather([client.submit(_fit_and_forecast, *task, pure=False)
                          for task in tasks])


def _rows(covariates: Any, y: pd.Series | pd.DataFrame, *, every_row: bool = False) -> Any:
    """The covariates of ``y``'s series (a dict keeps ``y``'s), at ``y``'s dates unless
    ``every_row``."""
    if covariates is None:
        return None
    if isinstance(covariates, Mapping):
        return {name: _rows(covariates[name], y, every_row=every_row) for name in y.columns}
    covariates = pd.DataFrame(covariates) if not isinstance(covariates, pd.DataFrame) \
        else covariates
    return covariates if every_row else covariates.loc[covariates.index.isin(y.index)]


def _baseline(model: Any, panel: Panel, codes: np.ndarray, origins: np.ndarray,
              steps: pd.Series) -> np.ndarray:
    """The baseline's forecasts at the rows' (series, origin, step) (it reads the past
    target only); NaN where the series has not started ``model``'s past before."""
    past = getattr(model, "season", 1)
    first = steps.to_numpy() == 1
    where_codes, where_origins = codes[first], origins[first]
    horizon = int(steps.max())
    forecasts = np.full((len(where_codes), horizon), np.nan)
    valid = where_origins - past + 1 >= panel.starts[where_codes]
    if valid.any():
        X = make_windows(panel.values[:, :, None], where_origins[valid],
                         series=where_codes[valid], window_past=past, horizon=horizon,
                         n_known_ahead=0)
        forecasts[valid] = model.fit(X, np.zeros((len(X), horizon))).predict(X)
    return forecasts.ravel()


def _mase_scale(train: np.ndarray, season: int) -> float:
    if len(train) <= season:
        return float("nan")
    return float(np.mean(np.abs(train[season:] - train[:-season])))


def summary(backtest_frame: pd.DataFrame, *, mase_scale: Any = None,
            per_series: bool = False) -> pd.DataFrame:
    """MSE, MAE and MASE of a backtest's forecasts and of its baselines, per step
    ahead and overall (or per series).

    Parameters
    ----------
    backtest_frame : DataFrame
        What :func:`backtest` returned.
    mase_scale : float or dict, optional
        The denominator of MASE (with many series, one per series); default the
        frame's ``attrs["mase_scale"]``.
    per_series : bool, default=False
        With many series, one row per series (all steps ahead) instead of one per
        step ahead.

    Returns
    -------
    DataFrame
        Indexed by step ahead (1..horizon) and ``"overall"`` (or by series); columns
        ``mse``, ``mae``, ``mase`` and the same for ``last_value_`` and
        ``seasonal_naive_`` (when the backtest has them); with intervals,
        ``coverage_L`` (the fraction of actual values inside them) and ``width_L``
        (their mean width) for each level; and ``n`` (forecasts scored). With many
        series, MSE, MAE and width pool every forecast, while MASE is each series'
        own averaged over the series, so that no series' scale dominates it.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.forecasting import Forecaster, backtest, summary
    >>> y = pd.Series(np.sin(np.arange(400) / 3),
    ...               index=pd.date_range("2024-01-01", periods=400, freq="D"))
    >>> table = summary(backtest(Forecaster(2, candidates=[Ridge()]), y, start=0.9))
    >>> table.index.tolist()
    [1, 2, 'overall']
    >>> float(table.loc["overall", "mase"]) < 0.1
    True
    """
    scale = backtest_frame.attrs.get("mase_scale", np.nan) if mase_scale is None \
        else mase_scale
    many = "series" in backtest_frame
    if per_series:
        if not many:
            raise ValueError("summary(per_series=True) needs the backtest of many series "
                             "(a frame with a 'series' column).")
        groups = list(backtest_frame.groupby("series", sort=False))
        name = "series"
    else:
        groups = [(int(k), g) for k, g in backtest_frame.groupby("step")]
        groups.append(("overall", backtest_frame))
        name = "step"
    rows = {key: _metrics(part, scale) for key, part in groups}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(name)


def _metrics(part: pd.DataFrame, scale: Any) -> dict[str, float]:
    """The row of :func:`summary` for the forecasts ``part``."""
    row: dict[str, float] = {}
    for prefix, column in {"": "prediction", "last_value_": "last_value",
                           "seasonal_naive_": "seasonal_naive"}.items():
        if column not in part or part[column].isna().all():
            continue
        error = part[column].to_numpy() - part["actual"].to_numpy()
        row[f"{prefix}mse"] = float(np.mean(error ** 2))
        row[f"{prefix}mae"] = float(np.mean(np.abs(error)))
        row[f"{prefix}mase"] = _mase(part, np.abs(error), scale)
    for column in part.columns:
        if column.startswith("lower_"):
            level = column.removeprefix("lower_")
            lower, upper = part[column], part[f"upper_{level}"]
            inside = (lower <= part["actual"]) & (part["actual"] <= upper)
            row[f"coverage_{level}"] = float(inside.mean())
            row[f"width_{level}"] = float((upper - lower).mean())
    row["n"] = len(part)
    return row


def _mase(part: pd.DataFrame, absolute_error: np.ndarray, scale: Any) -> float:
    """Mean absolute error over the MASE scale: with many series, each series' own,
    averaged over the series."""
    if not isinstance(scale, Mapping):
        return float(np.mean(absolute_error)) / scale if scale else float("nan")
    errors = pd.Series(absolute_error, index=part.index).groupby(part["series"]).mean()
    scales = pd.Series(scale, dtype=np.float64).reindex(errors.index)
    return float((errors / scales.where(scales > 0)).mean())


def _check_horizon(forecaster: Any) -> int:
    horizon = getattr(forecaster, "horizon", None)
    if not hasattr(forecaster, "predict_origins") or horizon is None:
        raise TypeError(f"backtest needs a seqpipe.forecasting.Forecaster; got "
                        f"{type(forecaster).__name__}.")
    return int(horizon)


def _first_origin(start: Any, index: pd.Index) -> int:
    n = len(index)
    if isinstance(start, bool):
        raise ValueError(f"The 'start' parameter of backtest must be a fraction, a "
                         f"position or a date. Got {start!r} instead.")
    if isinstance(start, numbers.Integral):
        position = int(start) if start >= 0 else n + int(start)
    elif isinstance(start, numbers.Real):
        if not 0 < start < 1:
            raise ValueError(f"The 'start' parameter of backtest, as a fraction, must be in "
                             f"(0, 1). Got {start!r} instead.")
        position = int(round(start * n)) - 1
    else:
        stamp = pd.Timestamp(start)
        position = int(index.searchsorted(stamp, side="right")) - 1
    if not 0 <= position < n:
        raise ValueError(f"The 'start' parameter of backtest must fall inside the series "
                         f"({n} time steps). Got {start!r} instead.")
    return position


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"The '{name}' parameter of backtest must be an int in the range "
                         f"[1, inf). Got {value!r} instead.")
    return int(value)


def _refit_every(refit: Any, n_origins: int) -> int:
    if refit is False:
        return n_origins
    if refit is True:
        return 1
    return _positive_int(refit, "refit")
