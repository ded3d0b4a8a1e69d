"""seqpipe.plotting: PNG files drawn without touching pyplot or matplotlib's backend."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from seqpipe.plotting import plot_history, plot_predictions

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_plot_predictions_writes_a_png(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 10, 2)), rng.normal(size=(8, 5, 2))
    path = plot_predictions(X, y, y + 0.1, tmp_path / "p.png", max_plotted=3)
    assert path == tmp_path / "p.png"
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert path.stat().st_size > 5_000


def test_plot_history_writes_a_png(tmp_path):
    history = {"epoch": {"train": {"mse": [1.0, 0.5, 0.3], "r2": [-0.2, 0.4, 0.6]},
                         "validation": {"mse": [1.2, 0.7, 0.5], "r2": [-0.4, 0.2, 0.5]}}}
    path = plot_history(history, str(tmp_path / "h.png"))
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert path.stat().st_size > 5_000


# Run in a fresh interpreter, so that this process's matplotlib state does not matter.
SCRIPT = textwrap.dedent("""
    import json, sys
    import seqpipe, seqpipe.steps, seqpipe.plotting
    imported = sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib")
    import matplotlib
    matplotlib.use("svg")                  # the user's backend, not Agg
    if sys.argv[2] == "pyplot":            # a notebook user who has pyplot open
        import matplotlib.pyplot as plt
        plt.figure()
    import numpy as np
    from seqpipe.plotting import plot_history, plot_predictions
    X = np.random.default_rng(0).normal(size=(4, 6, 2))
    plot_predictions(X, X[:, :3], X[:, :3] + 0.1, sys.argv[1] + "/p.png", max_plotted=2)
    plot_history({"train": {"mse": [1.0, 0.5]}, "validation": {"mse": [1.1, 0.6]}},
                 sys.argv[1] + "/h.png")
    pyplot = sys.modules.get("matplotlib.pyplot")
    print(json.dumps({"imported_by_seqpipe": imported, "backend": matplotlib.get_backend(),
                      "pyplot_imported": pyplot is not None,
                      "figures": None if pyplot is None else pyplot.get_fignums()}))
""")


def _run(tmp_path, mode):
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), mode], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["no pyplot", "pyplot"])
def test_plots_leave_the_backend_and_pyplot_alone(tmp_path, mode):
    state = _run(tmp_path, mode)
    assert state["imported_by_seqpipe"] == []  # matplotlib is loaded on the first plot
    assert state["backend"] == "svg"
    if mode == "pyplot":
        assert state["figures"] == [1]  # the user's figure only; none of ours registered
    else:
        assert not state["pyplot_imported"]
    for name in ("p.png", "h.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 5_000

