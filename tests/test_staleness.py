"""Staleness that knows publication lags (oilimpact.series.stale_since)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oilimpact.series import PublicationLag, default_registry, last_known_period, stale_since

REAL = Path(__file__).resolve().parent.parent / ".." / "shared" / "data" / "real"


def _months_behind(last: str, due: pd.Timestamp) -> int:
    a, b = pd.Timestamp(last), due
    return (b.year - a.year) * 12 + (b.month - a.month)


@pytest.mark.parametrize("as_of", pd.date_range("2025-11-03", "2026-07-31", freq="9D"))
def test_monthly_rule_by_hand(as_of):
    """Monthly: stale exactly when more than 2 months behind the last published month."""
    spec = default_registry()["ve_crude_production"]  # 3-month lag
    due = last_known_period(spec, as_of)
    for k in range(0, 6):
        last = (due - pd.DateOffset(months=k)).strftime("%Y-%m-01")
        got = stale_since(spec, last, as_of)
        assert (got is not None) == (_months_behind(last, due) > 2), (as_of, last)


def test_daily_rule_and_holidays():
    brent = default_registry()["brent"]
    # Christmas to New Year: the last session 2025-12-31 is fine on 2026-01-09
    assert stale_since(brent, "2025-12-31", "2026-01-09") is None
    # nothing for more than 10 days behind the last known day (as_of - 1 day)
    assert stale_since(brent, "2025-12-28", "2026-01-09") == pd.Timestamp("2025-12-28")
    assert pd.isna(stale_since(brent, None, "2026-01-09"))  # no data at all: stale


def test_registry_allowance_for_a_provider_that_skips_periods():
    spec = default_registry()["us_products_imports_ve_monthly"]
    assert spec.stale_after == PublicationLag(12, "months")
    # EIA has no product row for 2025-07 .. 2026-01: six months of silence is normal
    assert stale_since(spec, "2025-06-01", "2026-02-15") is None
    assert stale_since(spec, "2024-06-01", "2026-02-15") is not None


@pytest.mark.skipif(not REAL.is_dir(), reason="needs ../shared/data/real (the real snapshot)")
def test_real_snapshot_brief_with_fail_on_stale(tmp_path):
    """The weekly job's --fail-on-stale passes on the real data as of 2026-02-15 (the S&P 500
    file ends 2026-02-11) and fails once the S&P 500 has been silent for weeks."""
    from oilimpact.api import StaleDataError, build_brief
    from oilimpact.snapshot import import_snapshot

    store = tmp_path / "store"
    import_snapshot(REAL, data_dir=store)
    build_brief(as_of="2026-02-15", data_dir=store, out=tmp_path / "out",
                generated_at="2026-02-16T06:00:00Z", fail_on_stale=True)  # fmt: skip
    with pytest.raises(StaleDataError, match="sp500"):
        build_brief(as_of="2026-03-15", data_dir=store, out=tmp_path / "out2",
                    generated_at="2026-03-16T06:00:00Z", fail_on_stale=True)  # fmt: skip
