"""EIA API v2: paging, missing-value markers, key handling, served from 127.0.0.1."""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from oilimpact.errors import AuthError, ConfigError, EmptyDataError, RateLimitError, SourceError
from oilimpact.series import SourceRef, default_registry
from oilimpact.sources import get_source, http
from oilimpact.sources.eia import (
    SCRUBBED_KEY,
    EiaSource,
    parse_eia_page,
    parse_eia_rows,
    parse_period,
    scrub_response,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FAKE_KEY = "Fk3yFAKEfakeFAKEfake0123456789abcdefGHIJ"  # 40 alnum, like an EIA key
SPT = SourceRef("eia", "RBRTE", {"route": "petroleum/pri/spt", "frequency": "daily"})


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _fast(server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(http, "_sleep", lambda s: None)
    monkeypatch.delenv("EIA_API_KEY", raising=False)
    server.clear()
    yield
    server.clear()


def _source(server: HTTPServer, **kwargs: object) -> EiaSource:
    kwargs.setdefault("api_key", FAKE_KEY)
    return EiaSource(base_url=server.url_for("").rstrip("/"), **kwargs)  # type: ignore[arg-type]


def _paged_handler(seen: list[dict[str, list[str]]], *, stop_after: int | None = None):
    pages = [_load(f"eia_spt_RBRTE_daily_page{n}.json") for n in (1, 2, 3)]

    def handler(request: Request) -> Response:
        args = {k: request.args.getlist(k) for k in request.args}
        seen.append(args)
        offset = int(request.args["offset"])
        index = offset // 3
        if stop_after is not None and index >= stop_after:
            body = dict(pages[0], response=dict(pages[0]["response"], data=[]))
            body.pop("warnings", None)
        else:
            body = pages[index]
        return Response(json.dumps(body), content_type="application/json")

    return handler


# ---- pure parsers -------------------------------------------------------------------


def test_parse_page_reads_string_total_and_warning() -> None:
    page = parse_eia_page(_load("eia_spt_RBRTE_daily_page1.json"))
    assert page.total == 7 and len(page.rows) == 3
    assert page.warnings == ("incomplete return",)
    assert parse_eia_page(_load("eia_spt_RBRTE_daily_page3.json")).warnings == ()


def test_parse_rows_markers_are_nan_never_zero() -> None:
    rows = [
        r for n in (1, 2, 3) for r in _load(f"eia_spt_RBRTE_daily_page{n}.json")["response"]["data"]
    ]
    s = parse_eia_rows(rows, "RBRTE")
    assert s.name == "RBRTE" and s.dtype == np.float64 and s.index.name == "date"
    assert s.index.dtype == "datetime64[ns]" and s.index.is_monotonic_increasing
    assert np.isnan(s[pd.Timestamp("2025-12-11")])  # null
    assert np.isnan(s[pd.Timestamp("2025-12-15")])  # "--"
    assert s[pd.Timestamp("2025-12-10")] == 63.12  # a JSON number
    assert s[pd.Timestamp("2025-12-16")] == 59.93  # a string
    assert (s.dropna() != 0).all()


def test_parse_international_monthly() -> None:
    payload = _load("eia_international_57_VEN_monthly.json")
    s = parse_eia_rows(parse_eia_page(payload).rows, "57")
    assert list(s.index) == list(pd.date_range("2025-01-01", periods=6, freq="MS"))
    assert s.isna().tolist() == [False, False, True, True, True, False]
    assert s.iloc[0] == 930.0 and s.iloc[1] == 940.0


def test_parse_rows_rejects_duplicate_periods() -> None:
    rows = [
        {"period": "2025-01", "value": "1", "unit": "TBPD"},
        {"period": "2025-01", "value": "2", "unit": "QBTU"},
    ]
    with pytest.raises(SourceError, match="more than once.*unit"):
        parse_eia_rows(rows, "57")


@pytest.mark.parametrize("period", ["2025/01", "Jan 2025", ""])
def test_parse_period_rejects_unknown(period: str) -> None:
    with pytest.raises(SourceError, match="unknown period"):
        parse_period(period)


@pytest.mark.parametrize(
    "payload, cls, match",
    [
        ("eia_error_api_key_invalid.json", AuthError, "API_KEY_INVALID.*EIA_API_KEY"),
        ("eia_error_over_rate_limit.json", RateLimitError, "OVER_RATE_LIMIT"),
        ({"error": "Invalid facet 'bogus'", "code": 400}, SourceError, "Invalid facet"),
        ({"response": {"total": "x", "data": []}}, SourceError, "non-integer total"),
        ({"apiVersion": "2.1.13"}, SourceError, "no 'response'"),
    ],
)
def test_parse_page_errors(payload: object, cls: type, match: str) -> None:
    if isinstance(payload, str):
        payload = _load(payload)
    with pytest.raises(cls, match=match):
        parse_eia_page(payload)  # type: ignore[arg-type]


def test_scrub_response_removes_echoed_key() -> None:
    raw = _load("eia_spt_RBRTE_daily_page1.json")
    raw["request"]["params"]["api_key"] = FAKE_KEY
    raw["request"]["command"] = f"/v2/petroleum/pri/spt/data/?api_key={FAKE_KEY}"
    clean = scrub_response(raw)
    assert FAKE_KEY not in json.dumps(clean)
    assert clean["request"]["params"]["api_key"] == SCRUBBED_KEY
    assert raw["request"]["params"]["api_key"] == FAKE_KEY  # input untouched
    assert clean["response"] == raw["response"]


def test_fixtures_hold_no_key() -> None:
    """Every fixture must be scrubbed: no api_key value other than the mock, no key-like token."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in FIXTURES.iterdir() if p.is_file()}
    assert texts
    for name, text in texts.items():
        for value in re.findall(r'"api_key"\s*:\s*"([^"]*)"', text):
            assert value == SCRUBBED_KEY, name
        for value in re.findall(r"api_key=([^&\s\"']+)", text):
            assert value in ("***", SCRUBBED_KEY), name
        assert not re.search(r"\b[a-z0-9]{32}\b", text), f"{name}: looks like a FRED key"
        assert not re.search(r"\b[A-Za-z0-9]{40}\b", text), f"{name}: looks like an EIA key"
        assert FAKE_KEY not in text


# ---- requests ----------------------------------------------------------------------


def test_build_request_international_uses_product_facets() -> None:
    ref = default_registry()["ve_crude_production"].source_for("eia")
    assert ref is not None
    req = EiaSource(api_key="k").build_request(ref, date(2025, 1, 15), date(2025, 6, 30))
    assert req.url == "https://api.eia.gov/v2/international/data/"
    params = dict(req.params)
    assert params["facets[productId][]"] == "57"
    assert params["facets[countryRegionId][]"] == "VEN"
    assert params["facets[activityId][]"] == "1" and params["facets[unit][]"] == "TBPD"
    assert "facets[series][]" not in params and "facets[route][]" not in params
    assert params["start"] == "2025-01" and params["end"] == "2025-06"  # monthly format
    assert params["length"] == 5000 and params["offset"] == 0
    assert params["sort[0][column]"] == "period" and params["sort[0][direction]"] == "asc"


def test_build_request_needs_route() -> None:
    with pytest.raises(ConfigError, match="route"):
        EiaSource(api_key="k").build_request(SourceRef("eia", "RBRTE"), None, None)


# ---- over HTTP ---------------------------------------------------------------------


def test_fetch_pages_until_total(server: HTTPServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[dict[str, list[str]]] = []
    server.expect_request("/v2/petroleum/pri/spt/data/").respond_with_handler(_paged_handler(seen))
    s = _source(server, page_length=3).fetch(SPT, date(2025, 12, 8), date(2025, 12, 16))
    assert [a["offset"] for a in seen] == [["0"], ["3"], ["6"]]
    first = seen[0]
    assert first["api_key"] == [FAKE_KEY] and first["length"] == ["3"]
    assert first["frequency"] == ["daily"] and first["data[0]"] == ["value"]
    assert first["facets[series][]"] == ["RBRTE"]
    assert first["start"] == ["2025-12-08"] and first["end"] == ["2025-12-16"]
    assert len(s) == 7 and s.isna().sum() == 2 and s.name == "RBRTE"
    client_log = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")
    )
    assert "incomplete return" in client_log and FAKE_KEY not in client_log


def test_fetch_errors_when_pages_stop_before_total(server: HTTPServer) -> None:
    server.expect_request("/v2/petroleum/pri/spt/data/").respond_with_handler(
        _paged_handler([], stop_after=2)
    )
    with pytest.raises(SourceError, match="stopped returning rows at offset 6 of 7"):
        _source(server, page_length=3).fetch(SPT)


def test_fetch_international_registry_ref(server: HTTPServer) -> None:
    server.expect_request("/v2/international/data/").respond_with_data(
        (FIXTURES / "eia_international_57_VEN_monthly.json").read_bytes(),
        content_type="application/json",
    )
    ref = default_registry()["ve_crude_production"].source_for("eia")
    assert ref is not None
    s = _source(server).fetch(ref, date(2025, 1, 1), date(2025, 6, 30))
    assert len(s) == 6 and s.isna().sum() == 3
    assert server.log[0][0].args["facets[productId][]"] == "57"


def test_fetch_no_rows_is_empty(server: HTTPServer) -> None:
    server.expect_request("/v2/petroleum/pri/spt/data/").respond_with_json(
        {"response": {"total": "0", "dateFormat": "YYYY-MM-DD", "frequency": "daily", "data": []}}
    )
    with pytest.raises(EmptyDataError, match="no observations for 'RBRTE'"):
        _source(server).fetch(SPT, date(2025, 12, 25), date(2025, 12, 25))


def test_missing_key_is_auth_error_with_advice(server: HTTPServer) -> None:
    with pytest.raises(AuthError, match="EIA_API_KEY.*oilimpact import FILE"):
        get_source("eia", base_url=server.url_for("")).fetch(SPT)
    assert len(server.log) == 0  # no request without a key


def test_env_key_is_used(server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EIA_API_KEY", FAKE_KEY)
    body = _load("eia_spt_RBRTE_daily_page3.json")
    body["response"]["total"] = "1"
    server.expect_request("/v2/petroleum/pri/spt/data/").respond_with_json(body)
    src = EiaSource(base_url=server.url_for("").rstrip("/"))
    assert FAKE_KEY not in repr(src)
    assert src.fetch(SPT).tolist() == [59.93]
    assert server.log[0][0].args["api_key"] == FAKE_KEY


def test_server_repeating_a_page_is_caught(server: HTTPServer) -> None:
    """A server that keeps answering the same short page cannot loop forever."""
    server.expect_request("/v2/petroleum/pri/spt/data/").respond_with_data(
        (FIXTURES / "eia_spt_RBRTE_daily_page3.json").read_bytes(), content_type="application/json"
    )
    with pytest.raises(SourceError, match="still incomplete after"):
        _source(server).fetch(SPT)


def test_403_invalid_key(server: HTTPServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.expect_request("/v2/petroleum/pri/spt/data/").respond_with_data(
        (FIXTURES / "eia_error_api_key_invalid.json").read_bytes(),
        status=403,
        content_type="application/json",
    )
    with pytest.raises(AuthError, match="API_KEY_INVALID") as info:
        _source(server).fetch(SPT)
    assert len(server.log) == 1
    assert FAKE_KEY not in "".join(traceback.format_exception(info.value))
    client_log = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")
    )
    assert FAKE_KEY not in client_log


def test_429_over_rate_limit_after_retries(server: HTTPServer) -> None:
    server.expect_request("/v2/petroleum/pri/spt/data/").respond_with_data(
        (FIXTURES / "eia_error_over_rate_limit.json").read_bytes(),
        status=429,
        content_type="application/json",
    )
    with pytest.raises(RateLimitError, match="OVER_RATE_LIMIT") as info:
        _source(server).fetch(SPT)
    assert len(server.log) == http.DEFAULT_RETRIES + 1
    assert FAKE_KEY not in str(info.value)


def test_429_then_success(server: HTTPServer) -> None:
    server.expect_ordered_request("/v2/petroleum/pri/spt/data/").respond_with_data(
        (FIXTURES / "eia_error_over_rate_limit.json").read_bytes(), status=429
    )
    body = _load("eia_spt_RBRTE_daily_page1.json")
    body["response"]["total"] = "3"
    body.pop("warnings")
    server.expect_ordered_request("/v2/petroleum/pri/spt/data/").respond_with_json(body)
    assert len(_source(server).fetch(SPT)) == 3


def test_500_error_names_route_without_key(server: HTTPServer) -> None:
    server.expect_request("/v2/petroleum/pri/spt/data/").respond_with_data(
        f"upstream failure for api_key={FAKE_KEY}", status=500
    )
    with pytest.raises(SourceError, match="HTTP 500") as info:
        _source(server).fetch(SPT)
    assert FAKE_KEY not in str(info.value) and "eia:RBRTE" in str(info.value)


# ---- strict values, plain dates --------------------------------------------------------


@pytest.mark.parametrize("marker", [None, "", " ", ".", "-", "--", "NA", "N/A", "na", "x", "W", "null", "NM", "(s)"])  # fmt: skip
def test_parse_rows_documented_markers_are_nan(marker: object) -> None:
    rows = [{"period": "2025-01", "value": marker}, {"period": "2025-02", "value": "70.5"}]
    s = parse_eia_rows(rows, "RBRTE")
    assert np.isnan(s.iloc[0]) and s.iloc[1] == 70.5


@pytest.mark.parametrize("value", ["1,234.5", "n.a.", "$70", "70 USD", "inf", True])
def test_parse_rows_other_text_is_refused_naming_series_and_period(value: object) -> None:
    rows = [{"period": "2025-01", "value": "1"}, {"period": "2025-02", "value": value}]
    with pytest.raises(SourceError) as info:
        parse_eia_rows(rows, "RBRTE")
    message = str(info.value)
    assert "'RBRTE'" in message and "2025-02" in message and repr(value) in message


@pytest.mark.parametrize(
    "start, end",
    [
        (pd.Timestamp("2026-01-28"), pd.Timestamp("2026-02-03")),  # Store.refresh_start type
        (pd.Timestamp("2026-01-28 00:00:00"), "2026-02-03T00:00:00"),
        (np.datetime64("2026-01-28"), date(2026, 2, 3)),
    ],
    ids=["timestamp", "iso-datetime-string", "datetime64"],
)
def test_dates_are_sent_without_time(server: HTTPServer, start: object, end: object) -> None:
    daily = _source(server).build_request(SPT, start, end)  # type: ignore[arg-type]
    assert (dict(daily.params)["start"], dict(daily.params)["end"]) == ("2026-01-28", "2026-02-03")
    monthly_ref = SourceRef("eia", "X", {"route": "r", "frequency": "monthly"})
    monthly = _source(server).build_request(monthly_ref, start, end)  # type: ignore[arg-type]
    assert (dict(monthly.params)["start"], dict(monthly.params)["end"]) == ("2026-01", "2026-02")
    # and on the wire
    server.expect_request("/v2/petroleum/pri/spt/data/").respond_with_json(
        {"response": {"total": "1", "data": [{"period": "2026-01-28", "value": "61.2"}]}}
    )
    s = _source(server).fetch(SPT, start, end)  # type: ignore[arg-type]
    assert s.tolist() == [61.2]
    args = server.log[-1][0].args
    assert args["start"] == "2026-01-28" and args["end"] == "2026-02-03"
