"""The `seqpipe` command: `make run` calls `seqpipe run exercise1`."""

import json
import subprocess
import sys

import numpy as np
import pytest

from seqpipe.cli import main
from seqpipe.datasets import load_exercise


def test_list(capsys):
    assert main(["list"]) == 0
    assert capsys.readouterr().out.split() == ["exercise1", "exercise2", "exercise3",
                                               "exercise4"]


def test_run_exercise1_end_to_end(tmp_path, capsys):
    assert main(["run", "exercise1", "--epochs", "2", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "validation MSE" in out and "predictions identical (bitwise)" in out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    baselines = metrics["baselines"]
    # predicting zeros on sine and cosine gives 0.5: the trained model must do far better
    assert baselines["zero_mse"] == pytest.approx(0.5, abs=0.05)
    assert metrics["validation_mse"] < 0.5 * min(baselines.values())
    # the last 150 windows validate; the 10 before them (one future) are left out
    X, _ = load_exercise(1, random_state=0)
    assert metrics["gap"] == 10
    np.testing.assert_array_equal(np.load(tmp_path / "validation_X.npy"), X[-150:])
    for name in ("pipeline.seqpipe", "validation_predictions.png", "validation_X.npy"):
        assert (tmp_path / name).stat().st_size > 0


def test_unknown_exercise_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["run", "exercise9"])
    assert "invalid choice: 'exercise9'" in capsys.readouterr().err


def test_serve_refuses_a_missing_artifact_in_one_line(tmp_path):
    """`seqpipe serve` delegates to seqpipe.serving: nothing is served, no traceback."""
    missing = tmp_path / "nothing.seqpipe"
    result = subprocess.run([sys.executable, "-m", "seqpipe", "serve", str(missing),
                             "--port", "0"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("seqpipe serve: error: cannot load the models")
    assert "nothing.seqpipe" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
