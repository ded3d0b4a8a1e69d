"""Seed 003's composition against plain Keras on exercise 1, measured side by side.

Run: ``python benchmarks/bench_training.py [--repeat 3] [--epochs 15]``

Three ratios, from interleaved repetitions in one run (medians):

1. total fit time of the composition
   ``EpochRepeater(ValidationSplit(MetricsWrapper(Pipeline([TrainOnly(DataShuffler()),
   MiniBatch(MetricsWrapper(signal_prediction), batch_size=100)])), 0.15), epochs=15)``
   over plain ``model.fit(validation_data=...)`` with the same model, optimizer,
   batch size, epochs and split (data normalized once beforehand);
2. steady-epoch time (median of the epochs after the first) over model.fit's;
3. pipeline plumbing per minibatch: the same composition with a no-op model, over a
   bare numpy loop doing the same work per batch (shuffle each epoch, slice, normalize
   X and y, cast to float32, "train", and the metrics the composition records: MSE per
   batch in y's units, train MSE per epoch on the batches' predictions, validation MSE
   per epoch) with the same numerics as MeanStdNormalizer (so only the plumbing
   differs). A diagnostic row does the same without the two MetricsWrappers (and
   without those metrics in the loop): the steps' own overhead, with no metric work
   for the composition to do more cleverly than the loop.

Targets: (1) <= 0.95, (2) <= 0.70, (3) <= 1.25. Validation MSE must match
model.fit's within noise: repetition r uses seed r on both sides (weights, shuffling),
and the seeds' validation MSEs are printed for both.

``--backends jax,tensorflow`` compares Keras backends instead, each in its own process
(``KERAS_BACKEND`` set), repetitions interleaved: per backend, the composition's and
plain ``model.fit``'s total fit times, ``Pipeline.predict`` of one window and plain
Keras ``predict_on_batch`` of 1 and 32 windows (medians of 300 calls) and the size of
the backend's installed distributions (``--threads N`` sizes every backend's thread
pools as ``seqpipe serve --model-threads N`` does; default: each backend's own); then the
composition on the first backend over each backend's ``model.fit``. Targets (issue 22):
JAX composition <= 0.8x JAX ``model.fit`` and <= 0.45x TensorFlow ``model.fit``;
one-window ``Pipeline.predict`` on JAX <= 0.3 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import seqpipe  # noqa: F401  (before Keras: the backend seqpipe chooses)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.base import BaseEstimator, RegressorMixin  # noqa: E402

from seqpipe import Pipeline  # noqa: E402
from seqpipe.datasets import load_exercise  # noqa: E402
from seqpipe.models import seq2seq_gru  # noqa: E402
from seqpipe.pipelines import seed003_training  # noqa: E402
from seqpipe.steps import KerasModelStep, MeanStdNormalizer, PlotPredictions, ToNumpy  # noqa: E402

MODEL = {"hidden_dim": 12, "layers_stacked_count": 2, "lambda_loss_amount": 1e-5}
LEARNING_RATE, BATCH, VALIDATION = 1e-2, 100, 0.15


class NoOpModel(RegressorMixin, BaseEstimator):
    """Learns nothing, predicts zeros: isolates the pipeline's own cost."""

    def adapt(self, X, y):
        self.y_shape_ = y.shape[1:]
        return self

    def partial_fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros((len(X), *self.y_shape_), dtype=np.float32)


def composition(model, epochs, metrics=True, seed=0):
    signal_prediction = Pipeline([MeanStdNormalizer(), ToNumpy(), PlotPredictions(model)])
    return seed003_training(signal_prediction, epochs=epochs, batch_size=BATCH,
                            validation_size=VALIDATION, metrics=metrics, random_state=seed)


def run_composition(X, y, epochs, seed):
    model = KerasModelStep(seq2seq_gru, learning_rate=LEARNING_RATE, random_state=seed,
                           **MODEL)
    pipe = composition(model, epochs, seed=seed)
    start = time.perf_counter()
    pipe.fit(X, y)
    total = time.perf_counter() - start
    validation_mse = pipe.history_["epoch_metrics"]["validation"]["mse"][-1]
    return total, statistics.median(pipe.epoch_seconds_[1:]), validation_mse


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def run_plain_keras(X, y, epochs, seed):
    """What a Keras user writes: normalize once, then model.fit with validation_data."""
    start = time.perf_counter()
    n_train = len(X) - int(np.ceil(VALIDATION * len(X)))
    mean, std = X[:n_train].mean(axis=(0, 1)), X[:n_train].std(axis=(0, 1)) + 1e-5
    Xn, yn = ((X - mean) / std).astype("float32"), ((y - mean) / std).astype("float32")
    keras.utils.set_random_seed(seed)
    model = seq2seq_gru(X.shape[-1], y.shape[-1], y.shape[1], **MODEL)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse")
    timer = EpochTimer()
    model.fit(Xn[:n_train], yn[:n_train], validation_data=(Xn[n_train:], yn[n_train:]),
              batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])
    total = time.perf_counter() - start
    y_pred = model.predict(Xn[n_train:], verbose=0) * std + mean
    validation_mse = float(np.mean((y_pred - y[n_train:]) ** 2))
    return total, statistics.median(timer.seconds[1:]), validation_mse


def run_plumbing(X, y, epochs, metrics=True):
    pipe = composition(NoOpModel(), epochs, metrics)
    start = time.perf_counter()
    pipe.fit(X, y)
    return time.perf_counter() - start


def run_bare_loop(X, y, epochs, metrics=True):
    """The same work as the no-op composition, written as a bare numpy loop."""
    start = time.perf_counter()
    rng = np.random.RandomState(0)
    n_train = len(X) - int(np.ceil(VALIDATION * len(X)))
    X_train, y_train, X_val, y_val = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    # the numerics MeanStdNormalizer uses, so that only the plumbing differs: statistics
    # reduced over one contiguous row per feature (~10x faster than axis=(0, 1)), then
    # tiled to one sample's shape (numpy broadcasts that ~4x faster than a 2-vector)
    rows = np.ascontiguousarray(X_train.reshape(-1, X.shape[-1]).T)
    mean, std = rows.mean(axis=1), rows.std(axis=1) + 1e-5
    mean, std = (np.ascontiguousarray(np.broadcast_to(s, X.shape[1:])) for s in (mean, std))

    def predict(x):  # normalize, "predict" zeros, back to y's units
        _ = ((x - mean) / std).astype(np.float32)
        return np.zeros(x.shape[:1] + y.shape[1:], np.float32) * std + mean

    for _ in range(epochs):
        order = rng.permutation(n_train)
        Xs, ys = X_train[order], y_train[order]
        predictions = []
        for i in range(0, n_train, BATCH):
            xb, yb = Xs[i:i + BATCH], ys[i:i + BATCH]
            _ = ((xb - mean) / std).astype(np.float32), ((yb - mean) / std).astype(np.float32)
            if metrics:
                predictions.append(predict(xb))
                np.mean((predictions[-1] - yb) ** 2)
        if metrics:  # the epoch's train MSE, on the batches' predictions
            np.mean((np.concatenate(predictions) - ys) ** 2)
        np.mean((predict(X_val) - y_val) ** 2)
    return time.perf_counter() - start


def one_window_predict_ms(X, y, calls=300):
    """Median of ``calls`` timed ``Pipeline.predict`` calls on one window of a fitted
    composition's signal pipeline (what a server does per request)."""
    model = KerasModelStep(seq2seq_gru, learning_rate=LEARNING_RATE, random_state=0, **MODEL)
    pipe = Pipeline([MeanStdNormalizer(), ToNumpy(), model]).fit(X, y)
    window = X[:1]
    for _ in range(20):
        pipe.predict(window)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        pipe.predict(window)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def plain_predict_ms(X, y, rows, calls=300):
    """Median of ``calls`` timed plain Keras ``model.predict_on_batch`` calls on
    ``rows`` windows (the model of exercise 1, normalized inputs)."""
    keras.utils.set_random_seed(0)
    model = seq2seq_gru(X.shape[-1], y.shape[-1], y.shape[1], **MODEL)
    x = X[:rows].astype("float32")
    for _ in range(20):
        model.predict_on_batch(x)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        model.predict_on_batch(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def child(epochs, seed):
    """One repetition on this process's backend, as JSON on stdout."""
    X, y = load_exercise(1, random_state=0)
    # what the process compiles once for any model (initializers' kernels): not counted
    seq2seq_gru(X.shape[-1], y.shape[-1], y.shape[1], **MODEL)
    first, second = (run_composition, run_plain_keras)[::1 if seed % 2 == 0 else -1]
    times = {run: run(X, y, epochs, seed)[0] for run in (first, second)}  # order alternates
    ours, plain = times[run_composition], times[run_plain_keras]
    print(json.dumps({"backend": keras.config.backend(), "seqpipe": ours, "keras": plain,
                      "predict_ms": one_window_predict_ms(X, y),
                      "plain_1_ms": plain_predict_ms(X, y, 1),
                      "plain_32_ms": plain_predict_ms(X, y, 32)}))


BACKEND_DISTRIBUTIONS = {"jax": ["jax", "jaxlib"], "tensorflow": ["tensorflow-cpu", "tensorflow"],
                         "torch": ["torch"]}


def installed_gb(backend):
    """Size on disk of the backend's own distributions (jax + jaxlib; tensorflow or
    tensorflow-cpu; torch), from their installed files; NaN if none is installed."""
    from importlib import metadata

    total, found = 0, False
    for name in BACKEND_DISTRIBUTIONS.get(backend, [backend]):
        try:
            files = metadata.distribution(name).files or []
        except metadata.PackageNotFoundError:
            continue
        found = True
        total += sum(path.stat().st_size for path in (f.locate() for f in files)
                     if path.is_file())
    return total / 1e9 if found else float("nan")


def compare_backends(backends, repeat, epochs, threads=0):
    runs = {backend: [] for backend in backends}
    for seed in range(repeat):  # interleaved: machine noise hits every backend alike
        for backend in backends:
            result = subprocess.run(
                [sys.executable, __file__, "--child", "--epochs", str(epochs), "--seed",
                 str(seed), "--threads", str(threads)],
                env={**os.environ, "KERAS_BACKEND": backend},
                capture_output=True, text=True, check=True)
            runs[backend].append(json.loads(result.stdout.strip().splitlines()[-1]))

    def med(backend, key):
        return statistics.median(run[key] for run in runs[backend])

    print(f"exercise 1, {epochs} epochs, batch {BATCH}, repeat {repeat} (medians; each "
          f"repetition a fresh process per backend, compile times included); threads per "
          f"backend pool: {threads or 'the backend default (all cores)'}")
    print(f"{'backend':12}{'seqpipe':>10}{'model.fit':>11}{'ratio':>8}"
          f"{'Pipeline.predict 1':>20}{'predict_on_batch 1 / 32':>26}{'installed':>11}")
    for backend in backends:
        print(f"{backend:12}{med(backend, 'seqpipe'):>9.2f}s{med(backend, 'keras'):>10.2f}s"
              f"{med(backend, 'seqpipe') / med(backend, 'keras'):>8.2f}"
              f"{med(backend, 'predict_ms'):>17.3f} ms"
              f"{med(backend, 'plain_1_ms'):>14.3f} / {med(backend, 'plain_32_ms'):.3f} ms"
              f"{installed_gb(backend):>9.2f} GB")
    first = backends[0]
    for backend in backends:
        ratios = [a["seqpipe"] / b["keras"] for a, b in zip(runs[first], runs[backend])]
        target = {"jax": 0.8, "tensorflow": 0.45}.get(backend) if first == "jax" else None
        verdict = "" if target is None else \
            f"  target <= {target}: {'PASS' if statistics.median(ratios) <= target else 'FAIL'}"
        print(f"seqpipe on {first} / model.fit on {backend}: "
              f"{statistics.median(ratios):.2f}{verdict}")
    if first == "jax":
        verdict = "PASS" if med("jax", "predict_ms") <= 0.3 else "FAIL"
        print(f"Pipeline.predict, 1 window, on jax: {med('jax', 'predict_ms'):.3f} ms  "
              f"target <= 0.3 ms: {verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--backends", default=None, metavar="NAMES",
                        help="compare Keras backends, e.g. jax,tensorflow (the first is "
                             "the one measured against the others' model.fit)")
    parser.add_argument("--threads", type=int, default=0, metavar="N",
                        help="with --backends: size each backend's thread pools to N, as "
                             "seqpipe serve --model-threads does (default 0: each backend's "
                             "own choice, all cores)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads < 0:
        parser.error(f"argument --threads: must be an int in the range [0, inf). "
                     f"Got {args.threads} instead.")
    if args.child:
        from seqpipe import _backends

        if args.threads:  # before the backend's runtime starts, as seqpipe serve does
            _backends.current().limit_threads(args.threads)
        return child(args.epochs, args.seed)
    if args.backends:
        return compare_backends(args.backends.split(","), args.repeat, args.epochs,
                                args.threads)
    X, y = load_exercise(1, random_state=0)
    n_batches = args.epochs * int(np.ceil((len(X) - np.ceil(VALIDATION * len(X))) / BATCH))
    runs = {"seqpipe": [], "keras": [], "plumbing": [], "bare": [], "plumbing_nm": [],
            "bare_nm": []}
    run_plumbing(X, y, 1), run_bare_loop(X, y, 1)  # warm up imports and caches
    for seed in range(args.repeat):  # interleaved: machine noise hits both sides alike
        runs["seqpipe"].append(run_composition(X, y, args.epochs, seed))
        runs["keras"].append(run_plain_keras(X, y, args.epochs, seed))
        for _ in range(10):
            runs["plumbing"].append(run_plumbing(X, y, args.epochs) / n_batches)
            runs["bare"].append(run_bare_loop(X, y, args.epochs) / n_batches)
            runs["plumbing_nm"].append(run_plumbing(X, y, args.epochs, False) / n_batches)
            runs["bare_nm"].append(run_bare_loop(X, y, args.epochs, False) / n_batches)

    def med(name, index):
        return statistics.median(run[index] for run in runs[name])

    def per_batch(ours, reference):
        """Medians in us, and the median ratio of adjacent (interleaved) runs."""
        ratios = [a / b for a, b in zip(runs[ours], runs[reference])]
        return (statistics.median(runs[ours]) * 1e6, statistics.median(runs[reference]) * 1e6,
                statistics.median(ratios))

    rows = [
        ("total fit time", med("seqpipe", 0), med("keras", 0), None, "s", 0.95),
        ("steady epoch time", med("seqpipe", 1), med("keras", 1), None, "s", 0.70),
        ("plumbing per minibatch", *per_batch("plumbing", "bare"), "us", 1.25),
        ("  without MetricsWrappers", *per_batch("plumbing_nm", "bare_nm"), "us", None),
    ]
    print(f"exercise 1: {len(X)} samples, batch {BATCH}, {args.epochs} epochs, validation "
          f"{VALIDATION}, repeat {args.repeat} (medians)")
    print(f"{'':26}{'seqpipe':>12}{'reference':>12}{'ratio':>8}{'target':>9}")
    for name, ours, reference, ratio, unit, target in rows:
        ratio = ours / reference if ratio is None else ratio
        verdict = ("(diagnostic)" if target is None else
                   f"{'<= ' + str(target):>9}  {'PASS' if ratio <= target else 'FAIL'}")
        print(f"{name:26}{ours:>10.3f}{unit:>2}{reference:>10.3f}{unit:>2}{ratio:>8.2f}"
              f"  {verdict}")
    print("reference: plain model.fit(validation_data=...) for the first two rows, a bare "
          "numpy loop doing the same work for the others (ratio: median over adjacent runs)")
    def spread(name):
        values = sorted(run[2] for run in runs[name])
        return f"{statistics.median(values):.6f} (seeds 0-{args.repeat - 1}: " + \
            ", ".join(f"{v:.6f}" for v in values) + ")"

    print(f"validation MSE: seqpipe {spread('seqpipe')}, model.fit {spread('keras')}")


if __name__ == "__main__":
    main()
