"""The `seqpipe` command: `make run` calls `seqpipe run exercise1`."""

import json

import pytest

from seqpipe.cli import main


def test_list(capsys):
    assert main(["list"]) == 0
    assert capsys.readouterr().out.split() == ["exercise1", "exercise2", "exercise3",
                                               "exercise4"]


def test_run_exercise1_end_to_end(tmp_path, capsys):
    assert main(["run", "exercise1", "--epochs", "2", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "validation MSE" in out and "predictions identical (bitwise)" in out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert 0 < metrics["validation_mse"] < 1
    for name in ("pipeline.seqpipe", "validation_predictions.png", "validation_X.npy"):
        assert (tmp_path / name).stat().st_size > 0


def test_unknown_exercise_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["run", "exercise9"])
    assert "invalid choice: 'exercise9'" in capsys.readouterr().err
