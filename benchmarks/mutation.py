"""Mutation testing of the modules that guard correctness (``make mutation``; not in CI).

Each module of ``MODULES`` is mutated by `mutmut <https://mutmut.readthedocs.io>`_ and
every mutant is run against that module's own test files only (and its doctests):
a mutant that no test fails on "survives". The run happens in a scratch directory,
``.mutation/<module>/`` (git-ignored), where mutmut writes its mutated copy
(``mutants/``): nothing in ``seqpipe/`` or ``tests/`` is ever written. It prints, per
module, the share of mutants killed and the surviving ones (their diffs with
``--diff``); survivors listed in ``benchmarks/MUTATION.md`` as equivalent (a mutant
that cannot change behaviour) are marked so.

Adding a module is one line of ``MODULES``: its path and its test files (and, to
mutate only some of its functions, one of ``SCOPES``).

Usage::

    python benchmarks/mutation.py                          # every module
    python benchmarks/mutation.py seqpipe/steps/window.py  # some of them
    python benchmarks/mutation.py --diff seqpipe/_time_split.py
    python benchmarks/mutation.py --jobs 1                 # one core, the other left free

Modules run side by side, one per CPU core (``--jobs``, default: every core), at low
priority (``nice``); each runs one mutant at a time on its core, the largest modules
first. Needs the ``mutation`` extra (``pip install -e '.[mutation]'``).
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import queue
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
EQUIVALENTS = ROOT / "benchmarks" / "MUTATION.md"

# the tests of the searches' scoring and states (search/_base.py, _study.py, _results.py)
_SEARCH_TESTS = [
    "tests/search/test_searches.py",  # less 20 s of processes sharing a storage or a pool
    "-k", "not two_processes and not parallel_workers and not does_not_import_optuna",
    # the stacklevel of its warnings: mutmut's trampolines add frames to every call
    "--deselect", "tests/search/test_searches.py::test_fit_failed_warnings_are_attributed",
    # its pruned trials (an inline search)
    "tests/search/test_execution.py::test_hopeless_trials_are_pruned_on_the_scores_"
    "reported_every_epoch[where0]",
    "tests/search/test_abandoned_trials.py", "tests/search/test_pruner_rungs.py",
    "tests/search/test_failed_trials_quiet.py",
    # fit parameters routed to the trials and the refit; the study's attributes and storage
    "tests/search/test_search_fit_params.py", "tests/search/test_optuna_tools.py"]

# the tests of saving and loading (persistence.py and the modules it was split into)
_PERSISTENCE_TESTS = [
    "tests/test_persistence.py",
    # the stacklevel of the warning: mutmut's trampolines add frames to every call
    "--deselect", "tests/test_persistence.py::test_version_mismatch_warning_is_attributed",
    "--deselect", "tests/test_persistence.py::test_backend_warning_is_attributed",
    # 30 s of fresh processes importing Keras, which run the unmutated seqpipe
    "-k", "not keras_process and not import_neither"]

# the tests of a Forecaster's fit and predict, one series and many (panel.py,
# selection.py, channels.py), less 17 s of Keras training per mutant (the "auto"
# candidates' GRU and a chosen GRU saved and reloaded; the same paths run with linear
# candidates in test_many_series.py's save and load)
_FORECASTER_TESTS = [
    "tests/forecasting/test_forecaster.py", "tests/forecasting/test_many_series.py",
    "--deselect", "tests/forecasting/test_forecaster.py::test_save_and_load_predict_bitwise",
    "--deselect",
    "tests/forecasting/test_forecaster.py::test_the_chosen_gru_predicts_bitwise_after_reload"]

# module -> its own test files (the module's doctests run too), or other pytest arguments
MODULES: dict[str, list[str]] = {
    "seqpipe/_time_split.py": ["tests/steps/test_validation_split.py",
                               "tests/search/test_walk_forward.py"],
    "seqpipe/search/walk_forward.py": ["tests/search/test_walk_forward.py"],
    # the searches' scoring and states (searches.py before its split): how trials end,
    # are recorded, ranked
    "seqpipe/search/_base.py": _SEARCH_TESTS,
    "seqpipe/search/_study.py": _SEARCH_TESTS,
    "seqpipe/search/_results.py": _SEARCH_TESTS,
    "seqpipe/steps/window.py": ["tests/steps/test_window.py",
                                "tests/test_table_output.py"],  # its refusal of tables
    "seqpipe/steps/validation.py": ["tests/steps/test_validation_split.py",
                                    "tests/steps/test_meta_steps.py"],
    # saving and loading (persistence.py before its split): the format, its integrity,
    # the atomic write, the environment recorded
    "seqpipe/persistence.py": _PERSISTENCE_TESTS,
    "seqpipe/_artifact_integrity.py": _PERSISTENCE_TESTS,
    "seqpipe/_atomic_write.py": _PERSISTENCE_TESTS,
    "seqpipe/_saved_environment.py": _PERSISTENCE_TESTS,
    "seqpipe/steps/normalize.py": ["tests/steps/test_normalize.py"],
    "seqpipe/serving/protocol.py": ["tests/serving/test_protocol.py"],
    "seqpipe/serving/batching.py": [
        "tests/serving/test_batching.py",
        # fresh processes (a server, the command), which run the unmutated seqpipe
        "-k", "not real_server and not seqpipe_command"],
    "seqpipe/streaming.py": [
        "tests/test_streaming.py",
        # 15 s of Keras training per mutant (timeouts of a minute); its path without
        # Keras is test_the_window_is_inferred_from_a_step_recording_it_inside_a_meta_step
        "-k", "not keras_pipeline"],
    "seqpipe/datasets/csv_series.py": [
        "tests/datasets/test_csv_series.py",
        # the stacklevel of the gap warning: mutmut's trampolines add frames to every call
        "--deselect",
        "tests/datasets/test_csv_series.py::test_the_gap_warning_is_attributed_to_the_caller"],
    # forecasting: the split and the candidates' choice, backtests, intervals
    "seqpipe/forecasting/forecaster.py": [*_FORECASTER_TESTS,
                                          "tests/forecasting/test_calendar_and_dates.py",
                                          # predict's own levels
                                          "tests/forecasting/test_intervals.py"],
    # the season, the past read, the series' scales, the candidates' scores
    "seqpipe/forecasting/selection.py": _FORECASTER_TESTS,
    # what a fitted forecaster puts in each row: target, covariates, calendar, code
    "seqpipe/forecasting/channels.py": _FORECASTER_TESTS,
    "seqpipe/forecasting/windows.py": ["tests/forecasting/test_windows_and_baselines.py",
                                       "tests/forecasting/test_window_lags_and_knots.py",
                                       "tests/forecasting/test_many_series.py",
                                       "tests/forecasting/test_series_ridge.py",
                                       # LazyWindows (issue 18)
                                       "tests/forecasting/test_chunked.py",
                                       "tests/forecasting/test_window_scaler.py"],
    "seqpipe/forecasting/window_features.py": [
        "tests/forecasting/test_windows_and_baselines.py",
        "tests/forecasting/test_window_lags_and_knots.py",
        "tests/forecasting/test_series_ridge.py"],
    "seqpipe/forecasting/series_ridge.py": ["tests/forecasting/test_series_ridge.py"],
    # the linear candidates fitted a chunk of windows at a time, to the whole fit's model
    "seqpipe/forecasting/chunked.py": ["tests/forecasting/test_chunked.py"],
    # and backtest's reading of panels (its labels, spans, covariates per series)
    "seqpipe/forecasting/panel.py": [
        *_FORECASTER_TESTS, "tests/forecasting/test_backtest.py", "--deselect",
        "tests/forecasting/test_backtest.py::test_refits_run_in_parallel_processes_and_on_a_"
        "dask_cluster"],
    "seqpipe/forecasting/backtest.py": [
        "tests/forecasting/test_backtest.py", "tests/forecasting/test_many_series.py",
        # 25 s of loky processes and a Dask cluster of processes, which run the unmutated
        # seqpipe (the backends' paths run in threads and an in-process Dask cluster)
        "--deselect", "tests/forecasting/test_backtest.py::test_refits_run_in_parallel_"
        "processes_and_on_a_dask_cluster"],
    "seqpipe/forecasting/intervals.py": ["tests/forecasting/test_intervals.py"],
}

# modules mutated in some of their functions only (the rest is not counted)
SCOPES: dict[str, list[str]] = {
    "seqpipe/search/_base.py": ["_tell", "fit", "predict", "score", "_free"],
    "seqpipe/search/_study.py": ["_rerun_abandoned", "_process_is_gone", "_finished"],
}

KILLED = ("killed", "timeout", "caught by type check", "segfault")


def _config(module: str, tests: list[str]) -> str:
    """The ``[mutmut]`` section of the scratch directory's setup.cfg."""
    selection = "\n    ".join([*tests, module])  # the module's doctests too
    return f"""[mutmut]
source_paths = seqpipe
only_mutate = {module}
pytest_add_cli_args_test_selection =
    {selection}
pytest_add_cli_args =
    -p
    no:cacheprovider
use_git_change_detection = false
timeout_multiplier = 4
"""


def _prepare(module: str, tests: list[str]) -> Path:
    """A fresh scratch directory: links to the sources and tests, mutmut's config."""
    name = module.removeprefix("seqpipe/").removesuffix(".py").replace("/", ".")
    work = WORK / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for entry in ("seqpipe", "tests"):
        (work / entry).symlink_to(ROOT / entry)  # read only: mutmut writes in mutants/
    shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")
    (work / "setup.cfg").write_text(_config(module, tests))
    return work


def _equivalents() -> set[str]:
    """The mutant names that ``benchmarks/MUTATION.md`` lists as equivalent."""
    if not EQUIVALENTS.exists():
        return set()
    return set(re.findall(r"`(seqpipe\.[\w.ǁ]+__mutmut_\d+)`", EQUIVALENTS.read_text()))


def _cores() -> list[int]:
    """The CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def _low_priority() -> None:
    """Run this process and its children at low priority, one BLAS thread each."""
    os.nice(10)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"


def _mutmut(work: Path, *args: str, log: Path | None = None, core: int | None = None
            ) -> str:
    """Run mutmut in ``work`` (pinned to ``core``, with its children); its output."""
    command = [sys.executable, "-m", "mutmut", *args]
    pin = None
    if core is not None and hasattr(os, "sched_setaffinity"):
        def pin() -> None:
            os.sched_setaffinity(0, {core})
    if log is None:
        return subprocess.run(command, cwd=work, check=True, capture_output=True,
                              text=True, preexec_fn=pin).stdout
    with open(log, "w") as out:
        done = subprocess.run(command, cwd=work, stdout=out, stderr=subprocess.STDOUT,
                              preexec_fn=pin)
    if done.returncode != 0:  # e.g. a test failing without any mutant
        tail = log.read_text()[-3000:]
        sys.exit(f"mutmut failed ({done.returncode}) in {work}; the end of {log}:\n{tail}")
    return log.read_text()


def run_module(module: str, tests: list[str], *, diff: bool,
               only: list[str] | None = None, core: int | None = None
               ) -> tuple[int, int, list[str], str]:
    """Mutate ``module``, run its tests on every mutant (or on those named by ``only``,
    mutmut's names or patterns) on ``core``; (killed, total, survivors, report)."""
    dotted = module.removesuffix(".py").replace("/", ".")
    patterns = [pattern for function in SCOPES.get(module, [])
                for pattern in (f"{dotted}.x_{function}__mutmut_*",
                                f"{dotted}.xǁ*ǁ{function}__mutmut_*")]
    if only:
        patterns = [name for name in only if name.startswith(f"{dotted}.")]
        if not patterns:
            return 0, 0, [], ""
    work = _prepare(module, tests)
    start = time.perf_counter()
    _mutmut(work, "run", "--max-children", "1", *patterns, log=work / "run.log", core=core)
    results = _mutmut(work, "results", "--all", "true")
    statuses = dict(line.strip().rsplit(": ", 1) for line in results.splitlines()
                    if "__mutmut_" in line)
    if patterns:
        statuses = {name: status for name, status in statuses.items()
                    if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)}
    if not statuses:
        sys.exit(f"mutmut ran no mutant of {module}; see {work / 'run.log'}")
    survivors = sorted((name for name, status in statuses.items() if status not in KILLED),
                       key=lambda name: (name.rsplit("__mutmut_", 1)[0],
                                         int(name.rsplit("__mutmut_", 1)[1])))
    killed = len(statuses) - len(survivors)
    equivalent = _equivalents()
    report = [f"{module}: {killed}/{len(statuses)} killed "
              f"({100 * killed / len(statuses):.1f} %), {time.perf_counter() - start:.0f} s"]
    for name in survivors:
        mark = " (equivalent, see MUTATION.md)" if name in equivalent else ""
        report.append(f"    {statuses[name]}: {name}{mark}")
        if diff:
            shown = _mutmut(work, "show", name)
            report.extend("        " + line for line in shown.splitlines()[1:]
                          if line.startswith(("+", "-"))
                          and not line.startswith(("+++", "---")))
    return killed, len(statuses), survivors, "\n".join(report)


def run_modules(modules: list[str], *, jobs: int, diff: bool, only: list[str] | None
                ) -> list[tuple[str, int, int, list[str]]]:
    """Run ``modules`` side by side, each on a core of its own (``jobs`` at once), the
    largest first; print each one's report as it ends. One row per module run."""
    cores: queue.Queue[int] = queue.Queue()
    for core in _cores()[-jobs:]:
        cores.put(core)

    def run(module: str) -> tuple[str, int, int, list[str]]:
        core = cores.get()
        try:
            killed, total, survivors, report = run_module(
                module, MODULES[module], diff=diff, only=only, core=core)
        finally:
            cores.put(core)
        if report:
            print(report, flush=True)
        return module, killed, total, survivors

    largest_first = sorted(modules, key=lambda module: -(ROOT / module).stat().st_size)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        rows = list(pool.map(run, largest_first))
    return sorted(rows, key=lambda row: modules.index(row[0]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="paths in MODULES (default: all)")
    parser.add_argument("--diff", action="store_true", help="print each survivor's diff")
    parser.add_argument("--only", nargs="+", metavar="MUTANT",
                        help="run these mutants only (names or patterns, e.g. the survivors "
                             "of a run, after adding tests)")
    parser.add_argument("--jobs", type=int, default=len(_cores()),
                        help="modules run at once, each on a core (default: every core)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"not in MODULES: {', '.join(unknown)}")
    if not 1 <= args.jobs <= len(_cores()):
        parser.error(f"--jobs must be between 1 and {len(_cores())} (the cores this process "
                     f"may use); got {args.jobs}")
    _low_priority()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "Agg")
    start = time.perf_counter()
    rows = run_modules(list(args.modules or MODULES), jobs=args.jobs, diff=args.diff,
                       only=args.only)
    rows = [row for row in rows if row[2]]  # modules with no mutant named by --only
    equivalent = _equivalents()
    print("\nmodule                                   killed  total  score  "
          "score (equivalents excluded)")
    for module, killed, total, survivors in rows:
        real = total - len(set(survivors) & equivalent)  # 0: only equivalents were run
        print(f"{module:<40} {killed:>6} {total:>6} {100 * killed / total:5.1f} %  "
              + (f"{100 * killed / real:5.1f} %" if real else "  n/a"))
    print(f"\n{len(rows)} modules in {(time.perf_counter() - start) / 60:.1f} min on "
          f"{args.jobs} core(s)")


if __name__ == "__main__":
    main()
