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
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone

from seqpipe.forecasting.baselines import LastValue, SeasonalNaive
from seqpipe.forecasting.covariates import as_covariates
from seqpipe.forecasting.dates import as_target
from seqpipe.forecasting.intervals import interval_columns
from seqpipe.forecasting.windows import make_windows

__all__ = ["backtest", "summary"]


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
        As for :meth:`Forecaster.fit`, over the whole period.
    start : float, int or date, default=0.85
        The first origin (the last time step observed by the first forecast): a
        fraction of the series, an integer position, or a date of ``y``'s index.
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
        One row per origin and step ahead, columns ``origin``, ``date``, ``step``
        (1..horizon), ``actual``, ``prediction``, ``lower_L`` and ``upper_L`` for each
        of the forecaster's ``levels``, and the baselines ``last_value`` and
        ``seasonal_naive`` (NaN without a season) on the same origins. ``attrs``
        holds the ``mase_scale`` (the mean absolute error of the one-season naive
        forecast over the first fit's data) that :func:`summary` divides by.
    """
    target = as_target(y)
    horizon = _check_horizon(forecaster)
    n = len(target)
    first = _first_origin(start, target.index)
    step = horizon if step is None else _positive_int(step, "step")
    origins = np.arange(first, n - horizon, step)
    if len(origins) == 0:
        raise ValueError(f"backtest: no origin from {target.index[first]} leaves "
                         f"{horizon} time step(s) to compare with (the series has {n}).")
    every = _refit_every(refit, len(origins))
    if window not in ("expanding", "rolling"):
        raise ValueError(f"The 'window' parameter of backtest must be 'expanding' or "
                         f"'rolling'. Got {window!r} instead.")
    past = as_covariates(past_covariates, target.index, "past_covariates")
    future = as_covariates(future_covariates, target.index, "future_covariates")

    groups = [origins[i:i + every] for i in range(0, len(origins), every)]
    length = first + 1
    tasks = [(forecaster, target, past, future, group,
              length if window == "rolling" else None) for group in groups]
    fits = _run(tasks, n_jobs, backend)
    frame = pd.concat([part for part, _ in fits], ignore_index=True)
    season = fits[0][1]
    frame["last_value"] = _baseline(LastValue(), target, frame, horizon)
    frame["seasonal_naive"] = (np.nan if season is None else
                               _baseline(SeasonalNaive(season), target, frame, horizon))
    frame.attrs["mase_scale"] = _mase_scale(target.to_numpy()[:first + 1], season or 1)
    frame.attrs["season"] = season
    return frame


def _fit_and_forecast(forecaster: Any, target: pd.Series, past: Any, future: Any,
                      origins: np.ndarray, length: int | None) -> tuple[pd.DataFrame, Any]:
    """Fit a clone on the data up to ``origins[0]`` (the last ``length`` steps of it),
    then forecast from every origin in one batched call."""
    begin = 0 if length is None else origins[0] + 1 - length
    end = origins[0] + 1
    fitted = clone(forecaster).fit(target.iloc[begin:end],
                                   past_covariates=_rows(past, target.index[begin:end]),
                                   future_covariates=_rows(future,
                                                           target.index[begin:end]))
    predictions = fitted.predict_origins(target, origins, past_covariates=past,
                                         future_covariates=future)
    horizon = predictions.shape[1]
    ahead = origins[:, None] + np.arange(1, horizon + 1)
    part = pd.DataFrame({
        "origin": np.repeat(target.index[origins], horizon),
        "date": target.index[ahead.ravel()],
        "step": np.tile(np.arange(1, horizon + 1), len(origins)),
        "actual": target.to_numpy()[ahead.ravel()],
        "prediction": predictions.ravel(),
    })
    for name, values in interval_columns(predictions, fitted.interval_widths_).items():
        part[name] = values.ravel()
    return part, fitted.season_


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


def _rows(covariates: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame | None:
    return None if covariates is None else covariates.loc[covariates.index.isin(index)]


def _baseline(model: Any, target: pd.Series, frame: pd.DataFrame, horizon: int) -> np.ndarray:
    """The baseline's forecasts at the frame's origins (it reads the past target only)."""
    origins = target.index.get_indexer(frame["origin"].iloc[::horizon])
    past = getattr(model, "season", 1)
    if origins.min() < past - 1:
        return np.full(len(frame), np.nan)
    X = make_windows(target.to_numpy()[:, None], origins, window_past=past, horizon=horizon,
                     n_known_ahead=0)
    return model.fit(X, np.zeros((len(X), horizon))).predict(X).ravel()


def _mase_scale(train: np.ndarray, season: int) -> float:
    if len(train) <= season:
        return float("nan")
    return float(np.mean(np.abs(train[season:] - train[:-season])))


def summary(backtest_frame: pd.DataFrame, *, mase_scale: float | None = None) -> pd.DataFrame:
    """MSE, MAE and MASE of a backtest's forecasts and of its baselines, per step
    ahead and overall.

    Parameters
    ----------
    backtest_frame : DataFrame
        What :func:`backtest` returned.
    mase_scale : float, optional
        The denominator of MASE; default the frame's ``attrs["mase_scale"]``.

    Returns
    -------
    DataFrame
        Indexed by step ahead (1..horizon) and ``"overall"``; columns ``mse``,
        ``mae``, ``mase`` and the same for ``last_value_`` and ``seasonal_naive_``
        (when the backtest has them); with intervals, ``coverage_L`` (the fraction of
        actual values inside them) and ``width_L`` (their mean width) for each level;
        and ``n`` (forecasts scored).
    """
    scale = backtest_frame.attrs.get("mase_scale", np.nan) if mase_scale is None \
        else mase_scale
    forecasts = {"": "prediction", "last_value_": "last_value",
                 "seasonal_naive_": "seasonal_naive"}
    rows = {}
    groups = [(int(k), g) for k, g in backtest_frame.groupby("step")]
    for key, part in [*groups, ("overall", backtest_frame)]:
        row: dict[str, float] = {}
        for prefix, column in forecasts.items():
            if column not in part or part[column].isna().all():
                continue
            error = part[column].to_numpy() - part["actual"].to_numpy()
            row[f"{prefix}mse"] = float(np.mean(error ** 2))
            row[f"{prefix}mae"] = float(np.mean(np.abs(error)))
            row[f"{prefix}mase"] = row[f"{prefix}mae"] / scale if scale else float("nan")
        for column in part.columns:
            if column.startswith("lower_"):
                level = column.removeprefix("lower_")
                lower, upper = part[column], part[f"upper_{level}"]
                inside = (lower <= part["actual"]) & (part["actual"] <= upper)
                row[f"coverage_{level}"] = float(inside.mean())
                row[f"width_{level}"] = float((upper - lower).mean())
        row["n"] = len(part)
        rows[key] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("step")


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
