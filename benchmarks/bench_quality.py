"""Quality of every seed's ready pipeline on the seed's data, beside naive baselines.

Run: ``python benchmarks/bench_quality.py [NAME ...] [--set KEY=VALUE ...]``

NAME is one of ``exercise1`` .. ``exercise4`` (seed 003), ``noisy-sine`` (seed 000),
``sin``, ``sin-cos``, ``x-sin`` (seed 001), ``echo`` (seed 004); none: all of them.
``--set hidden_dim=32 --set epochs=5`` passes keywords to the factories (to try other
settings; a keyword a factory does not take is an error).

Each row trains the default factory of :mod:`seqpipe.pipelines` on the seed's data
(generated with ``random_state=0``) split in time as ``seqpipe run`` splits it: the
last 15 % validate, after the gap of :func:`seqpipe._time_split.resolve_gap` (the
future window's length for seq2seq windows). It prints the validation score (MSE in
y's units, accuracy for echo) beside the target, the baselines (predict zero, last
value, a linear autoregression: scikit-learn's Ridge on the flattened window, fitted
on the training part; majority class for echo) and the seconds the fit took.

Targets (each row within 3 minutes on 2 CPU cores):

- exercise 1: MSE <= 0.0003;
- exercise 2: MSE <= 0.15x predict-zero; exercise 3: MSE <= 0.50x predict-zero;
- exercise 4 (Bitcoin prices, close to a random walk): MSE <= 1.05x last value (far
  below last value on prices would mean a leak);
- seed 001: at least the seed's own test MSEs, sin 0.000776, sin+cos 0.001144,
  x sin 61.0;
- seed 000: MSE <= 1.2x the noise floor (the noise's variance, 0.1 ** 2);
- seed 004: accuracy >= 0.99.

Without NAME, the rows of ``bench_quality_series.py`` beside this file (``seqpipe run
stock`` and ``seqpipe run csv``, each beside skforecast) follow the seeds' rows.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402

import seqpipe.pipelines as pipelines  # noqa: E402
from seqpipe._time_split import holdout_split, resolve_gap  # noqa: E402
from seqpipe.datasets import (  # noqa: E402
    load_exercise,
    make_echo_sequences,
    make_noisy_sine,
    make_sin,
    make_sin_cos,
    make_x_sin,
)

VALIDATION_SIZE = 0.15  # as seqpipe run
NOISE_STD = 0.1  # make_noisy_sine's default, the seed's


@dataclass
class Row:
    """One line of the report: a score, its target and the baselines beside it."""

    name: str
    metric: str  # "MSE" or "accuracy"
    value: float
    target: float
    target_text: str
    baselines: dict[str, float]
    seconds: float
    epochs: int | None = None  # epochs trained (early stopping may cut them short)

    @property
    def met(self) -> bool:
        return self.value >= self.target if self.metric == "accuracy" else self.value <= self.target


@dataclass(frozen=True)
class Case:
    """A seed's data, its factory and how its target follows from the baselines."""

    load: Callable[[], tuple[np.ndarray, np.ndarray]]
    factory: Callable[..., Any]
    target: Callable[[dict[str, float]], tuple[float, str]]
    classify: bool = False


def _exercise(number: int) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    return lambda: load_exercise(number, random_state=0)


def _factory(number: int) -> Callable[..., Any]:
    return lambda **keywords: pipelines.exercise_pipeline(number, **keywords)


def _fixed(value: float, text: str) -> Callable[[dict[str, float]], tuple[float, str]]:
    return lambda baselines: (value, text)


def _times(factor: float, baseline: str) -> Callable[[dict[str, float]], tuple[float, str]]:
    return lambda baselines: (factor * baselines[baseline], f"{factor:g}x {baseline}")


CASES: dict[str, Case] = {
    "exercise1": Case(_exercise(1), _factory(1), _fixed(3e-4, "0.0003")),
    "exercise2": Case(_exercise(2), _factory(2), _times(0.15, "zero")),
    "exercise3": Case(_exercise(3), _factory(3), _times(0.50, "zero")),
    "exercise4": Case(_exercise(4), _factory(4), _times(1.05, "last value")),
    "noisy-sine": Case(lambda: make_noisy_sine(random_state=0), pipelines.noisy_sine_pipeline,
                       _fixed(1.2 * NOISE_STD**2, f"1.2x noise {NOISE_STD**2:g}")),
    "sin": Case(lambda: make_sin(random_state=0), pipelines.sin_pipeline,
                _fixed(0.000776, "seed 0.000776")),
    "sin-cos": Case(lambda: make_sin_cos(random_state=0), pipelines.sin_cos_pipeline,
                    _fixed(0.001144, "seed 0.001144")),
    "x-sin": Case(lambda: make_x_sin(random_state=0), pipelines.x_sin_pipeline,
                  _fixed(61.0, "seed 61.0")),
    "echo": Case(lambda: make_echo_sequences(random_state=0), pipelines.echo_pipeline,
                 _fixed(0.99, "0.99"), classify=True),
}


def _mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean((np.asarray(y_true, dtype=float) - y_pred) ** 2))


def _last_value(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The window's last step, repeated over y's future steps when y is 3-D."""
    last = X[:, -1, : y.shape[-1]]
    return np.repeat(last[:, None, :], y.shape[1], axis=1) if y.ndim == 3 else last


def regression_baselines(X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray,
                         y_val: np.ndarray) -> dict[str, float]:
    """Validation MSE of predicting zero, the last value, and Ridge on the window."""
    ridge = Ridge(alpha=1e-3).fit(X_train.reshape(len(X_train), -1),
                                  y_train.reshape(len(y_train), -1))
    linear = ridge.predict(X_val.reshape(len(X_val), -1)).reshape(y_val.shape)
    return {"zero": _mse(y_val, 0.0), "last value": _mse(y_val, _last_value(X_val, y_val)),
            "ridge": _mse(y_val, linear)}


def run_case(name: str, overrides: dict[str, Any] | None = None) -> Row:
    """Train ``name``'s default factory (with ``overrides``) and score it."""
    case = CASES[name]
    X, y = case.load()
    gap = resolve_gap("auto", y, owner="bench_quality")
    train, validation = holdout_split(len(X), VALIDATION_SIZE, gap=gap, owner="bench_quality")
    X_train, y_train, X_val, y_val = X[train], y[train], X[validation], y[validation]
    pipeline = case.factory(**(overrides or {}))
    start = time.perf_counter()
    pipeline.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    prediction = pipeline.predict(X_val)
    if case.classify:
        counts = np.bincount(y_train)
        baselines = {"majority": float(np.mean(y_val == counts.argmax()))}
        value, metric = float(np.mean(prediction == y_val)), "accuracy"
    else:
        baselines = regression_baselines(X_train, y_train, X_val, y_val)
        value, metric = _mse(y_val, prediction), "MSE"
    target, text = case.target(baselines)
    epochs = getattr(pipeline, "n_epochs_", None)
    return Row(name, metric, value, target, text, baselines, seconds, epochs)


def seed_rows(names: Iterable[str], overrides: dict[str, Any]) -> Iterable[Row]:
    """The rows of the generated seeds' exercises."""
    for name in names:
        yield run_case(name, overrides)


def series_rows() -> Iterable[Any]:
    """The rows of ``bench_quality_series.py`` beside this file (``seqpipe run csv`` and
    stock series), through its ``rows()``; none if the file is absent."""
    path = Path(__file__).with_name("bench_quality_series.py")
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location("bench_quality_series", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.rows()


def format_row(row: Any) -> str:
    """One line: name, score, target, met, baselines, seconds."""
    baselines = "  ".join(f"{key} {value:.4g}" for key, value in row.baselines.items())
    ratio = ""
    if row.metric == "MSE" and row.baselines.get("zero"):
        ratio = f" ({row.value / row.baselines['zero']:.3f}x zero)"
    return (f"{row.name:<12} {row.metric} {row.value:.4g}{ratio}  target {row.target_text} "
            f"= {row.target:.4g}: {'MET' if row.met else 'MISSED'}  |  {baselines}  |  "
            f"{row.seconds:.1f} s" + (f", {row.epochs} epochs" if getattr(row, "epochs", None)
                                       else ""))


def _parse_value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"True": True, "False": False, "None": None}.get(text, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="one or more of: " + ", ".join(CASES))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a keyword for the factories")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in CASES]
    if unknown:
        parser.error(f"unknown NAME {', '.join(unknown)}; expected one of {', '.join(CASES)}")
    overrides = dict(item.split("=", 1) for item in args.set)
    overrides = {key: _parse_value(value) for key, value in overrides.items()}
    sources: list[Callable[[], Iterable[Any]]] = [
        lambda: seed_rows(args.names or list(CASES), overrides)]
    if not args.names:
        sources.append(series_rows)
    missed = 0
    for source in sources:
        for row in source():
            print(format_row(row), flush=True)
            missed += not row.met
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
