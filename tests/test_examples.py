"""The example scripts run end to end (shortened)."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_exercise1_neuraxle_style(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "exercise1_neuraxle_style.py"), "--epochs", "2",
         "--output", str(tmp_path)], capture_output=True, text=True, check=True)
    assert "last validation MSE" in result.stdout
    assert result.stdout.count("epoch_metrics validation: mse=") == 2
    for name in ("metrics.png", "validation_predictions.png", "pipeline.seqpipe"):
        assert (tmp_path / name).read_bytes()[:4] in (b"\x89PNG", b"SEQP")
