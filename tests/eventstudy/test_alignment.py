"""Tests of event-to-session alignment (day 0) for daily, weekly and monthly series."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import exchange_calendars as xc
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oilimpact.errors import ConfigError, EstimationError
from oilimpact.events import Event, EventCatalog, load_catalog
from oilimpact.eventstudy.alignment import (
    ALIGNMENT_COLUMNS,
    Alignment,
    align_event,
    align_events,
    align_period,
    session_close,
)
from oilimpact.series import SeriesRegistry, SeriesSpec, default_registry

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
NY = "America/New_York"


@pytest.fixture(scope="module")
def catalog() -> EventCatalog:
    return load_catalog()


@pytest.fixture(scope="module")
def reg() -> SeriesRegistry:
    return default_registry()


@pytest.fixture(scope="module")
def bdays() -> pd.DatetimeIndex:
    """Synthetic business days (Mon-Fri, holidays included)."""
    return pd.bdate_range("2025-01-01", "2026-03-31")


@pytest.fixture(scope="module")
def xnys() -> pd.DatetimeIndex:
    """XNYS sessions: business days without US market holidays."""
    with warnings.catch_warnings():  # exchange_calendars 4.13 trips a pandas 3.1 deprecation
        warnings.simplefilter("ignore")
        cal = xc.get_calendar("XNYS")
    return cal.sessions_in_range("2025-01-02", "2026-03-31").tz_localize(None)


def at(ts: str, tz: str = NY, eid: str = "x") -> Event:
    return Event(eid, "test event", "political", pd.Timestamp(ts, tz=tz), True)


def day(al: Alignment) -> str:
    return str(al.day0.date())


# ---- the catalog events -----------------------------------------------------------------


@pytest.mark.parametrize("series", ["wti", "sp500", "brent"])
def test_sunday_fto_announcement_goes_to_monday(catalog, reg, bdays, series) -> None:
    al = align_event(catalog["fto_announced"], bdays, reg[series])
    assert day(al) == "2025-11-17"
    assert al.reason == "2025-11-16 is a Sunday; time unknown -> next session 2025-11-17"
    assert al.event_id == "fto_announced" and al.series == series


def test_blockade_evening_et_goes_to_next_session_for_every_close(catalog, reg, bdays) -> None:
    ev = catalog["blockade"]
    wti = align_event(ev, bdays, reg["wti"])
    spx = align_event(ev, bdays, reg["sp500"])
    brent = align_event(ev, bdays, reg["brent"])
    assert day(wti) == day(spx) == day(brent) == "2025-12-17"
    assert wti.reason == (
        "event at 2025-12-16 18:00 EST is after the 14:30 EST close of 2025-12-16 "
        "-> next session 2025-12-17"
    )
    assert "after the 16:00 EST close of 2025-12-16" in spx.reason
    # 19:30 London in December is 14:30 New York: still before 18:00 ET
    assert brent.reason == (
        "event at 2025-12-16 18:00 EST (2025-12-16 23:00 GMT) is after the 19:30 GMT close "
        "of 2025-12-16 -> next session 2025-12-17"
    )
    assert brent.close == pd.Timestamp("2025-12-17 19:30", tz="Europe/London")
    assert wti.close == pd.Timestamp("2025-12-17 14:30", tz=NY)
    assert wti.timestamp == ev.timestamp


def test_fto_effective_before_the_open_is_day0_for_all(catalog, reg, bdays) -> None:
    for series in ("wti", "sp500", "brent"):
        assert day(align_event(catalog["fto_effective"], bdays, reg[series])) == "2025-11-24"


def test_saturday_events_go_to_monday(catalog, reg, bdays) -> None:
    a = align_event(catalog["tanker_seizure_2"], bdays, reg["wti"])
    b = align_event(catalog["maduro_captured"], bdays, reg["sp500"])
    assert (day(a), day(b)) == ("2025-12-22", "2026-01-05")
    assert a.reason.startswith("2025-12-20 is a Saturday; time unknown")
    assert b.reason.startswith("2026-01-03 is a Saturday; time unknown")


def test_time_unknown_on_a_session_is_that_session(catalog, reg, bdays) -> None:
    al = align_event(catalog["tanker_seizure_1"], bdays, reg["wti"])
    assert day(al) == "2025-12-10"
    assert al.reason == "time unknown; 2025-12-10 is a session -> day 0 2025-12-10"
    assert day(align_event(catalog["boat_strike_1"], bdays, reg["wti"])) == "2025-09-02"


@pytest.mark.parametrize(
    ("eid", "expected"),
    [("maduro_offer", "2026-01-02"), ("tanker_seizure_2", "2025-12-22")],
)
def test_holidays_roll_forward(catalog, reg, xnys, eid, expected) -> None:
    al = align_event(catalog[eid], xnys, reg["wti"])
    assert day(al) == expected
    if eid == "maduro_offer":
        assert al.reason == (
            "2026-01-01 is a XNYS holiday; time unknown -> next session 2026-01-02"
        )


def test_christmas_event_rolls_to_dec_26(reg, xnys) -> None:
    ev = Event.on_date("xmas", "Christmas news", "political", "2025-12-25")
    assert day(align_event(ev, xnys, reg["sp500"])) == "2025-12-26"
    late = at("2025-12-24 20:00")
    assert day(align_event(late, xnys, reg["sp500"])) == "2025-12-26"


# ---- intraday timing -----------------------------------------------------------------------


def test_ten_am_on_a_session_is_the_same_day(reg, bdays) -> None:
    ev = at("2025-12-16 10:00")
    for series in ("wti", "sp500", "brent", "vix"):
        al = align_event(ev, bdays, reg[series])
        assert day(al) == "2025-12-16", series
        assert "-> same session 2025-12-16" in al.reason


def test_three_pm_is_same_day_for_equities_next_for_wti(reg, bdays) -> None:
    ev = at("2025-12-16 15:00")
    assert day(align_event(ev, bdays, reg["sp500"])) == "2025-12-16"
    wti = align_event(ev, bdays, reg["wti"])
    assert day(wti) == "2025-12-17"
    assert "after the 14:30 EST close" in wti.reason


def test_event_exactly_at_the_close_belongs_to_the_next_session(reg, bdays) -> None:
    al = align_event(at("2025-12-16 14:30"), bdays, reg["wti"])
    assert day(al) == "2025-12-17"
    assert "is at the 14:30 EST close" in al.reason
    assert day(align_event(at("2025-12-16 14:29:59"), bdays, reg["wti"])) == "2025-12-16"


def test_weekend_event_with_known_time(reg, bdays) -> None:
    al = align_event(at("2025-12-20 10:00"), bdays, reg["wti"])
    assert day(al) == "2025-12-22"
    assert al.reason == (
        "event at 2025-12-20 10:00 EST; 2025-12-20 is a Saturday -> next session 2025-12-22"
    )


def test_event_in_another_zone_uses_the_instant(reg, bdays) -> None:
    # 2025-12-17 02:00 in Tokyo is 2025-12-16 12:00 in New York: before the WTI close
    al = align_event(at("2025-12-17 02:00", tz="Asia/Tokyo"), bdays, reg["wti"])
    assert day(al) == "2025-12-16"
    assert "(2025-12-16 12:00 EST)" in al.reason


@pytest.mark.parametrize(
    ("when", "brent_day0", "close_ny"),
    [
        # winter: 19:30 GMT = 14:30 EST -> 15:00 ET is after the Brent close
        ("2025-12-16 15:00", "2025-12-17", "14:30"),
        # summer: 19:30 BST = 14:30 EDT -> after
        ("2025-07-15 15:00", "2025-07-16", "14:30"),
        # US on daylight time, UK not yet (2025-03-09 .. 2025-03-30): 19:30 GMT = 15:30 EDT
        ("2025-03-12 15:00", "2025-03-12", "15:30"),
        # UK back on GMT, US still on EDT (2025-10-26 .. 2025-11-02): 15:30 EDT again
        ("2025-10-28 15:00", "2025-10-28", "15:30"),
    ],
)
def test_dst_is_honoured_for_a_london_close(reg, bdays, when, brent_day0, close_ny) -> None:
    al = align_event(at(when), bdays, reg["brent"])
    assert day(al) == brent_day0
    same_day = pd.Timestamp(when).normalize()
    close = session_close(same_day, reg["brent"]).tz_convert(NY)
    assert close.strftime("%H:%M") == close_ny
    assert close.tz_convert("Europe/London").strftime("%H:%M") == "19:30"
    # WTI (14:30 New York) is after 15:00 ET in every season -> next session
    assert day(align_event(at(when), bdays, reg["wti"])) != when[:10]


def test_early_close_from_exchange_calendars(reg, bdays) -> None:
    # XNYS closes at 13:00 on 2025-12-24; WTI's 14:30 close is capped at 13:00
    assert session_close("2025-12-24", reg["wti"]) == pd.Timestamp("2025-12-24 13:00", tz=NY)
    assert session_close("2025-12-23", reg["wti"]) == pd.Timestamp("2025-12-23 14:30", tz=NY)
    assert session_close("2025-12-24", reg["usd_broad"]).hour == 12  # noon stays noon
    al = align_event(at("2025-12-24 13:30"), bdays, reg["wti"])
    assert day(al) == "2025-12-25"  # the synthetic index has Dec 25; the data decides
    assert "after the 13:00 EST early close (XNYS) of 2025-12-24" in al.reason


def test_unknown_calendar_uses_regular_close(bdays) -> None:
    spec = SeriesSpec("custom", "custom", "", "daily", "price", calendar="NOPE")
    assert session_close("2025-12-24", spec).hour == 16
    ev = Event.on_date("h", "holiday", "political", "2025-12-25")
    al = align_event(ev, bdays.drop(pd.Timestamp("2025-12-25")), spec)
    assert (
        al.reason
        == "2025-12-25 is not a session of the series; time unknown -> next session 2025-12-26"
    )


def test_calendar_session_missing_in_data_rolls_forward(reg, xnys) -> None:
    # 2025-11-11 (Veterans Day): NYSE open, EIA spot prices not published
    data = xnys.drop(pd.Timestamp("2025-11-11"))
    al = align_event(at("2025-11-10 15:00"), data, reg["wti"])
    assert day(al) == "2025-11-12"
    assert al.reason.endswith(
        "-> next session 2025-11-12 (XNYS session(s) 2025-11-11 have no observation in the series)"
    )
    ev = Event.on_date("vd", "Veterans Day news", "political", "2025-11-11")
    al = align_event(ev, data, reg["wti"])
    assert day(al) == "2025-11-12"
    assert al.reason.startswith("2025-11-11 is a XNYS session but the series has no observation")


def test_after_the_last_session_raises(reg, bdays) -> None:
    short = bdays[bdays <= "2025-12-16"]
    with pytest.raises(EstimationError, match=r"'blockade'.*series 'wti' \(2025-12-16"):
        align_event(load_catalog()["blockade"], short, reg["wti"])
    with pytest.raises(EstimationError, match="after the last session"):
        align_event(Event.on_date("z", "t", "political", "2025-12-17"), short, reg["wti"])
    with pytest.raises(EstimationError, match="no sessions"):
        align_event(at("2025-12-16 10:00"), pd.DatetimeIndex([]), reg["wti"])


def test_sessions_accept_a_series_and_drop_missing_values(reg) -> None:
    idx = pd.DatetimeIndex(["2025-12-24", "2025-12-25", "2025-12-26"])
    s = pd.Series([1.0, float("nan"), 2.0], index=idx)  # FRED lists holidays as empty rows
    assert day(align_event(at("2025-12-24 20:00"), s, reg["sp500"])) == "2025-12-26"
    with pytest.raises(EstimationError, match="tz-naive"):
        align_event(at("2025-12-24 10:00"), idx.tz_localize("UTC"), reg["sp500"])


def test_alignment_is_frozen(reg, bdays) -> None:
    al = align_event(at("2025-12-16 10:00"), bdays, reg["wti"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        al.day0 = pd.Timestamp("2025-12-17")  # type: ignore[misc]
    assert al.day0.tzinfo is None and al.close.tzinfo is not None


_REG = default_registry()
_SESSIONS = pd.bdate_range("2024-12-02", "2026-03-31")


@settings(max_examples=100, deadline=None)
@given(
    minutes=st.integers(min_value=0, max_value=60 * 24 * 400),
    series=st.sampled_from(["wti", "brent", "sp500", "vix"]),
)
def test_day0_is_the_first_session_closing_after_the_event(minutes, series) -> None:
    spec, sessions = _REG[series], _SESSIONS
    t = pd.Timestamp("2024-12-01", tz=NY) + pd.Timedelta(minutes=minutes)
    al = align_event(Event("x", "t", "political", t, True), sessions, spec)
    assert al.day0 in sessions
    assert al.close > al.timestamp
    pos = sessions.get_loc(al.day0)
    if pos > 0:
        assert session_close(sessions[pos - 1], spec) <= al.timestamp


# ---- real data ----------------------------------------------------------------------------


def _real_sessions(name: str, date_col: str, value_col: str) -> pd.Series:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"real data {path} not available (only in the project's shared folder)")
    df = pd.read_csv(path)
    idx = pd.DatetimeIndex(pd.to_datetime(df[date_col])).as_unit("ns")
    return pd.Series(pd.to_numeric(df[value_col], errors="coerce").to_numpy(), index=idx)


def test_catalog_on_real_wti_sessions(catalog, reg) -> None:
    wti = _real_sessions("eia_wti_spot_daily.csv", "Date", "Price")
    sessions = wti.index[wti.index >= "2025-06-01"]
    got = {eid: day(align_event(ev, sessions, reg["wti"])) for eid, ev in catalog.items()}
    assert got == {
        "boat_strike_1": "2025-09-02",
        "fto_announced": "2025-11-17",
        "fto_effective": "2025-11-24",
        "tanker_seizure_1": "2025-12-10",
        "blockade": "2025-12-17",
        "tanker_seizure_2": "2025-12-22",
        "maduro_offer": "2026-01-02",
        "maduro_captured": "2026-01-05",
    }
    # EIA has no row on Veterans Day 2025-11-11 although NYSE traded
    al = align_event(at("2025-11-10 15:00"), sessions, reg["wti"])
    assert day(al) == "2025-11-12" and "2025-11-11 have no observation" in al.reason


def test_catalog_on_real_sp500_with_empty_holiday_rows(catalog, reg) -> None:
    spx = _real_sessions("fred_SP500.csv", "observation_date", "SP500")
    spx = spx[spx.index >= "2025-06-01"]
    assert pd.isna(spx.loc["2025-12-25"])  # FRED lists the holiday with an empty value
    tab = align_events(catalog, {"sp500": spx}, reg)
    got = dict(zip(tab["event"], tab["day0"].dt.strftime("%Y-%m-%d"), strict=True))
    assert got["maduro_offer"] == "2026-01-02"
    assert got["blockade"] == "2025-12-17"
    assert got["maduro_captured"] == "2026-01-05"


# ---- tables and periods ------------------------------------------------------------------


def test_align_events_table(catalog, reg, bdays) -> None:
    tab = align_events(catalog, {"wti": bdays, "brent": bdays, "sp500": bdays}, reg)
    assert tuple(tab.columns) == ALIGNMENT_COLUMNS
    assert len(tab) == 24
    assert str(tab["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert str(tab["close"].dtype) == "datetime64[ns, UTC]"
    assert str(tab["day0"].dtype) == "datetime64[ns]"
    row = tab[(tab.event == "blockade") & (tab.series == "brent")].iloc[0]
    assert row["timestamp"] == pd.Timestamp("2025-12-16 23:00", tz="UTC")
    assert row["close"] == pd.Timestamp("2025-12-17 19:30", tz="UTC")
    assert list(tab["event"].unique()) == list(catalog)


def test_align_events_specs_and_unknown_series(catalog, reg, bdays) -> None:
    ev = [catalog["blockade"]]
    tab = align_events(ev, {"my_stock": bdays}, reg)  # registry gives a generic 16:00 spec
    assert tab.loc[0, "day0"] == pd.Timestamp("2025-12-17")
    tab = align_events(ev, {"wti": bdays}, [reg["wti"]])
    assert tab.loc[0, "close"] == pd.Timestamp("2025-12-17 19:30", tz="UTC")
    with pytest.raises(ConfigError, match="no spec for series 'oops'"):
        align_events(ev, {"oops": bdays}, {"wti": reg["wti"]})


def test_align_events_dispatches_weekly_and_monthly(catalog, reg) -> None:
    weeks = pd.date_range("2025-10-03", "2026-02-27", freq="W-FRI")
    months = pd.date_range("2025-01-01", "2026-04-01", freq="MS")
    tab = align_events(
        catalog.select(["blockade", "maduro_captured"]),
        {"us_imports_ve_weekly": weeks, "ve_crude_production": months},
        reg,
    )
    got = tab["day0"].dt.strftime("%Y-%m-%d").tolist()
    assert got == ["2025-12-19", "2025-12-01", "2026-01-09", "2026-01-01"]


def test_align_period_monthly_and_weekly(catalog) -> None:
    months = pd.date_range("2025-01-01", "2026-04-01", freq="MS")
    al = align_period(catalog["maduro_offer"], months, "monthly", series="m")
    assert day(al) == "2026-01-01"
    assert al.close == pd.Timestamp("2026-02-01", tz=NY)
    assert (
        al.reason
        == "monthly period 2026-01-01 .. 2026-01-31 contains 2026-01-01 -> day 0 2026-01-01"
    )
    weeks = pd.date_range("2025-10-03", "2026-02-27", freq="W-FRI")
    # Friday 2025-12-19 is in the week ending that day; Saturday 12-20 in the next week
    fri = Event.on_date("f", "t", "seizure", "2025-12-19")
    assert day(align_period(fri, weeks, "weekly")) == "2025-12-19"
    al = align_period(catalog["tanker_seizure_2"], weeks, "weekly")
    assert day(al) == "2025-12-26"
    assert al.reason.startswith("weekly period ending 2025-12-26 (2025-12-20 .. 2025-12-26)")


def test_align_period_absent_week_and_errors(catalog) -> None:
    weeks = pd.date_range("2025-10-03", "2026-02-27", freq="W-FRI")
    gap = weeks.drop(pd.Timestamp("2025-12-19"))  # EIA top-10 table omitted Venezuela
    al = align_period(catalog["blockade"], gap, "weekly")
    assert day(al) == "2025-12-26"
    assert al.reason.startswith("the period containing 2025-12-16 is absent from the series")
    with pytest.raises(EstimationError, match="after the last monthly period.*2025-11-01"):
        align_period(
            catalog["blockade"], pd.date_range("2025-01-01", "2025-11-01", freq="MS"), "monthly"
        )
    with pytest.raises(ConfigError, match="use align_event"):
        align_period(catalog["blockade"], weeks, "daily")  # type: ignore[arg-type]
