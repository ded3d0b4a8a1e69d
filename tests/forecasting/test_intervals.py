"""Calibrated prediction intervals: split conformal from the held-out part's errors."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from seqpipe import load, save
from seqpipe.forecasting import Forecaster, backtest, summary
from seqpipe.forecasting.intervals import check_levels, conformal_quantiles


def noisy_cycle(n=3000, sigma=0.5, seed=0):
    """A daily cycle with Gaussian noise of known sigma, hourly."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.Series(3 * np.sin(2 * np.pi * t / 24) + sigma * rng.normal(size=n),
                     index=pd.date_range("2022-01-01", periods=n, freq="h"))


def test_intervals_are_nested_and_widen_with_the_level():
    y = noisy_cycle(1500)
    forecast = Forecaster(4, candidates=[Ridge()], levels=(50, 80, 95)).fit(y).predict()
    assert forecast.columns.tolist() == ["prediction", "lower_50", "upper_50", "lower_80",
                                         "upper_80", "lower_95", "upper_95"]
    for low, high in ((50, 80), (80, 95)):
        assert (forecast[f"lower_{high}"] < forecast[f"lower_{low}"]).all()
        assert (forecast[f"upper_{high}"] > forecast[f"upper_{low}"]).all()
    assert (forecast["lower_50"] < forecast["prediction"]).all()
    assert (forecast["prediction"] < forecast["upper_50"]).all()


def test_coverage_on_gaussian_noise_is_the_nominal_one():
    """Calibrated on the first 2,550 hours, judged on 1,000 later forecasts; the noise is
    Gaussian (sigma 0.5), so a 95 % interval should be about 2 x 1.96 x 0.5 wide."""
    y = noisy_cycle(3000 + 1000)
    forecaster = Forecaster(3, candidates=[Ridge()], levels=(80, 95), calendar=False)
    table = summary(backtest(forecaster, y, start=2999, step=1))
    for level in ("80", "95"):
        assert abs(table.loc["overall", f"coverage_{level}"] - float(level) / 100) < 0.03
    assert table.loc["overall", "width_95"] == pytest.approx(2 * 1.96 * 0.5, rel=0.1)
    assert {"coverage_80", "width_80"} <= set(table.columns)
    assert table.loc[1, "coverage_95"] == pytest.approx(0.95, abs=0.03)


def test_predict_with_other_levels_and_the_stored_calibration(tmp_path):
    y = noisy_cycle(1500)
    forecaster = Forecaster(2, candidates=[Ridge()], levels=(80,)).fit(y)
    assert forecaster.residuals_.shape == (len(y) - forecaster.n_train_ - 1, 2)
    assert set(forecaster.interval_widths_) == {80.0}
    other = forecaster.predict(levels=(90,))
    assert other.columns.tolist() == ["prediction", "lower_90", "upper_90"]
    assert (other["upper_90"] - other["lower_90"] > 0).all()
    save(forecaster, tmp_path / "f.seqpipe")
    pd.testing.assert_frame_equal(load(tmp_path / "f.seqpipe").predict(), forecaster.predict())
    assert Forecaster(2, candidates=[Ridge()]).fit(y).predict().columns.tolist() == [
        "prediction"]


def test_conformal_rank_and_too_few_errors():
    errors = np.arange(1.0, 20.0)[:, None] * np.array([1.0, -2.0])
    widths = conformal_quantiles(errors, (50.0, 80.0))
    assert widths[50.0].tolist() == [10.0, 20.0]  # ceil(20 * 0.5) = 10th smallest
    assert widths[80.0].tolist() == [16.0, 32.0]
    with pytest.raises(ValueError, match=re.escape(
            "a 99 % interval needs at least 99 out-of-sample errors; the held-out part "
            "gave 19")):
        conformal_quantiles(errors, (99.0,))


@pytest.mark.parametrize("levels", ["80", (0,), (80, 80), (True,), (100,), None])
def test_bad_levels_are_named(levels):
    with pytest.raises(ValueError, match="The 'levels' parameter of Forecaster must be"):
        check_levels(levels)
    with pytest.raises(ValueError, match="The 'levels' parameter of Forecaster"):
        Forecaster(levels=levels).fit(noisy_cycle(300))


def test_conformal_ranks_at_their_edges():
    errors = np.arange(1, 200)[:, None]  # integers: the widths are floats all the same
    widths = conformal_quantiles(errors, (60.0,))
    assert widths[60.0].tolist() == [120.0] and widths[60.0].dtype == np.float64
    # the largest error is the 95 % width of 19 errors: ceil(20 x 0.95) = 19
    assert conformal_quantiles(errors[:19], (95.0,))[95.0].tolist() == [19.0]
    with pytest.raises(ValueError, match="a 90 % interval needs at least 9 out-of-sample "
                                         "errors; the held-out part gave 8"):
        conformal_quantiles(errors[:8], (90.0,))


def test_levels_may_be_one_number_or_below_one_percent():
    assert check_levels(90) == (90.0,)
    assert check_levels((0.5, 99.5)) == (0.5, 99.5)
