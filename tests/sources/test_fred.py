"""FRED: parsers on real and recorded wire bytes, served from 127.0.0.1."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from oilimpact.errors import AuthError, EmptyDataError, SourceError
from oilimpact.series import SourceRef, default_registry
from oilimpact.sources import get_source, http
from oilimpact.sources.fred import FredSource, fred_error, parse_fred_csv, parse_fred_json

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"
REAL_SP500 = REAL / "fred_SP500.csv"
FAKE_KEY = "abcdefghij0123456789klmnopqrstuv"  # 32 lowercase alnum, like a FRED key

needs_real = pytest.mark.skipif(
    not REAL_SP500.is_file(), reason=f"real FRED download not available at {REAL_SP500}"
)


@pytest.fixture(autouse=True)
def _fast(server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(http, "_sleep", lambda s: None)
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    server.clear()
    yield
    server.clear()


def _base(server: HTTPServer) -> str:
    return server.url_for("").rstrip("/")


def _assert_frame_convention(s: pd.Series, name: str) -> None:
    assert s.name == name
    assert s.dtype == np.float64
    assert isinstance(s.index, pd.DatetimeIndex)
    assert s.index.name == "date" and s.index.tz is None
    assert s.index.dtype == "datetime64[ns]"
    assert s.index.is_monotonic_increasing and s.index.is_unique
    assert (s.index == s.index.normalize()).all()


# ---- pure parsers -------------------------------------------------------------------


@needs_real
def test_parse_real_fredgraph_csv() -> None:
    s = parse_fred_csv(REAL_SP500.read_bytes(), "SP500")
    _assert_frame_convention(s, "SP500")
    assert s.index[0] == pd.Timestamp("2016-02-12")
    assert s.index[-1] == pd.Timestamp("2026-02-11") and s.iloc[-1] == pytest.approx(6941.47)
    assert np.isnan(s[pd.Timestamp("2016-02-15")])  # Presidents' Day: empty field -> NaN
    assert (s.dropna() > 0).all()  # never 0 for a missing day
    assert not s.index.day_of_week.isin([5, 6]).any()  # weekend rows absent
    assert s.isna().sum() > 50  # ~9 holidays a year over 10 years


def test_parse_legacy_date_header_and_dot() -> None:
    s = parse_fred_csv((FIXTURES / "fred_legacy_DCOILWTICO.csv").read_bytes(), "DCOILWTICO")
    _assert_frame_convention(s, "DCOILWTICO")
    assert np.isnan(s[pd.Timestamp("2020-04-10")])
    assert s[pd.Timestamp("2020-04-20")] == -36.98
    assert len(s) == 11


def test_parse_csv_picks_the_requested_column_and_sorts() -> None:
    body = "observation_date,DCOILWTICO,DCOILBRENTEU\n2024-01-03,72.7,78.25\n2024-01-02,70.38,\n"
    s = parse_fred_csv(body, "DCOILBRENTEU")
    assert s.index.is_monotonic_increasing
    assert s.tolist()[0] != s.tolist()[0] and s.tolist()[1] == 78.25


@pytest.mark.parametrize(
    "body, match",
    [
        ("<!DOCTYPE html><html><body>Error</body></html>", "observation_date/DATE"),
        ("observation_date,SP500\n2024-01-02,n.a.\n", r"'n.a.'.*line 2 \(2024-01-02\)"),
        ("observation_date,A,B\n2024-01-02,1,2\n", "no column 'SP500'"),
        ("observation_date,SP500\n02/01/2024,1\n", "unreadable date"),
        ("", "not a CSV"),
    ],
)
def test_parse_csv_rejects_garbage(body: str, match: str) -> None:
    with pytest.raises(SourceError, match=match):
        parse_fred_csv(body, "SP500")


def test_parse_fred_json_fixture() -> None:
    payload = (FIXTURES / "fred_api_observations_DCOILBRENTEU.json").read_bytes()
    s = parse_fred_json(payload, "DCOILBRENTEU")
    _assert_frame_convention(s, "DCOILBRENTEU")
    assert len(s) == 9
    assert s.isna().sum() == 2 and np.isnan(s[pd.Timestamp("2025-12-25")])
    assert s[pd.Timestamp("2025-12-19")] == 61.35


@pytest.mark.parametrize(
    "fixture, cls, match",
    [
        ("fred_api_error_not_registered.json", AuthError, "rejected the key"),
        ("fred_api_error_no_series.json", SourceError, "'NOPE' does not exist"),
    ],
)
def test_parse_fred_json_errors(fixture: str, cls: type, match: str) -> None:
    with pytest.raises(cls, match=match):
        parse_fred_json((FIXTURES / fixture).read_bytes(), "NOPE")


def test_fred_error_other_message() -> None:
    err = fred_error({"error_code": 500, "error_message": "Internal Server Error"}, "SP500")
    assert type(err) is SourceError and "'SP500'" in str(err)


# ---- keyless CSV over HTTP ---------------------------------------------------------


@needs_real
def test_fetch_csv_serves_real_bytes(server: HTTPServer) -> None:
    server.expect_request(
        "/graph/fredgraph.csv",
        query_string={"id": "SP500", "cosd": "2025-12-01", "coed": "2025-12-31"},
    ).respond_with_data(REAL_SP500.read_bytes(), content_type="text/csv")
    src = FredSource(base_url=_base(server))
    assert not src.uses_api
    s = src.fetch(SourceRef("fred", "SP500"), date(2025, 12, 1), date(2025, 12, 31))
    _assert_frame_convention(s, "SP500")
    # the server ignored cosd/coed (it sent everything): the source clips to the range
    assert s.index.min() >= pd.Timestamp("2025-12-01")
    assert s.index.max() <= pd.Timestamp("2025-12-31")
    assert np.isnan(s[pd.Timestamp("2025-12-25")])
    assert s.notna().sum() == 22  # 23 weekdays, Christmas is NaN
    assert s.index.freq is None


def test_fetch_csv_legacy_over_http(server: HTTPServer) -> None:
    server.expect_request("/graph/fredgraph.csv").respond_with_data(
        (FIXTURES / "fred_legacy_DCOILWTICO.csv").read_bytes(), content_type="text/csv"
    )
    s = get_source("fred", api_key="", base_url=_base(server)).fetch(
        SourceRef("fred", "DCOILWTICO")
    )
    assert s.min() == -36.98


def test_fetch_csv_unknown_series(server: HTTPServer) -> None:
    server.expect_request("/graph/fredgraph.csv").respond_with_data("Not Found", status=404)
    with pytest.raises(SourceError, match="no CSV for series 'NOPE'"):
        FredSource(base_url=_base(server)).fetch(SourceRef("fred", "NOPE"))


def test_fetch_csv_only_holidays_is_empty(server: HTTPServer) -> None:
    server.expect_request("/graph/fredgraph.csv").respond_with_data(
        "observation_date,SP500\n2025-12-25,\n"
    )
    with pytest.raises(EmptyDataError, match="no observations for series 'SP500'"):
        FredSource(base_url=_base(server)).fetch(
            SourceRef("fred", "SP500"), date(2025, 12, 25), date(2025, 12, 25)
        )


def test_fetch_rejects_other_provider() -> None:
    with pytest.raises(ValueError, match="eia"):
        FredSource().fetch(SourceRef("eia", "RBRTE"))


# ---- JSON API with key --------------------------------------------------------------


def test_env_key_switches_to_api(server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRED_API_KEY", FAKE_KEY)
    server.expect_request(
        "/fred/series/observations",
        query_string={
            "series_id": "DCOILBRENTEU",
            "api_key": FAKE_KEY,
            "file_type": "json",
            "observation_start": "2025-12-19",
            "observation_end": "2025-12-31",
        },
    ).respond_with_data(
        (FIXTURES / "fred_api_observations_DCOILBRENTEU.json").read_bytes(),
        content_type="application/json",
    )
    src = FredSource(api_base_url=_base(server))
    assert src.uses_api and FAKE_KEY not in repr(src)
    ref = default_registry()["brent"].source_for("fred")
    assert ref is not None
    s = src.fetch(ref, date(2025, 12, 19), date(2025, 12, 31))
    _assert_frame_convention(s, "DCOILBRENTEU")
    assert s.notna().sum() == 7


@pytest.mark.parametrize(
    "fixture, cls, match",
    [
        ("fred_api_error_not_registered.json", AuthError, "FRED_API_KEY"),
        ("fred_api_error_no_series.json", SourceError, "series 'NOPE' does not exist"),
    ],
)
def test_api_error_bodies(
    server: HTTPServer,
    caplog: pytest.LogCaptureFixture,
    fixture: str,
    cls: type,
    match: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    server.expect_request("/fred/series/observations").respond_with_data(
        (FIXTURES / fixture).read_bytes(), status=400, content_type="application/json"
    )
    src = FredSource(FAKE_KEY, api_base_url=_base(server))
    with pytest.raises(cls, match=match) as info:
        src.fetch(SourceRef("fred", "NOPE"))
    assert len(server.log) == 1  # a 400 is not retried
    text = "".join(traceback.format_exception(info.value))
    assert FAKE_KEY not in text
    client_log = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")
    )
    assert "api_key=***" in client_log and FAKE_KEY not in client_log


def test_api_non_json_reply(server: HTTPServer) -> None:
    server.expect_request("/fred/series/observations").respond_with_data(f"oops {FAKE_KEY}")
    with pytest.raises(SourceError, match="non-JSON") as info:
        FredSource(FAKE_KEY, api_base_url=_base(server)).fetch(SourceRef("fred", "X"))
    assert FAKE_KEY not in str(info.value)


def test_connection_refused_names_fred_and_hides_key() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    src = FredSource(FAKE_KEY, api_base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(SourceError, match=r"^fred: .*--offline") as info:
        src.fetch(SourceRef("fred", "SP500"))
    assert FAKE_KEY not in "".join(traceback.format_exception(info.value))


# ---- strict values, plain dates --------------------------------------------------------


@pytest.mark.parametrize("value", ["1,234.5", "n.a.", "inf", "$5"])
def test_parse_json_other_text_is_refused_naming_series_and_date(value: str) -> None:
    payload = {"observations": [{"date": "2024-01-02", "value": value}]}
    with pytest.raises(SourceError) as info:
        parse_fred_json(payload, "SP500")
    assert "'SP500'" in str(info.value) and "2024-01-02" in str(info.value)


def test_parse_uses_the_shared_missing_markers() -> None:
    body = "observation_date,X\n2024-01-01,.\n2024-01-02,\n2024-01-03,NA\n2024-01-04,1.5\n"
    assert parse_fred_csv(body, "X").isna().tolist() == [True, True, True, False]


@pytest.mark.parametrize(
    "start, end",
    [
        (pd.Timestamp("2026-01-28"), pd.Timestamp("2026-02-03")),  # Store.refresh_start type
        (datetime(2026, 1, 28, 0, 0), datetime(2026, 2, 3, 18, 30)),
        ("2026-01-28T00:00:00", "2026-02-03"),
        (np.datetime64("2026-01-28"), date(2026, 2, 3)),
    ],
    ids=["timestamp", "datetime", "iso-string", "datetime64"],
)
def test_dates_are_sent_without_time(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch, start: object, end: object
) -> None:
    csv_req = FredSource(api_key="").build_request(SourceRef("fred", "SP500"), start, end)  # type: ignore[arg-type]
    assert dict(csv_req.params) == {"id": "SP500", "cosd": "2026-01-28", "coed": "2026-02-03"}
    api_req = FredSource(api_key=FAKE_KEY).build_request(SourceRef("fred", "SP500"), start, end)  # type: ignore[arg-type]
    params = dict(api_req.params)
    assert (params["observation_start"], params["observation_end"]) == ("2026-01-28", "2026-02-03")
    # on the wire: the server only answers the exact query string
    server.expect_request(
        "/graph/fredgraph.csv",
        query_string={"id": "SP500", "cosd": "2026-01-28", "coed": "2026-02-03"},
    ).respond_with_data("observation_date,SP500\n2026-01-28,6900.5\n")
    s = FredSource(api_key="", base_url=_base(server)).fetch(SourceRef("fred", "SP500"), start, end)  # type: ignore[arg-type]
    assert s.tolist() == [6900.5]
