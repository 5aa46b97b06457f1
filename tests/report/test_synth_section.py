"""The brief's synthetic-control section: with donors in the store, and without them.

The store is filled by ``api.fetch`` from the recorded EIA v2 international reply
``tests/sources/fixtures/eia_international_57_donors_monthly.json`` (a labelled FIXTURE:
synthetic but plausible production, Venezuela a donor mix minus 250 kb/d from 2025-12),
served on 127.0.0.1 by the handler of ``tests/sources/test_eia_donors.py``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from oilimpact import api
from oilimpact.series import default_registry
from oilimpact.sources.eia import EiaSource

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location(
    "_eia_donors", HERE.parent / "sources" / "test_eia_donors.py"
)
assert _spec is not None and _spec.loader is not None
_donors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_donors)

REGISTRY = _donors.REGISTRY  # the donor pool as a registry file
REG = default_registry().with_file(REGISTRY)
GROUP = "ve_crude_donors"
STAMP = dt.datetime(2026, 7, 1, 6, 0, tzinfo=dt.UTC)
INJECTED = -250.0  # kb/d, the fixture's effect from 2025-12 (make_eia_international_57_donors.py)


def _fill(tmp: Path, names: list[str]) -> Path:
    srv = HTTPServer(host="127.0.0.1", port=0)
    srv.start()
    try:
        srv.expect_request("/v2/international/data/").respond_with_handler(
            _donors.international_handler([])
        )
        src = EiaSource(api_key="K" * 40, base_url=srv.url_for("").rstrip("/"))
        out = api.fetch(names, data_dir=tmp / "store", sources={"eia": src}, registry=REGISTRY)
    finally:
        srv.clear()
        srv.stop()
    assert all(o.status == "stored" for o in out), [o.error for o in out]
    return tmp / "store"


def _build(store: Path, out: Path, as_of: str) -> tuple[str, dict[str, Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", api.VintageWarning)  # stored after as_of
        paths = api.build_brief(
            as_of=as_of, data_dir=store, out=out, generated_at=STAMP, registry=REGISTRY
        )
    return paths.html.read_text(encoding="utf-8"), json.loads(paths.json.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def full_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _fill(tmp_path_factory.mktemp("synth"), ["ve_crude_production", GROUP])


@pytest.fixture(scope="module")
def with_donors(full_store: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    return _build(full_store, tmp_path_factory.mktemp("out"), "2026-06-30")


def test_section_renders_with_donors(with_donors: tuple[str, dict]) -> None:
    html, res = with_donors
    assert 'id="synth"' in html and 'id="tbl-synth"' in html and 'id="tbl-synth-weights"' in html
    assert 'data-figure="fig-synth-blockade"' in html
    assert 'data-figure="fig-synth-maduro-captured"' in html
    sc = res["synthetic_control"]
    assert set(sc["fits"]) == {"blockade", "maduro_captured"} and sc["reasons"] == []
    fit = sc["fits"]["blockade"]
    assert fit["unit"] == "kb/d" and fit["treated"] == "ve_crude_production"
    assert fit["event_date"] == "2025-12-16"
    w = pd.Series(fit["weights"])
    assert set(w.index) == set(REG.group(GROUP))
    assert (w >= -1e-12).all() and abs(w.sum() - 1) < 1e-9
    # the fixture's injected drop is recovered, and the tests see it
    assert abs(fit["effect"] - INJECTED) < 15.0
    assert fit["pvalue"] < 0.05
    row = pd.DataFrame(res["tables"]["synth"]).set_index("event").loc["blockade"]
    assert row["ci_lower"] < fit["effect"] < row["ci_upper"] < 0
    assert row["n_pre"] == 48 and row["n_post"] == 4  # 2025-12..2026-03 published by 06-30
    assert "maduro_captured" in row["note"]  # the blockade's post months are joint
    capture = pd.DataFrame(res["tables"]["synth"]).set_index("event").loc["maduro_captured"]
    assert capture["n_pre"] == 48 and capture["first_post"].startswith("2026-01")
    assert "includes what persists of it" in capture["note"] and "blockade" in capture["note"]
    # the capture's pre-period leaves out the blockade month (2025-12)
    cpath = pd.DataFrame(res["tables"]["synth_path"])
    cdates = pd.to_datetime(cpath.loc[cpath["event"] == "maduro_captured", "date"])
    assert pd.Timestamp("2025-12-01") not in set(cdates) and cdates.max() == pd.Timestamp("2026-03-01")
    # donors are the synthetic control's inputs, not volume series of their own
    assert not any(str(s).startswith("crude_production_") for s in
                   pd.DataFrame(res["tables"]["interventions"]).get("series", []))  # fmt: skip


def test_synthetic_path_recomputed_from_the_store(
    with_donors: tuple[str, dict], full_store: Path
) -> None:
    """synthetic = donors @ weights and effect = mean post gap, recomputed independently."""
    _, res = with_donors
    fit = res["synthetic_control"]["fits"]["blockade"]
    path = pd.DataFrame(res["tables"]["synth_path"])
    path = path[path["event"] == "blockade"].assign(date=lambda d: pd.to_datetime(d["date"]))
    panel = api.load_panel(["ve_crude_production", GROUP], data_dir=full_store, registry=REGISTRY)
    panel = panel.loc[path["date"]]
    w = pd.Series(fit["weights"])
    synthetic = np.array([sum(w[d] * panel.loc[t, d] for d in w.index) for t in panel.index])
    np.testing.assert_allclose(path["synthetic"], synthetic, rtol=1e-9)
    np.testing.assert_allclose(path["actual"], panel["ve_crude_production"], rtol=1e-12)
    post = path[path["post"]]
    gaps = [a - s for a, s in zip(post["actual"], post["synthetic"], strict=True)]
    assert abs(fit["effect"] - sum(gaps) / len(gaps)) < 1e-9


def test_without_donors_the_section_says_why(tmp_path: Path) -> None:
    store = _fill(tmp_path, ["ve_crude_production"])
    html, res = _build(store, tmp_path / "out", "2026-06-30")
    assert res["synthetic_control"]["fits"] == {}
    (reason,) = res["synthetic_control"]["reasons"]
    assert "no donor series are in the store" in reason and GROUP in reason
    assert "no donor series are in the store" in html and 'id="tbl-synth"' not in html


def test_too_few_donors_says_why(tmp_path: Path) -> None:
    store = _fill(tmp_path, ["ve_crude_production", *REG.group(GROUP)[:3]])
    _, res = _build(store, tmp_path / "out", "2026-06-30")
    (reason,) = res["synthetic_control"]["reasons"]
    assert "3 donor series with data" in reason and "at least 5" in reason


def test_no_post_event_month_published_yet(full_store: Path, tmp_path: Path) -> None:
    # on 2026-03-15 the last published month is 2025-11: no post-event month for either event
    html, res = _build(full_store, tmp_path / "out", "2026-03-15")
    sc = res["synthetic_control"]
    assert sc["fits"] == {}
    assert len(sc["reasons"]) == 2
    assert "blockade: no synthetic control yet" in sc["reasons"][0]
    assert "(2025-12) is not published as of 2026-03-15" in sc["reasons"][0]
    assert "last published month 2025-11" in sc["reasons"][0]
    assert "not published as of 2026-03-15" in html


def test_demo_brief_says_why(demo_brief: Any) -> None:
    assert demo_brief.data.synth == {}
    (reason,) = demo_brief.data.synth_reasons
    assert "demo dataset has no donor series" in reason
    assert 'id="synth"' in demo_brief.html and "demo dataset has no donor series" in demo_brief.html
