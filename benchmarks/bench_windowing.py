"""Benchmark: ``Windower.fit_resample`` against the seed project's Python windowing loop.

For each series length T (time steps, ``--features`` columns of float64) it measures,
in one run and with interleaved repetitions:

* time   -- median wall time (``time.perf_counter``) of the seed loop and of
            ``Windower(past, future).fit_resample(series)``; the loop gets fewer
            repetitions from 1M points on, since one call takes seconds;
* ratio  -- loop time / Windower time;
* memory -- peak memory allocated while the function runs, its outputs kept alive,
            as a multiple of the input's ``nbytes`` (``tracemalloc``, which also traces
            numpy's buffers; measured in separate untimed calls).

Before timing, each size checks that the Windower's windows equal the loop's: the loop
drops the last window, so the Windower must have exactly one more.

Targets (PASS/FAIL, exit code 0 either way): ratio >= 1000x at 1M points, and
Windower peak memory <= 1.1x the input.

Run:  python benchmarks/bench_windowing.py [--sizes 10000 100000 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import functools
import gc
import statistics
import time
import tracemalloc

import numpy as np

from seqpipe.steps import Windower

RATIO_TARGET, RATIO_AT, MEMORY_TARGET = 1000.0, 1_000_000, 1.1


def seed_window_loop(series, past, future):
    X, y = [], []
    for i in range(len(series) - past - future):
        X.append(series[i:i + past])
        y.append(series[i + past:i + past + future])
    return np.array(X), np.array(y)


def windower_windows(series, past, future):
    return Windower(past, future).fit_resample(series)


def timed(fn) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_memory(fn, nbytes: int) -> float:
    """Peak traced allocation during ``fn()`` (outputs alive), as a multiple of ``nbytes``."""
    gc.collect()
    tracemalloc.start()
    outputs = fn()  # noqa: F841 -- kept alive until the peak is read
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / nbytes


def check_same_windows(series, loop, windower) -> None:
    (Xl, yl), (Xw, yw) = loop(), windower()
    assert len(Xw) == len(Xl) + 1 and len(yw) == len(yl) + 1, (Xw.shape, Xl.shape)
    assert np.array_equal(Xw[:-1], Xl) and np.array_equal(yw[:-1], yl), "values differ"
    assert np.shares_memory(Xw, series) and np.shares_memory(yw, series), "copy made"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5, help="Windower repetitions")
    parser.add_argument("--features", type=int, default=1)
    parser.add_argument("--past", type=int, default=10)
    parser.add_argument("--future", type=int, default=10)
    args = parser.parse_args()

    header = (f"{'points':>9}  {'loop (s)':>10}  {'Windower (s)':>12}  {'ratio':>9}  "
              f"{'loop mem':>9}  {'Windower mem':>12}")
    print(f"past={args.past} future={args.future} features={args.features} "
          f"repeat={args.repeat} (median times; memory = peak / input nbytes)")
    print(header + "\n" + "-" * len(header))
    failures = []
    for size in args.sizes:
        series = np.random.default_rng(0).standard_normal((size, args.features))
        loop = functools.partial(seed_window_loop, series, args.past, args.future)
        windower = functools.partial(windower_windows, series, args.past, args.future)
        check_same_windows(series, loop, windower)

        loop_reps = args.repeat if size < RATIO_AT else min(args.repeat, 2)
        loop_times, windower_times = [], []
        for rep in range(args.repeat):  # interleaved: Windower, then loop
            windower_times.append(timed(windower))
            if rep < loop_reps:
                loop_times.append(timed(loop))
        t_loop, t_win = statistics.median(loop_times), statistics.median(windower_times)
        ratio = t_loop / t_win
        mem_loop = peak_memory(loop, series.nbytes)
        mem_win = peak_memory(windower, series.nbytes)
        print(f"{size:>9,}  {t_loop:>10.4f}  {t_win:>12.6f}  {ratio:>8,.0f}x  "
              f"{mem_loop:>8.2f}x  {mem_win:>11.4f}x")
        if size == RATIO_AT and ratio < RATIO_TARGET:
            failures.append(f"ratio {ratio:,.0f}x < {RATIO_TARGET:,.0f}x at {size:,} points")
        if mem_win > MEMORY_TARGET:
            failures.append(f"Windower memory {mem_win:.2f}x > {MEMORY_TARGET}x at {size:,}")

    print()
    if RATIO_AT not in args.sizes:
        print(f"SKIP  ratio target (needs --sizes to include {RATIO_AT:,})")
    elif not any(f.startswith("ratio") for f in failures):
        print(f"PASS  ratio >= {RATIO_TARGET:,.0f}x at {RATIO_AT:,} points")
    if not any(f.startswith("Windower") for f in failures):
        print(f"PASS  Windower peak memory <= {MEMORY_TARGET}x input at every size")
    for failure in failures:
        print(f"FAIL  {failure}")


if __name__ == "__main__":
    main()
