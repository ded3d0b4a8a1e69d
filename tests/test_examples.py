"""The example scripts run end to end (shortened)."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from seqpipe.datasets import load_exercise

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_exercise1_neuraxle_style(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "exercise1_neuraxle_style.py"), "--epochs", "2",
         "--output", str(tmp_path)], capture_output=True, text=True, check=True)
    assert result.stdout.count("epoch_metrics validation: mse=") == 2
    validation_mse = float(re.search(r"last validation MSE ([0-9.e+-]+)", result.stdout)[1])
    _, y = load_exercise(1, random_state=0)
    zero_mse = float(np.mean(y[-150:] ** 2))  # predicting zeros on the validation part
    assert validation_mse < 0.5 * zero_mse
    for name in ("metrics.png", "validation_predictions.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "pipeline.seqpipe").read_bytes()[:8] == b"SEQPIPE\n"
