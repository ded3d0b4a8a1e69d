"""``seqpipe search NAME``: search an exercise's hyperparameters from the command line.

The exercise's data (``Exercise.load``), its factory's pipeline and the pipeline's
default space (:func:`seqpipe.pipelines.default_space`) go to a RandomSearch, TPESearch
or GridSearch; progress shows in a tqdm bar (trials ended, best score, failures).
Written to ``--out`` (default ``searches/NAME``):

- ``trials.csv``: one row per trial (number, state, score, seconds, error, params);
- ``score_by_trial.png``: each trial's score and the best so far;
- ``best.json``: the best params and score; ``best.seqpipe``: the best pipeline, refit
  on all the data (:func:`seqpipe.load` reads it back).

The files get the usual mode of new files (0666 less the umask). With ``--storage``,
the summary names the storage as Optuna's tools open it (``sqlite:///<absolute path>``
for a bare path) and the study: ``optuna-dashboard <that URL>`` browses the trials.

Bad arguments exit with status 2 and one line (before Keras is imported); a
search whose every trial failed
exits with status 1 and one line.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from seqpipe._atomic_write import _FILE_MODE
from seqpipe.cli._common import Parser, backend_line, one_line
from seqpipe.cli.exercises import EXERCISES, build_pipeline
from seqpipe.persistence import save
from seqpipe.search.distributions import Choice, LogRandInt, LogUniform, RandInt, Uniform
from seqpipe.search.searches import GridSearch, RandomSearch, TPESearch

__all__ = ["main"]

_SCORING = {"seq2seq": "neg_mean_squared_error", "next": "neg_mean_squared_error",
            "classify": "accuracy"}


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _n_jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"must be >= 1 or -1 (every core), got {text!r}")
    return value


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = Parser(prog=prog, description="Search the hyperparameters of an exercise's "
                     "pipeline over its default space; write the trials table, a plot of "
                     "the score by trial and the best pipeline.")
    parser.add_argument("name", metavar="NAME", choices=list(EXERCISES),
                        help="one of: " + ", ".join(EXERCISES))
    parser.add_argument("--n-trials", type=_positive(int), default=10)
    parser.add_argument("--n-jobs", type=_n_jobs, default=1,
                        help="trials at once (-1: every core; with dask, the cluster's)")
    parser.add_argument("--backend", choices=["loky", "threading", "multiprocessing",
                                              "dask"], default="loky")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="a Dask scheduler's address, e.g. tcp://scheduler:8786 "
                        "(implies --backend dask)")
    parser.add_argument("--storage", metavar="PATH", default=None,
                        help="SQLite file, journal file (.log/.journal) or database URL: "
                        "rerunning resumes the search")
    parser.add_argument("--sampler", choices=["random", "tpe", "grid"], default="tpe",
                        help="grid: the ends of every range and every option")
    parser.add_argument("--timeout", type=_positive(float), default=None,
                        metavar="SECONDS", help="stop a trial after this long")
    parser.add_argument("--pruner", choices=["none", "median", "hyperband"], default="none",
                        help="stop hopeless trials on their per-epoch validation score "
                        "(exercise1-4)")
    parser.add_argument("--cv", type=_positive(int), default=3, help="walk-forward folds")
    parser.add_argument("--n-samples", type=_positive(int), default=None,
                        help="samples to generate (default: the exercise's)")
    parser.add_argument("--epochs", type=_positive(int), default=None,
                        help="training epochs per trial (default: the exercise's)")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="where to write (default: searches/NAME)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    return parser


def grid_of(space: dict[str, Any]) -> dict[str, list]:
    """A grid of a space: the ends of every range, every option of a Choice."""
    grid = {}
    for name, values in space.items():
        if isinstance(values, Choice):
            grid[name] = list(values.options)
        elif isinstance(values, (Uniform, LogUniform, RandInt, LogRandInt)):
            grid[name] = [values.low, values.high]
        else:
            grid[name] = list(values)
    return grid


def _search(args: argparse.Namespace, pipeline: Any, scoring: str) -> Any:
    from seqpipe.pipelines import default_space  # Keras, imported once the args are good

    space = default_space(pipeline)
    common = {"cv": args.cv, "scoring": scoring, "n_jobs": args.n_jobs,
              "backend": "dask" if args.scheduler else args.backend,
              "storage": args.storage, "timeout": args.timeout,
              "pruner": None if args.pruner == "none" else args.pruner,
              "scheduler": args.scheduler, "verbose": 0 if args.quiet else 1,
              "random_state": args.random_state}
    if args.sampler == "grid":
        return GridSearch(pipeline, grid_of(space), **common)
    search = TPESearch if args.sampler == "tpe" else RandomSearch
    return search(pipeline, space, n_trials=args.n_trials, **common)


def write_trials(search: Any, path: Path) -> Path:
    """``trials.csv``: number, state, score, seconds, error, then one column per param."""
    names = list(search.space)
    with _atomic(path, "w") as file:
        writer = csv.writer(file)
        writer.writerow(["number", "state", "score", "seconds", "error", *names])
        for trial in search.trials_:
            writer.writerow([trial["number"], trial["state"], trial["value"],
                             f"{trial['duration']:.3f}", trial["error"] or "",
                             *(trial["params"][name] for name in names)])
    return path


def plot_scores(search: Any, path: Path, title: str) -> Path:
    """Each trial's score (failed and pruned trials marked) and the best so far."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    trials = search.trials_
    complete = [(t["number"], t["value"]) for t in trials if t["state"] == "COMPLETE"]
    if complete:
        numbers, values = zip(*complete)
        ax.plot(numbers, values, "o", label="trial's score")
        best, so_far = -math.inf, []
        for value in values:
            best = max(best, value)
            so_far.append(best)
        ax.step(numbers, so_far, where="post", label="best so far")
    for state, marker in (("FAIL", "x"), ("PRUNED", "v")):
        numbers = [t["number"] for t in trials if t["state"] == state]
        if numbers:
            bottom = min(v for _, v in complete) if complete else 0.0
            ax.plot(numbers, [bottom] * len(numbers), marker, color="grey",
                    label=state.lower())
    ax.set_xlabel("trial")
    ax.set_ylabel(f"score ({search.scoring})")
    ax.set_title(title)
    ax.legend(loc="best")
    fig.tight_layout()
    with _atomic(path, "wb") as file:
        fig.savefig(file, format="png")
    return path


class _atomic:  # noqa: N801 - used like open()
    """Write to a temporary file beside ``path``, then rename it over ``path``; the file
    gets the usual mode of a new file (0666 less the umask), not mkstemp's 0600."""

    def __init__(self, path: Path, mode: str) -> None:
        self.path, self.mode = Path(path), mode

    def __enter__(self) -> Any:
        handle, self.temporary = tempfile.mkstemp(dir=self.path.parent,
                                                  prefix=f".{self.path.name}.")
        os.chmod(self.temporary, _FILE_MODE)  # 0666 less the umask, as best.seqpipe
        self.file = os.fdopen(handle, self.mode, **({"newline": ""} if "b" not in
                                                     self.mode else {}))
        return self.file

    def __exit__(self, exc_type: Any, *exc_info: Any) -> None:
        self.file.close()
        if exc_type is None:
            os.replace(self.temporary, self.path)
        else:
            os.unlink(self.temporary)


def main(argv: list[str] | None = None, prog: str = "seqpipe search") -> int:
    """Entry point of ``seqpipe search``; returns the exit status."""
    parser = _parser(prog)
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    if args.scheduler and args.backend not in ("loky", "dask"):
        parser.error(f"--scheduler runs the trials on Dask: not with --backend "
                     f"{args.backend}")
    if args.pruner != "none" and not args.name.startswith("exercise"):
        parser.error(f"--pruner needs a pipeline that validates every epoch (exercise1-4), "
                     f"not {args.name}")
    exercise = EXERCISES[args.name]
    try:
        X, y = exercise.load(args.n_samples, args.random_state)
    except ValueError as error:
        parser.error(one_line(error))
    pipeline = build_pipeline(exercise, epochs=args.epochs, batch_size=None,
                              hidden_dim=None, learning_rate=None,
                              random_state=args.random_state)
    search = _search(args, pipeline, _SCORING[exercise.kind])
    out = args.out or Path("searches") / args.name
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"--out {out}: {error.strerror or error}")
    if not args.quiet:
        print(backend_line(), flush=True)
    try:
        search.fit(X, y)
    except (ValueError, TypeError) as error:
        if not hasattr(search, "trials_"):
            parser.error(one_line(error))
        print(f"{prog}: {one_line(error)}", file=sys.stderr)
        return 1
    write_trials(search, out / "trials.csv")
    plot_scores(search, out / "score_by_trial.png", f"seqpipe search {args.name}")
    with _atomic(out / "best.json", "w") as file:
        json.dump({"score": search.best_score_, "scoring": search.scoring,
                   "params": search.best_params_}, file, indent=2, default=str)
    save(search.best_estimator_, out / "best.seqpipe")
    if not args.quiet:
        states = [trial["state"] for trial in search.trials_]
        print(f"{len(states)} trials: {states.count('COMPLETE')} complete, "
              f"{states.count('FAIL')} failed, {states.count('PRUNED')} pruned. Best "
              f"{search.scoring} {search.best_score_:.6g} with {search.best_params_}")
        print(f"wrote {out}/trials.csv, score_by_trial.png, best.json, best.seqpipe")
        if search.storage_url_:
            print(f"trials stored in {search.storage_url_} (study "
                  f"{search.study_.study_name}); browse them with: optuna-dashboard "
                  f"{search.storage_url_}")
    return 0
