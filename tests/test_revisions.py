"""Tests of the import guard (oilimpact.revisions) on synthetic and real series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oilimpact.errors import ImportRefused, InputError
from oilimpact.revisions import check_import, guard_import
from oilimpact.sources.files import read_series_file

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
needs_real = pytest.mark.skipif(
    not (REAL / "eia_wti_spot_daily.csv").exists(), reason=f"real data folder {REAL} absent"
)


def _series(values: np.ndarray, start: str = "2024-01-01") -> pd.Series:
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values), name="date"))


@pytest.fixture(scope="module")
def wti() -> pd.Series:
    if not (REAL / "eia_wti_spot_daily.csv").exists():
        pytest.skip(f"real data folder {REAL} absent")
    return read_series_file(REAL / "eia_wti_spot_daily.csv", name="wti").series


@needs_real
def test_vix_levels_imported_as_wti_are_refused_with_numbers(wti: pd.Series) -> None:
    vix = read_series_file(REAL / "cboe_vix_daily.csv", name="wti").series
    with pytest.raises(ImportRefused) as info:
        guard_import(wti, vix, name="wti", source="cboe_vix_daily.csv")
    msg = str(info.value)
    report = info.value.report
    # independent computation of the two statistics
    common = wti.index.intersection(vix.index)
    a, b = wti[common].to_numpy(), vix[common].to_numpy()
    ok = np.isfinite(a) & np.isfinite(b) & (a != 0) & (b != 0)
    assert report.median_ratio == pytest.approx(np.median(np.abs(b[ok] / a[ok])), rel=1e-12)
    assert report.overlap == len(common) and report.revised == int((a != b).sum())
    assert "median ratio new/stored 0.358" in msg and f"{report.overlap} dates" in msg
    assert "revise" in msg and "--force" in msg and "cboe_vix_daily.csv" in msg
    assert len(report.examples) == 3 and all(d in common for d, _, _ in report.examples)
    assert isinstance(info.value, InputError)
    # --force returns the report instead
    forced = guard_import(wti, vix, name="wti", source="cboe_vix_daily.csv", force=True)
    assert forced.refused and len(forced.problems) == 2


@needs_real
def test_brent_as_wti_is_refused_for_mass_revision_not_scale(wti: pd.Series) -> None:
    brent = read_series_file(REAL / "eia_brent_spot_daily.csv", name="wti").series
    report = check_import(wti, brent, name="wti", source="eia_brent_spot_daily.csv")
    assert report.refused and len(report.problems) == 1
    assert "would revise" in report.problems[0] and report.revised_share > 0.99


@needs_real
def test_reimport_of_the_same_file_and_an_incremental_fetch_pass(wti: pd.Series) -> None:
    again = read_series_file(REAL / "eia_wti_spot_daily.csv", name="wti").series
    report = guard_import(wti, again, name="wti", source="eia_wti_spot_daily.csv")
    assert not report.refused and report.revised == 0 and report.added == 0
    # incremental fetch: last 14 sessions re-read with all of them revised, plus 5 new days
    stored = wti.iloc[:-5]
    recent = wti.iloc[-19:].copy()
    recent.iloc[:14] *= 1.002
    report = guard_import(stored, recent, name="wti", source="fred:DCOILWTICO")
    assert (report.added, report.revised, report.overlap) == (5, 14, 14)
    # a normal revision of a few recent values in a full re-import
    revised = wti.copy()
    revised.iloc[-10:] += 0.25
    report = guard_import(wti, revised, name="wti", source="fred:DCOILWTICO")
    assert report.revised == 10 and not report.refused


def test_scale_check_catches_units_and_ignores_a_few_outliers() -> None:
    rng = np.random.default_rng(3)
    level = 1000 + rng.normal(0, 30, 40)
    stored = _series(level)
    assert check_import(stored, stored / 1000, name="ve", source="f").refused  # b/d vs kb/d
    noisy = stored.copy()
    noisy.iloc[:5] *= 10  # five bad prints out of 40: the median does not move
    report = check_import(stored, noisy, name="ve", source="f")
    assert not report.refused and report.median_ratio == pytest.approx(1.0)
    # two paired points are too few to judge the scale
    assert not check_import(stored.iloc[:2], stored.iloc[:2] * 5, name="ve", source="f").refused


def test_share_rule_needs_a_long_overlap_and_nan_counts() -> None:
    stored = _series(np.linspace(50, 60, 30))
    changed = stored.copy()
    changed.iloc[:16] = np.nan  # 16 of 30 set to NaN: a mass revision
    report = check_import(stored, changed, name="wti", source="f")
    assert report.revised == 16 and report.refused and "16 of the 30" in report.problems[0]
    short = stored.iloc[:19] * 1.1  # 19 dates, all revised, below min_overlap
    assert not check_import(stored, short, name="wti", source="f").refused
    assert check_import(stored, short, name="wti", source="f", min_overlap=10).refused


def test_nothing_stored_passes() -> None:
    report = check_import(None, _series(np.ones(5)), name="x", source="f")
    assert not report.refused and report.added == 5 and np.isnan(report.median_ratio)
