"""Many series and calibrated intervals: seqpipe's global Forecaster beside skforecast's
``ForecasterRecursiveMultiSeries``, seasonal naive and one model per series, measured
side by side in one run (issue 18, item 4).

Run: ``python benchmarks/bench_panel.py [--quick] [--only panel,noise,btc,scaling]
[--random-state N]`` (needs the
``bench`` extra: skforecast). Every number is printed beside its target; the exit
status is 1 when a target is missed.

- **panel**: :func:`seqpipe.datasets.make_panel`, 200 daily series over 1,200 days
  (shared yearly and weekly cycles; per-series level, trend and amplitudes; scales
  over three orders of magnitude; start dates over the first 40 %; Gaussian noise of
  0.3 scale units). A week ahead (horizon 7) from one origin per week over the last
  15 %, no refit. seqpipe: ``Forecaster(7, levels=(80, 95))`` with the candidates
  of ``"auto"`` but the GRU (on 200 x 1,000 windows it trains for tens of minutes on
  2 cores): the pooled Ridges, the ``series-ridge`` ones (pooled, with per-series
  corrections) and the baselines, fitted once on all series. skforecast 0.26:
  ``ForecasterRecursiveMultiSeries(Ridge(), lags=window_past,
  transformer_series=StandardScaler())``, conformal intervals from its in-sample
  residuals (the default) and from out-of-sample residuals of a backtest over the
  last 15 % of the training part (its recommended calibration, the same part seqpipe
  calibrates on). One seqpipe Forecaster per series, with the same candidates (the Ridges and
  the baselines: a single series has no ``series-ridge``).
  MASE is each series' mean absolute error over its one-season naive error before
  the first origin, averaged over the series. Targets: seqpipe's MASE <= skforecast's,
  <= 0.8x seasonal naive's and <= the per-series models'; coverage of 80 % and 95 %
  within 3 points of nominal at every step ahead; mean width no wider than
  skforecast's at its coverage (printed).
- **short series**: the same panel but with series starting over the first 75 % of
  the period: the global model's MASE <= one model per series', on the series both
  forecast (the shortest are too short for a model of their own).
- **known noise**: :func:`seqpipe.datasets.make_seasonal_series` (8,000 hours,
  Gaussian noise), 6 steps ahead from every third origin of the last 30 %: coverage
  at every step within 3 points. (The intervals stand on the ~840 errors of the
  held-out 15 % of the first 5,600 hours: a calibration set of n errors leaves the
  coverage a spread of about sqrt(L (1 - L) / n), 1.4 points at 80 % here, 2.2 with
  the 3,000 hours of a first version of this row.)
- **btc**: the shipped BTC USD and EUR closes as two series, a day ahead from every
  origin of the last 15 %: MSE <= 1.05x the last value's per series (and not below
  0.8x: a leak).
- **predict cost**: ``predict()`` of the 200 series with intervals <= 1.1x without.
- **scaling**: fit time (CPU time, on one BLAS thread: the machine is shared, wall
  times swing with the other processes, and BLAS threads spinning while they wait for
  a busy core swell CPU time) and peak memory (traced allocations), each in a fresh
  process, at
  50, 200 and 800 series: the growth from 200 to 800 <= 1.25x linear (<= 5x for 4x
  the series); and at 800 series the peak <= half what the training windows would
  take built all at once (the candidates read them a chunk at a time:
  :class:`seqpipe.forecasting.ChunkedPipeline`).

``--quick`` runs the same rows on less data (40 series, 600 days; 10 and 40 series
for scaling), to check the script, not the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.stats import norm  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402

from seqpipe.datasets import load_btc_usd_eur, make_panel, make_seasonal_series  # noqa: E402
from seqpipe.forecasting import (  # noqa: E402
    Forecaster,
    LastValue,
    SeasonalNaive,
    backtest,
)
from seqpipe.forecasting.candidates import default_candidates  # noqa: E402

HORIZON = 7
LEVELS = (80, 95)
START = 0.85
LEAK_FLOOR = 0.8


@dataclass
class Size:
    n_series: int
    n_days: int
    scaling: tuple[int, ...]


FULL = Size(200, 1200, (50, 200, 800))
QUICK = Size(40, 600, (10, 40))


@dataclass
class Row:
    name: str
    value: float
    target: float
    target_text: str
    floor: float = -np.inf
    detail: str = ""

    @property
    def met(self) -> bool:
        return self.floor <= self.value <= self.target

    def __str__(self) -> str:
        status = "-" if self.target == np.inf else "met" if self.met else "MISSED"
        return (f"{self.name:<48} {self.value:>9.3f}   target {self.target_text:<14} "
                f"{status:<7} {self.detail}")


def candidates(season: int = 7) -> list:
    """The linear and baseline candidates of ``candidates="auto"``, without the GRU."""
    return [Ridge(alpha=alpha) for alpha in (1.0, 10.0, 100.0, 1000.0)] + [
        SeasonalNaive(season), LastValue()]


def without_gru(**found) -> dict:
    """The candidates of ``candidates="auto"`` but the GRU: with many series, the
    linear autoregressions pooled over series and with per-series corrections
    (``series-ridge``), and the baselines."""
    pool = default_candidates(**found)
    del pool["gru"]
    return pool


def forecaster() -> Forecaster:
    return Forecaster(HORIZON, candidates=without_gru, levels=LEVELS)


def mase(frame: pd.DataFrame, column: str, scales: dict) -> float:
    """Each series' mean absolute error of ``column`` over its scale, averaged."""
    error = (frame[column] - frame["actual"]).abs().groupby(frame["series"]).mean()
    return float((error / pd.Series(scales).reindex(error.index)).mean())


def skforecast_frames(panel: pd.DataFrame, lags: int, first_origin: int
                      ) -> dict[str, pd.DataFrame]:
    """skforecast's backtest from the same origins, with intervals calibrated on
    in-sample residuals (``"default"``) and on out-of-sample ones (``"out-of-sample"``):
    columns series, date, step, actual, prediction, lower_L, upper_L."""
    from skforecast.model_selection import TimeSeriesFold, backtesting_forecaster_multiseries
    from skforecast.recursive import ForecasterRecursiveMultiSeries
    from sklearn.preprocessing import StandardScaler

    def make():
        return ForecasterRecursiveMultiSeries(Ridge(), lags=lags,
                                              transformer_series=StandardScaler())

    def run(model, data, initial, level, in_sample):
        folds = TimeSeriesFold(steps=HORIZON, initial_train_size=initial, refit=False,
                               verbose=False)
        half = (100 - level) / 200
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, predictions = backtesting_forecaster_multiseries(
                model, data, folds, metric="mean_absolute_error",
                interval=[half, 1 - half], use_in_sample_residuals=in_sample,
                show_progress=False, n_jobs=1, suppress_warnings=True)
        return predictions

    n_train = first_origin + 1
    calibration_start = n_train - int(np.ceil(0.15 * n_train))
    outsample = make()
    calibration = run(outsample, panel.iloc[:n_train], calibration_start, 80, True)
    y_true, y_pred = {}, {}
    for name, part in calibration.groupby("level"):
        y_true[name] = panel.loc[part.index, name]
        y_pred[name] = part["pred"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outsample.fit(panel.iloc[:calibration_start], suppress_warnings=True)
        outsample.set_out_sample_residuals(y_true, y_pred)
    frames = {}
    for label, model, in_sample in (("default", make(), True),
                                    ("out-of-sample", outsample, False)):
        parts = {level: run(model, panel, n_train, level, in_sample) for level in LEVELS}
        first = parts[LEVELS[0]]
        frame = pd.DataFrame({"series": first["level"].to_numpy(), "date": first.index,
                              "prediction": first["pred"].to_numpy()})
        for level, part in parts.items():
            frame[f"lower_{level}"] = part["lower_bound"].to_numpy()
            frame[f"upper_{level}"] = part["upper_bound"].to_numpy()
        positions = panel.index.get_indexer(frame["date"])
        frame["step"] = (positions - n_train) % HORIZON + 1
        frame["actual"] = [panel.at[d, s] for d, s in zip(frame["date"], frame["series"])]
        frames[label] = frame.dropna(subset=["actual"])
    return frames


def coverage(frame: pd.DataFrame, level: int) -> tuple[float, float, float]:
    """Overall coverage, and its lowest and highest over the steps ahead."""
    inside = (frame[f"lower_{level}"] <= frame["actual"]) & (
        frame["actual"] <= frame[f"upper_{level}"])
    by_step = inside.groupby(frame["step"]).mean()
    return float(inside.mean()), float(by_step.min()), float(by_step.max())


def relative_width(frame: pd.DataFrame, level: int, scales: dict) -> float:
    """Mean interval width, each in units of its series' MASE scale."""
    width = frame[f"upper_{level}"] - frame[f"lower_{level}"]
    return float((width / frame["series"].map(scales)).mean())


def panel_rows(size: Size, random_state: int) -> list[Row]:
    panel = make_panel(size.n_series, size.n_days, random_state=random_state)
    start = time.perf_counter()
    frame = backtest(forecaster(), panel, start=START, step=HORIZON)
    seconds = time.perf_counter() - start
    scales = frame.attrs["mase_scale"]
    first_origin = panel.index.get_loc(frame["origin"].min())
    fitted = forecaster().fit(panel.iloc[:first_origin + 1])
    ours = mase(frame, "prediction", scales)
    naive = mase(frame, "seasonal_naive", scales)
    print(f"panel: {panel.shape[1]} series, {panel.shape[0]} days, "
          f"{frame['origin'].nunique()} origins; chosen {fitted.best_candidate_}, "
          f"window_past {fitted.window_past_}, season {fitted.season_}; backtest "
          f"{seconds:.1f} s")
    start = time.perf_counter()
    separate = pd.concat([_separate(panel[name], first_origin) for name in panel.columns],
                         ignore_index=True)
    separate_seconds = time.perf_counter() - start
    theirs = skforecast_frames(panel, fitted.window_past_, first_origin)
    keys = ["series", "date"]
    aligned = {label: frame[keys].merge(other, on=keys, how="left")
               for label, other in theirs.items()}
    for label, other in aligned.items():
        print(f"  skforecast {label}: MASE {mase(other, 'prediction', scales):.3f}; "
              + ", ".join(f"coverage {level} {coverage(other, level)[0]:.3f} width "
                          f"{relative_width(other, level, scales):.2f}" for level in LEVELS))
    print("  seqpipe: " + ", ".join(
        f"coverage {level} {coverage(frame, level)[0]:.3f} width "
        f"{relative_width(frame, level, scales):.2f}" for level in LEVELS))
    rows = [
        Row("panel: MASE / skforecast's", ours / mase(aligned["default"], "prediction", scales),
            1.0, "<= 1x", detail=f"(MASE {ours:.3f})"),
        Row("panel: MASE / seasonal naive's", ours / naive, 0.8, "<= 0.8x",
            detail=f"({naive:.3f})"),
        Row("panel: MASE / one model per series'", ours / mase(separate, "prediction", scales),
            1.0, "<= 1x", detail=f"({separate_seconds:.0f} s for {panel.shape[1]} fits)"),
    ]
    for level in LEVELS:
        overall, low, high = coverage(frame, level)
        rows.append(Row(f"panel: coverage {level} %, worst step", 100 * max(
            abs(low - level / 100), abs(high - level / 100)), 3.0, "<= 3 points",
            detail=f"(overall {100 * overall:.1f} %, steps {100 * low:.1f} to "
                   f"{100 * high:.1f})"))
        reference = aligned["out-of-sample"]
        theirs_covered = coverage(reference, level)[0]
        # the width skforecast's intervals would need for seqpipe's coverage, were its
        # errors Gaussian: its width times the ratio of the two normal quantiles
        needed = relative_width(reference, level, scales) * norm.ppf((1 + overall) / 2) \
            / norm.ppf((1 + theirs_covered) / 2)
        rows.append(Row(f"panel: width {level} % / skforecast's at that coverage",
                        relative_width(frame, level, scales) / needed, 1.0, "<= 1x",
                        detail=f"(out-of-sample calibration: coverage "
                               f"{100 * theirs_covered:.1f} %)"))
    rows.append(predict_cost_row(fitted))
    return rows


def short_rows(size: Size, random_state: int) -> list[Row]:
    """A panel whose series start over the first 75 % of the period (the shortest have
    a few months before the first origin): the global model against one model per
    series, on the series both can forecast."""
    panel = make_panel(size.n_series, size.n_days, late_start=0.75,
                       random_state=random_state + 1)
    frame = backtest(forecaster(), panel, start=START, step=HORIZON)
    scales = frame.attrs["mase_scale"]
    first_origin = panel.index.get_loc(frame["origin"].min())
    separate, too_short = [], []
    for name in panel.columns:
        try:
            separate.append(_separate(panel[name], first_origin))
        except ValueError:  # too short to fit a model of its own
            too_short.append(name)
    separate = pd.concat(separate, ignore_index=True)
    both = frame[frame["series"].isin(separate["series"].unique())]
    ratio = mase(both, "prediction", scales) / mase(separate, "prediction", scales)
    return [Row("short series: MASE / one model per series'", ratio, 1.0, "<= 1x",
                detail=f"({len(too_short)} of {panel.shape[1]} series too short for a "
                       f"model of their own, forecast by the global one only)")]


def _separate(series: pd.Series, first_origin: int) -> pd.DataFrame:
    """One seqpipe Forecaster for this series alone, forecasting the panel's origins."""
    values = series.dropna()
    first = values.index.get_loc(series.index[first_origin])
    frame = backtest(forecaster(), values, start=first, step=HORIZON)
    return frame.assign(series=series.name)


def predict_cost_row(fitted: Forecaster, repeats: int = 15) -> Row:
    with_intervals, without = [], []
    for _ in range(repeats):
        for times, levels in ((with_intervals, None), (without, ())):
            start = time.perf_counter()
            fitted.predict(levels=levels)
            times.append(time.perf_counter() - start)
    ratio = float(np.median(with_intervals) / np.median(without))
    return Row("predict with intervals / without", ratio, 1.1, "<= 1.1x",
               detail=f"({1000 * np.median(with_intervals):.1f} ms vs "
                      f"{1000 * np.median(without):.1f} ms, {len(fitted.series_)} series)")


def known_noise_rows(random_state: int) -> list[Row]:
    y = make_seasonal_series(8000, period=24, noise=1.0, random_state=random_state)
    frame = backtest(Forecaster(6, candidates=candidates(24), levels=LEVELS), y,
                     start=0.7, step=3)
    rows = []
    for level in LEVELS:
        inside = (frame[f"lower_{level}"] <= frame["actual"]) & (
            frame["actual"] <= frame[f"upper_{level}"])
        by_step = inside.groupby(frame["step"]).mean()
        worst = 100 * float((by_step - level / 100).abs().max())
        rows.append(Row(f"known noise: coverage {level} %, worst step", worst, 3.0,
                        "<= 3 points", detail=f"(overall {100 * inside.mean():.1f} %, "
                                              f"{frame['origin'].nunique()} origins)"))
    return rows


def btc_rows(random_state: int) -> list[Row]:
    closes = load_btc_usd_eur()
    frame = backtest(Forecaster(1, candidates=candidates(), random_state=random_state),
                     closes, start=START, step=1)
    rows = []
    for name, part in frame.groupby("series"):
        ratio = float(np.mean((part["prediction"] - part["actual"]) ** 2)
                      / np.mean((part["last_value"] - part["actual"]) ** 2))
        rows.append(Row(f"btc {name}: MSE / last value", ratio, 1.05, "<= 1.05x",
                        floor=LEAK_FLOOR, detail=f"({len(part)} origins)"))
    return rows


_SCALING_CHILD = """
import json, sys, time, tracemalloc
sys.path.insert(0, {benchmarks!r})
from bench_panel import forecaster
from seqpipe.datasets import make_panel
from seqpipe.forecasting.panel import as_panel
panel = make_panel({n_series}, {n_days}, random_state={random_state})
from threadpoolctl import threadpool_limits
forecaster().fit(panel.iloc[:, :2])  # imports and first calls out of the measure
tracemalloc.start()
with threadpool_limits(1):  # BLAS threads waiting for a busy core spin: CPU time swells
    start, cpu = time.perf_counter(), time.process_time()
    fitted = forecaster().fit(panel)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
# what the windows of every training origin would take, built all at once
n_windows = len(fitted._origins(as_panel(panel))[1])
_, past, channels = fitted._history.shape
windows = n_windows * (past + fitted.horizon) * channels * 8
print(json.dumps({{"seconds": seconds, "cpu_seconds": cpu, "megabytes": peak / 2 ** 20,
                  "windows_megabytes": windows / 2 ** 20}}))
"""


def scaling_rows(size: Size, random_state: int) -> list[Row]:
    measured = {}
    for n_series in size.scaling:
        code = _SCALING_CHILD.format(benchmarks=os.path.dirname(os.path.abspath(__file__)),
                                     n_series=n_series, n_days=size.n_days,
                                     random_state=random_state)
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout
        measured[n_series] = json.loads(output.strip().splitlines()[-1])
        print(f"scaling: {n_series} series: fit {measured[n_series]['seconds']:.1f} s "
              f"({measured[n_series]['cpu_seconds']:.1f} s of CPU), peak memory "
              f"+{measured[n_series]['megabytes']:.0f} MB")
    small, large = size.scaling[-2], size.scaling[-1]
    factor = large / small
    largest = measured[large]
    return [Row(f"scaling {small} -> {large} series: {what}",
                measured[large][key] / measured[small][key] / factor, 1.25,
                "<= 1.25x linear",
                detail=f"({measured[small][key]:.1f} -> {measured[large][key]:.1f})")
            for what, key in (("fit CPU time", "cpu_seconds"), ("peak memory", "megabytes"))
            ] + [Row(f"{large} series: peak memory / its windows built at once",
                     largest["megabytes"] / largest["windows_megabytes"], 0.5, "<= 0.5x",
                     detail=f"({largest['megabytes']:.0f} MB; the windows "
                            f"{largest['windows_megabytes']:.0f} MB)")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="less data: checks the script, not the targets")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--only", default="panel,short,noise,btc,scaling",
                        help="the groups of rows to run (default: all)")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    groups = {"panel": lambda: panel_rows(size, args.random_state),
              "noise": lambda: known_noise_rows(args.random_state),
              "btc": lambda: btc_rows(args.random_state),
              "short": lambda: short_rows(size, args.random_state),
              "scaling": lambda: scaling_rows(size, args.random_state)}
    rows = [row for name in args.only.split(",") for row in groups[name]()]
    print()
    for row in rows:
        print(row)
    return 0 if all(row.met for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
