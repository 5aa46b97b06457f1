"""The brief's heavy-sour and curve section: wired to the channel tables, and monthly
prices are never fitted as volumes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from oilimpact.demo import demo_dataset
from oilimpact.events import load_catalog
from oilimpact.report import compute_brief, write_brief

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def brief_with_channels(tmp_path_factory: pytest.TempPathFactory):
    demo = demo_dataset().known_on(AS_OF)
    months = pd.date_range("2024-01-01", "2026-04-01", freq="MS")
    rng = np.random.default_rng(5)
    maya = pd.Series(60 + rng.normal(0, 2, months.size), index=months, name="maya_landed")
    maya.index.name = "date"
    # a daily spread on the demo's sessions, with a jump after the blockade
    days = demo.prices.index
    spread = pd.Series(0.5 + 0.01 * np.arange(days.size), index=days, name="brent_m1_m2")
    spread[days > pd.Timestamp("2025-12-17")] += 1.0
    prices = demo.prices.assign(brent_m1_m2=spread)
    volumes = {**demo.volumes, "maya_landed": maya}  # a monthly *price* among the volumes
    data = compute_brief(prices, volumes, as_of=AS_OF, events=load_catalog(), synthetic=True,
                         true_effects=demo.true_effects)  # fmt: skip
    paths = write_brief(data, tmp_path_factory.mktemp("out"),
                        generated_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC))  # fmt: skip
    return data, paths.html.read_text(encoding="utf-8"), prices, maya


def test_monthly_prices_are_not_fitted_as_volumes(brief_with_channels) -> None:
    data, _, _, _ = brief_with_channels
    assert "maya_landed" not in set(data.tables["interventions"].get("series", []))
    assert "maya_landed" not in data.interventions


def test_maya_differential_matches_a_direct_computation(brief_with_channels) -> None:
    data, _, prices, maya = brief_with_channels
    hs = data.tables["heavy_sour"]
    row = hs[hs["series"] == "maya_wti"].iloc[0]
    assert "not in the store" not in str(row["note"])
    # the latest month: Maya landed minus the mean of that month's WTI sessions
    last = pd.Timestamp(row["last_date"])
    wti = prices["wti"].dropna()
    month = wti[(wti.index >= last) & (wti.index < last + pd.offsets.MonthBegin(1))]
    assert row["last"] == pytest.approx(maya[last] - month.mean(), abs=1e-9)


def test_spread_change_and_page(brief_with_channels) -> None:
    data, html, _, _ = brief_with_channels
    curve = data.tables["curve"]
    row = curve[curve["series"] == "brent_m1_m2"].dropna(subset=["change"]).iloc[0]
    assert row["change"] == pytest.approx(row["after"] - row["before"], abs=1e-12)
    assert 'id="channels"' in html and 'id="tbl-heavy-sour"' in html and 'id="tbl-curve"' in html
    absent = [n for n in data.notices if n.startswith("curve channel: not in the store")]
    assert absent and "brent_m1_m2," not in absent[0].split("(")[0]  # present, so not listed
