import numpy as np
import pandas as pd
import pytest


def seasonal_series(n=400, period=12, freq="D", start="2020-01-01", noise=0.1, seed=0):
    """A noisy sine with a slow trend, indexed by dates."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = np.sin(2 * np.pi * t / period) + 0.002 * t + noise * rng.normal(size=n)
    return pd.Series(values, index=pd.date_range(start, periods=n, freq=freq), name="y")


@pytest.fixture
def series():
    return seasonal_series()
