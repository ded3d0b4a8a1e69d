"""Seed 002: stock_pipeline, WindowDetrender and deflate_by_cpi."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from seqpipe import StreamingPredictor, load, save
from seqpipe.datasets import make_random_walk
from seqpipe.pipelines import stock_pipeline
from seqpipe.pipelines.stock import WindowDetrender, deflate_by_cpi


def _mse(a, b):
    return float(np.mean((np.ravel(a) - np.ravel(b)) ** 2))


@pytest.fixture(scope="module")
def walk_fit():
    """A stock pipeline fitted on the first 600 days of a drifting random walk."""
    series = make_random_walk(800, drift=0.05, random_state=3).to_numpy()[:, None]
    pipeline = stock_pipeline(epochs=3, units=8, random_state=0).fit(series[:600])
    return pipeline, series


def test_random_walk_lands_near_last_value_not_below(walk_fit):
    """On a random walk nothing beats repeating the last value by much: a model far
    below it would be seeing the future (a leak); far above, it learned nothing."""
    pipeline, series = walk_fit
    test = series[600 - 30:]
    y_true, y_pred = pipeline.predict_with_truth(test)
    last_value = test[29:-1, 0]
    ratio = _mse(y_true, y_pred) / _mse(y_true, last_value)
    assert 0.9 < ratio < 1.1, ratio


def test_predictions_in_price_units_one_per_window(walk_fit):
    pipeline, series = walk_fit
    test = series[600 - 30:]
    prediction = pipeline.predict(test)
    assert prediction.shape == (len(test) - 30 + 1, 1, 1)
    # within a few daily steps of the window's last price (price units, not detrended)
    assert np.abs(prediction[:, 0, 0] - test[29:, 0]).max() < 5.0


def test_streaming_one_value_at_a_time_matches_predict(walk_fit):
    pipeline, series = walk_fit
    test = series[600 - 30:600 + 5]
    stream = StreamingPredictor(pipeline)
    answers = [stream.update(value) for value in test[:, 0]]
    assert answers[:29] == [None] * 29
    batch = pipeline.predict(test)
    np.testing.assert_allclose(np.ravel(answers[29:]), batch.ravel(), rtol=1e-5)


def test_save_load_same_predictions(walk_fit, tmp_path):
    pipeline, series = walk_fit
    save(pipeline, tmp_path / "stock.seqpipe")
    again = load(tmp_path / "stock.seqpipe")
    np.testing.assert_array_equal(again.predict(series[-60:]), pipeline.predict(series[-60:]))
    assert clone(pipeline).get_params()["windower__window_size_past"] == 30


def test_detrender_learns_the_slope_on_training_windows_only():
    rng = np.random.default_rng(0)
    t = np.arange(200.0)
    series = (5.0 + 0.3 * t + rng.normal(0, 0.1, 200))[:, None]
    windows = np.stack([series[i:i + 10] for i in range(190)])
    after = series[10:200][:, None, :]
    step = WindowDetrender()
    Xt, yt = step.fit_resample(windows, after)
    assert step.slope_[0] == pytest.approx(0.3, abs=0.01)
    assert yt.shape == (190, 1) and abs(yt.mean()) < 0.05
    # a later, steeper part does not move the slope learned in fit
    steeper = windows * 3.0
    step.resample(steeper, after * 3.0)
    assert step.slope_[0] == pytest.approx(0.3, abs=0.01)
    back = step.inverse_transform_y(yt, windows)
    np.testing.assert_allclose(back, after)
    assert WindowDetrender(detrend=False).fit(windows, after).slope_[0] == 0.0


def test_detrender_refuses_y_of_other_features():
    with pytest.raises(ValueError, match="expects y of shape"):
        WindowDetrender().fit(np.zeros((4, 5, 1)), np.zeros((4, 1, 2)))
    with pytest.raises(ValueError, match="needs y"):
        WindowDetrender().fit(np.zeros((4, 5, 1)))


def test_deflate_by_cpi_interpolates_linearly_by_date():
    dates = pd.to_datetime(["2020-01-01", "2020-01-11", "2020-01-21", "2020-03-01"])
    prices = pd.Series([100.0, 100.0, 100.0, 100.0], index=dates)
    cpi = pd.Series([1.0, 3.0], index=pd.to_datetime(["2020-01-01", "2020-01-21"]))
    real = deflate_by_cpi(prices, cpi)
    assert real.index.tolist() == dates[:3].tolist()  # March: after the index's last date
    np.testing.assert_allclose(real.to_numpy(), [100.0, 50.0, 100.0 / 3.0])
    with pytest.raises(ValueError, match="no price date"):
        deflate_by_cpi(prices[3:], cpi)
    with pytest.raises(ValueError, match="positive finite"):
        deflate_by_cpi(prices, cpi * 0.0)
    with pytest.raises(ValueError, match="DatetimeIndex"):
        deflate_by_cpi(prices.reset_index(drop=True), cpi)


@pytest.mark.parametrize("check", [
    "check_estimator_cloneable", "check_estimator_repr", "check_get_params_invariance",
    "check_no_attributes_set_in_init", "check_parameters_default_constructible",
    "check_set_params",
])
def test_detrender_follows_the_estimator_api(check):
    """scikit-learn's API checks that do not fit (it takes 3-D windows, which the
    fitting checks do not make)."""
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)("WindowDetrender", WindowDetrender())


def test_stock_pipeline_is_cloneable_with_its_params():
    pipe = stock_pipeline(window_size_past=10, detrend=False, epochs=1)
    twin = clone(pipe)
    assert twin.get_params()["windowdetrender__detrend"] is False
    assert twin.get_params()["windower__window_size_past"] == 10
    assert twin is not pipe
