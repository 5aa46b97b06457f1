"""The synthetic-control donor pool: registry group, EIA international fetch, panel read.

Offline: the recorded reply ``fixtures/eia_international_57_donors_monthly.json`` (EIA v2
``international/data/`` wire format; the values are a labelled FIXTURE, see
``fixtures/make_eia_international_57_donors.py``) is served by a local server that
filters its rows by the request's facets, as EIA does.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

import oilimpact.sources as sources_pkg
from oilimpact import api
from oilimpact.series import default_registry
from oilimpact.sources.eia import EiaSource, parse_eia_page, parse_eia_rows

FIXTURE = Path(__file__).parent / "fixtures" / "eia_international_57_donors_monthly.json"
#: The donor pool as a registry file (the block proposed for oilimpact/data/series.toml).
REGISTRY = Path(__file__).parent / "fixtures" / "ve_crude_donors.toml"
FAKE_KEY = "Dk3yFAKEfakeFAKEfake0123456789abcdefDONR"  # 40 alnum, like an EIA key
REG = default_registry().with_file(REGISTRY)
GROUP = "ve_crude_donors"


def _payload() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _iso(name: str) -> str:
    return name.rsplit("_", 1)[1].upper()


def international_handler(seen: list[dict[str, list[str]]]) -> Any:
    """Serve the recorded reply filtered as EIA filters it: facets, start/end, paging."""
    rows = _payload()["response"]["data"]

    def handle(request: Request) -> Response:
        args = {k: request.args.getlist(k) for k in request.args}
        seen.append(args)
        keep = [
            r for r in rows
            if all(str(r[f]) in args.get(f"facets[{f}][]", [str(r[f])])
                   for f in ("productId", "countryRegionId", "activityId", "unit"))
            and args.get("start", ["0000"])[0] <= r["period"] <= args.get("end", ["9999"])[0]
        ]  # fmt: skip
        offset, length = int(args["offset"][0]), int(args["length"][0])
        body = {
            "response": {"total": str(len(keep)), "dateFormat": "YYYY-MM",
                         "frequency": "monthly", "data": keep[offset : offset + length]},
            "request": {"command": "/v2/international/data/", "params": {"api_key": "MOCK_API_KEY"}},
            "apiVersion": "2.1.13",
        }  # fmt: skip
        return Response(json.dumps(body), content_type="application/json")

    return handle


@pytest.fixture
def eia(server: HTTPServer) -> Any:
    server.clear()
    seen: list[dict[str, list[str]]] = []
    server.expect_request("/v2/international/data/").respond_with_handler(
        international_handler(seen)
    )
    source = EiaSource(api_key=FAKE_KEY, base_url=server.url_for("").rstrip("/"))
    return source, seen


# ---- registry -----------------------------------------------------------------------


def test_donor_group_is_registered_like_venezuela() -> None:
    members = REG.group(GROUP)
    ve = REG["ve_crude_production"]
    ve_ref = ve.source_for("eia")
    assert len(members) == 15 and len(set(members)) == 15
    isos = {_iso(n) for n in members}
    assert {"COL", "ECU", "BRA", "MEX", "ARG", "TTO", "NGA", "AGO", "DZA", "IRQ", "KWT",
            "SAU", "ARE", "KAZ", "OMN"} == isos  # fmt: skip
    assert not isos & {"VEN", "IRN", "RUS", "LBY"}  # treated unit and shocked producers
    for name in members:
        spec = REG[name]
        ref = spec.source_for("eia")
        assert name == f"crude_production_{_iso(name).lower()}"
        assert spec.unit == ve.unit == "kb/d" and spec.frequency == "monthly"
        assert spec.publication_lag == ve.publication_lag
        assert ref is not None and ve_ref is not None and ref.id == ve_ref.id == "57"
        same = {k: v for k, v in ref.options.items() if k != "countryRegionId"}
        assert same == {k: v for k, v in ve_ref.options.items() if k != "countryRegionId"}
        assert ref.options["countryRegionId"] == _iso(name)
    assert set(members) <= set(api.fetchable_series(REGISTRY))


def test_group_errors_and_expand() -> None:
    with pytest.raises(Exception, match="unknown series group 'nope'.*ve_crude_donors"):
        REG.group("nope")
    names = REG.expand(["ve_crude_production", GROUP, "crude_production_col"])
    assert names[0] == "ve_crude_production" and names[1:] == list(REG.group(GROUP))


def test_user_file_group_must_name_registered_series(tmp_path: Path) -> None:
    path = tmp_path / "extra.toml"
    path.write_text(
        '[series.x]\ndescription = "x"\nunit = "kb/d"\nfrequency = "monthly"\nkind = "volume"\n'
        'sources = ["file:x"]\n[groups]\nmine = ["x", "crude_production_col"]\nbad = ["y"]\n',
        encoding="utf-8",
    )
    with pytest.raises(Exception, match="group 'bad' names unregistered series: y"):
        REG.with_file(path)
    path.write_text(path.read_text().replace('bad = ["y"]\n', ""), encoding="utf-8")
    assert REG.with_file(path).group("mine") == ("x", "crude_production_col")
    assert REG.with_file(path).group(GROUP) == REG.group(GROUP)


# ---- wire format ----------------------------------------------------------------------


def test_recorded_reply_parses_per_country() -> None:
    page = parse_eia_page(_payload())
    assert page.total == len(page.rows) == 16 * 63  # VEN + 15 donors, 2021-01..2026-03
    sau = [r for r in page.rows if r["countryRegionId"] == "SAU"]
    assert all(isinstance(r["value"], str) and r["unit"] == "TBPD" for r in sau)
    s = parse_eia_rows(sau, "crude_production_sau")
    assert s.index[0] == pd.Timestamp("2021-01-01") and s.index[-1] == pd.Timestamp("2026-03-01")
    assert 7000 < s.min() and s.max() < 11000  # Saudi Arabia's order of magnitude, kb/d
    # a reply mixing countries must not pass for one series
    with pytest.raises(Exception, match="more than once"):
        parse_eia_rows(page.rows, "mixed")


# ---- fetch into a store -----------------------------------------------------------------


def test_fetch_group_into_store(eia: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    source, seen = eia
    out = api.fetch(
        ["ve_crude_production", GROUP], data_dir=tmp_path, sources={"eia": source}, registry=REGISTRY
    )
    assert [o.name for o in out] == ["ve_crude_production", *REG.group(GROUP)]
    assert all(o.status == "stored" and o.rows == 63 for o in out), [o.error for o in out]
    assert len(seen) == 16  # one request per country
    assert sorted(a["facets[countryRegionId][]"][0] for a in seen) == sorted(
        ["VEN", *(_iso(n) for n in REG.group(GROUP))]
    )
    assert all(a["api_key"] == [FAKE_KEY] for a in seen)
    rows = [r for r in _payload()["response"]["data"] if r["countryRegionId"] == "KWT"]
    want = np.array([float(r["value"]) for r in rows])
    stored = api.load("crude_production_kwt", data_dir=tmp_path, registry=REGISTRY)
    np.testing.assert_allclose(stored.to_numpy(), want, rtol=0, atol=1e-9)
    # the local server's own access log (werkzeug) stands for the provider's and is left out
    ours = " ".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    assert "international/data" in ours  # the requests were logged, scrubbed
    assert FAKE_KEY not in ours and FAKE_KEY not in repr(out)


def test_cli_fetch_group(eia: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source, seen = eia
    monkeypatch.setenv("EIA_API_KEY", FAKE_KEY)
    real = sources_pkg.get_source
    monkeypatch.setattr(
        sources_pkg, "get_source", lambda p, **kw: source if p == "eia" else real(p, **kw)
    )
    from oilimpact.cli import app

    res = CliRunner().invoke(app, ["fetch", GROUP, "--data-dir", str(tmp_path), "--registry", str(REGISTRY)])
    assert res.exit_code == 0, res.output
    assert FAKE_KEY not in res.output
    assert len(seen) == 15
    assert set(api.open_store(tmp_path).names()) == set(REG.group(GROUP))


# ---- panel ------------------------------------------------------------------------------


def test_load_panel_is_load_frame_of_the_group(eia: Any, tmp_path: Path) -> None:
    source, _ = eia
    api.fetch(
        ["ve_crude_production", GROUP], data_dir=tmp_path, sources={"eia": source}, registry=REGISTRY
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", api.VintageWarning)  # stored after the as-of date
        panel = api.load_panel(["ve_crude_production", GROUP], as_of="2026-03-15",
                               data_dir=tmp_path, registry=REGISTRY)  # fmt: skip
        frame = api.load_frame(["ve_crude_production", *REG.group(GROUP)], as_of="2026-03-15",
                               data_dir=tmp_path, registry=REGISTRY)  # fmt: skip
    pd.testing.assert_frame_equal(panel, frame)
    assert list(panel.columns) == ["ve_crude_production", *REG.group(GROUP)]
    # 3-month lag: November 2025 is published by 2026-02-28, December not by 2026-03-15
    assert panel.index[-1] == pd.Timestamp("2025-11-01")
    full = api.load_panel(GROUP, data_dir=tmp_path, registry=REGISTRY)
    assert full.index[-1] == pd.Timestamp("2026-03-01") and full.shape == (63, 15)


def test_load_panel_skips_absent_members(tmp_path: Path) -> None:
    assert api.load_panel(GROUP, data_dir=tmp_path, registry=REGISTRY).shape == (0, 0)
    with pytest.raises(Exception, match="crude_production_col"):
        api.load_panel(GROUP, data_dir=tmp_path, missing="raise", registry=REGISTRY)
