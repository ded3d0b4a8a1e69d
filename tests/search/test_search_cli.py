"""``seqpipe search NAME`` through a subprocess (item 7 of issue 11): the trials table,
the plot, the best pipeline reloaded; bad arguments exit 2 in one line."""

import csv
import json
import stat
import subprocess
import sys

import numpy as np
import optuna
import pytest

import seqpipe
from seqpipe.datasets import make_sin


def seqpipe_command(*args, cwd, umask=-1):
    return subprocess.run([sys.executable, "-m", "seqpipe", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd, umask=umask)


def test_a_search_writes_its_trials_plot_and_best_pipeline(tmp_path):
    out = tmp_path / "out"
    done = seqpipe_command("search", "sin", "--n-trials", "2", "--n-jobs", "2",
                           "--sampler", "random", "--n-samples", "150", "--epochs", "1",
                           "--cv", "2", "--storage", str(tmp_path / "trials.db"),
                           "--out", str(out), "--random-state", "3", cwd=tmp_path,
                           umask=0o027)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2 trials: 2 complete, 0 failed, 0 pruned" in done.stdout
    # every file with the mode of a new file under the umask (0640), none with 0600
    for name in ("trials.csv", "best.json", "score_by_trial.png", "best.seqpipe"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o640, name
    # the storage as Optuna's tools open it, and the study: load_study sees the trials
    url = f"sqlite:///{tmp_path / 'trials.db'}"
    (line,) = [line for line in done.stdout.splitlines() if "optuna-dashboard" in line]
    assert line.endswith(f"optuna-dashboard {url}")
    study_name = line.split("(study ")[1].split(")")[0]
    study = optuna.load_study(study_name=study_name, storage=url)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert study.user_attrs["seqpipe_search"] == "RandomSearch"
    assert "trial" in done.stderr and "best=" in done.stderr  # the progress bar
    with open(out / "trials.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["number"] for row in rows] == ["0", "1"]
    assert {row["state"] for row in rows} == {"COMPLETE"}
    assert "kerasmodelstep__units" in rows[0] and float(rows[0]["score"]) < 0
    best = json.loads((out / "best.json").read_text())
    assert best["score"] == max(float(row["score"]) for row in rows)
    assert (out / "score_by_trial.png").read_bytes()[:4] == b"\x89PNG"
    pipeline = seqpipe.load(out / "best.seqpipe")
    assert pipeline.get_params()["kerasmodelstep__units"] == best["params"][
        "kerasmodelstep__units"]
    X, _ = make_sin(20, random_state=0)
    assert np.isfinite(pipeline.predict(X)).all()


@pytest.mark.parametrize("args, message", [
    (["nope"], "argument NAME: invalid choice: 'nope'"),
    (["sin", "--n-trials", "0"], "argument --n-trials: must be > 0, got '0'"),
    (["sin", "--timeout", "soon"], "argument --timeout: expected a number, got 'soon'"),
    (["sin", "--scheduler", "tcp://127.0.0.1:1", "--backend", "threading"],
     "--scheduler runs the trials on Dask: not with --backend threading"),
    (["sin", "--pruner", "median"], "--pruner needs a pipeline that validates every epoch"),
])
def test_bad_arguments_exit_2_in_one_line(tmp_path, args, message):
    done = seqpipe_command("search", *args, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqpipe search: error: ")
    assert message in lines[0]
    assert not (tmp_path / "searches").exists()
