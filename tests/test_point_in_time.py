"""Point in time: publication lags, as_of / vintage / end, vintage-true briefs, safe imports."""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import warnings
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from oilimpact import api
from oilimpact.demo import demo_dataset
from oilimpact.errors import ImportRefused, InputError, StaleDataError
from oilimpact.frames import to_series_frame
from oilimpact.series import (
    PublicationLag,
    SeriesSpec,
    default_registry,
    known_by,
    last_known_period,
)
from oilimpact.snapshot import import_snapshot

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"real snapshot {REAL} absent")
REG = default_registry()
SNAP_TIME = "2026-01-09T12:00:00Z"


def _digest(root: Path) -> dict[str, str]:
    """Every file of a store (locks aside) by its SHA-256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".locks" not in p.parts
    }


def _release_by_hand(period: date, frequency: str, amount: int, unit: str) -> date:
    """Release date computed with the calendar module, independently of pandas offsets."""
    if frequency == "monthly":
        end = date(period.year, period.month, calendar.monthrange(period.year, period.month)[1])
    else:
        end = period
    if unit == "months":
        m = end.month - 1 + amount
        y, m = end.year + m // 12, m % 12 + 1
        return date(y, m, min(end.day, calendar.monthrange(y, m)[1]))
    return end + timedelta(days=amount * (7 if unit == "weeks" else 1))


# ---------------------------------------------------------------- the lag function


@pytest.mark.parametrize("name", list(REG))
def test_every_shipped_series_has_a_lag_with_its_source(name):
    lag = REG[name].publication_lag
    assert lag is not None and lag.source, name


def test_docs_list_every_lag_the_registry_applies():
    text = (ROOT / "docs" / "point-in-time.md").read_text(encoding="utf-8")
    rows = [r for r in text.splitlines() if r.startswith("| `")]
    listed: dict[str, str] = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        for name in re.findall(r"`([a-z0-9_]+)`", cells[0]):
            listed[name] = cells[2]
    for name in REG:
        assert listed.get(name) == str(REG[name].publication_lag), name


@pytest.mark.parametrize("name", list(REG))
@pytest.mark.parametrize("as_of", ["2026-01-09", "2026-02-15", "2026-02-28", "2026-03-01"])
def test_known_by_matches_a_calendar_loop(name, as_of):
    spec = REG[name]
    freq = {"daily": "D", "weekly": "W-FRI", "monthly": "MS"}[spec.frequency]
    idx = pd.date_range("2025-06-01", "2026-04-30", freq=freq)
    s = pd.Series(range(len(idx)), index=idx, dtype="float64", name=name)
    cut, used = known_by(s, spec, as_of)
    lag = spec.publication_lag
    day = date.fromisoformat(as_of)
    want = [
        t for t in idx if _release_by_hand(t.date(), spec.frequency, lag.amount, lag.unit) <= day
    ]
    assert list(cut.index) == want
    assert used.last_used == want[-1]
    assert used.held_back == len(idx) - len(want)
    # the last period the schedule allows is the last one kept on a complete grid
    if spec.frequency != "weekly":
        assert last_known_period(spec, as_of) == want[-1]


def test_brief_dated_2026_02_15_uses_no_monthly_value_of_2026():
    for name in REG:
        spec = REG[name]
        if spec.frequency != "monthly":
            continue
        idx = pd.date_range("2025-01-01", "2026-07-01", freq="MS")
        cut, used = known_by(pd.Series(1.0, index=idx), spec, "2026-02-15")
        assert cut.index.max() < pd.Timestamp("2026-01-01"), name
        assert "known on 2026-02-15" in used.availability


def test_availability_sentence_says_what_and_why():
    idx = pd.date_range("2025-08-01", "2026-01-01", freq="MS")
    _, used = known_by(pd.Series(1.0, index=idx), REG["ve_crude_production"], "2026-02-15")
    assert used.availability == (
        "monthly; published about 3 months after the month (EIA International Energy "
        "Statistics); months through 2025-10 known on 2026-02-15 (3 later stored months left out)"
    )
    spec = SeriesSpec("mine", "x", "", "daily", "price")  # no lag registered
    _, used = known_by(pd.Series([1.0], index=pd.DatetimeIndex(["2026-01-09"])), spec, "2026-01-09")
    assert "publication lag not registered" in used.availability
    assert used.last_used == pd.Timestamp("2026-01-09")


def test_lag_parsing_and_config_errors(tmp_path):
    assert PublicationLag.parse("2 weeks").offset() == pd.Timedelta(days=14)
    f = tmp_path / "bad.toml"
    f.write_text('[series.x]\nfrequency = "daily"\nkind = "price"\npublication_lag = "soon"\n')
    with pytest.raises(Exception, match="publication_lag must read like") as info:
        REG.with_file(f)
    assert str(f) in str(info.value)


# ---------------------------------------------------------------- as_of, vintage, end


@pytest.fixture
def small_store(tmp_path):
    """Monthly production stored on 2026-01-20, then revised (and extended) on 2026-03-20."""
    months = ["2025-09-01", "2025-10-01", "2025-11-01", "2025-12-01"]
    first = to_series_frame([800.0, 790.0, 780.0, 770.0], months, "ve_crude_production")
    store = api.open_store(tmp_path)
    store.write(first, source="file", source_id="a", fetched_at="2026-01-20T09:00Z")
    second = to_series_frame(
        [801.0, 791.0, 781.0, 771.0, 700.0], [*months, "2026-01-01"], "ve_crude_production"
    )
    store.write(second, source="file", source_id="b", fetched_at="2026-03-20T09:00Z")
    return tmp_path


def test_as_of_is_what_was_known_on_that_day(small_store):
    got = api.load("ve_crude_production", as_of="2026-02-15", data_dir=small_store)
    # the store of 2026-02-15 is the first vintage; October was out, November not yet
    assert got.to_dict() == {pd.Timestamp("2025-09-01"): 800.0, pd.Timestamp("2025-10-01"): 790.0}
    got = api.load("ve_crude_production", as_of="2026-03-20", data_dir=small_store)
    # end of 2026-03-20: the revision of that morning is known, December is not out yet
    assert got.iloc[-1] == 781.0 and got.index[-1] == pd.Timestamp("2025-11-01")


def test_vintage_and_end_are_plain_cuts(small_store):
    v = api.load("ve_crude_production", vintage="2026-02-01", data_dir=small_store)
    assert v.tolist() == [800.0, 790.0, 780.0, 770.0]  # no lag: pure store time
    e = api.load("ve_crude_production", end="2025-11-30", data_dir=small_store)
    assert e.tolist() == [801.0, 791.0, 781.0]  # latest knowledge, cut on dates
    f = api.load_frame(
        ["ve_crude_production"], as_of="2026-02-15", end="2025-09-30", data_dir=small_store
    )
    assert f["ve_crude_production"].tolist() == [800.0]


def test_as_of_before_the_first_vintage_reads_it_with_a_warning(small_store):
    with pytest.warns(api.VintageWarning, match="no vintage stored by 2026-01-10"):
        got = api.load("ve_crude_production", as_of="2026-01-10", data_dir=small_store)
    assert got.tolist() == [800.0]  # first vintage, September only (2025-09-30 + 3 months)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        api.load("ve_crude_production", as_of="2026-02-15", data_dir=small_store)


def test_health_has_last_used_and_availability(small_store):
    store = api.open_store(small_store)
    read = api.read_point_in_time(
        store, "ve_crude_production", REG["ve_crude_production"], as_of="2026-02-15"
    )
    health = api._health(store, {read.name: read}, pd.Timestamp("2026-02-15"), REG)
    assert tuple(health.columns) == api.HEALTH_COLUMNS
    row = health.iloc[0]
    assert row["last_used"] == pd.Timestamp("2025-10-01") == row["last"]
    assert row["availability"].endswith(
        "months through 2025-10 known on 2026-02-15 (2 later stored months left out)"
    )
    # provenance of the vintage read, not of the newest write
    assert row["source_id"] == "a" and row["vintage"] == 1
    assert row["fetched_at"] == pd.Timestamp("2026-01-20T09:00Z")


# ---------------------------------------------------------------- the real snapshot


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    if not REAL.is_dir():
        pytest.skip(f"real snapshot {REAL} absent")
    root = tmp_path_factory.mktemp("pit_real") / "store"
    import_snapshot(REAL, root, fetched_at=SNAP_TIME)
    return root


def _brief(store: Path, out: Path, as_of: str) -> api.Any:
    return api.build_brief(as_of=as_of, data_dir=store, out=out, generated_at=SNAP_TIME)


def test_real_brief_2026_02_15_uses_no_monthly_value_of_2026(real_store, tmp_path):
    paths = _brief(real_store, tmp_path, "2026-02-15")
    health = json.loads(paths.json.read_text())["tables"]["health"]
    monthly = [r for r in health if REG[r["series"]].frequency == "monthly"]
    assert len(monthly) == 6
    for row in monthly:
        assert row["last"] < "2026-01-01", row
    last = {r["series"]: r["last"] for r in health}
    assert last["ve_crude_production"] == "2025-10-01"
    assert last["us_imports_ve_monthly"] == "2025-11-01"
    assert last["brent"] == "2026-02-13"  # Friday; known on Saturday


def test_real_snapshot_imports_us_imports_from_venezuela(real_store):
    crude = api.load("us_imports_ve_monthly", data_dir=real_store)
    products = api.load("us_products_imports_ve_monthly", data_dir=real_store)
    assert crude["2025-12-01"] == 137.0 and crude["2026-01-01"] == 200.0
    # the embargo months have no EIA value: missing, never zero
    assert pd.Timestamp("2020-06-01") not in crude.dropna().index
    assert (crude.dropna() > 0).all() and products.notna().sum() > 100
    assert REG["us_imports_ve_monthly"].kind == "volume"
    assert REG["us_imports_ve_value"].kind == "value" == REG["us_exports_ve_value"].kind


def test_real_brief_is_vintage_true(real_store, tmp_path, monkeypatch):
    import shutil

    store = tmp_path / "store"
    shutil.copytree(real_store, store)
    before = _brief(store, tmp_path / "a", "2026-01-09")
    # a revision of a Brent value the brief uses, stored later (a later vintage)
    revised = tmp_path / "brent_revised.csv"
    revised.write_text("Date,Price\n2026-01-07,99.99\n2026-01-08,88.88\n")
    out = api.import_file(revised, name="brent", data_dir=store, fetched_at="2026-02-01T08:00Z")
    assert out.rows_revised == 2
    assert api.load("brent", data_dir=store)["2026-01-08"] == 88.88  # latest knowledge
    after = _brief(store, tmp_path / "b", "2026-01-09")
    assert after.html.read_bytes() == before.html.read_bytes()
    assert after.json.read_bytes() == before.json.read_bytes()
    # the test can fail: read the latest vintage instead, and the page changes
    monkeypatch.setattr(api, "_end_of_day_utc", lambda day: pd.Timestamp("2100-01-01", tz="UTC"))
    latest = _brief(store, tmp_path / "c", "2026-01-09")
    assert latest.json.read_bytes() != before.json.read_bytes()


def test_real_brief_before_the_store_existed_says_so(real_store, tmp_path):
    paths = _brief(real_store, tmp_path, "2026-01-02")
    notices = json.loads(paths.json.read_text())["meta"]["notices"]
    assert any("first stored after 2026-01-02" in n for n in notices)


# ---------------------------------------------------------------- the demo


def test_demo_brief_uses_no_january_monthly_value(tmp_path):
    known = demo_dataset().known_on("2026-01-09")
    for name, s in known.volumes.items():
        if REG[name].frequency == "monthly":
            assert s.index.max() < pd.Timestamp("2026-01-01"), name
    assert known.prices["brent"].last_valid_index() == pd.Timestamp("2026-01-08")
    assert known.prices["sp500"].last_valid_index() == pd.Timestamp("2026-01-09")
    # no true effect is claimed for a series whose treated periods are not out yet
    assert "ve_crude_production" not in known.true_effects.get("blockade", {})
    paths = api.build_brief(demo=True, out=tmp_path, generated_at="2026-01-10T08:00:00Z")
    health = json.loads(paths.json.read_text())["tables"]["health"]
    for row in health:
        if REG[row["series"]].frequency == "monthly":
            assert row["last"] < "2026-01-01", row


# ---------------------------------------------------------------- imports


@needs_real
def test_vix_as_wti_and_a_typo_are_refused_store_byte_identical(real_store, tmp_path):
    import shutil

    store = tmp_path / "store"
    shutil.copytree(real_store, store)
    before = _digest(store)
    with pytest.raises(ImportRefused, match="--force"):
        api.import_file(REAL / "cboe_vix_daily.csv", name="wti", data_dir=store, column="CLOSE")
    assert _digest(store) == before
    with pytest.raises(InputError, match="did you mean brent"):
        api.import_file(REAL / "eia_brent_spot_daily.csv", name="brnt", data_dir=store)
    assert _digest(store) == before
    assert api.load("wti", data_dir=store)["2020-04-20"] == -36.98


def test_new_and_force_override_and_the_file_hash_is_recorded(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("Date,Price\n2025-12-15,61.1\n2025-12-16,58.9\n")
    out = api.import_file(f, name="my_crude", new=True, data_dir=tmp_path / "s")
    assert out.status == "stored"
    history = api.open_store(tmp_path / "s").history("my_crude")
    assert history["file_sha256"].iloc[-1] == hashlib.sha256(f.read_bytes()).hexdigest()
    # once stored, the name is known: a re-import needs no new=True
    assert api.import_file(f, name="my_crude", data_dir=tmp_path / "s").status == "unchanged"
    dates = pd.bdate_range("2025-01-01", periods=30)
    (tmp_path / "a.csv").write_text("Date,Price\n" + "".join(f"{d:%Y-%m-%d},60\n" for d in dates))
    (tmp_path / "b.csv").write_text("Date,Price\n" + "".join(f"{d:%Y-%m-%d},20\n" for d in dates))
    api.import_file(tmp_path / "a.csv", name="brent", data_dir=tmp_path / "t")
    with pytest.raises(ImportRefused):
        api.import_file(tmp_path / "b.csv", name="brent", data_dir=tmp_path / "t")
    out = api.import_file(tmp_path / "b.csv", name="brent", data_dir=tmp_path / "t", force=True)
    assert out.rows_revised == 30 and any("forced import" in w for w in out.warnings)


def test_max_bytes_reaches_the_reader_and_refusal_changes_nothing(tmp_path):
    f = tmp_path / "b.csv"
    f.write_text("Date,Price\n" + "".join(f"2025-12-{d:02d},60\n" for d in range(1, 29)))
    api.import_file(f, name="brent", data_dir=tmp_path / "s")
    before = _digest(tmp_path / "s")
    with pytest.raises(InputError, match="over the size limit of 100 bytes"):
        api.import_file(f, name="brent", data_dir=tmp_path / "s", max_bytes=100)
    assert _digest(tmp_path / "s") == before
    assert api.import_file(f, name="brent", data_dir=tmp_path / "s", max_bytes=10_000).rows == 28


# ---------------------------------------------------------------- failed fetch before a brief


def _failed(name: str) -> api.FetchOutcome:
    return api.FetchOutcome(
        name=name,
        status="failed",
        error=f"fred:{name.upper()}: SourceError: host not reachable; stored data are unchanged",
        attempts=(f"fred:{name.upper()}: SourceError: host not reachable",),
        advice=("Check the network connection.",),
    )


def test_brief_after_a_failed_fetch_says_so(small_store, tmp_path, monkeypatch):
    calls = []

    def fake_fetch(names=None, **kwargs):
        outs = [_failed("brent"), _failed("wti")]
        for o in outs:
            if kwargs.get("on_progress"):
                kwargs["on_progress"](o.name, o)
        calls.append(kwargs)
        return outs

    monkeypatch.setattr(api, "fetch", fake_fetch)
    seen = []
    paths = api.build_brief(
        as_of="2026-03-20", data_dir=small_store, out=tmp_path, fetch=True,
        generated_at=SNAP_TIME, on_fetch=lambda n, o: seen.append(n),
    )  # fmt: skip
    notices = json.loads(paths.json.read_text())["meta"]["notices"]
    assert notices[0].startswith("fetch on ") and "failed for 2 of 2 series" in notices[0]
    assert any("fetch brent: fred:BRENT" in n for n in notices)
    assert notices.count("Check the network connection.") == 1
    assert seen == ["brent", "wti"]
    with pytest.raises(StaleDataError, match="brent, wti"):
        api.build_brief(
            as_of="2026-03-20", data_dir=small_store, out=tmp_path / "x", fetch=True,
            fail_on_stale=True, generated_at=SNAP_TIME,
        )  # fmt: skip
    assert not (tmp_path / "x").exists()
