"""backtest and summary: shapes, origins, refit policies, training windows, and that
each origin sees only the data up to itself."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from conftest import seasonal_series
from seqpipe.forecasting import Forecaster, backtest, summary

FITS = []


class CountingRidge(Ridge):
    """Ridge that records the length of every training set it is fitted on."""

    def fit(self, X, y, sample_weight=None):
        FITS.append(len(X))
        return super().fit(X, y, sample_weight)


@pytest.fixture
def y():
    return seasonal_series(n=300, period=7)


def forecaster(horizon=3):
    return Forecaster(horizon, candidates=[CountingRidge()], window_past=14, calendar=False)


def test_one_row_per_origin_and_step(y):
    frame = backtest(forecaster(3), y, start=200)
    origins = np.arange(200, 297, 3)
    assert frame["origin"].unique().tolist() == y.index[origins].tolist()
    assert len(frame) == 3 * len(origins)
    assert frame["step"].tolist()[:6] == [1, 2, 3, 1, 2, 3]
    first = frame.iloc[:3]
    assert first["date"].tolist() == y.index[201:204].tolist()
    assert first["actual"].tolist() == y.iloc[201:204].tolist()
    assert first["last_value"].tolist() == [y.iloc[200]] * 3
    assert first["seasonal_naive"].tolist() == y.iloc[194:197].tolist()  # season 7
    assert frame.attrs["season"] == 7


def test_start_as_fraction_date_or_position_and_step(y):
    by_date = backtest(forecaster(), y, start=y.index[249], step=5)
    by_position = backtest(forecaster(), y, start=249, step=5)
    by_fraction = backtest(forecaster(), y, start=250 / 300, step=5)
    assert by_date["origin"].iloc[0] == y.index[249]
    pd.testing.assert_frame_equal(by_date, by_position)
    pd.testing.assert_frame_equal(by_date, by_fraction)
    assert by_date["origin"].nunique() == len(range(249, 297, 5))


@pytest.mark.parametrize(("refit", "n_fits"), [(False, 1), (True, 16), (4, 4)])
def test_refit_policies(y, refit, n_fits):
    FITS.clear()
    backtest(forecaster(), y, start=250, refit=refit)  # origins 250, 253, ..., 295: 16
    # each Forecaster fit = one selection fit and one refit of the single candidate
    assert len(FITS) == 2 * n_fits


def test_expanding_and_rolling_training_windows(y):
    FITS.clear()
    backtest(forecaster(), y, start=200, refit=True, window="expanding")
    expanding = FITS[1::2]  # the refits on everything given
    FITS.clear()
    backtest(forecaster(), y, start=200, refit=True, window="rolling")
    rolling = FITS[1::2]
    assert expanding[-1] > expanding[0]
    assert set(rolling) == {rolling[0]}


def test_each_origin_sees_only_the_data_up_to_itself(y):
    for refit in (False, 2):
        frame = backtest(forecaster(), y, start=240, refit=refit)
        for origin in (246, 261):
            changed = y.copy()
            changed.iloc[origin + 1:] = 1e6
            perturbed = backtest(forecaster(), changed, start=240, refit=refit)
            rows = frame["origin"] <= y.index[origin]
            assert perturbed.loc[rows, "prediction"].tolist() == frame.loc[
                rows, "prediction"].tolist()
            later = frame["origin"] > y.index[origin]
            assert not np.allclose(perturbed.loc[later, "prediction"],
                                   frame.loc[later, "prediction"])


def test_summary_per_step_and_overall(y):
    frame = backtest(forecaster(), y, start=200)
    table = summary(frame)
    assert table.index.tolist() == [1, 2, 3, "overall"]
    assert {"mse", "mae", "mase", "last_value_mse", "seasonal_naive_mase", "n"} <= set(
        table.columns)
    errors = frame["prediction"] - frame["actual"]
    assert table.loc["overall", "mse"] == pytest.approx(np.mean(errors ** 2))
    step2 = frame[frame["step"] == 2]
    assert table.loc[2, "mae"] == pytest.approx(np.mean(np.abs(step2["prediction"]
                                                               - step2["actual"])))
    values = y.to_numpy()
    scale = np.mean(np.abs(values[7:201] - values[:194]))  # one-season naive, first fit
    assert table.loc["overall", "mase"] == pytest.approx(table.loc["overall", "mae"] / scale)
    assert table.loc["overall", "mse"] < table.loc["overall", "last_value_mse"]


def test_covariates_pass_through_to_every_origin():
    rng = np.random.default_rng(0)
    dates = pd.date_range("2022-01-01", periods=300, freq="D")
    driver = pd.DataFrame({"d": rng.normal(size=300)}, index=dates)
    y = pd.Series(2 * driver["d"].to_numpy(), index=dates)
    frame = backtest(Forecaster(2, candidates=[Ridge(alpha=0.01)], calendar=False), y,
                     future_covariates=driver, start=250)
    assert summary(frame).loc["overall", "mse"] < 1e-3


def test_bad_arguments_are_named(y):
    with pytest.raises(ValueError, match=re.escape(
            "The 'window' parameter of backtest must be 'expanding' or 'rolling'. Got "
            "'sliding' instead.")):
        backtest(forecaster(), y, window="sliding")
    with pytest.raises(ValueError, match="'start' parameter of backtest, as a fraction"):
        backtest(forecaster(), y, start=1.5)
    with pytest.raises(ValueError, match="'refit' parameter of backtest"):
        backtest(forecaster(), y, refit=0)
    with pytest.raises(ValueError, match="no origin"):
        backtest(forecaster(), y, start=298)
    with pytest.raises(TypeError, match="needs a seqpipe.forecasting.Forecaster"):
        backtest(Ridge(), y)
    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match="runs on the current Dask client: create one"):
        backtest(forecaster(), y, start=280, refit=True, backend="dask")


def test_refits_run_in_parallel_processes_and_on_a_dask_cluster(y):
    """The same forecasts whether the refits run here, in loky processes or on the
    workers of a real Dask LocalCluster."""
    distributed = pytest.importorskip("distributed")
    model = Forecaster(3, candidates=[Ridge()], window_past=14, calendar=False)
    here = backtest(model, y, start=270, refit=3)
    in_processes = backtest(model, y, start=270, refit=3, n_jobs=2)
    pd.testing.assert_frame_equal(here, in_processes)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        on_dask = backtest(model, y, start=270, refit=3, n_jobs=2, backend="dask")
    pd.testing.assert_frame_equal(here, on_dask)
