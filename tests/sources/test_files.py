"""Tests of oilimpact.sources.files: user file import into named series."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oilimpact.errors import InputError
from oilimpact.sources.files import (
    DEFAULT_BBL_PER_TONNE,
    M3_TO_BBL,
    MISSING_MARKERS,
    ImportedSeries,
    detect_format,
    read_series_file,
    read_tanker_export,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "files"
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


def fx(name: str) -> Path:
    return FIXTURES / name


@pytest.fixture(scope="module")
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} is absent (only present in the project's CI)")
    return REAL


def raw_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(1-based line, fields) of every data row, read with the csv module, not pandas."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        out = []
        for row in reader:
            out.append((reader.line_num, row))
    return out


def expected_series(path: Path, value_field: int, keep=lambda row: True) -> pd.Series:
    """The series a file should give, computed straight from its raw lines."""
    dates, values = [], []
    for _, row in raw_rows(path):
        if not keep(row):
            continue
        text = row[0].strip()
        fmt = "%Y-%m" if len(text) == 7 else "%Y-%m-%d"
        dates.append(datetime.strptime(text, fmt))
        cell = row[value_field].strip()
        values.append(float(cell) if cell not in ("", ".") else np.nan)
    return pd.Series(values, index=pd.DatetimeIndex(dates), dtype="float64").sort_index()


def assert_frame_convention(got: ImportedSeries, name: str) -> None:
    s = got.series
    assert s.name == name
    assert s.dtype == np.float64
    assert isinstance(s.index, pd.DatetimeIndex)
    assert s.index.name == "date"
    assert s.index.dtype == np.dtype("datetime64[ns]")
    assert s.index.tz is None
    assert s.index.is_monotonic_increasing and s.index.is_unique
    assert (s.index == s.index.normalize()).all()


def refused(path: Path, line: int, *fragments: str, **kwargs) -> InputError:
    """Assert that reading ``path`` is refused naming the file and ``line``."""
    with pytest.raises(InputError) as info:
        read_series_file(path, name="x", **kwargs)
    msg = str(info.value)
    assert msg.startswith(f"{path}, line {line}: "), msg
    for frag in fragments:
        assert frag in msg, msg
    return info.value


# ---------------------------------------------------------------------------------------
# Real files
# ---------------------------------------------------------------------------------------

DAILY = [
    ("eia_brent_spot_daily.csv", "eia", 1, {}),
    ("eia_wti_spot_daily.csv", "eia", 1, {}),
    ("eia_henry_hub_spot_daily.csv", "eia", 1, {}),
    ("cboe_vix_daily.csv", "ohlc", 4, {}),
    ("fred_SP500.csv", "fred", 1, {}),
]


@pytest.mark.parametrize(("fname", "fmt", "field", "kwargs"), DAILY)
def test_real_daily_files_match_their_raw_lines(real, fname, fmt, field, kwargs):
    path = real / fname
    got = read_series_file(path, name="s", **kwargs)
    assert_frame_convention(got, "s")
    assert got.format == fmt == detect_format(path)
    assert got.source_file == str(path)
    expected = expected_series(path, field)
    assert got.rows == len(expected)
    pd.testing.assert_series_equal(
        got.series, expected, check_names=False, check_index_type=False, check_freq=False
    )


def test_real_wti_keeps_the_negative_print(real):
    path = real / "eia_wti_spot_daily.csv"
    (line,) = [row for _, row in raw_rows(path) if row[0] == "2020-04-20"]
    got = read_series_file(path, name="wti").series
    assert got[pd.Timestamp("2020-04-20")] == float(line[1]) == -36.98


def test_real_vix_reads_the_close_not_the_open(real):
    path = real / "cboe_vix_daily.csv"
    line_no, last = raw_rows(path)[-1]
    got = read_series_file(path, name="vix")
    assert got.value_column == "CLOSE"
    assert got.series.iloc[-1] == float(last[4])
    assert float(last[1]) != float(last[4])  # the test can tell open from close
    opened = read_series_file(path, name="vix", column="open").series
    assert opened.iloc[-1] == float(last[1])


def test_real_fred_sp500_empty_holiday_rows_are_nan(real):
    path = real / "fred_SP500.csv"
    empty = [row[0] for _, row in raw_rows(path) if row[1].strip() == ""]
    got = read_series_file(path, name="sp500")
    assert got.source_id == "SP500"
    assert len(empty) > 50
    nan_dates = got.series.index[got.series.isna()].strftime("%Y-%m-%d").tolist()
    assert nan_dates == empty
    assert np.isnan(got.series[pd.Timestamp("2016-02-15")])  # Presidents' Day


def test_real_henry_hub_empty_price_is_nan(real):
    got = read_series_file(real / "eia_henry_hub_spot_daily.csv", name="hh").series
    assert np.isnan(got[pd.Timestamp("2018-01-05")])


def test_real_venezuela_production_with_product_filter(real):
    path = real / "eia_venezuela_liquids_production_monthly.csv"
    got = read_series_file(path, name="ve_crude", filters={"eia_product_id": "57"})
    assert_frame_convention(got, "ve_crude")
    assert got.format == "tidy"
    assert got.source_id == "eia_product_id=57"
    assert got.unit == "thousand barrels per day"
    expected = expected_series(path, 3, keep=lambda row: row[1] == "57")
    assert got.rows == len(expected) > 300
    pd.testing.assert_series_equal(
        got.series, expected, check_names=False, check_index_type=False, check_freq=False
    )
    assert (got.series.index.day == 1).all()


def test_real_venezuela_production_without_filter_names_both_lines(real):
    path = real / "eia_venezuela_liquids_production_monthly.csv"
    rows = raw_rows(path)
    first_jan = [ln for ln, row in rows if row[0] == "2000-01"]
    err = refused(path, first_jan[1], "duplicate date 2000-01-01", f"line {first_jan[0]}")
    assert "eia_product_id (53 | 55 | 57)" in str(err)


def test_real_venezuela_filter_matching_nothing_lists_values(real):
    path = real / "eia_venezuela_liquids_production_monthly.csv"
    refused(path, 2, "eia_product_id='99'", "'53', '55', '57'", filters={"eia_product_id": "99"})


@pytest.mark.parametrize("key", ["USA.MG_CIF_USD.VEN.M", "USA.XG_FOB_USD.VEN.M"])
def test_real_imf_trade_with_key_filter(real, key):
    path = real / "imf_imts_us_trade_with_venezuela_monthly.csv"
    got = read_series_file(path, name="us_imports", filters={"imf_key": key})
    assert_frame_convention(got, "us_imports")
    assert got.unit == "million USD"
    assert got.source_id == f"imf_key={key}"
    expected = expected_series(path, 3, keep=lambda row: row[1] == key)
    pd.testing.assert_series_equal(
        got.series, expected, check_names=False, check_index_type=False, check_freq=False
    )


# ---------------------------------------------------------------------------------------
# Formats on small fixtures
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fname", "fmt"),
    [
        ("fred_two_ids.csv", "fred"),
        ("fred_legacy.csv", "fred"),
        ("missing_markers.csv", "eia"),
        ("yahoo_flat.csv", "yahoo"),
        ("jodi_tidy.csv", "tidy"),
        ("kpler_display.csv", "tanker"),
        ("kpler_sdk.csv", "tanker"),
        ("vortexa.csv", "tanker"),
        ("tanker_canonical.csv", "tanker"),
    ],
)
def test_detect_format(fname, fmt):
    assert detect_format(fx(fname)) == fmt


def test_fred_legacy_header_and_dot_marker():
    got = read_series_file(fx("fred_legacy.csv"), name="wti")
    assert got.source_id == "DCOILWTICO"
    assert got.series.tolist()[:2] == [18.31, -36.98]
    assert np.isnan(got.series.iloc[2])


def test_fred_several_ids_needs_column():
    refused(fx("fred_two_ids.csv"), 1, "2 FRED series", "DCOILWTICO, DCOILBRENTEU", "column=")
    got = read_series_file(fx("fred_two_ids.csv"), name="brent", column="DCOILBRENTEU")
    assert got.source_id == "DCOILBRENTEU"
    assert got.series.iloc[0] == 60.8 and np.isnan(got.series.iloc[1])
    refused(fx("fred_two_ids.csv"), 1, "'DCOILXXX'", "'DCOILBRENTEU'", column="DCOILXXX")


def test_every_missing_marker_is_nan_not_zero():
    got = read_series_file(fx("missing_markers.csv"), name="x").series
    assert got.isna().sum() == 8 and got.iloc[-1] == 1.5
    assert {".", "", "na", "n/a", "-", "--", "x", "null"} <= MISSING_MARKERS


def test_yahoo_flat_export_takes_close():
    got = read_series_file(fx("yahoo_flat.csv"), name="cl")
    assert got.format == "yahoo"
    assert got.series.tolist() == [56.8, 55.0]


def test_jodi_like_tidy_with_markers_and_filters():
    got = read_series_file(
        fx("jodi_tidy.csv"), name="ve_exports", filters={"FLOW_BREAKDOWN": "TOTEXPSB"}
    )
    assert got.unit == "KBD"
    assert got.value_column == "OBS_VALUE"
    assert got.series.index.strftime("%Y-%m-%d").tolist() == [
        "2025-09-01",
        "2025-10-01",
        "2025-11-01",
    ]
    assert got.series.iloc[0] == 710 and np.isnan(got.series.iloc[1])


def _yfinance_frame(tickers: list[str], *, swap: bool = False) -> pd.DataFrame:
    """A frame in the exact shape of ``yf.download`` 1.x (MultiIndex Price/Ticker)."""
    idx = pd.DatetimeIndex(["2025-12-15", "2025-12-16", "2025-12-17"], name="Date")
    cols = pd.MultiIndex.from_product(
        [["Close", "High", "Low", "Open", "Volume"], tickers], names=["Price", "Ticker"]
    )
    rng = np.random.default_rng(7)
    data = rng.uniform(50, 70, size=(len(idx), len(cols))).round(6)
    frame = pd.DataFrame(data, index=idx, columns=cols)
    if swap:  # group_by="ticker"
        frame = frame.swaplevel(axis=1).sort_index(axis=1)
    return frame


def test_yahoo_multiindex_csv_round_trip(tmp_path):
    frame = _yfinance_frame(["CL=F"])
    path = tmp_path / "cl.csv"
    frame.to_csv(path)
    head = path.read_text().splitlines()[:3]
    assert head == [
        "Price,Close,High,Low,Open,Volume",
        "Ticker,CL=F,CL=F,CL=F,CL=F,CL=F",
        "Date,,,,,",
    ]
    assert detect_format(path) == "yahoo"
    got = read_series_file(path, name="wti_fut")
    assert_frame_convention(got, "wti_fut")
    assert got.source_id == "CL=F"
    want = frame[("Close", "CL=F")]
    np.testing.assert_array_equal(got.series.to_numpy(), want.to_numpy())
    assert (got.series.index == want.index).all()
    opened = read_series_file(path, name="o", column="Open").series
    np.testing.assert_array_equal(opened.to_numpy(), frame[("Open", "CL=F")].to_numpy())


def test_yahoo_several_tickers_needs_ticker_filter(tmp_path):
    frame = _yfinance_frame(["BZ=F", "CL=F"])
    path = tmp_path / "two.csv"
    frame.to_csv(path)
    refused(path, 2, "several tickers", "BZ=F, CL=F")
    got = read_series_file(path, name="brent_fut", filters={"Ticker": "BZ=F"})
    np.testing.assert_array_equal(got.series.to_numpy(), frame[("Close", "BZ=F")].to_numpy())
    refused(path, 2, "no ticker 'NG=F'", filters={"Ticker": "NG=F"})
    swapped = tmp_path / "by_ticker.csv"
    _yfinance_frame(["BZ=F", "CL=F"], swap=True).to_csv(swapped)
    got2 = read_series_file(swapped, name="cl", filters={"Ticker": "CL=F"})
    np.testing.assert_array_equal(got2.series.to_numpy(), frame[("Close", "CL=F")].to_numpy())


def test_file_like_objects_and_unsorted_rows():
    text = "Date,Price\n2025-12-17,3\n2025-12-15,1\n2025-12-16,2\n"
    got = read_series_file(io.StringIO(text), name="x")
    assert got.series.tolist() == [1.0, 2.0, 3.0]
    got_b = read_series_file(io.BytesIO(("\ufeff" + text).encode()), name="x")
    assert got_b.series.tolist() == [1.0, 2.0, 3.0]


def test_us_dates_and_explicit_date_format():
    us = read_series_file(io.StringIO("Date,Price\n12/16/2025,1\n1/2/2026,2\n"), name="x")
    assert us.series.index.strftime("%Y-%m-%d").tolist() == ["2025-12-16", "2026-01-02"]
    eu = read_series_file(
        io.StringIO("Date,Price\n16/12/2025,1\n02/01/2026,2\n"), name="x", date_format="%d/%m/%Y"
    )
    assert eu.series.index.strftime("%Y-%m-%d").tolist() == ["2025-12-16", "2026-01-02"]


# ---------------------------------------------------------------------------------------
# Refusals: file and line named
# ---------------------------------------------------------------------------------------


def test_empty_file():
    refused(fx("empty.csv"), 1, "empty")


def test_header_only():
    with pytest.raises(InputError, match=r"<stream>, line 2: no data rows"):
        read_series_file(io.StringIO("Date,Price\n\n"), name="x")


def test_missing_header():
    refused(fx("no_header.csv"), 1, "looks like data", "add a header")


def test_unknown_columns_lists_found_and_expected():
    refused(fx("unknown_columns.csv"), 1, "'day', 'close_usd'", "EIA 'Date,Price'")


def test_wrong_column_for_explicit_format():
    refused(fx("yahoo_flat.csv"), 1, "no value column 'Price'", "'Adj Close'", fmt="eia")


def test_duplicate_dates_names_both_lines():
    refused(fx("duplicate_dates.csv"), 5, "duplicate date 2025-12-16", "also on line 3")


def test_non_numeric_value_names_line_and_text():
    refused(fx("non_numeric.csv"), 4, "non-numeric value 'abc'", "'Price'")


def test_mixed_date_formats():
    refused(fx("mixed_dates.csv"), 4, "mixed date formats", "'12/17/2025'", "line 2")


def test_unparseable_and_invalid_dates():
    refused(fx("unparseable_date.csv"), 3, "cannot read the date 'yesterday'")
    refused(fx("invalid_date.csv"), 3, "invalid date '2025-02-30'")


def test_ragged_row():
    with pytest.raises(InputError, match=r"<stream>, line 3: expected 2 fields"):
        read_series_file(io.StringIO("Date,Price\n2025-01-01,1\n2025-01-02,2,3\n"), name="x")


def test_line_numbers_count_blank_lines_and_quoted_newlines():
    text = 'month,key,note,value\n\n2025-01,a,"two\nlines",1\n2025-02,a,ok,oops\n'
    with pytest.raises(InputError, match=r"<stream>, line 5: non-numeric value 'oops'"):
        read_series_file(io.StringIO(text), name="x")


def test_filters_refused_on_wide_formats():
    refused(fx("fred_legacy.csv"), 1, "filters=", filters={"a": "b"})


def test_unknown_filter_column():
    refused(
        fx("jodi_tidy.csv"), 1, "no filter column 'flow'", "'FLOW_BREAKDOWN'", filters={"flow": "x"}
    )


# ---------------------------------------------------------------------------------------
# Tanker exports
# ---------------------------------------------------------------------------------------


def test_kpler_display_preset_monthly_against_hand_computation():
    got = read_tanker_export(fx("kpler_display.csv"), name="ve_exports")
    assert_frame_convention(got, "ve_exports")
    assert got.unit == "kb/d" and got.format == "tanker"
    assert got.rows == 3
    # Nov: (100000 + 55000) m3; Dec: none (Colombia only) -> 0; Jan: 120000 m3;
    # Feb: a Brazil cargo on the 27th keeps Feb inside the file's span -> 0.
    expected = {
        "2025-11-01": 155000 * 6.2898 / 30 / 1000,
        "2025-12-01": 0.0,
        "2026-01-01": 120000 * 6.2898 / 31 / 1000,
        "2026-02-01": 0.0,
    }
    assert got.series.index.strftime("%Y-%m-%d").tolist() == list(expected)
    np.testing.assert_allclose(got.series.to_numpy(), list(expected.values()), rtol=1e-12)
    assert M3_TO_BBL == 6.2898
    assert any("2026-02-01" in n and "2026-02-27" in n for n in got.notes)


def test_kpler_sdk_ids_and_destination_filter():
    got = read_tanker_export(fx("kpler_sdk.csv"), name="ve_china", destination="china")
    np.testing.assert_allclose(
        got.series.to_numpy(),
        [100000 * 6.2898 / 30 / 1000, 0.0, 120000 * 6.2898 / 31 / 1000],
        rtol=1e-12,
    )
    assert got.source_id == "kpler: origin=Venezuela, destination=china"


def test_vortexa_tonnes_default_and_override():
    got = read_tanker_export(fx("vortexa.csv"), name="ve", preset="vortexa")
    assert DEFAULT_BBL_PER_TONNE == 7.33
    np.testing.assert_allclose(got.series.to_numpy(), [350000 * 7.33 / 31 / 1000], rtol=1e-12)
    heavy = read_tanker_export(fx("vortexa.csv"), name="ve", bbl_per_tonne=6.7)
    np.testing.assert_allclose(heavy.series.to_numpy(), [350000 * 6.7 / 31 / 1000], rtol=1e-12)


def test_vortexa_weekly_weeks_end_on_sunday():
    got = read_tanker_export(fx("vortexa.csv"), name="ve", frequency="weekly")
    assert got.series.index.strftime("%Y-%m-%d").tolist() == [
        "2025-12-07",
        "2025-12-14",
        "2025-12-21",
    ]
    np.testing.assert_allclose(
        got.series.to_numpy(),
        [300000 * 7.33 / 7 / 1000, 50000 * 7.33 / 7 / 1000, 0.0],
        rtol=1e-12,
    )


def test_canonical_unit_column_daily_zero_inside_span_absent_outside():
    got = read_tanker_export(fx("tanker_canonical.csv"), name="ve", frequency="daily")
    s = got.series
    assert s.index[0] == pd.Timestamp("2025-12-15") and s.index[-1] == pd.Timestamp("2026-01-02")
    assert len(s) == 19 and not s.isna().any()
    assert s["2025-12-15"] == pytest.approx(1000.0)  # 1e6 bbl in one day
    assert s["2025-12-16"] == pytest.approx(500.0)  # 500 kbbl
    assert s["2025-12-29"] == pytest.approx(10000 * 6.2898 / 1000)
    assert s["2025-12-20"] == 0.0 and s["2026-01-02"] == 0.0
    monthly = read_tanker_export(fx("tanker_canonical.csv"), name="ve").series
    np.testing.assert_allclose(
        monthly.to_numpy(), [(1_000_000 + 500_000 + 62_898) / 31 / 1000, 0.0], rtol=1e-12
    )


def test_user_mapping_and_volume_unit(tmp_path):
    path = tmp_path / "custom.csv"
    path.write_text("Loaded,From,To,Barrels\n2025-12-01,VEN,CHN,620000\n2025-12-20,VEN,CUB,31000\n")
    got = read_tanker_export(
        path,
        name="ve",
        origin="VEN",
        mapping={"date": "Loaded", "origin": "From", "destination": "To", "volume": "Barrels"},
        volume_unit="bbl",
    )
    assert got.series.tolist() == pytest.approx([651000 / 31 / 1000])
    with pytest.raises(InputError, match=r"custom.csv, line 1: the volume unit is unknown"):
        read_tanker_export(
            path,
            name="ve",
            origin="VEN",
            mapping={"date": "Loaded", "origin": "From", "volume": "Barrels"},
        )


def test_missing_volume_makes_the_period_nan(tmp_path):
    path = tmp_path / "gap.csv"
    path.write_text(
        "date,origin,volume,unit\n2025-11-02,Venezuela,1000,kbbl\n"
        "2025-12-02,Venezuela,NA,kbbl\n2025-12-03,Venezuela,500,kbbl\n"
    )
    got = read_tanker_export(path, name="ve")
    assert got.series.iloc[0] == pytest.approx(1000 / 30) and np.isnan(got.series.iloc[1])
    assert any("NaN" in n for n in got.notes)


def test_tanker_refusals_name_file_and_line(tmp_path):
    with pytest.raises(InputError, match=r"kpler_display.csv, line 2: origin='Iran'.*'Venezuela'"):
        read_tanker_export(fx("kpler_display.csv"), name="x", origin="Iran")
    path = tmp_path / "bad.csv"
    path.write_text(
        "date,origin,volume,unit\n2025-12-01,Venezuela,10,bbl\n2025-12-02,Venezuela,5,gal\n"
    )
    with pytest.raises(InputError, match=r"bad.csv, line 3: unknown volume unit 'gal'"):
        read_tanker_export(path, name="x")
    with pytest.raises(
        InputError, match=r"kpler_sdk.csv, line 1: no volume column 'Volume \(origin m3\)'"
    ):
        read_tanker_export(fx("kpler_sdk.csv"), name="x", mapping={"volume": "Volume (origin m3)"})


def test_read_series_file_delegates_tanker():
    got = read_series_file(fx("kpler_display.csv"), name="ve")
    assert got.format == "tanker" and got.unit == "kb/d" and len(got.series) == 4


# ---------------------------------------------------------------------------------------
# Property: any valid Date,Price file round-trips
# ---------------------------------------------------------------------------------------

_markers = sorted(MISSING_MARKERS)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)),
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.sampled_from(_markers + [m.upper() for m in _markers]),
        ),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(["\n", "\r\n"]),
)
def test_date_price_files_round_trip(observations, newline):
    lines = ["Date,Price"] + [
        f"{d.isoformat()},{v if isinstance(v, str) else repr(v)}" for d, v in observations.items()
    ]
    got = read_series_file(io.StringIO(newline.join(lines) + newline), name="p", allow_future=True)
    assert got.format == "eia" and got.rows == len(observations)
    ordered = sorted(observations.items())
    assert got.series.index.strftime("%Y-%m-%d").tolist() == [d.isoformat() for d, _ in ordered]
    expected = [np.nan if isinstance(v, str) else v for _, v in ordered]
    np.testing.assert_array_equal(got.series.to_numpy(), np.asarray(expected, dtype="float64"))


def test_error_messages_start_with_file_and_line_pattern():
    with pytest.raises(InputError) as info:
        read_series_file(fx("non_numeric.csv"), name="x")
    assert re.match(r"^.+non_numeric\.csv, line \d+: ", str(info.value))


# ---------------------------------------------------------------------------------------
# Refusals that used to escape as tracebacks or silent NaN
# ---------------------------------------------------------------------------------------

_CANONICAL_CSV = "date,origin,destination,volume,unit\n2025-01-02,Venezuela,China,1000,bbl\n"


@pytest.mark.parametrize("preset", ["kpler-sdk", "canonical", "Kpler", "bogus", ""])
def test_unknown_tanker_preset_lists_the_valid_ones(preset):
    with pytest.raises(InputError) as info:
        read_tanker_export(io.StringIO(_CANONICAL_CSV), name="x", preset=preset)  # type: ignore[arg-type]
    message = str(info.value)
    assert repr(preset) in message and "'kpler'" in message and "'vortexa'" in message


def test_kpler_preset_still_reads_sdk_column_ids():
    got = read_tanker_export(fx("kpler_sdk.csv"), name="ve", preset="kpler")
    assert got.source_id.startswith("kpler") and got.unit == "kb/d"


@pytest.mark.parametrize(
    ("text", "line", "value"),
    [
        ("Date,Price\n2024-01-02,1\n2999-01-02,2\n", 3, "2999-01-02"),
        ("Date,Price\n1500-01-02,1\n", 2, "1500-01-02"),
        ("DATE,OPEN,HIGH,LOW,CLOSE\n01/02/2999,1,1,1,1\n", 2, "01/02/2999"),
        ("observation_date,X\n2024-01-02,1\n2263-01-01,2\n", 3, "2263-01-01"),
    ],
)
def test_dates_outside_the_pandas_range_name_file_and_line(tmp_path, text, line, value):
    path = tmp_path / "far.csv"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_series_file(path, name="x")
    message = str(info.value)
    assert message.startswith(f"{path}, line {line}: ") and repr(value) in message
    assert "supported range" in message


def test_tanker_date_outside_the_pandas_range(tmp_path):
    path = tmp_path / "cargo.csv"
    path.write_text(_CANONICAL_CSV + "2999-01-02,Venezuela,China,5,bbl\n")
    with pytest.raises(InputError, match=r"cargo\.csv, line 3: .*'2999-01-02'"):
        read_tanker_export(path, name="x")


def test_missing_file_and_directory_say_cannot_read_without_a_line(tmp_path):
    for path, reason in ((tmp_path / "nope.csv", "no such file"), (tmp_path, "directory")):
        with pytest.raises(InputError) as info:
            read_series_file(path, name="x")
        message = str(info.value)
        assert message.startswith(f"cannot read {path}: ") and reason in message.lower()
        assert "line" not in message


def test_unreadable_file_says_cannot_read(tmp_path, monkeypatch):
    from oilimpact.sources import files

    path = tmp_path / "locked.csv"
    path.write_text("Date,Price\n2024-01-02,1\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(files, "_open_fd", denied)
    with pytest.raises(InputError) as info:
        read_series_file(path, name="x")
    assert str(info.value) == f"cannot read {path}: permission denied"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ("Date,Price\n2024-01-02,1\n".encode("utf-16"), "UTF-16"),
        ("Date,Price\n2024-01-02,1\n".encode("utf-16-le"), "UTF-16"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + b"\x00" * 40, "Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "Excel"),
        (bytes(range(256)) * 4, "binary"),
    ],
    ids=["utf16-bom", "utf16-no-bom", "xlsx", "xls", "binary"],
)
def test_binary_excel_and_utf16_files_are_refused_with_advice(tmp_path, data, kind):
    path = tmp_path / "export.xlsx"
    path.write_bytes(data)
    for src in (path, io.BytesIO(data)):
        with pytest.raises(InputError) as info:
            read_series_file(src, name="x")
        message = str(info.value)
        assert "looks like" in message and kind in message
        assert "save it as CSV (UTF-8)" in message


@pytest.mark.parametrize(
    ("text", "line", "saw"),
    [
        ("Date,Price\n2024-01-02,1\n2024-01-03\n2024-01-04,2\n", 3, 1),
        ("month,key,value\n2024-01,a,1\n\n2024-02,a\n", 4, 2),
        ('Date,Price,Note\n2024-01-02,1,"two\nlines"\n2024-01-03,2\n', 4, 2),
        ("Date;Price\n2024-01-02;1\n2024-01-03\n", 3, 1),
    ],
    ids=["comma", "after-blank-line", "after-quoted-newline", "semicolon"],
)
def test_short_rows_are_refused_like_long_ones(text, line, saw):
    with pytest.raises(InputError) as info:
        read_series_file(io.StringIO(text), name="x")  # refused before the format is looked at
    message = str(info.value)
    assert message.startswith(f"<stream>, line {line}: ") and f"saw {saw}" in message


def test_empty_trailing_fields_are_not_short_rows():
    got = read_series_file(io.StringIO("Date,Price\n2024-01-02,\n2024-01-03,1\n  \n"), name="x")
    assert got.series.isna().tolist() == [True, False]


def test_file_markers_are_the_shared_list():
    from oilimpact.frames import MISSING_MARKERS as shared

    assert MISSING_MARKERS is shared
    assert {"w", "nm", "(s)"} <= MISSING_MARKERS
