"""`seqpipe run csv --id-column` and `seqpipe predict` on a long CSV of many series."""

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from seqpipe.cli import main
from seqpipe.datasets import make_panel


def long_csv(path, n_series=3, n_days=240, rows_after=0, seed=0):
    """Sales of a few shops whose promotions (known ahead) add 20 % of the shop's scale."""
    wide = make_panel(n_series, n_days + rows_after, late_start=0.1, random_state=seed)
    long = wide.stack().rename("sales").reset_index().rename(columns={"level_1": "shop"})
    rng = np.random.default_rng(seed)
    long["promo"] = rng.integers(0, 2, len(long)).astype(float)
    scale = long.groupby("shop")["sales"].transform("mean")
    long["sales"] += 0.2 * scale * long["promo"]
    last = wide.index[n_days - 1]
    long.loc[long["date"] > last, "sales"] = np.nan
    long.to_csv(path, index=False)
    return long


@pytest.fixture(scope="module")
def panel_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("panel")
    long_csv(folder / "shops.csv")
    result = subprocess.run(
        [sys.executable, "-m", "seqpipe", "run", "csv", "--data", str(folder / "shops.csv"),
         "--column", "sales", "--date-column", "date", "--id-column", "shop",
         "--future-covariates", "promo", "--levels", "80,95", "--epochs", "1",
         "--window-future", "2", "--backtest", "--quiet", "--out", str(folder / "run")],
        capture_output=True, text=True, timeout=300)
    return folder, result


def test_run_csv_many_series_reports_per_series_and_intervals(panel_run):
    folder, result = panel_run
    assert result.returncode == 0, result.stderr
    assert "sales of 3 series (shop)" in result.stdout
    assert "forecasts identical (bitwise)" in result.stdout
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    assert metrics["n_series"] == 3 and metrics["id_column"] == "shop"
    assert set(metrics["intervals"]) == {"80", "95"}
    assert metrics["intervals"]["80"]["coverage"] <= metrics["intervals"]["95"]["coverage"]
    assert metrics["mase"] < metrics["baselines"]["last_value_mase"]
    per_series = pd.read_csv(folder / "run" / "per_series.csv", index_col="series")
    assert sorted(per_series.index) == ["series-0", "series-1", "series-2"]
    assert per_series["mase"].mean() == pytest.approx(metrics["mase"])
    backtest = pd.read_csv(folder / "run" / "backtest.csv")
    assert backtest.columns[0] == "series" and {"lower_80", "upper_95"} <= set(backtest)
    assert (folder / "run" / "validation_intervals.png").stat().st_size > 0


def test_predict_writes_every_series_forecast_with_its_bounds(panel_run, tmp_path, capsys):
    folder, result = panel_run
    assert result.returncode == 0, result.stderr
    future = long_csv(tmp_path / "next.csv", rows_after=2)
    assert main(["predict", str(folder / "run" / "pipeline.seqpipe"),
                 str(tmp_path / "next.csv")]) == 0
    forecast = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert forecast.columns.tolist() == ["shop", "date", "sales", "lower_80", "upper_80",
                                         "lower_95", "upper_95"]
    assert forecast.groupby("shop").size().to_dict() == {f"series-{i}": 2 for i in range(3)}
    assert (forecast["lower_95"] <= forecast["lower_80"]).all()
    assert (forecast["lower_80"] <= forecast["sales"]).all()
    assert (forecast["sales"] <= forecast["upper_80"]).all()
    assert forecast["date"].unique().tolist() == [str(d.date()) for d in
                                                  sorted(future["date"].unique())[-2:]]


def test_id_column_errors_are_clear(tmp_path, capsys):
    long_csv(tmp_path / "shops.csv", n_days=60)
    common = ["run", "csv", "--data", str(tmp_path / "shops.csv"), "--column", "sales"]
    with pytest.raises(SystemExit):
        main([*common, "--id-column", "shop"])
    assert "--id-column needs --date-column" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "stock", "--id-column", "shop"])
    assert "--id-column is for csv only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*common, "--date-column", "date", "--id-column", "store"])
    assert "no column ['store']" in capsys.readouterr().err
