"""No global side effects (item 7 of the foundations): fitting, shuffling and plotting
leave the user's random generators and matplotlib backend as they were."""

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, random, sys
    import matplotlib
    matplotlib.use("svg")  # a user's own backend, not Agg
    import numpy as np
    from seqpipe import Pipeline
    from seqpipe.models import seq2seq_gru
    from seqpipe.plotting import plot_history, plot_predictions
    from seqpipe.steps import (DataShuffler, EpochRepeater, KerasModelStep, MeanStdNormalizer,
                               MetricsWrapper, MiniBatch, TrainOnly, ValidationSplit)

    def draws():
        return [np.random.rand(3).tolist(), random.random()]

    X = np.random.default_rng(0).normal(size=(64, 6, 2)).astype("float32")
    np.random.seed(7); random.seed(7)
    expected = draws()
    np.random.seed(7); random.seed(7)
    model = EpochRepeater(ValidationSplit(MetricsWrapper(Pipeline([
        TrainOnly(DataShuffler()),
        MiniBatch(Pipeline([MeanStdNormalizer(), KerasModelStep(
            seq2seq_gru, hidden_dim=3, layers_stacked_count=1, random_state=0)]),
            batch_size=32)])), shuffle=True), epochs=2).fit(X, X)
    plot_history(model, sys.argv[1] + "/h.png")
    plot_predictions(X, X, model.predict(X), sys.argv[1] + "/p.png")
    pyplot = sys.modules.get("matplotlib.pyplot")  # Keras imports it, seqpipe does not use it
    print(json.dumps({"expected": expected, "after": draws(),
                      "backend": matplotlib.get_backend(),
                      "pyplot_figures": pyplot.get_fignums() if pyplot else []}))
""")


def test_fit_shuffle_and_plot_leave_generators_and_backend_alone(tmp_path):
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                         text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["after"] == result["expected"]
    assert result["backend"] == "svg"
    assert result["pyplot_figures"] == []
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
