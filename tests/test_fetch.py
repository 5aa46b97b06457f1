"""fetch end to end: a FRED server on 127.0.0.1 -> validation -> store, incl. failures."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path

import pandas as pd
import pytest

from oilimpact import api
from oilimpact.errors import EmptyDataError, InputError, SourceError
from oilimpact.frames import to_series_frame
from oilimpact.sources.eia import EiaSource
from oilimpact.sources.fred import FredSource

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
FRED_FILE = REAL / "fred_SP500.csv"
needs_real = pytest.mark.skipif(not FRED_FILE.is_file(), reason=f"{FRED_FILE} absent")


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".locks" not in p.parts
    }


@pytest.fixture
def no_keys(monkeypatch):
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    monkeypatch.delenv("EIA_API_KEY", raising=False)


@needs_real
def test_fetch_stores_then_revision_becomes_a_vintage(httpserver, tmp_path, no_keys):
    body = FRED_FILE.read_bytes()
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data(
        body, content_type="text/csv"
    )
    fred = FredSource(base_url=httpserver.url_for("/").rstrip("/"), api_key="")
    [out] = api.fetch(["sp500"], data_dir=tmp_path, providers=["fred"], sources={"fred": fred})
    assert out.status == "stored" and out.source == "fred:SP500", out
    first = api.load("sp500", data_dir=tmp_path)
    assert first.index[0].isoformat()[:10] == "2016-02-12" and first.isna().any()
    status = api.status(data_dir=tmp_path, today="2026-02-12").set_index("series")
    assert status.loc["sp500", "source"] == "fred" and status.loc["sp500", "source_id"] == "SP500"

    time.sleep(0.01)  # a later vintage
    revised = body.replace(b"2026-02-11,6941.47", b"2026-02-11,6950.00")
    httpserver.clear()
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data(
        revised, content_type="text/csv"
    )
    [out2] = api.fetch(["sp500"], data_dir=tmp_path, providers=["fred"], sources={"fred": fred})
    assert out2.status == "stored" and out2.rows_revised == 1 and out2.rows_added == 0
    assert api.load("sp500", data_dir=tmp_path).iloc[-1] == 6950.00
    vint = api.open_store(tmp_path).vintages("sp500")
    t_first = vint["vintage"].min()
    # vintage= is pure store time; as_of= (a date) would see both writes of the same day
    assert api.load("sp500", data_dir=tmp_path, vintage=t_first).iloc[-1] == 6941.47
    # the incremental refresh asked only for the recent span (with overlap)
    cosd = httpserver.log[-1][0].args.get("cosd")
    assert cosd is not None and cosd >= "2026-01-01"


def test_failed_fetch_leaves_store_untouched_and_says_what_to_do(
    httpserver, tmp_path, no_keys, monkeypatch
):
    monkeypatch.setattr("oilimpact.sources.http.backoff_delay", lambda *a, **k: 0.0)
    api.import_file(_write(tmp_path / "b.csv"), name="brent", data_dir=tmp_path / "s")
    before = _digest(tmp_path / "s")
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data("boom", status=500)
    fred = FredSource(base_url=httpserver.url_for("/").rstrip("/"), api_key="")
    eia = EiaSource(api_key=None, base_url=httpserver.url_for("/").rstrip("/"))
    [out] = api.fetch(
        ["brent"],
        data_dir=tmp_path / "s",
        providers=["fred", "eia"],
        sources={"fred": fred, "eia": eia},
        full=True,
    )
    assert out.status == "failed"
    assert "fred:DCOILBRENTEU" in out.error and "eia:RBRTE" in out.error
    # one clean reason per source; the advice once, apart
    assert len(out.attempts) == 2 and all("--offline" not in a for a in out.attempts)
    assert any("EIA_API_KEY" in a for a in out.advice)
    assert any("oilimpact import" in a for a in out.advice)
    assert len(out.advice) == len(set(out.advice))
    assert _digest(tmp_path / "s") == before


def test_invalid_provider_data_is_not_stored(httpserver, tmp_path, no_keys):
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data(
        "observation_date,DCOILBRENTEU\n2025-12-16,58.9\n2025-12-17,-1\n", content_type="text/csv"
    )
    fred = FredSource(base_url=httpserver.url_for("/").rstrip("/"), api_key="")
    [out] = api.fetch(["brent"], data_dir=tmp_path, providers=["fred"], sources={"fred": fred})
    assert (
        out.status == "failed" and "failed validation" in out.error and "2025-12-17=-1" in out.error
    )
    assert not api.open_store(tmp_path).exists("brent")


def test_no_network_fails_fast_naming_source(tmp_path, no_keys, monkeypatch):
    # a closed port on 127.0.0.1 stands in for "no network"
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    fred = FredSource(base_url=f"http://127.0.0.1:{port}", api_key="")
    t0 = time.monotonic()
    [out] = api.fetch(["vix"], data_dir=tmp_path, providers=["fred"], sources={"fred": fred})
    assert time.monotonic() - t0 < 20
    assert out.status == "failed" and "fred" in out.error and "--offline" not in out.error
    assert out.advice and "--offline" in out.advice[0]


def test_file_only_series_is_skipped_with_advice(tmp_path):
    [out] = api.fetch(["us_imports_ve_value"], data_dir=tmp_path)
    assert out.status == "skipped" and "oilimpact import" in out.error


def _write(path: Path) -> Path:
    path.write_text("Date,Price\n2025-12-15,61.1\n2025-12-16,58.9\n")
    return path


# ---- fallback rules, with stand-in sources (no HTTP) -----------------------------------


class _Fake:
    """A stand-in Source: raises ``error`` or returns ``values`` on recent dates."""

    def __init__(self, name, *, error=None, values=None):
        self.name, self.error, self.values, self.calls = name, error, values, []

    def fetch(self, ref, start=None, end=None):
        self.calls.append((ref.id, start, end))
        if self.error is not None:
            raise self.error
        dates = pd.bdate_range("2026-01-05", periods=len(self.values))
        return to_series_frame(self.values, dates, ref.id)


def _seed_brent(root: Path) -> None:
    api.import_file(_write(root / "b.csv"), name="brent", data_dir=root / "s")


def test_hard_failure_then_empty_answer_is_failed_not_unchanged(tmp_path):
    _seed_brent(tmp_path)
    fred = _Fake("fred", error=SourceError("fred: cannot reach the host"))
    eia = _Fake("eia", error=EmptyDataError("eia: no rows"))
    [out] = api.fetch(["brent"], data_dir=tmp_path / "s", sources={"fred": fred, "eia": eia})
    assert out.status == "failed" and "cannot reach" in out.error


def test_incremental_refresh_sends_plain_dates(tmp_path):
    _seed_brent(tmp_path)
    fred = _Fake("fred", values=[60.0, 61.0])
    [out] = api.fetch(["brent"], data_dir=tmp_path / "s", sources={"fred": fred})
    assert out.status == "stored"
    _, start, end = fred.calls[0]
    assert type(start) is dt.date and start == dt.date(2025, 12, 2) and end is None


def test_proxy_is_never_merged_into_a_stored_spot_series(tmp_path):
    _seed_brent(tmp_path)
    fred = _Fake("fred", error=SourceError("fred down"))
    eia = _Fake("eia", error=SourceError("eia down"))
    yahoo = _Fake("yahoo", values=[70.0, 71.0])  # BZ=F futures
    fakes = {"fred": fred, "eia": eia, "yahoo": yahoo}
    [out] = api.fetch(["brent"], data_dir=tmp_path / "s", sources=fakes)
    assert out.status == "failed" and yahoo.calls == []
    assert "not merging yahoo:BZ=F" in out.error
    assert api.load("brent", data_dir=tmp_path / "s").tolist() == [61.1, 58.9]
    # an empty series may be seeded from the proxy (the manifest then says so)
    [seeded] = api.fetch(["wti"], data_dir=tmp_path / "s", sources=fakes)
    assert seeded.status == "stored" and seeded.source == "yahoo:CL=F"


def test_unknown_provider_and_bad_dates_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="unknown provider"):
        api.fetch(["brent"], data_dir=tmp_path, providers=["bloomberg"])
    with pytest.raises(InputError, match="start: cannot read 'garbage'"):
        api.fetch(["brent"], data_dir=tmp_path, start="garbage")
