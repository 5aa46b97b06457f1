"""The brief job end to end through the CLI: demo, real snapshot, stale refusal, empty store."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from oilimpact import api
from oilimpact.cli import app
from oilimpact.snapshot import import_snapshot

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"real snapshot {REAL} absent")
runner = CliRunner()


def test_demo_brief_via_cli_is_deterministic(tmp_path):
    args = ["brief", "--demo", "--generated-at", "2026-01-10T08:00:00Z"]
    r1 = runner.invoke(app, [*args, "--out", str(tmp_path / "a")], catch_exceptions=False)
    r2 = runner.invoke(app, [*args, "--out", str(tmp_path / "b")], catch_exceptions=False)
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output
    a = (tmp_path / "a" / "2026-W02" / "brief.html").read_bytes()
    assert a == (tmp_path / "b" / "2026-W02" / "brief.html").read_bytes()
    assert b"synthetic" in a.lower()
    meta = json.loads((tmp_path / "a" / "2026-W02" / "results.json").read_text())["meta"]
    assert meta["synthetic"] is True


def test_empty_store_says_what_to_do(tmp_path):
    res = runner.invoke(app, ["brief", "--data-dir", str(tmp_path), "--as-of", "2026-01-09"])
    assert res.exit_code == 2 and "store" in res.stderr and "--demo" in res.stderr


def test_default_as_of_is_last_complete_week():
    assert api.default_as_of("2026-11-28") == pd.Timestamp("2026-11-22").date()


@needs_real
def test_real_brief_uses_only_complete_periods_and_refuses_stale(tmp_path):
    store = tmp_path / "store"
    import_snapshot(REAL, store, fetched_at="2026-01-09T12:00:00Z")
    paths = api.build_brief(
        as_of="2026-01-09", data_dir=store, out=tmp_path / "r", generated_at="2026-01-09T12:00:00Z"
    )
    health = pd.read_csv(paths.tables["health"]).set_index("series")
    # EIA international production is published about 3 months after the month: on
    # 2026-01-09 September 2025 was the last month out (2025-09-30 + 3 months = 2025-12-30)
    assert health.loc["ve_crude_production", "last"] == "2025-09-01"
    # US imports by origin (Petroleum Supply Monthly) lag 2 months: October 2025
    assert health.loc["us_imports_ve_monthly", "last"] == "2025-10-01"
    # a spot price is known the next day; the S&P 500 close at the close
    assert health.loc["brent", "last"] == "2026-01-08"
    assert health.loc["sp500", "last"] == "2026-01-09"
    # day 0 comes from the pair's own sessions: 2025-09-01 (US Labor Day) has a Brent
    # price but no S&P 500 close, and must not push 2025-09-02 out of the grid
    align = pd.read_csv(paths.tables["alignment"]).set_index(["event", "series"])
    assert align.loc[("boat_strike_1", "brent"), "day0"][:10] == "2025-09-02"
    assert align.loc[("maduro_offer", "wti"), "day0"][:10] == "2026-01-02"
    assert align.loc[("blockade", "brent_wti"), "day0"][:10] == "2025-12-17"
    car = pd.read_csv(paths.tables["car"])
    assert {"blockade", "fto_announced"} <= set(car["event"])
    html = paths.html.read_text()
    assert "not estimable yet" in html  # volumes say why there is no estimate yet
    # a brief long after the S&P 500 file ends refuses to publish stale numbers
    res = runner.invoke(
        app,
        [
            "brief",
            "--data-dir",
            str(store),
            "--as-of",
            "2026-06-30",
            "--fail-on-stale",
            "--out",
            str(tmp_path / "s"),
        ],
    )
    assert res.exit_code == 1 and "stale series" in res.stderr and "sp500" in res.stderr
    assert not (tmp_path / "s").exists()
