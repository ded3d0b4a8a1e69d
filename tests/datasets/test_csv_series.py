"""Tests of load_csv_series on real files: well-formed, malformed, and the shipped BTC CSV."""

import re
import warnings
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from seqpipe.datasets import CsvSeries, Gap, load_btc_usd_eur, load_csv_series


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _daily(n, start="2024-01-01", freq="D"):
    dates = pd.date_range(start, periods=n, freq=freq)
    return "date,close\n" + "".join(f"{d.date()},{i}.5\n" for i, d in enumerate(dates))


# ------------------------------------------------------------------ well-formed
def test_values_dates_lines_and_order(tmp_path):
    path = _write(tmp_path, "date,close,volume\n2024-01-03,3.5,9\n2024-01-01,1.5,9\n"
                            "2024-01-02,2.5,9\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no gap, no warning
        series = load_csv_series(path, "close", "date")
    assert isinstance(series, CsvSeries)
    assert series.values.shape == (3, 1) and series.values.dtype == np.float64
    assert series.values[:, 0].tolist() == [1.5, 2.5, 3.5]  # sorted by date
    assert series.lines.tolist() == [3, 4, 2]
    assert list(series.dates.strftime("%Y-%m-%d")) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert series.dates.name == "date"
    assert series.step == pd.Timedelta(days=1) and series.gaps == ()
    assert series.column == "close" and series.source == str(path)
    as_series = series.to_series()
    assert as_series.name == "close" and as_series.loc["2024-01-02"] == 2.5
    assert list(series.future_dates(2).strftime("%Y-%m-%d")) == ["2024-01-04", "2024-01-05"]


def test_without_date_column_keeps_file_order(tmp_path):
    path = _write(tmp_path, "a,b\n5,x\n3,y\n\n4,z\n")
    series = load_csv_series(path, "a")
    assert series.values[:, 0].tolist() == [5.0, 3.0, 4.0]
    assert series.lines.tolist() == [2, 3, 5]  # the blank line 4 is skipped, not counted
    assert series.dates is None and series.step is None and series.gaps == ()
    assert series.to_series().index.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="cannot be continued"):
        series.future_dates(1)


def test_hourly_step_and_its_continuation(tmp_path):
    dates = pd.date_range("2024-03-01 00:00", periods=5, freq="h")
    path = _write(tmp_path, "t,v\n" + "".join(f"{d},{i}\n" for i, d in enumerate(dates)))
    series = load_csv_series(path, "v", "t")
    assert series.step == pd.Timedelta(hours=1)
    assert series.future_dates(1)[0] == pd.Timestamp("2024-03-01 05:00")


def test_business_days_are_not_gaps(tmp_path):
    """Weekday-only daily data (stock closes): weekends are not gaps; a holiday is."""
    path = _write(tmp_path, _daily(15, start="2024-01-01", freq="B"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        series = load_csv_series(path, "close", "date")
    assert isinstance(series.step, pd.offsets.BusinessDay) and series.gaps == ()
    assert series.future_dates(1)[0] == pd.Timestamp("2024-01-22")  # Fri 19th -> Mon 22nd
    text = _daily(15, start="2024-01-01", freq="B").replace("2024-01-10,7.5\n", "")
    message = ("data.csv: column 'date' has 1 gap(s) in its regular step of 1 business day, "
               "1 missing date(s) in all: 1 missing between 2024-01-09 and 2024-01-11 "
               "(line 9) (pass gaps='ignore' to accept them).")
    with pytest.warns(UserWarning, match=re.escape(message)):
        series = load_csv_series(_write(tmp_path, text), "close", "date")
    assert series.gaps == (Gap(pd.Timestamp("2024-01-09"), pd.Timestamp("2024-01-11"), 1, 9),)


# ------------------------------------------------------------------ gaps
def test_gaps_in_daily_data_warn_by_default(tmp_path):
    lines = _daily(12).splitlines(keepends=True)
    text = "".join(lines[:4] + lines[7:9] + lines[10:])  # drop Jan 4-6 and Jan 9
    path = _write(tmp_path, text)
    message = ("column 'date' has 2 gap(s) in its regular step of 1 day, 4 missing date(s) "
               "in all: 3 missing between 2024-01-03 and 2024-01-07 (line 5); 1 missing "
               "between 2024-01-08 and 2024-01-10 (line 7) (pass gaps='ignore' to accept them).")
    with pytest.warns(UserWarning, match=re.escape(message)):
        series = load_csv_series(path, "close", "date")
    assert len(series.values) == 8  # nothing dropped or filled
    assert [gap.n_missing for gap in series.gaps] == [3, 1]
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_series(path, "close", "date", gaps="error")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_csv_series(path, "close", "date", gaps="ignore").gaps) == 2


def test_weekly_step_from_the_most_common_difference(tmp_path):
    dates = list(pd.date_range("2024-01-07", periods=10, freq="7D"))
    del dates[5]
    path = _write(tmp_path, "date,v\n" + "".join(f"{d.date()},1\n" for d in dates))
    with pytest.warns(UserWarning, match=re.escape("regular step of 7 days, 1 missing date(s)")):
        series = load_csv_series(path, "v", "date")
    assert series.step == pd.Timedelta(days=7)


# ------------------------------------------------------------------ malformed
def test_missing_file_names_it(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError, match=re.escape(f"No such CSV file: '{path}'")):
        load_csv_series(path, "close")


def test_unknown_column_lists_the_available_ones(tmp_path):
    path = _write(tmp_path, "date,close,volume\n2024-01-01,1,2\n")
    message = "data.csv: no column named 'Close'; the columns are ['date', 'close', 'volume']."
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_series(path, "Close", "date")
    with pytest.raises(ValueError, match=re.escape("no column named 'day'; the columns are")):
        load_csv_series(path, "close", "day")


def test_empty_file(tmp_path):
    with pytest.raises(ValueError, match=re.escape("data.csv: the file is empty")):
        load_csv_series(_write(tmp_path, ""), "close")


def test_header_without_data(tmp_path):
    message = "data.csv: no data row after the header line; expected one row per time step."
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_series(_write(tmp_path, "date,close\n\n"), "close", "date")


def test_other_separators(tmp_path):
    path = _write(tmp_path, "date;close\n2024-01-01;1,5\n2024-01-02;2\n")
    message = ("data.csv: no column named 'date'; the columns are ['date;close']. Is the "
               "separator ';'? Pass sep=';'.")
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_series(path, "close", "date")
    with pytest.raises(ValueError, match=re.escape("1 non-numeric or infinite value(s): "
                                                   "line 2 ('1,5')")):
        load_csv_series(path, "close", "date", sep=";")
    tabs = _write(tmp_path, "date\tclose\n2024-01-01\t1\n", name="tabs.tsv")
    assert load_csv_series(tabs, "close", "date", sep="\t").values.tolist() == [[1.0]]


def test_byte_order_mark_and_time_zones(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffdate,close\n2024-01-01T00:00+01:00,1\n"
                     "2024-01-02T00:00+01:00,2\n".encode())
    series = load_csv_series(path, "close", "date")
    assert series.values[:, 0].tolist() == [1.0, 2.0]
    assert series.future_dates(1)[0] == pd.Timestamp("2024-01-03T00:00+01:00")


def test_non_numeric_values_with_lines_and_count(tmp_path):
    path = _write(tmp_path, "date,close\n2024-01-01,1\n2024-01-02,1,5\n2024-01-03,abc\n"
                            "2024-01-04,4\n2024-01-05,inf\n")
    message = ("data.csv: column 'close' has 2 non-numeric or infinite value(s): "
               "lines 4 ('abc'), 6 ('inf').")
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_series(path, "close", "date")


def test_missing_values_are_an_error_by_default(tmp_path):
    path = _write(tmp_path, "date,close\n2024-01-01,1\n2024-01-02,\n2024-01-03,3\n"
                            "2024-01-04,NA\n2024-01-05,5\n")
    message = ("data.csv: column 'close' has 2 missing value(s): lines 3, 5 (pass "
               "missing='drop' or missing='interpolate' to handle them).")
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_series(path, "close", "date")


def test_missing_values_dropped_on_request_leave_reported_gaps(tmp_path):
    path = _write(tmp_path, "date,close\n2024-01-01,1\n2024-01-02,\n2024-01-03,3\n"
                            "2024-01-04,4\n")
    with pytest.warns(UserWarning, match=re.escape("1 missing between 2024-01-01 and "
                                                   "2024-01-03 (line 4)")):
        series = load_csv_series(path, "close", "date", missing="drop")
    assert series.values[:, 0].tolist() == [1.0, 3.0, 4.0]
    assert series.lines.tolist() == [2, 4, 5]


def test_missing_values_interpolated_in_time_on_request(tmp_path):
    path = _write(tmp_path, "date,close\n2024-01-01,0\n2024-01-02,\n2024-01-05,8\n"
                            "2024-01-04,\n")
    series = load_csv_series(path, "close", "date", missing="interpolate", gaps="ignore")
    # in time: Jan 2 is 1/4 and Jan 4 is 3/4 of the way from 0 (Jan 1) to 8 (Jan 5)
    assert series.values[:, 0].tolist() == [0.0, 2.0, 6.0, 8.0]
    no_dates = load_csv_series(_write(tmp_path, "v\n0\nNA\n\n\n6\n"), "v",
                               missing="interpolate")  # file order, blank lines skipped
    assert no_dates.values[:, 0].tolist() == [0.0, 3.0, 6.0]


def test_missing_edge_values_cannot_be_interpolated(tmp_path):
    path = _write(tmp_path, "v\n\n1\n2\nnull\n")
    message = ("data.csv: column 'v' has 1 missing value(s) before its first or after its "
               "last value, which cannot be interpolated: line 5 (pass missing='drop').")
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_series(path, "v", missing="interpolate")


def test_duplicated_dates_with_their_lines(tmp_path):
    path = _write(tmp_path, "date,close\n2024-01-01,1\n2024-01-02,2\n2024-01-01,3\n"
                            "2024-01-03,4\n2024-01-03,5\n")
    message = ("data.csv: column 'date' has 2 duplicated date(s): 2024-01-01 at lines 2, 4; "
               "2024-01-03 at lines 5, 6.")
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_series(path, "close", "date")


def test_missing_and_unreadable_dates(tmp_path):
    path = _write(tmp_path, "date,close\n2024-01-01,1\n,2\n2024-02-30,3\nsoon,4\n")
    message = ("data.csv: column 'date' has 1 missing date(s): line 3; column 'date' has 2 "
               "value(s) that are not a date: lines 4 ('2024-02-30'), 5 ('soon').")
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_series(path, "close", "date")


def test_every_problem_is_reported_at_once(tmp_path):
    path = _write(tmp_path, "date,close\n2024-01-01,x\n2024-01-01,\n")
    message = ("data.csv: column 'close' has 1 non-numeric or infinite value(s): line 2 "
               "('x'); column 'date' has 1 duplicated date(s): 2024-01-01 at lines 2, 3; "
               "column 'close' has 1 missing value(s): line 3")
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_series(path, "close", "date")


def test_long_lists_are_cut_but_counted(tmp_path):
    path = _write(tmp_path, "v\n" + "x\n" * 8)
    message = ("column 'v' has 8 non-numeric or infinite value(s): lines 2 ('x'), 3 ('x'), "
               "4 ('x'), 5 ('x'), 6 ('x'), ...")
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_series(path, "v")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"missing": "fill"}, "The 'missing' parameter of load_csv_series must be a str among "
                          "['error', 'drop', 'interpolate']. Got 'fill' instead."),
    ({"gaps": "raise"}, "The 'gaps' parameter of load_csv_series must be a str among "
                        "['warn', 'error', 'ignore']. Got 'raise' instead."),
])
def test_bad_options(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_series(_write(tmp_path, "v\n1\n"), "v", **kwargs)


def test_same_column_for_dates_and_values(tmp_path):
    with pytest.raises(ValueError, match=re.escape("are both 'v'")):
        load_csv_series(_write(tmp_path, "v\n1\n"), "v", "v")


def test_date_format(tmp_path):
    path = _write(tmp_path, "d,v\n02/01/2024,2\n01/01/2024,1\n")
    series = load_csv_series(path, "v", "d", date_format="%d/%m/%Y")
    assert series.dates[0] == pd.Timestamp("2024-01-01") and series.values[0, 0] == 1.0


# ------------------------------------------------------------------ shipped data
def test_the_shipped_btc_csv_loads_without_gaps():
    shipped = resources.files("seqpipe.datasets") / "data" / "btc_usd_eur_daily.csv"
    with resources.as_file(shipped) as path, warnings.catch_warnings():
        warnings.simplefilter("error")
        series = load_csv_series(path, "close_usd", "date")
    expected = load_btc_usd_eur()["close_usd"]
    assert series.values.shape == (len(expected), 1)
    np.testing.assert_array_equal(series.values[:, 0], expected.to_numpy())
    assert (series.dates == expected.index).all()
    assert series.step == pd.Timedelta(days=1) and series.gaps == ()
    assert series.lines[0] == 2 and series.lines[-1] == len(expected) + 1


def test_binary_file_is_not_a_csv(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match=r"array\.npy: not a text CSV file \(byte 0"):
        load_csv_series(path, "value")



def test_local_times_across_a_daylight_saving_change_load_as_utc(tmp_path):
    """Paris clocks jump from 02:00 to 03:00 on 2024-03-31: the offsets change from +01:00
    to +02:00, and the hours stay one apart once in UTC."""
    local = pd.date_range("2024-03-30 22:00", periods=8, freq="h", tz="Europe/Paris")
    path = tmp_path / "load.csv"
    pd.DataFrame({"time": local.strftime("%Y-%m-%d %H:%M:%S%z").str.replace(
        r"(\d\d)(\d\d)$", r"\1:\2", regex=True), "load": np.arange(8.0)}).to_csv(
        path, index=False)
    assert "+01:00" in path.read_text() and "+02:00" in path.read_text()
    series = load_csv_series(path, "load", "time", gaps="error")
    assert str(series.dates.tz) == "UTC"
    assert series.dates[0] == pd.Timestamp("2024-03-30 21:00", tz="UTC")
    assert (np.diff(series.dates.asi8) == np.diff(series.dates.asi8)[0]).all()
    assert series.gaps == ()


# ------------------------------------------------------------------ found by mutation testing
def test_future_dates_keep_the_date_columns_name(tmp_path):
    series = load_csv_series(_write(tmp_path, _daily(5)), "close", "date")
    assert series.future_dates(2).name == "date"


def test_six_day_weeks_are_daily_data_with_sundays_missing(tmp_path):
    dates = [d for d in pd.date_range("2024-01-01", periods=21) if d.day_of_week < 6]
    text = "date,close\n" + "".join(f"{d.date()},{i}.5\n" for i, d in enumerate(dates))
    series = load_csv_series(_write(tmp_path, text), "close", "date", gaps="ignore")
    assert series.step == pd.Timedelta(days=1)  # Saturdays: not business days
    assert [gap.n_missing for gap in series.gaps] == [1, 1]  # the two Sundays inside


def test_a_list_of_exactly_five_is_not_cut(tmp_path):
    path = _write(tmp_path, "v\n" + "x\n" * 5)
    message = ("column 'v' has 5 non-numeric or infinite value(s): lines 2 ('x'), 3 ('x'), "
               "4 ('x'), 5 ('x'), 6 ('x').")
    with pytest.raises(ValueError, match=re.escape(message)):
        load_csv_series(path, "v")


def test_a_step_of_two_days_is_named_in_the_plural(tmp_path):
    dates = list(pd.date_range("2024-01-01", periods=10, freq="2D"))
    del dates[5]
    path = _write(tmp_path, "date,v\n" + "".join(f"{d.date()},1\n" for d in dates))
    with pytest.warns(UserWarning, match=re.escape("regular step of 2 days, 1 missing date")):
        load_csv_series(path, "v", "date")


# ------------------------------------------------------------------ the whole messages
def _message(function, *args, error=ValueError, **kwargs):
    """The message of the error ``function(*args, **kwargs)`` raises."""
    with pytest.raises(error) as caught:
        function(*args, **kwargs)
    return str(caught.value)


def test_unknown_columns_and_separators_say_exactly_what_to_do(tmp_path):
    path = _write(tmp_path, "date,close,volume\n2024-01-01,1,2\n")
    assert _message(load_csv_series, path, "Close", "date") == (
        f"{path}: no column named 'Close'; the columns are ['date', 'close', 'volume'].")
    single = _write(tmp_path, "close\n1\n", name="single.csv")
    assert _message(load_csv_series, single, "value") == (
        f"{single}: no column named 'value'; the columns are ['close'].")
    for sep, name in (("\t", "tabs.tsv"), ("|", "pipes.csv"), (",", "commas.csv")):
        other = _write(tmp_path, f"date{sep}close\n2024-01-01{sep}1\n", name=name)
        read_with = ";" if sep == "," else ","
        assert _message(load_csv_series, other, "close", sep=read_with) == (
            f"{other}: no column named 'close'; the columns are {[f'date{sep}close']}. Is "
            f"the separator {sep!r}? Pass sep={sep!r}.")


def test_a_directory_or_a_missing_file_is_an_os_error_naming_it(tmp_path):
    error = _message(load_csv_series, tmp_path, "v", error=IsADirectoryError)
    assert error == f"[Errno 21] Expected a CSV file, got a directory: '{tmp_path}'"
    missing = tmp_path / "nowhere.csv"
    assert _message(load_csv_series, missing, "v", error=FileNotFoundError) == (
        f"[Errno 2] No such CSV file: '{missing}'")


def test_a_malformed_row_is_reported_with_the_parsers_reason(tmp_path):
    path = _write(tmp_path, 'date,close\n2024-01-01,"1\n2024-01-02,2\n')  # a quote not closed
    assert _message(load_csv_series, path, "close", "date") == (
        f"{path}: not a well-formed CSV (Error tokenizing data. C error: EOF inside string "
        f"starting at row 1).")


def test_long_lists_of_gaps_and_duplicates_are_cut_after_five(tmp_path):
    for n_gaps in (5, 6):
        dates = [d for i, d in enumerate(pd.date_range("2024-01-01", periods=40))
                 if i % 4 != 3 or i // 4 >= n_gaps]
        path = _write(tmp_path, "date,v\n" + "".join(f"{d.date()},1\n" for d in dates))
        shown = "; ".join(f"1 missing between 2024-01-{4 * i + 3:02d} and "
                          f"2024-01-{4 * i + 5:02d} (line {3 * i + 5})" for i in range(5))
        assert _message(load_csv_series, path, "v", "date", gaps="error") == (
            f"{path}: column 'date' has {n_gaps} gap(s) in its regular step of 1 day, "
            f"{n_gaps} missing date(s) in all: {shown}{', ...' if n_gaps > 5 else ''} "
            f"(pass gaps='ignore' to accept them).")
    for n_groups in (5, 6):
        days = [f"2024-01-0{1 + i}" for i in range(n_groups) for _ in range(2)]
        path = _write(tmp_path, "date,v\n" + "".join(f"{d},1\n" for d in days))
        shown = "; ".join(f"2024-01-0{1 + i} at lines {2 * i + 2}, {2 * i + 3}"
                          for i in range(5))
        assert _message(load_csv_series, path, "v", "date") == (
            f"{path}: column 'date' has {n_groups} duplicated date(s): {shown}"
            f"{', ...' if n_groups > 5 else ''}.")


def test_times_of_day_are_shown_when_dates_are_not_at_midnight(tmp_path):
    hours = list(pd.date_range("2024-01-01 06:00", periods=6, freq="h"))
    del hours[3]
    path = _write(tmp_path, "time,v\n" + "".join(f"{h},1\n" for h in hours)
                  + f"{hours[-1]},2\n")
    assert _message(load_csv_series, path, "v", "time") == (
        f"{path}: column 'time' has 1 duplicated date(s): 2024-01-01 11:00:00 at lines "
        f"6, 7.")
    path = _write(tmp_path, "time,v\n" + "".join(f"{h},1\n" for h in hours))
    assert _message(load_csv_series, path, "v", "time", gaps="error") == (
        f"{path}: column 'time' has 1 gap(s) in its regular step of 0 days 01:00:00, 1 "
        f"missing date(s) in all: 1 missing between 2024-01-01 08:00:00 and 2024-01-01 "
        f"10:00:00 (line 5) (pass gaps='ignore' to accept them).")


def test_the_step_is_the_most_common_difference_not_the_smallest(tmp_path):
    dates = list(pd.date_range("2024-01-07", periods=8, freq="7D"))
    dates.insert(3, dates[2] + pd.Timedelta(days=3))  # one extra date mid-week
    path = _write(tmp_path, "date,v\n" + "".join(f"{d.date()},1\n" for d in dates))
    series = load_csv_series(path, "v", "date", gaps="error")
    assert series.step == pd.Timedelta(days=7) and series.gaps == ()


def test_a_difference_of_one_and_a_half_steps_is_not_a_gap(tmp_path):
    dates = list(pd.date_range("2024-01-01", periods=8, freq="2D"))
    dates[4] -= pd.Timedelta(days=1)  # 3 days after the one before it, 1 before the next
    path = _write(tmp_path, "date,v\n" + "".join(f"{d.date()},1\n" for d in dates))
    series = load_csv_series(path, "v", "date", gaps="error")
    assert series.step == pd.Timedelta(days=2) and series.gaps == ()


def test_business_days_with_a_utc_offset_are_business_days_where_they_were_recorded(
        tmp_path):
    days = [d for d in pd.date_range("2024-01-01", periods=21) if d.day_of_week < 5]
    path = _write(tmp_path, "date,v\n" + "".join(f"{d.date()}T00:00+01:00,{i}\n"
                                                  for i, d in enumerate(days)))
    series = load_csv_series(path, "v", "date", gaps="error")  # Mondays are Sundays in UTC
    assert series.step == pd.offsets.BusinessDay() and series.gaps == ()


def test_missing_values_dropped_or_interpolated_without_dates(tmp_path):
    path = _write(tmp_path, "v\n0\n2\nNA\n6\n10\n")
    dropped = load_csv_series(path, "v", missing="drop")
    assert dropped.values[:, 0].tolist() == [0.0, 2.0, 6.0, 10.0] and dropped.dates is None
    assert dropped.lines.tolist() == [2, 3, 5, 6]
    filled = load_csv_series(path, "v", missing="interpolate")  # after the second value
    assert filled.values[:, 0].tolist() == [0.0, 2.0, 4.0, 6.0, 10.0]


def test_a_column_of_missing_values_only_is_refused_whatever_is_asked(tmp_path):
    path = _write(tmp_path, "v\nNA\n\nnull\n")
    assert _message(load_csv_series, path, "v", missing="drop") == (
        f"{path}: column 'v' has no value left after dropping its 2 missing value(s).")
    assert _message(load_csv_series, path, "v", missing="interpolate") == (
        f"{path}: column 'v' has 2 missing value(s) before its first or after its last "
        f"value, which cannot be interpolated: lines 2, 4 (pass missing='drop').")


def test_the_date_format_is_used_for_dates_that_pandas_would_read_otherwise(tmp_path):
    path = _write(tmp_path, "d,v\n02/01/2024,2\n03/01/2024,3\n01/01/2024,1\n")
    series = load_csv_series(path, "v", "d", date_format="%d/%m/%Y")  # not February 1
    assert series.dates.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-02",
                                                          "2024-01-03"]
    path = _write(tmp_path, "d,v\n01/01/2024,1\n2024-01-02,2\n")
    assert _message(load_csv_series, path, "v", "d", date_format="%d/%m/%Y") == (
        f"{path}: column 'd' has 1 value(s) that are not the format '%d/%m/%Y': line 3 "
        f"('2024-01-02').")


def test_the_date_format_is_used_for_dates_whose_utc_offset_changes(tmp_path):
    """New York's clocks go back on 2024-11-03, written day first: 03/11/2024."""
    local = pd.date_range("2024-11-02 23:00", periods=5, freq="h", tz="America/New_York")
    stamps = local.strftime("%d/%m/%Y %H:%M%z")
    path = _write(tmp_path, "t,v\n" + "".join(f"{s},{i}\n" for i, s in enumerate(stamps)))
    series = load_csv_series(path, "v", "t", date_format="%d/%m/%Y %H:%M%z", gaps="error")
    assert series.dates[0] == pd.Timestamp("2024-11-03 03:00", tz="UTC")
    assert series.step == pd.Timedelta(hours=1)
    path = _write(tmp_path, "t,v\n" + "".join(f"{s},{i}\n" for i, s in enumerate(stamps))
                  + "later,5\n")
    assert _message(load_csv_series, path, "v", "t") == (
        f"{path}: column 't' has 1 value(s) that are not a date: line 7 ('later').")


def test_an_unreadable_first_date_is_reported_without_a_pandas_warning(tmp_path):
    path = _write(tmp_path, "date,v\nsoon,1\n2024-01-02,2\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _message(load_csv_series, path, "v", "date") == (
            f"{path}: column 'date' has 1 value(s) that are not a date: line 2 ('soon').")


def test_future_dates_need_two_dates(tmp_path):
    path = _write(tmp_path, "date,v\n2024-01-01,1\n")
    series = load_csv_series(path, "v", "date")
    assert series.step is None
    assert _message(series.future_dates, 1) == (
        f"{path}: no date column with at least two dates was read, so the dates cannot be "
        f"continued.")


def test_bad_options_are_named_exactly(tmp_path):
    path = _write(tmp_path, "v\n1\n")
    assert _message(load_csv_series, path, "v", missing="fill") == (
        "The 'missing' parameter of load_csv_series must be a str among ['error', 'drop', "
        "'interpolate']. Got 'fill' instead.")
    assert _message(load_csv_series, path, "v", gaps="raise") == (
        "The 'gaps' parameter of load_csv_series must be a str among ['warn', 'error', "
        "'ignore']. Got 'raise' instead.")


def test_the_gap_warning_is_attributed_to_the_caller(tmp_path):
    dates = list(pd.date_range("2024-01-01", periods=6))
    del dates[3]
    path = _write(tmp_path, "date,v\n" + "".join(f"{d.date()},1\n" for d in dates))
    with pytest.warns(UserWarning, match="gap") as caught:
        load_csv_series(path, "v", "date")
    assert caught[0].filename == __file__


def test_a_malformed_row_far_into_a_long_file_is_reported_with_the_parsers_reason(tmp_path):
    path = _write(tmp_path, "v\n" + "1\n" * 300_000 + '"2\n')  # past the header's read
    assert _message(load_csv_series, path, "v") == (
        f"{path}: not a well-formed CSV (Error tokenizing data. C error: EOF inside string "
        f"starting at row 300001).")
