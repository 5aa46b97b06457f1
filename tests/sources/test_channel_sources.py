"""Heavy-sour and curve channels at the source level (docs/channels.md), offline.

* EIA API v2 replies of the routes petroleum/pri/land2, dfp2 and fut, in the wire format
  of EIA's replies (field layout as in OpenBB's recorded cassettes of the same routes),
  served from 127.0.0.1, fetched through the registry's own source references.
* Yahoo single-contract downloads (``BZH26.NYM``) in the exact yfinance 1.x frame shape,
  turned into same-day time spreads; the expected spreads are written out by hand from
  the contract months, not computed with the module under test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from oilimpact import api, contracts
from oilimpact.errors import ConfigError, EmptyDataError, SourceError
from oilimpact.series import default_registry
from oilimpact.sources import http
from oilimpact.sources.eia import EiaSource
from oilimpact.sources.yahoo import YahooSource

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FAKE_KEY = "Fk3yFAKEfakeFAKEfake0123456789abcdefGHIJ"
REG = default_registry()


@pytest.fixture(autouse=True)
def _fast(server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(http, "_sleep", lambda s: None)
    monkeypatch.delenv("EIA_API_KEY", raising=False)
    server.clear()
    yield
    server.clear()


def _eia(server: HTTPServer) -> EiaSource:
    return EiaSource(api_key=FAKE_KEY, base_url=server.url_for("").rstrip("/"))


def _serve(server: HTTPServer, route: str, fixture: str) -> None:
    server.expect_request(f"/v2/{route}/data/").respond_with_data(
        (FIXTURES / fixture).read_bytes(), content_type="application/json"
    )


# ---- registry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "route", "sid"),
    [
        ("maya_landed", "petroleum/pri/land2", "IMX2810008"),
        ("maya_fob", "petroleum/pri/imc2", "IMX2810004"),
        ("merey_landed", "petroleum/pri/land2", "I61339000008"),
        ("mars_first_purchase", "petroleum/pri/dfp2", "F003075793"),
        ("wti_first_purchase", "petroleum/pri/dfp2", "F003048623"),
        ("wti_fut_c1", "petroleum/pri/fut", "RCLC1"),
        ("wti_fut_c4", "petroleum/pri/fut", "RCLC4"),
    ],
)
def test_registry_eia_channel_ids(name: str, route: str, sid: str) -> None:
    spec = REG[name]
    ref = spec.source_for("eia")
    assert ref is not None and ref.id == sid and ref.options["route"] == route
    assert spec.unit == "USD/bbl" and spec.kind == "price" and spec.publication_lag is not None


def test_registry_groups_and_curve_refs() -> None:
    assert set(REG.group("heavy_sour")) == {
        "maya_landed", "maya_fob", "merey_landed", "mars_first_purchase", "wti_first_purchase"
    }  # fmt: skip
    for name, root, curve in [
        ("brent_m1_m2", "BZ", "M1-M2"),
        ("brent_m1_m6", "BZ", "M1-M6"),
        ("wti_m1_m2", "CL", "M1-M2"),
        ("wti_m1_m6", "CL", "M1-M6"),
    ]:
        spec = REG[name]
        ref = spec.source_for("yahoo")
        assert ref is not None and (ref.id, ref.options["curve"]) == (root, curve)
        assert spec.allow_negative and spec.calendar == "CMES" and spec.frequency == "daily"
    assert set(REG.group("curve")) >= {"brent_m1_m2", "wti_m1_m6", "wti_fut_c1"}
    # monthly streams: published about two months after the month (PMM)
    assert str(REG["maya_landed"].publication_lag) == "65 days"


# ---- EIA wire format over HTTP -----------------------------------------------------------


def test_fetch_maya_landed_markers_are_nan(server: HTTPServer) -> None:
    _serve(server, "petroleum/pri/land2", "eia_land2_IMX2810008_monthly.json")
    ref = REG["maya_landed"].source_for("eia")
    s = _eia(server).fetch(ref, date(2025, 8, 1), date(2026, 1, 31))
    args = server.log[0][0].args
    assert args["facets[series][]"] == "IMX2810008" and args["frequency"] == "monthly"
    assert args["start"] == "2025-08" and args["end"] == "2026-01"
    assert list(s.index) == list(pd.date_range("2025-08-01", periods=6, freq="MS"))
    assert s.iloc[0] == 58.41 and s.iloc[2] == 55.9  # a string and a JSON number
    assert np.isnan(s.iloc[3]) and np.isnan(s.iloc[5])  # null and "W" (withheld): NaN, never 0


def test_fetch_merey_keeps_embargo_gap_missing(server: HTTPServer) -> None:
    _serve(server, "petroleum/pri/land2", "eia_land2_I61339000008_monthly.json")
    s = _eia(server).fetch(REG["merey_landed"].source_for("eia"))
    assert s.index[0] == pd.Timestamp("2019-01-01") and s.index[1] == pd.Timestamp("2023-12-01")
    assert len(s) == 4 and np.isnan(s.iloc[1])  # "--"; the embargo months are simply absent


def test_fetch_first_purchase_prices(server: HTTPServer) -> None:
    _serve(server, "petroleum/pri/dfp2", "eia_dfp2_F003075793_monthly.json")
    mars = _eia(server).fetch(REG["mars_first_purchase"].source_for("eia"))
    server.clear()
    _serve(server, "petroleum/pri/dfp2", "eia_dfp2_F003048623_monthly.json")
    wti = _eia(server).fetch(REG["wti_first_purchase"].source_for("eia"))
    assert server.log[0][0].args["facets[series][]"] == "F003048623"
    diff = (mars - wti).round(2)
    assert diff.tolist() == [1.16, 1.12, 0.82]  # 60.11-58.95, 58.73-57.61, 55.62-54.80


def test_fetch_eia_futures_contracts_negative_print(server: HTTPServer) -> None:
    _serve(server, "petroleum/pri/fut", "eia_fut_RCLC1_daily.json")
    c1 = _eia(server).fetch(REG["wti_fut_c1"].source_for("eia"))
    assert server.log[0][0].args["frequency"] == "daily"
    assert c1[pd.Timestamp("2020-04-20")] == -37.63  # the real settlement, kept negative


def test_api_fetch_stores_a_heavy_sour_series(server: HTTPServer, tmp_path: Path) -> None:
    _serve(server, "petroleum/pri/land2", "eia_land2_IMX2810008_monthly.json")
    out = api.fetch(["maya_landed"], data_dir=tmp_path, sources={"eia": _eia(server)})
    assert out[0].status == "stored" and out[0].source == "eia:IMX2810008"
    stored = api.load("maya_landed", data_dir=tmp_path)
    assert stored.notna().sum() == 4 and stored.name == "maya_landed"


# ---- contract months (pure) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("root", "month", "expected"),
    [
        ("CL", "2020-05", "2020-04-21"),  # the contract that settled at -37.63 expired 21 Apr
        ("CL", "2026-02", "2026-01-20"),  # 25 Jan 2026 is a Sunday: 4 business days before
        ("CL", "2026-03", "2026-02-20"),  # 25 Feb 2026 is a Wednesday: 3 business days before
        ("BZ", "2026-02", "2025-12-31"),  # last business day of the second month before
        ("BZ", "2026-03", "2026-01-30"),
    ],
)
def test_last_trade_dates(root: str, month: str, expected: str) -> None:
    assert contracts.last_trade_date(root, pd.Period(month, "M")) == pd.Timestamp(expected)


def test_symbols_and_bad_curves() -> None:
    assert contracts.contract_symbol("BZ", pd.Period("2026-03", "M")) == "BZH26.NYM"
    assert contracts.contract_symbol("CL", pd.Period("2030-10", "M")) == "CLV30.NYM"
    for bad in ("M2-M1", "1-2", "M0-M3", "M1-M40"):
        with pytest.raises(ConfigError, match="curve"):
            contracts.parse_curve(bad)
    with pytest.raises(ConfigError, match="unknown futures root 'XX'"):
        contracts.contract_symbol("XX", pd.Period("2026-01", "M"))


def test_spread_of_the_wti_contracts_of_april_2020() -> None:
    """May 2020 minus June 2020 on 20 April 2020: -37.63 - 20.43 = -58.06.

    17-21 April are the reported settlements; the 22 April values are illustrative.
    """
    idx = pd.DatetimeIndex(["2020-04-17", "2020-04-20", "2020-04-21", "2020-04-22"])
    closes = {
        pd.Period("2020-05", "M"): pd.Series([18.27, -37.63, 10.01, np.nan], idx),
        pd.Period("2020-06", "M"): pd.Series([25.03, 20.43, 11.57, 13.78], idx),
        pd.Period("2020-07", "M"): pd.Series([np.nan, np.nan, np.nan, 17.94], idx),
    }
    s = contracts.spread_from_contracts(closes, "CL", 1, 2, name="wti_m1_m2")
    expected = [18.27 - 25.03, -37.63 - 20.43, 10.01 - 11.57, 13.78 - 17.94]
    np.testing.assert_allclose(s.to_numpy(), expected, rtol=0, atol=1e-12)
    # the continuous front-month difference across the 21/22 April roll would mix contracts
    assert s.index.name == "date" and s.name == "wti_m1_m2"


# ---- Yahoo single-contract downloads ------------------------------------------------------


def _yf_frame(sym: str, dates: list[str], closes: list[float]) -> pd.DataFrame:
    """``yf.download(sym, multi_level_index=True)`` in yfinance 1.x: (Price, Ticker) columns."""
    arr = np.asarray(closes, dtype=float)
    one = pd.DataFrame(
        {"Close": arr, "High": arr * 1.01, "Low": arr * 0.99, "Open": arr, "Volume": 1e5},
        index=pd.DatetimeIndex(pd.to_datetime(dates), name="Date"),
    )
    data = pd.concat([one], axis=1, keys=[sym], names=["Ticker", "Price"])
    data.columns = data.columns.swaplevel(0, 1)
    return data.sort_index(level=0, axis=1)


def _empty_frame(sym: str) -> pd.DataFrame:
    """What yf.download returns for a symbol it has no data for: zero rows."""
    return _yf_frame(sym, [], [])


DATES = ["2025-12-29", "2025-12-30", "2025-12-31", "2026-01-02", "2026-01-05"]
BOOK = {  # closes by contract (illustrative), NaN where the contract did not trade
    "BZG26.NYM": [61.9, 62.3, 60.8, np.nan, np.nan],  # February: expired 31 Dec 2025
    "BZH26.NYM": [61.5, 62.0, 60.6, 60.9, 62.4],
    "BZJ26.NYM": [61.2, 61.7, 60.4, 60.5, np.nan],  # no close on 5 Jan: the spread is missing
    "BZK26.NYM": [61.0, 61.4, 60.2, 60.2, 61.8],
}


class ContractDownloads:
    """A yfinance.download stand-in serving single contracts; records what was asked."""

    def __init__(self, book: dict[str, list[float]]) -> None:
        self.book = book
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> pd.DataFrame:
        self.calls.append(kwargs)
        sym = kwargs["tickers"]
        if sym not in self.book:
            return _empty_frame(sym)
        return _yf_frame(sym, DATES, self.book[sym])


def test_yahoo_curve_spread_uses_each_sessions_contracts() -> None:
    fake = ContractDownloads(BOOK)
    ref = REG["brent_m1_m2"].source_for("yahoo")
    s = YahooSource(download=fake).fetch(ref, date(2025, 12, 29), date(2026, 1, 5))
    asked = [c["tickers"] for c in fake.calls]
    assert asked == ["BZG26.NYM", "BZH26.NYM", "BZJ26.NYM"]
    assert all(c["start"] == "2025-12-29" and c["end"] == "2026-01-06" for c in fake.calls)
    # 29-31 Dec: February - March; from 2 Jan (after the 31 Dec expiry): March - April
    expected = [61.9 - 61.5, 62.3 - 62.0, 60.8 - 60.6, 60.9 - 60.5, np.nan]
    np.testing.assert_allclose(s.to_numpy(), expected, rtol=0, atol=1e-12)
    assert list(s.index) == list(pd.to_datetime(DATES)) and s.name == "BZ"


def test_yahoo_curve_missing_contract_leaves_sessions_missing() -> None:
    book = {k: v for k, v in BOOK.items() if k != "BZG26.NYM"}  # Yahoo dropped the expired one
    s = YahooSource(download=ContractDownloads(book)).fetch(
        REG["brent_m1_m2"].source_for("yahoo"), date(2025, 12, 29), date(2026, 1, 5)
    )
    assert s.iloc[:3].isna().all()  # never filled from the March-April pair
    assert s.iloc[3] == pytest.approx(60.9 - 60.5, abs=1e-12)


def test_yahoo_curve_with_no_contract_data_is_empty() -> None:
    with pytest.raises(EmptyDataError, match="BZG26.NYM.*expired contracts"):
        YahooSource(download=ContractDownloads({})).fetch(
            REG["brent_m1_m2"].source_for("yahoo"), date(2025, 12, 29), date(2026, 1, 5)
        )


def test_yahoo_curve_network_failure_is_a_source_error() -> None:
    def down(**kwargs: Any) -> pd.DataFrame:
        raise OSError("curl: (6) Could not resolve host: query2.finance.yahoo.com")

    with pytest.raises(SourceError):
        YahooSource(download=down).fetch(
            REG["wti_m1_m2"].source_for("yahoo"), date(2025, 12, 1), date(2025, 12, 5)
        )


def test_api_fetch_stores_a_curve_spread(tmp_path: Path) -> None:
    src = YahooSource(download=ContractDownloads(BOOK))
    out = api.fetch(
        ["brent_m1_m2"], data_dir=tmp_path, start="2025-12-29", end="2026-01-05",
        sources={"yahoo": src},
    )  # fmt: skip
    assert out[0].status == "stored", out[0]
    stored = api.load("brent_m1_m2", data_dir=tmp_path)
    assert stored.notna().sum() == 4 and stored.name == "brent_m1_m2"


def test_fixtures_of_this_module_hold_no_key() -> None:
    for name in (
        "eia_land2_IMX2810008_monthly.json", "eia_land2_I61339000008_monthly.json",
        "eia_dfp2_F003075793_monthly.json", "eia_dfp2_F003048623_monthly.json",
        "eia_fut_RCLC1_daily.json", "eia_fut_RCLC2_daily.json",
    ):  # fmt: skip
        body = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
        assert body["request"]["params"]["api_key"] == "MOCK_API_KEY", name
        assert body["response"]["total"] == str(len(body["response"]["data"]))
