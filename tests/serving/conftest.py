"""A fitted scikit-learn pipeline to serve, and an in-process client of a served app."""

import asyncio

import httpx
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.linear_model import Ridge
from sklearn.preprocessing import FunctionTransformer

from seqpipe import Pipeline
from seqpipe.steps import MeanStdNormalizer

PAST = 5


def windows_of(series, past=PAST):
    return np.moveaxis(sliding_window_view(series, past, axis=0), -1, 1)


@pytest.fixture(scope="session")
def series():
    t = np.arange(80.0)
    noise = np.random.default_rng(0).normal(scale=0.1, size=(80, 2))
    return np.stack([np.sin(0.3 * t), np.cos(0.2 * t)], axis=1) * [10.0, 3.0] + 50.0 + noise


@pytest.fixture(scope="session")
def window_pipeline(series):
    """Ridge on flattened windows (n, PAST, 2) -> the next time step (n, 2)."""
    flatten = FunctionTransformer(np.reshape, kw_args={"shape": (-1, PAST * 2)})
    X, y = windows_of(series)[:-1], series[PAST:]
    return Pipeline([MeanStdNormalizer(), flatten, Ridge(alpha=0.1)]).fit(X, y)


class Client:
    """A synchronous client of an ASGI app in this process (httpx's ASGI transport)."""

    def __init__(self, app):
        self.app = app

    async def _request(self, method, url, **kwargs):
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, url, **kwargs)

    def get(self, url, **kwargs):
        return asyncio.run(self._request("GET", url, **kwargs))

    def post(self, url, **kwargs):
        return asyncio.run(self._request("POST", url, **kwargs))


@pytest.fixture(scope="session")
def windows(series):
    return windows_of(series)


@pytest.fixture
def client_of():
    return Client
