"""The `seqpipe` command: `make run` calls `seqpipe run exercise1`."""

import json

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
