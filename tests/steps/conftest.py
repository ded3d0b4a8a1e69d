"""Fixtures shared by the step tests."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def sine_windows():
    t = np.linspace(0, 20, 200 + 15)
    series = np.stack([np.sin(t), np.cos(t)], axis=1).astype("float32")
    X = np.stack([series[i:i + 10] for i in range(200)])
    y = np.stack([series[i + 10:i + 15] for i in range(200)])
    return X, y
