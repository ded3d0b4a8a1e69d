"""`seqpipe run stock`, `seqpipe run csv` and `seqpipe predict` on CSV series."""

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from seqpipe.cli import main
from seqpipe.datasets import make_random_walk, make_seasonal_series
from seqpipe.steps import Windower


def seqpipe(*args, cwd=None, timeout=240):
    """Run ``python -m seqpipe ARGS`` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "seqpipe", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


@pytest.fixture(scope="module")
def stock_run(tmp_path_factory):
    """`seqpipe run stock` on a 300-day random walk CSV, in a fresh process."""
    folder = tmp_path_factory.mktemp("stock")
    make_random_walk(300, drift=0.05, random_state=1).to_frame().to_csv(folder / "walk.csv")
    result = seqpipe("run", "stock", "--data", str(folder / "walk.csv"), "--column",
                     "close", "--date-column", "date", "--epochs", "2", "--hidden-dim",
                     "4", "--quiet", "--out", str(folder / "run"))
    return folder, result


def test_run_stock_reports_baselines_and_writes_everything(stock_run):
    folder, result = stock_run
    assert result.returncode == 0, result.stderr
    for name in ("predict zero", "last value", "linear AR", "validation MSE"):
        assert name in result.stdout
    assert "forecasts identical (bitwise)" in result.stdout
    assert "Epoch" not in result.stdout  # --quiet: no progress display
    assert "oneDNN" not in result.stderr and "absl" not in result.stderr
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    assert metrics["task"] == "stock" and metrics["chosen"] == "stock_lstm"
    assert metrics["n_train"] == 255 and metrics["n_validation"] == 45  # the last 15%
    assert set(metrics["baselines"]) >= {"zero_mse", "last_value_mse", "linear_ar_mse"}
    # a random walk: near last value, never far below it (that would be a leak)
    assert 0.8 < metrics["validation_mse"] / metrics["baselines"]["last_value_mse"] < 1.5
    for name in ("pipeline.seqpipe", "validation_predictions.png"):
        assert (folder / "run" / name).stat().st_size > 0


def test_predict_a_csv_series_forecasts_the_next_day(stock_run, capsys):
    folder, _ = stock_run
    assert main(["predict", str(folder / "run" / "pipeline.seqpipe"),
                 str(folder / "walk.csv")]) == 0
    forecast = pd.read_csv(io.StringIO(capsys.readouterr().out))
    walk = pd.read_csv(folder / "walk.csv")
    assert forecast.columns.tolist() == ["date", "close"]
    assert forecast["date"].tolist() == ["2020-10-27"]  # the day after the last date
    assert walk["date"].iloc[-1] == "2020-10-26"
    assert abs(forecast["close"].iloc[0] - walk["close"].iloc[-1]) < 5.0  # price units


def test_predict_refuses_a_npy_input_for_a_forecaster(stock_run, capsys, tmp_path):
    folder, _ = stock_run
    np.save(tmp_path / "x.npy", np.zeros((3, 30, 1)))
    with pytest.raises(SystemExit):
        main(["predict", str(folder / "run" / "pipeline.seqpipe"), str(tmp_path / "x.npy"),
              "--out", str(tmp_path / "y.npy")])
    assert "is a forecaster: give it a CSV of the series" in capsys.readouterr().err


def test_run_csv_beats_seasonal_naive_on_a_cycle(tmp_path):
    series = make_seasonal_series(500, period=12, random_state=2)
    series.to_frame().to_csv(tmp_path / "cycle.csv")
    result = seqpipe("run", "csv", "--data", str(tmp_path / "cycle.csv"), "--column",
                     "value", "--date-column", "date", "--window-future", "2", "--epochs",
                     "2", "--quiet", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "season: 12 (detected on the training part)" in out
    assert "candidate gru" in out and "candidate ridge-alpha-10:" in out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {"gru", "ridge-alpha-1", "ridge-alpha-10", "ridge-alpha-100", "ridge-alpha-1000",
            "seasonal-naive", "last-value"} <= set(metrics["candidates"])
    scores = {name: c["selection_mse"] for name, c in metrics["candidates"].items()}
    assert metrics["chosen"] == min(scores, key=scores.get)
    baselines = metrics["baselines"]
    assert metrics["validation_mse"] < baselines["seasonal_naive_mse"]
    assert metrics["validation_mse"] < 0.2 * baselines["last_value_mse"]
    spec = json.loads((tmp_path / "run" / "pipeline.seqpipe.series.json").read_text())
    assert spec == {"column": "value", "date_column": "date", "past_covariates": [],
                    "future_covariates": [], "id_column": None}
    assert metrics["window_past"] == 30 and metrics["window_future"] == 2
    # 425 hours: the hour and the day of the week, not yet a year
    assert metrics["covariates"]["calendar"] == ["hour_sin", "hour_cos", "dayofweek_sin",
                                                 "dayofweek_cos"]
    assert main(["predict", str(tmp_path / "run" / "pipeline.seqpipe"),
                 str(tmp_path / "cycle.csv"), "--out", str(tmp_path / "next.csv")]) == 0
    forecast = pd.read_csv(tmp_path / "next.csv")
    last = series.index[-1]
    assert pd.to_datetime(forecast["date"]).tolist() == [last + pd.Timedelta(hours=1),
                                                         last + pd.Timedelta(hours=2)]


def _ratio_to_last_value(metrics):
    return metrics["validation_mse"] / metrics["baselines"]["last_value_mse"]


def test_random_walk_control_no_leak(tmp_path):
    """`run csv` on a random walk lands near last value; far below it would mean that
    the model sees the values it forecasts."""
    make_random_walk(600, random_state=4).to_frame().to_csv(tmp_path / "walk.csv")
    assert main(["run", "csv", "--data", str(tmp_path / "walk.csv"), "--column", "close",
                 "--epochs", "2", "--quiet", "--out", str(tmp_path / "run")]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["season"] is None
    assert 0.9 < _ratio_to_last_value(metrics) < 1.1


def test_the_control_catches_a_leaking_forecaster():
    """A forecaster whose window holds the value it forecasts scores far below last
    value on a random walk, outside the control's bounds; the honest linear
    autoregression stays inside them."""
    from sklearn.linear_model import Ridge

    from seqpipe.forecasting import Forecaster

    walk = make_random_walk(600, random_state=4)
    values = walk.to_numpy()
    origins = np.arange(499, 599)
    actual, last = values[origins + 1], values[origins]
    last_value = np.mean((actual - last) ** 2)
    honest = Forecaster(1, window_past=30, candidates=[Ridge(alpha=10.0)]).fit(walk[:500])
    predicted = honest.predict_origins(walk, origins)[:, 0]
    assert 0.9 < np.mean((actual - predicted) ** 2) / last_value < 1.1
    # a peeking forecaster: each window ends one step late, with its own target
    peeking = np.mean((actual - 0.5 * (values[origins + 1] + last)) ** 2)
    assert peeking / last_value < 0.9  # outside the control's bounds


@pytest.mark.parametrize("args, message", [
    (["run", "csv"], "csv needs --data and --column"),
    (["run", "csv", "--data", "nowhere.csv", "--column", "x"], "nowhere.csv"),
    (["run", "stock", "--window-past", "0"], "argument --window-past: must be a positive "
                                             "integer, got '0'"),
    (["run", "csv", "--window-future", "-2"], "argument --window-future: must be a "
                                              "positive integer, got '-2'"),
    (["run", "stock", "--season", "x"], "argument --season: expected a positive integer"),
    (["run", "stock", "--window-future", "3"], "--window-future must be 1"),
    (["run", "sin", "--data", "x.csv"], "--data: only for 'stock' and 'csv', not sin"),
    (["run", "stock", "--column", "close"], "--column without --data"),
    (["run", "stock", "--n-samples", "100"], "--n-samples is for the generated exercises"),
    (["run", "stock", "--future-covariates", "x"], "--future-covariates is for csv only"),
    (["run", "csv", "--data", "a.csv", "--column", "y", "--past-covariates", "x"],
     "covariates need --date-column"),
    (["run", "csv", "--data", "a.csv", "--column", "y", "--date-column", "d",
      "--past-covariates", "x", "--future-covariates", "x"], "['x'] given twice"),
    (["run", "csv", "--data", "a.csv", "--column", "y", "--date-column", "d",
      "--future-covariates", "y"], "the target column 'y' cannot be a covariate too"),
    (["run", "csv", "--data", "a.csv", "--column", "y", "--future-covariates", "a,,b"],
     "expected COLUMN[,COLUMN...]"),
    (["run", "sin", "--backtest"], "--backtest: only for 'stock' and 'csv', not sin"),
    (["run", "nothing"], "argument NAME: invalid choice: 'nothing'"),
])
def test_bad_run_arguments_exit_2_with_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("seqpipe run: error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1


def test_bad_files_exit_2_with_one_line(tmp_path, capsys, stock_run):
    folder, _ = stock_run
    model = str(folder / "run" / "pipeline.seqpipe")
    (tmp_path / "bad.npy").write_bytes(b"not an array")
    (tmp_path / "other.csv").write_text("day,price\n2020-01-01,1\n")
    (tmp_path / "short.csv").write_text("date,close\n2020-01-01,1\n2020-01-02,2\n")
    (tmp_path / "values.csv").write_text("date,value\n" + "".join(
        f"2020-01-{d:02d},{d}\n" for d in range(1, 29)) + "2020-01-29,oops\n")
    cases = [
        (["predict", str(tmp_path / "none.seqpipe"), "x.npy", "--out", "y.npy"],
         "no saved model at"),
        (["predict", model, str(tmp_path / "bad.npy"), "--out", "y.npy"],
         "bad.npy is not a readable .npy array"),
        (["predict", model, str(tmp_path / "missing.npy"), "--out", "y.npy"], "missing.npy"),
        (["predict", model, str(tmp_path / "bad.npy")], "needs --out FILE.npy"),
        (["predict", model, str(tmp_path / "other.csv")], "no column named 'date'"),
        (["predict", model, str(tmp_path / "short.csv")], "the forecaster reads the last 30"),
        (["run", "csv", "--data", str(tmp_path / "values.csv"), "--column", "value"],
         "non-numeric or infinite value(s): line 30 ('oops')"),
        (["run", "csv", "--data", str(tmp_path / "values.csv"), "--column", "price"],
         "no column named 'price'"),
        (["run", "csv", "--data", str(tmp_path / "short.csv"), "--column", "close"],
         "the series is too short"),
        (["predict", model, "a.npy", "b.npy", "--out", "c.npy"], "give the output once"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        assert exit_info.value.code == 2, args
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, (args, err)


def test_bad_file_in_a_fresh_process_shows_no_traceback(tmp_path):
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY garbage")
    (tmp_path / "m.seqpipe").write_bytes(b"garbage")
    result = seqpipe("predict", str(tmp_path / "m.seqpipe"), str(tmp_path / "bad.npy"),
                     "--out", str(tmp_path / "o.npy"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("seqpipe predict: error: ")


@pytest.mark.parametrize("command", [["run"], ["predict"], ["list"], []])
def test_help_everywhere(command):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0


def test_window_baselines_seasonal_naive_and_linear_ar():
    from seqpipe.cli.baselines import detect_window_season, regression_baselines

    t = np.arange(3000.0)
    rng = np.random.default_rng(0)
    series = (np.sin(2 * np.pi * t / 6) + 0.05 * rng.normal(size=3000))[:, None]
    X, y = Windower(12, 2).fit(series).resample(series)
    season = detect_window_season(X[:2000])
    assert season == 6
    scores = regression_baselines(X[2000:], y[2000:], X[:2000], y[:2000], season)
    # one cycle earlier is the same phase: far better than the last value
    assert scores["seasonal_naive_mse"] < 0.1 * scores["last_value_mse"]
    assert scores["linear_ar_mse"] < scores["seasonal_naive_mse"]
    smooth = np.stack([np.linspace(0, k, 12) for k in range(1, 50)])[..., None]
    assert detect_window_season(smooth) is None  # a slow trend is no cycle


def test_run_stock_without_data_uses_the_shipped_btc_closes():
    from seqpipe.cli import build_parser, series_run
    from seqpipe.cli.forecast import load_series

    args = build_parser()[0].parse_args(["run", "stock", "--epochs", "1"])
    run = series_run(args)
    assert run.notes == ["no --data given: running on the shipped BTC USD daily closes"]
    series = load_series(run).y
    assert series.name == "close_usd" and len(series) > 5000
    assert (run.window_past, run.horizon, run.epochs) == (None, 1, 1)
    assert run.column == "close_usd" and run.date_column == "date"


def test_cpi_deflation_aligned_by_date(tmp_path):
    from seqpipe.cli.forecast import SeriesRun, load_series

    days = pd.date_range("2020-01-01", "2020-03-31", freq="D")
    pd.DataFrame({"date": days, "close": 100.0}).to_csv(tmp_path / "p.csv", index=False)
    pd.DataFrame({"DATE": ["2020-01-01", "2020-02-01", "2020-03-01"],
                  "CPIAUCSL": [1.0, 2.0, 4.0]}).to_csv(tmp_path / "cpi.csv", index=False)
    run = SeriesRun("stock", "close", "date", data=tmp_path / "p.csv", cpi=tmp_path / "cpi.csv")
    real = load_series(run).y
    assert real.index[-1] == pd.Timestamp("2020-03-01")  # no CPI after it
    assert real["2020-02-01"] == pytest.approx(50.0)
    assert real["2020-01-16"] == pytest.approx(100.0 / (1.0 + 15.0 / 31.0))
    with pytest.raises(ValueError, match="--cpi needs dates"):
        load_series(SeriesRun("stock", "close", None, data=tmp_path / "p.csv",
                              cpi=tmp_path / "cpi.csv"))


def _driven_csv(path, n=400, rows_after=0, seed=0):
    """A daily CSV whose 'sales' is 3x a 'promo' column known ahead, plus noise; a
    'footfall' column measured along; ``rows_after`` rows of promo after the last sale."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-01", periods=n + rows_after, freq="D")
    promo = rng.normal(size=n + rows_after)
    sales = 3 * promo + 0.1 * rng.normal(size=n + rows_after)
    frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "sales": sales, "promo": promo,
                          "footfall": sales + rng.normal(size=n + rows_after)})
    frame.loc[n:, ["sales", "footfall"]] = np.nan
    frame.to_csv(path, index=False)
    return frame


def test_run_csv_with_covariates_and_backtest_through_a_subprocess(tmp_path):
    _driven_csv(tmp_path / "shop.csv")
    common = ["run", "csv", "--data", str(tmp_path / "shop.csv"), "--column", "sales",
              "--date-column", "date", "--epochs", "1", "--quiet"]
    result = seqpipe(*common, "--future-covariates", "promo", "--past-covariates",
                     "footfall", "--no-calendar", "--backtest", "--window-future", "3",
                     "--out", str(tmp_path / "with"))
    assert result.returncode == 0, result.stderr
    assert "forecasts identical (bitwise)" in result.stdout
    assert "oneDNN" not in result.stderr + result.stdout
    assert "absl" not in result.stderr + result.stdout
    with_covariates = json.loads((tmp_path / "with" / "metrics.json").read_text())
    assert with_covariates["covariates"] == {"past": ["footfall"], "future": ["promo"],
                                             "calendar": []}
    backtest = pd.read_csv(tmp_path / "with" / "backtest.csv")
    assert backtest.columns.tolist()[:5] == ["origin", "date", "step", "actual",
                                             "prediction"]
    assert backtest["step"].max() == 3 and len(backtest) % 3 == 0
    assert (tmp_path / "with" / "backtest_errors.png").stat().st_size > 0
    assert main([*common, "--out", str(tmp_path / "without")]) == 0
    without = json.loads((tmp_path / "without" / "metrics.json").read_text())
    assert without["covariates"]["calendar"] == ["dayofweek_sin", "dayofweek_cos"]
    # the promotions drive the sales: knowing them ahead is worth far more than the rest
    assert with_covariates["validation_mse"] < 0.05 * without["validation_mse"]


def test_predict_reads_the_future_covariates_after_the_last_value(tmp_path, capsys):
    frame = _driven_csv(tmp_path / "next.csv", rows_after=2)
    frame.iloc[:400].to_csv(tmp_path / "train.csv", index=False)
    assert main(["run", "csv", "--data", str(tmp_path / "train.csv"), "--column", "sales",
                 "--date-column", "date", "--future-covariates", "promo", "--epochs", "1",
                 "--window-future", "2", "--quiet", "--out", str(tmp_path / "run")]) == 0
    model = str(tmp_path / "run" / "pipeline.seqpipe")
    capsys.readouterr()
    assert main(["predict", model, str(tmp_path / "next.csv")]) == 0
    forecast = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert forecast["date"].tolist() == ["2023-02-05", "2023-02-06"]
    np.testing.assert_allclose(forecast["sales"], 3 * frame["promo"].iloc[400:], atol=0.5)
    # without the rows after the last value: a clear error naming what to give
    with pytest.raises(SystemExit):
        main(["predict", model, str(tmp_path / "train.csv")])
    err = capsys.readouterr().err
    assert "future_covariates has no row for 2023-02-05" in err
    assert "or in --future FILE" in err and len(err.strip().splitlines()) == 1
    # --future FILE gives them instead
    frame.iloc[400:][["date", "promo"]].to_csv(tmp_path / "promo.csv", index=False)
    assert main(["predict", model, str(tmp_path / "train.csv"), "--future",
                 str(tmp_path / "promo.csv")]) == 0
    again = pd.read_csv(io.StringIO(capsys.readouterr().out))
    pd.testing.assert_frame_equal(again, forecast)


def test_a_missing_target_before_its_last_value_is_an_error_naming_it(tmp_path, capsys):
    frame = _driven_csv(tmp_path / "gap.csv")
    frame.loc[10, "sales"] = np.nan
    frame.to_csv(tmp_path / "gap.csv", index=False)
    with pytest.raises(SystemExit):
        main(["run", "csv", "--data", str(tmp_path / "gap.csv"), "--column", "sales",
              "--date-column", "date", "--future-covariates", "promo"])
    assert "column 'sales' has no value at 2022-01-11" in capsys.readouterr().err


def test_run_csv_on_250_daily_rows_with_default_settings(tmp_path):
    """The whole nested split fits: 212 rows to train on, the forecaster's own 15 % of
    them to choose on, the GRU's 15 % of its windows to stop early on."""
    make_seasonal_series(250, period=7, freq="D", random_state=0).to_frame().to_csv(
        tmp_path / "daily.csv")
    assert main(["run", "csv", "--data", str(tmp_path / "daily.csv"), "--column", "value",
                 "--date-column", "date", "--epochs", "2", "--quiet", "--out",
                 str(tmp_path / "run")]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    scored = {k for k, v in metrics["candidates"].items() if v["selection_mse"] == v[
        "selection_mse"]}
    assert {"gru", "ridge-alpha-10", "seasonal-naive", "last-value"} <= scored
    assert metrics["left_out"] == {}


def test_the_command_chooses_its_model_before_the_part_it_reports_as_validation(
        tmp_path, monkeypatch):
    """Every fit the command makes (the candidates' choice inside the forecaster, its
    refit, the linear AR baseline) sees only dates before the reported validation part."""
    from seqpipe.cli import forecast

    seen = []
    original = forecast.Forecaster.fit

    def recording_fit(self, y, **covariates):
        seen.append(y.index[-1])
        return original(self, y, **covariates)

    monkeypatch.setattr(forecast.Forecaster, "fit", recording_fit)
    series = make_seasonal_series(300, period=12, random_state=0)
    series.to_frame().to_csv(tmp_path / "s.csv")
    run = forecast.SeriesRun("csv", "value", "date", data=tmp_path / "s.csv", epochs=1,
                             quiet=True)
    assert forecast.run_series(run, tmp_path / "run") == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    first_validation = series.index[metrics["n_train"]]
    assert len(seen) >= 2 and max(seen) < first_validation


def test_run_csv_with_intervals_reports_their_coverage_and_predict_writes_them(
        tmp_path, capsys):
    make_seasonal_series(600, period=12, random_state=3).to_frame().to_csv(
        tmp_path / "cycle.csv")
    assert main(["run", "csv", "--data", str(tmp_path / "cycle.csv"), "--column", "value",
                 "--date-column", "date", "--levels", "80,95", "--window-future", "2",
                 "--epochs", "1", "--quiet", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "80 % intervals: cover" in out and "95 % intervals: cover" in out
    intervals = json.loads((tmp_path / "run" / "metrics.json").read_text())["intervals"]
    assert 0.65 < intervals["80"]["coverage"] <= intervals["95"]["coverage"]
    assert intervals["80"]["mean_width"] < intervals["95"]["mean_width"]
    assert (tmp_path / "run" / "validation_intervals.png").stat().st_size > 0
    assert main(["predict", str(tmp_path / "run" / "pipeline.seqpipe"),
                 str(tmp_path / "cycle.csv")]) == 0
    forecast = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert forecast.columns.tolist() == ["date", "value", "lower_80", "upper_80",
                                         "lower_95", "upper_95"]
    assert (forecast["lower_95"] < forecast["lower_80"]).all()
    assert (forecast["lower_80"] < forecast["value"]).all()
    with pytest.raises(SystemExit):
        main(["run", "csv", "--levels", "80,150"])
    assert "argument --levels: expected coverages in percent" in capsys.readouterr().err
