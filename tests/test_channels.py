"""The heavy-sour and curve channel tables (oilimpact.report.channels), on synthetic frames.

Expected values are computed here by explicit loops over months and sessions, not with
pandas' groupby/resample that the module uses.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from oilimpact.report.channels import (
    CHANNELS,
    MIN_SESSIONS_PER_MONTH,
    channel_series,
    channel_tables,
)
from oilimpact.series import default_registry

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
BY_NAME = {c.name: c for c in CHANNELS}


def _event(eid: str, day: str) -> SimpleNamespace:
    return SimpleNamespace(id=eid, date=pd.Timestamp(day).date())


def _daily_wti(seed: int = 3) -> pd.Series:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2025-06-02", "2026-02-27")
    wti = pd.Series(60 + np.cumsum(rng.normal(0, 0.8, len(days))), index=days)
    wti[rng.random(len(days)) < 0.1] = np.nan  # holidays / missing sessions
    wti["2025-08-01":"2025-08-22"] = np.nan  # a month with too few sessions
    return wti


def _loop_monthly_mean(daily: pd.Series, as_of: str) -> dict[pd.Timestamp, float]:
    out: dict[pd.Timestamp, float] = {}
    cut = pd.Timestamp(as_of)
    for year, month in sorted({(d.year, d.month) for d in daily.index}):
        first = pd.Timestamp(year, month, 1)
        last = first + pd.offsets.MonthEnd(0)
        if last > cut:
            continue
        vals = [v for d, v in daily.items() if first <= d <= last and not math.isnan(v)]
        out[first] = sum(vals) / len(vals) if len(vals) >= MIN_SESSIONS_PER_MONTH else math.nan
    return out


def test_monthly_differential_matches_a_loop() -> None:
    wti = _daily_wti()
    months = pd.date_range("2025-06-01", "2026-01-01", freq="MS")
    maya = pd.Series(np.linspace(50, 55, len(months)), index=months)
    maya.iloc[3] = np.nan  # EIA withheld
    as_of = "2026-03-10"  # February incomplete: not averaged
    s, missing = channel_series(BY_NAME["maya_wti"], wti.to_frame("wti"), {"maya_landed": maya}, as_of)
    assert missing == [] and s is not None
    # WTI spot is known the next day: sessions through 9 March
    means = _loop_monthly_mean(wti[: pd.Timestamp(as_of) - pd.Timedelta(days=1)], "2026-03-09")
    # a month of Maya is published 65 days after the month's end
    published = [m for m in months if m + pd.offsets.MonthEnd(0) + pd.Timedelta(days=65) <= pd.Timestamp(as_of)]
    expected = {
        m: maya[m] - means[m]
        for m in published
        if m in means and not math.isnan(maya[m]) and not math.isnan(means[m])
    }
    assert pd.Timestamp("2025-12-01") in expected and pd.Timestamp("2026-01-01") not in expected
    assert list(s.index) == sorted(expected)
    np.testing.assert_allclose(s.to_numpy(), [expected[m] for m in s.index], rtol=0, atol=1e-12)
    assert pd.Timestamp("2025-08-01") not in s.index  # too few WTI sessions
    assert pd.Timestamp("2025-09-01") not in s.index  # Maya withheld: missing, not filled


def test_first_purchase_differential_is_month_by_month() -> None:
    months = pd.date_range("2025-09-01", "2025-12-01", freq="MS")
    mars = pd.Series([60.11, 58.73, 55.62, np.nan], index=months)
    wti = pd.Series([58.95, 57.61, 54.80, 55.0], index=months)
    s, _ = channel_series(
        BY_NAME["mars_wti"], pd.DataFrame(), {"mars_first_purchase": mars,
                                              "wti_first_purchase": wti}, "2026-03-31"
    )  # fmt: skip
    np.testing.assert_allclose(s.to_numpy(), [1.16, 1.12, 0.82], atol=1e-9)


def test_point_in_time_later_values_are_ignored() -> None:
    wti = _daily_wti()
    months = pd.date_range("2025-06-01", "2026-01-01", freq="MS")
    maya = pd.Series(52.0, index=months)
    ev = [_event("blockade", "2025-12-16")]
    a = channel_tables(wti.to_frame("wti"), {"maya_landed": maya}, as_of="2026-01-20", events=ev)
    later = wti.copy()
    later["2026-01-21":] = 1e6  # after the brief's date
    b = channel_tables(later.to_frame("wti"), {"maya_landed": maya}, as_of="2026-01-20", events=ev)
    pd.testing.assert_frame_equal(a.tables["heavy_sour"], b.tables["heavy_sour"])
    row = a.tables["heavy_sour"].set_index("series").loc["maya_wti"]
    # on 20 Jan 2026 Maya is published through October (31 Oct + 65 days = 4 Jan)
    assert str(row["last_date"]) == "2025-10-01"
    assert math.isnan(row["after"]) and row["note"] == "no value since the event"
    # on 31 Mar 2026 December is published (6 Mar), January is not (6 Apr)
    c = channel_tables(wti.to_frame("wti"), {"maya_landed": maya}, as_of="2026-03-31", events=ev)
    row = c.tables["heavy_sour"].set_index("series").loc["maya_wti"]
    assert str(row["before_date"]) == "2025-11-01" and str(row["after_date"]) == "2025-12-01"
    assert "only 0 month(s) after day 0" in row["note"]
    assert row["change"] == pytest.approx(row["after"] - row["before"], abs=1e-12)


def test_change_window_and_roll_flag() -> None:
    days = pd.bdate_range("2025-12-01", "2026-02-27")
    spread = pd.Series(np.arange(len(days), dtype=float) * 0.1, index=days)
    prices = pd.DataFrame({"wti_m1_m2": spread})
    events = [_event("quiet", "2025-12-03"), _event("near_roll", "2026-01-15")]
    out = channel_tables(prices, {}, as_of="2026-02-27", events=events, daily_horizon=5)
    rows = out.tables["curve"].query("series == 'wti_m1_m2'").set_index("event")
    quiet, near = rows.loc["quiet"], rows.loc["near_roll"]
    # day -1 = 2 Dec, day 0 = 3 Dec, day +5 = 10 Dec
    assert (str(quiet["before_date"]), str(quiet["after_date"])) == ("2025-12-02", "2025-12-10")
    assert quiet["change"] == pytest.approx(spread["2025-12-10"] - spread["2025-12-02"], abs=1e-12)
    assert quiet["note"] == ""
    # the February WTI contract expired on 20 Jan 2026: contract 1 changes on 21 Jan
    assert "contract roll on 2026-01-21" in near["note"]
    assert near["last"] == pytest.approx(spread.iloc[-1]) and near["unit"] == "USD/bbl"


def test_eia_contract_spread_is_same_day() -> None:
    days = pd.bdate_range("2024-03-01", "2024-04-05")
    rng = np.random.default_rng(1)
    c1 = pd.Series(80 + rng.normal(0, 1, len(days)), index=days)
    c2 = pd.Series(79 + rng.normal(0, 1, len(days)), index=days)
    c2.iloc[4] = np.nan
    s, _ = channel_series(
        BY_NAME["wti_c1_c2_eia"], pd.DataFrame({"wti_fut_c1": c1, "wti_fut_c2": c2}), {}, "2024-12-31"
    )  # fmt: skip
    expected = [(d, c1[d] - c2[d]) for d in days if not math.isnan(c2[d])]
    assert [d for d, _ in expected] == list(s.index)
    np.testing.assert_allclose(s.to_numpy(), [v for _, v in expected], rtol=0, atol=1e-12)


def test_absent_series_are_named_in_notices_and_rows() -> None:
    prices = pd.DataFrame({"wti": [60.0, 61.0]}, index=pd.bdate_range("2025-12-01", periods=2))
    out = channel_tables(prices, {"us_imports_ve_monthly": pd.Series(dtype=float)},
                         as_of="2025-12-31", events=[_event("blockade", "2025-12-16")])  # fmt: skip
    assert len(out.notices) == 2
    heavy, curve = out.notices
    for leg in ("maya_landed", "maya_fob", "merey_landed", "mars_first_purchase", "wti_first_purchase"):
        assert leg in heavy
    for leg in ("brent_m1_m2", "brent_m1_m6", "wti_m1_m2", "wti_m1_m6", "wti_fut_c1"):
        assert leg in curve
    listed = heavy.split("not in the store: ")[1].split(" (")[0].split(", ")
    assert "wti" not in listed and len(listed) == 5  # wti itself is there
    for table in out.tables.values():
        assert table["note"].str.startswith("not in the store: ").all()
        assert table["last"].isna().all() and table["event"].isna().all()
    assert list(out.tables["heavy_sour"]["series"]) == ["maya_wti", "maya_fob_wti", "merey_wti", "mars_wti"]


def test_units_come_from_the_registry() -> None:
    reg = default_registry()
    for c in CHANNELS:
        assert reg[c.legs[0]].unit == "USD/bbl", c.name
        assert all(leg in reg for leg in c.legs), c.name


@pytest.mark.skipif(not REAL.exists(), reason="shared real-data snapshot not present")
def test_real_snapshot_has_no_channel_series_and_says_so() -> None:
    """The shared snapshot holds WTI spot but none of the channel series: all absent."""
    raw = pd.read_csv(REAL / "eia_wti_spot_daily.csv", parse_dates=["Date"])
    wti = raw.set_index("Date")["Price"].rename("wti")
    out = channel_tables(wti.to_frame(), {}, as_of="2026-06-30",
                         events=[_event("blockade", "2025-12-16")])  # fmt: skip
    assert len(out.notices) == 2 and all("not in the store" in n for n in out.notices)
    assert sum(t["last"].notna().sum() for t in out.tables.values()) == 0
