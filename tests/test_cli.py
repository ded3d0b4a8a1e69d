"""The `seqpipe` command: `make run` calls `seqpipe run exercise1`."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from seqpipe.cli import main
from seqpipe.datasets import load_exercise

NAMES = ["exercise1", "exercise2", "exercise3", "exercise4", "noisy-sine", "sin", "sin-cos",
         "x-sin", "echo", "stock", "csv"]


def seqpipe(*args, timeout=240):
    """Run ``python -m seqpipe ARGS`` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "seqpipe", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_list_shows_every_exercise_with_a_description():
    result = seqpipe("list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == NAMES
    assert all(len(line.split()) > 3 for line in lines)  # a description on each line


def test_run_exercise1_end_to_end(tmp_path, capsys):
    assert main(["run", "exercise1", "--epochs", "2", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "validation MSE" in out and "predictions identical (bitwise)" in out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    baselines = metrics["baselines"]
    # predicting zeros on sine and cosine gives 0.5: the trained model must do far better
    assert baselines["zero_mse"] == pytest.approx(0.5, abs=0.05)
    assert metrics["validation_mse"] < 0.5 * min(baselines["zero_mse"],
                                                 baselines["last_value_mse"])
    # noise-free sines follow a linear recurrence: the linear autoregression is exact
    assert baselines["linear_ar_mse"] < 1e-6 and metrics["season"] is None
    # the last 150 windows validate; the 10 before them (one future) are left out
    X, _ = load_exercise(1, random_state=0)
    assert metrics["gap"] == 10
    np.testing.assert_array_equal(np.load(tmp_path / "validation_X.npy"), X[-150:])
    for name in ("pipeline.seqpipe", "validation_predictions.png", "validation_X.npy"):
        assert (tmp_path / name).stat().st_size > 0


def test_run_sin_beats_last_value_and_reloads_identically(tmp_path):
    """Tiny settings (400 windows, 2 epochs of batches of 8) already halve last-value."""
    result = seqpipe("run", "sin", "--epochs", "2", "--n-samples", "400", "--batch-size",
                     "8", "--learning-rate", "0.01", "--quiet", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "predictions identical (bitwise)" in result.stdout
    assert "last value" in result.stdout and "predict zero" in result.stdout
    # no TensorFlow log line, in this process or in the reload check's
    assert not re.search(r"oneDNN|absl|^[IWE]\d{4} ", result.stdout + result.stderr, re.M)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["gap"] == 0 and metrics["n_validation"] == 60  # the last 15%
    assert metrics["validation_mse"] < 0.5 * metrics["baselines"]["last_value_mse"]
    assert set(metrics["baselines"]) == {"zero_mse", "last_value_mse", "linear_ar_mse"}
    for name in ("pipeline.seqpipe", "validation_predictions.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_run_echo_beats_the_majority_class(tmp_path, capsys):
    assert main(["run", "echo", "--epochs", "2", "--n-samples", "1000", "--hidden-dim",
                 "25", "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "majority class" in out and "predictions identical (bitwise)" in out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    majority = metrics["baselines"]["majority_accuracy"]
    assert 0 < majority < 0.1  # 25 classes
    assert metrics["validation_accuracy"] > 2 * majority
    assert not (tmp_path / "validation_predictions.png").exists()


@pytest.mark.parametrize("args, message", [
    (["run", "exercise9"], "argument NAME: invalid choice: 'exercise9'"),
    (["run", "sin", "--epochs", "0"], "argument --epochs: must be a positive integer, "
                                      "got '0'"),
    (["run", "sin", "--batch-size", "-1"], "argument --batch-size: must be a positive "
                                           "integer, got '-1'"),
    (["run", "sin", "--n-samples", "0"], "argument --n-samples: must be a positive "
                                         "integer, got '0'"),
    (["run", "sin", "--hidden-dim", "two"], "argument --hidden-dim: expected a positive "
                                            "integer, got 'two'"),
    (["run", "sin", "--learning-rate", "-0.1"], "argument --learning-rate: must be a "
                                                "positive number, got '-0.1'"),
    (["run", "sin", "--n-samples", "1"], "--n-samples 1 is too small for sin"),
    (["run", "exercise4", "--n-samples", "50"], "--n-samples 50 is too small for exercise4"),
])
def test_bad_arguments_exit_2_with_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("seqpipe run: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_bad_arguments_in_a_fresh_process_show_no_traceback():
    result = seqpipe("run", "sin", "--epochs", "0")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        "seqpipe run: error: argument --epochs: must be a positive integer")


def test_serve_refuses_a_missing_artifact_in_one_line(tmp_path):
    """`seqpipe serve` delegates to seqpipe.serving: nothing is served, no traceback."""
    missing = tmp_path / "nothing.seqpipe"
    result = subprocess.run([sys.executable, "-m", "seqpipe", "serve", str(missing),
                             "--port", "0"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("seqpipe serve: error: cannot load the models")
    assert "nothing.seqpipe" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
