"""A Forecaster served over the Open Inference Protocol: metadata naming the forecast
and interval outputs, infer answers equal to predict (through a real server),
streaming sequences per series, many sequences stacked into one model call, and the
errors bad requests get."""

import asyncio

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from test_server import running_server

from seqpipe import save
from seqpipe.datasets import make_panel
from seqpipe.forecasting import Forecaster
from seqpipe.serving import Settings, create_app

HORIZON = 3


@pytest.fixture(scope="module")
def panel():
    return make_panel(3, 400, random_state=0)


@pytest.fixture(scope="module")
def promotions(panel):
    rng = np.random.default_rng(0)
    dates = pd.date_range(panel.index[0], periods=len(panel) + 50, freq="D")
    return {name: pd.DataFrame({"promo": rng.integers(0, 2, len(dates)).astype(float)},
                               index=dates) for name in panel.columns}


@pytest.fixture(scope="module")
def forecaster(panel, promotions):
    y = panel + 50 * pd.DataFrame({name: promotions[name]["promo"] for name in panel},
                                  index=panel.index)
    return Forecaster(HORIZON, candidates=[Ridge()], levels=(80, 95)).fit(
        y, future_covariates=promotions), y


def inputs(history, series, promotions=None):
    """The infer inputs of a forecast after ``history`` (a Series of ``series``)."""
    tensors = [{"name": "y", "shape": [len(history)], "datatype": "FP64",
                "data": history.tolist()},
               {"name": "series", "shape": [1], "datatype": "BYTES", "data": [series]},
               {"name": "end", "shape": [1], "datatype": "BYTES",
                "data": [str(history.index[-1].date())]}]
    if promotions is not None:
        rows = promotions[series]["promo"].loc[history.index[0]:].iloc[:len(history) + HORIZON]
        tensors.append({"name": "future_covariates", "shape": [len(rows), 1],
                        "datatype": "FP64", "data": rows.tolist()})
    return tensors


def outputs_of(answer):
    return {output["name"]: output["data"] for output in answer["outputs"]}


def test_a_real_server_forecasts_as_predict_with_its_intervals(forecaster, promotions,
                                                               tmp_path):
    model, y = forecaster
    save(model, tmp_path / "sales.seqpipe")
    history = y["series-1"].dropna().iloc[:250]
    expected = model.predict(history.to_frame("series-1"), future_covariates=promotions)
    with running_server(tmp_path / "sales.seqpipe") as (_, url), \
            httpx.Client(base_url=url, timeout=30) as client:
        metadata = client.get("/v2/models/sales").json()
        answer = client.post("/v2/models/sales/infer", json={
            "inputs": inputs(history, "series-1", promotions)})
    assert [o["name"] for o in metadata["outputs"]] == [
        "prediction", "lower_80", "upper_80", "lower_95", "upper_95", "date"]
    assert [i["name"] for i in metadata["inputs"]] == ["y", "series", "end",
                                                       "future_covariates"]
    assert metadata["inputs"][0]["parameters"]["min_length"] == model.window_past_
    assert answer.status_code == 200, answer.text
    got = outputs_of(answer.json())
    for column in expected.columns:
        assert got[column] == expected[column].tolist()  # bitwise: JSON floats round-trip
    assert got["date"] == [str(d.date()) for d in expected.index.get_level_values("date")]


def test_a_sequence_forecasts_after_each_new_value(forecaster, promotions, client_of):
    model, y = forecaster
    client = client_of(create_app({"sales": model}))
    series = y["series-0"].dropna()
    start = client.post("/v2/models/sales/infer", json={
        "inputs": inputs(series.iloc[:100], "series-0", promotions),
        "parameters": {"sequence_id": "shop-0", "sequence_start": True}}).json()
    assert start["parameters"]["window_filled"] == model.window_past_
    for n in range(101, 104):
        ahead = promotions["series-0"]["promo"].loc[series.index[n - 1]:].iloc[:1 + HORIZON]
        answer = client.post("/v2/models/sales/infer", json={"inputs": [
            {"name": "y", "shape": [1], "datatype": "FP64", "data": [series.iloc[n - 1]]},
            {"name": "future_covariates", "shape": [1 + HORIZON, 1], "datatype": "FP64",
             "data": ahead.tolist()}], "parameters": {"sequence_id": "shop-0"}}).json()
        expected = model.predict(series.iloc[:n].to_frame("series-0"),
                                 future_covariates=promotions)
        assert outputs_of(answer)["prediction"] == pytest.approx(
            expected["prediction"].tolist(), rel=1e-12)


def test_concurrent_sequences_are_stacked_into_one_model_call(forecaster, promotions):
    model, y = forecaster
    calls = []
    original = model.pipeline_.predict
    app = create_app({"sales": model}, settings=Settings(max_queue_delay_ms=500))
    names = ["series-0", "series-1", "series-2"] * 3
    bodies = [{"inputs": inputs(y[name].dropna().iloc[:120 + i], name, promotions),
               "parameters": {"sequence_id": i + 1, "sequence_start": True}}
              for i, name in enumerate(names)]

    async def together():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            async with app.router.lifespan_context(app):
                return await asyncio.gather(*(client.post("/v2/models/sales/infer", json=b)
                                              for b in bodies))

    model.pipeline_.predict = lambda X: calls.append(len(X)) or original(X)
    try:
        answers = asyncio.run(together())
    finally:
        del model.pipeline_.predict
    assert all(answer.status_code == 200 for answer in answers)
    assert sum(calls) == len(bodies) and len(calls) < len(bodies)  # stacked
    for body, answer in zip(bodies, answers):
        name = body["inputs"][1]["data"][0]
        history = y[name].dropna().iloc[:body["inputs"][0]["shape"][0]]
        expected = model.predict(history.to_frame(name), future_covariates=promotions)
        assert outputs_of(answer.json())["prediction"] == pytest.approx(
            expected["prediction"].tolist(), rel=1e-12)


@pytest.mark.parametrize("change, message", [
    (lambda t: t[:1] + t[2:], "takes the inputs ['end', 'future_covariates', 'series', "
                              "'y']; missing ['series']"),
    (lambda t: [t[0], {**t[1], "data": ["nowhere"]}, *t[2:]],
     "knows no series 'nowhere'"),
    (lambda t: [*t[:3], {**t[3], "shape": [2, 1], "data": [0.0, 1.0]}],
     "input 'future_covariates' must be numbers of shape [253, 1]"),
    (lambda t: [{**t[0], "shape": [5], "data": [1.0] * 5}, *t[1:3],
                {**t[3], "shape": [8, 1], "data": [0.0] * 8}],
     "cannot forecast from this input: y's series 'series-1' has 5 time step(s)"),
])
def test_bad_requests_are_400_naming_what_is_wrong(forecaster, promotions, client_of,
                                                   change, message):
    model, y = forecaster
    client = client_of(create_app({"sales": model}))
    tensors = inputs(y["series-1"].dropna().iloc[:250], "series-1", promotions)
    answer = client.post("/v2/models/sales/infer", json={"inputs": change(tensors)})
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    wrong_output = client.post("/v2/models/sales/infer", json={
        "inputs": tensors, "outputs": [{"name": "output"}]})
    assert "has no output 'output'; its outputs: prediction, lower_80" in \
        wrong_output.json()["error"]
