"""seqpipe.forecasting beside skforecast, naive baselines and its own batched predict,
measured side by side in one run (issue 17, item 7).

Run: ``python benchmarks/bench_forecasting.py [--quick] [--random-state N]`` (needs the
``bench`` extra: skforecast, lightgbm). Every number is printed beside its target;
the exit status is 1 when a target is missed.

- **load**: :func:`seqpipe.datasets.make_load_series` (half-hourly, daily and weekly
  cycles, a temperature with a U-shaped effect, a working-day flag), 10 weeks; the
  last 2 weeks are forecast day ahead (horizon 48) from one origin per day, the
  temperature and working day given as future covariates. seqpipe's
  :func:`~seqpipe.forecasting.backtest` (``refit=False``) of ``Forecaster(48)``
  with the covariates, and without them; skforecast's ``backtesting_forecaster``
  (``refit=False``, ``steps=48``, the same initial training size, so the same
  origins) of ``ForecasterRecursive(Ridge(), lags=window_past)`` and of the same with
  ``LGBMRegressor()``, given the same exogenous variables as seqpipe's model reads
  (the covariates and seqpipe's calendar features). Targets: MSE with covariates
  <= 0.9x without, and <= skforecast Ridge's (LightGBM is printed for reference).
- **btc**, **walk**: the shipped BTC USD closes and a random walk, one day ahead from
  every origin of the last 15 %: MSE <= 1.05x the last value's (and not below 0.8x:
  far better than the last value on a random walk would mean a leak).
- **backtest cost**: the load forecaster's forecasts from 1,000 origins (what
  ``backtest`` does after its fit with ``refit=False``: ``predict_origins``) <= 2x
  one batched ``pipeline_.predict`` of the same 1,000 windows built beforehand.
- **wall times**: the load forecaster's fit, and its backtest (a fit and the
  forecasts), each <= 3 minutes on 2 CPU cores.

``--quick`` runs the same rows on smaller data (5 weeks of load, the last 4 days
forecast; 1,500 BTC days; 800 random-walk steps; 300 origins), to check the script,
not the targets.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from dataclasses import dataclass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from seqpipe.datasets import load_btc_usd_eur, make_load_series, make_random_walk  # noqa: E402
from seqpipe.forecasting import CalendarFeatures, Forecaster, backtest  # noqa: E402

HORIZON = 48  # a day of half-hours
LEAK_FLOOR = 0.8  # x last value: below it on a random walk, something leaks
MINUTES = 3.0


@dataclass
class Size:
    load_weeks: int
    test_days: int
    btc_days: int | None
    walk_steps: int
    cost_origins: int


FULL = Size(load_weeks=10, test_days=14, btc_days=None, walk_steps=2000, cost_origins=1000)
QUICK = Size(load_weeks=5, test_days=4, btc_days=1500, walk_steps=800, cost_origins=300)


@dataclass
class Row:
    name: str
    value: float
    unit: str
    target: float
    target_text: str
    floor: float = -np.inf
    detail: str = ""

    @property
    def met(self) -> bool:
        return self.floor <= self.value <= self.target

    def __str__(self) -> str:
        value = f"{self.value:.3f}{self.unit}" if self.unit == "x" else \
            f"{self.value:.1f} {self.unit}"
        status = "-" if self.target == np.inf else "met" if self.met else "MISSED"
        return (f"{self.name:<50} {value:>9}   target {self.target_text:<12} "
                f"{status:<7} {self.detail}")


def _mse(prediction: np.ndarray, actual: np.ndarray) -> float:
    return float(np.mean((np.asarray(prediction) - np.asarray(actual)) ** 2))


def _timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def skforecast_backtest(regressor, y: pd.Series, exog: pd.DataFrame | None, *, lags: int,
                        initial_train_size: int, steps: int) -> pd.Series:
    """skforecast's ForecasterRecursive(regressor, lags) backtested without refit:
    the predictions, indexed by date."""
    from skforecast.model_selection import TimeSeriesFold, backtesting_forecaster
    from skforecast.recursive import ForecasterRecursive

    forecaster = ForecasterRecursive(regressor, lags=lags)
    folds = TimeSeriesFold(steps=steps, initial_train_size=initial_train_size, refit=False,
                           verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, predictions = backtesting_forecaster(forecaster, y, folds, exog=exog,
                                                metric="mean_squared_error",
                                                show_progress=False)
    return predictions["pred"]


def load_rows(size: Size, random_state: int) -> list[Row]:
    y, covariates = make_load_series(size.load_weeks * 7 * HORIZON, random_state=random_state)
    first = len(y) - size.test_days * HORIZON - 1  # the first origin's position
    train = slice(0, first + 1)

    forecaster = Forecaster(HORIZON, random_state=random_state)
    fitted, fit_seconds = _timed(forecaster.fit, y.iloc[train],
                                 future_covariates=covariates.iloc[train])
    with_covariates, backtest_seconds = _timed(backtest, forecaster, y,
                                               future_covariates=covariates, start=first)
    without, _ = _timed(backtest, Forecaster(HORIZON, random_state=random_state), y,
                        start=first)
    same = np.array_equal(with_covariates["prediction"].to_numpy(), fitted.predict_origins(
        y, np.arange(first, len(y) - HORIZON, HORIZON),
        future_covariates=covariates).ravel())
    actual = with_covariates["actual"].to_numpy()
    dates = pd.DatetimeIndex(with_covariates["date"])

    calendar = CalendarFeatures().fit(y.index).transform(y.index)
    exog = pd.concat([covariates.astype(np.float64), calendar], axis=1)
    peers = {}
    from lightgbm import LGBMRegressor
    from sklearn.linear_model import Ridge
    for name, regressor in [("skforecast Ridge", Ridge()),
                            ("skforecast LightGBM", LGBMRegressor(
                                random_state=random_state, n_jobs=2, verbose=-1))]:
        predictions, seconds = _timed(skforecast_backtest, regressor, y, exog,
                                      lags=fitted.window_past_, initial_train_size=first + 1,
                                      steps=HORIZON)
        peers[name] = (_mse(predictions.reindex(dates).to_numpy(), actual), seconds)

    mse = _mse(with_covariates["prediction"], actual)
    mse_without = _mse(without["prediction"], actual)
    baselines = {"last value": _mse(with_covariates["last_value"], actual),
                 "seasonal naive": _mse(with_covariates["seasonal_naive"], actual)}
    print(f"load: {len(y)} half-hours, {with_covariates['origin'].nunique()} origins "
          f"(one a day, horizon {HORIZON}), season {fitted.season_}, window_past "
          f"{fitted.window_past_}; backtest equals the fitted forecaster's: {same}")
    print(f"  chosen: {fitted.best_candidate_}; validation MSE of each candidate: "
          + ", ".join(f"{k} {v:.2f}" for k, v in fitted.candidate_scores_.items()))
    print("  backtest MSE: " + ", ".join(
        [f"seqpipe with covariates {mse:.2f}", f"without {mse_without:.2f}"]
        + [f"{k} {v:.2f} ({s:.0f} s)" for k, (v, s) in peers.items()]
        + [f"{k} {v:.2f}" for k, v in baselines.items()]))
    ridge, lightgbm = peers["skforecast Ridge"][0], peers["skforecast LightGBM"][0]
    return [
        Row("load: MSE with covariates / without", mse / mse_without, "x", 0.9, "<= 0.9x"),
        Row("load: MSE with covariates / skforecast Ridge", mse / ridge, "x", 1.0, "<= 1x"),
        Row("load: MSE with covariates / skforecast LightGBM", mse / lightgbm, "x", np.inf,
            "(reference)"),
        Row("load: fit wall time", fit_seconds, "s", 60 * MINUTES, f"<= {MINUTES:g} min"),
        Row("load: backtest wall time (fit + forecasts)", backtest_seconds, "s",
            60 * MINUTES, f"<= {MINUTES:g} min"),
        cost_row(fitted, y, covariates, size.cost_origins),
    ]


def cost_row(fitted: Forecaster, y: pd.Series, covariates: pd.DataFrame,
             n_origins: int, repeats: int = 3) -> Row:
    """Forecasts from ``n_origins`` origins (the batched path of a backtest without
    refit) against one ``pipeline_.predict`` of the same windows, built beforehand."""
    last = len(y) - 1 - fitted.horizon
    origins = np.linspace(fitted.window_past_ - 1, last, n_origins).round().astype(int)
    data = fitted._channels().rows(y.to_numpy(), y.index, None, covariates)[None]
    windows = fitted._windows(data, (np.zeros(len(origins), dtype=int), origins))
    fitted.pipeline_.predict(windows[:8])  # warm up (tracing), for both sides
    batched = min(_timed(fitted.pipeline_.predict, windows)[1] for _ in range(repeats))
    through = min(_timed(fitted.predict_origins, y, origins,
                         future_covariates=covariates)[1] for _ in range(repeats))
    return Row(f"backtest cost: {n_origins} origins / one batched predict", through / batched,
               "x", 2.0, "<= 2x",
               detail=f"({through * 1000:.0f} ms vs {batched * 1000:.0f} ms, "
                      f"{fitted.best_candidate_})")


def last_value_row(name: str, y: pd.Series, random_state: int) -> Row:
    """One day ahead from every origin of the last 15 %, beside the last value."""
    frame, seconds = _timed(backtest, Forecaster(1, random_state=random_state), y,
                            start=0.85, step=1)
    ratio = _mse(frame["prediction"], frame["actual"]) / _mse(frame["last_value"],
                                                                frame["actual"])
    return Row(f"{name}: MSE / last value", ratio, "x", 1.05, "<= 1.05x", floor=LEAK_FLOOR,
               detail=f"({frame['origin'].nunique()} origins, {seconds:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller data: checks the script, not the targets")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    btc = load_btc_usd_eur()["close_usd"]
    if size.btc_days is not None:
        btc = btc.iloc[-size.btc_days:]
    rows = [*load_rows(size, args.random_state),
            last_value_row("btc", btc, args.random_state),
            last_value_row("walk", make_random_walk(size.walk_steps, drift=0.02,
                                                    random_state=args.random_state),
                           args.random_state)]
    print()
    for row in rows:
        print(row)
    return 0 if all(row.met for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
