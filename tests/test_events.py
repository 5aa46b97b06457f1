"""Tests of the event catalog: the default TOML, user overrides and malformed files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest

from oilimpact.errors import ConfigError
from oilimpact.events import (
    EVENT_COLUMNS,
    Event,
    EventCatalog,
    event_table_schema,
    load_catalog,
    read_events,
)

EXPECTED_DATES = {
    "boat_strike_1": "2025-09-02",
    "fto_announced": "2025-11-16",
    "fto_effective": "2025-11-24",
    "tanker_seizure_1": "2025-12-10",
    "blockade": "2025-12-16",
    "tanker_seizure_2": "2025-12-20",
    "maduro_offer": "2026-01-01",
    "maduro_captured": "2026-01-03",
}


@pytest.fixture(scope="module")
def catalog() -> EventCatalog:
    return load_catalog()


def write(tmp_path: Path, text: str, name: str = "events.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- the default catalog --------------------------------------------------------------


def test_default_catalog_has_the_eight_events_with_their_dates(catalog: EventCatalog) -> None:
    assert set(catalog) == set(EXPECTED_DATES)
    assert {k: str(ev.date) for k, ev in catalog.items()} == EXPECTED_DATES
    # iteration is in time order
    assert list(catalog) == sorted(EXPECTED_DATES, key=EXPECTED_DATES.__getitem__)


def test_default_catalog_timestamps_are_tz_aware_and_documented(catalog: EventCatalog) -> None:
    for ev in catalog.values():
        assert ev.timestamp.tzinfo is not None, ev.id
        assert ev.title and ev.kind and ev.source and ev.notes, ev.id
        if not ev.time_known:
            assert ev.timestamp == ev.timestamp.normalize(), ev.id
            assert str(ev.timestamp.tz) == "America/New_York", ev.id


def test_blockade_is_evening_et_after_the_us_close(catalog: EventCatalog) -> None:
    ev = catalog["blockade"]
    assert ev.time_known
    assert ev.timestamp == pd.Timestamp("2025-12-16T18:00:00-05:00")
    assert ev.timestamp.isoformat() == "2025-12-16T18:00:00-05:00"
    assert "evening ET, after the US close" in ev.notes
    assert ev.kind == "blockade"


def test_time_known_flags_and_citations(catalog: EventCatalog) -> None:
    known = {k for k, ev in catalog.items() if ev.time_known}
    assert known == {"fto_effective", "blockade"}
    assert "90 FR 53045" in catalog["fto_effective"].source
    assert catalog["fto_effective"].timestamp == pd.Timestamp("2025-11-24T06:00:00-05:00")
    assert "afternoon" in catalog["boat_strike_1"].notes
    assert "2025-12-31" in catalog["maduro_offer"].source
    assert catalog["fto_announced"].date.weekday() == 6  # Sunday
    assert catalog["tanker_seizure_2"].date.weekday() == 5  # Saturday
    assert catalog["maduro_captured"].date.weekday() == 5  # Saturday


def test_to_frame_matches_the_schema(catalog: EventCatalog) -> None:
    df = catalog.to_frame()
    assert tuple(df.columns) == EVENT_COLUMNS
    assert len(df) == 8
    event_table_schema.validate(df, lazy=True)
    row = df.set_index("id").loc["fto_announced"]
    assert row["timestamp"] == "2025-11-16T00:00:00-05:00"
    assert row["date"] == "2025-11-16"
    assert not row["time_known"]


def test_schema_rejects_bad_rows() -> None:
    good = load_catalog().to_frame().head(2)
    bad = good.copy()
    bad.loc[0, "id"] = "Bad-Id"
    bad.loc[1, "timestamp"] = "2025-12-16T18:00:00"  # no offset
    bad.loc[1, "title"] = "  "
    with pytest.raises(pa.errors.SchemaErrors) as info:
        event_table_schema.validate(bad, lazy=True)
    failed = set(info.value.failure_cases["column"].dropna())
    assert {"id", "timestamp", "title"} <= failed


def test_between_and_select(catalog: EventCatalog) -> None:
    assert catalog.between("2025-12-01", "2025-12-31").ids == (
        "tanker_seizure_1",
        "blockade",
        "tanker_seizure_2",
    )
    assert catalog.between("2026-01-01", None).ids == ("maduro_offer", "maduro_captured")
    # a tz-aware bound compares timestamps: 18:00 ET is 23:00 UTC
    assert "blockade" not in catalog.between(None, pd.Timestamp("2025-12-16 22:00", tz="UTC"))
    assert catalog.select(["blockade", "fto_announced"]).ids == ("fto_announced", "blockade")
    assert catalog.select("blockade").ids == ("blockade",)
    assert "nope" not in catalog and catalog.get("nope") is None


def test_select_unknown_id_lists_known_ids(catalog: EventCatalog) -> None:
    with pytest.raises(ConfigError, match="unknown event id.*'nope'.*known events: .*blockade"):
        catalog.select(["blockade", "nope"])
    with pytest.raises(ConfigError, match="known events"):
        catalog["nope"]
    with pytest.raises(KeyError, match="^unknown event 'nope'"):  # Mapping protocol kept
        catalog["nope"]


# ---- Event -----------------------------------------------------------------------------


def test_event_requires_tz_aware_timestamp() -> None:
    with pytest.raises(ConfigError, match="no time zone"):
        Event("x", "t", "political", pd.Timestamp("2025-12-16 18:00"), True)
    with pytest.raises(ConfigError, match="midnight"):
        Event("x", "t", "political", pd.Timestamp("2025-12-16 18:00", tz="UTC"), False)


def test_event_date_is_in_its_own_zone() -> None:
    ev = Event("x", "t", "political", pd.Timestamp("2025-12-16T23:30:00-05:00"), True)
    assert ev.date == dt.date(2025, 12, 16)
    tokyo = Event.on_date("y", "t", "political", "2025-12-17", timezone="Asia/Tokyo")
    assert tokyo.date == dt.date(2025, 12, 17)
    assert tokyo.timestamp.tz_convert("America/New_York").date() == dt.date(2025, 12, 16)


def test_with_events_overrides_by_id(catalog: EventCatalog) -> None:
    new = Event.on_date("blockade", "Other title", "blockade", "2025-12-17")
    out = catalog.with_events(new)
    assert out["blockade"].title == "Other title" and len(out) == 8
    assert catalog["blockade"].title != "Other title"  # the original is unchanged


# ---- user files ------------------------------------------------------------------------


def test_user_file_adds_and_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[events.blockade]
title = "Blockade, my timing"
kind = "blockade"
timestamp = 2025-12-16T20:15:00-05:00
notes = "from my own log"

[events.my_event]
title = "My event"
kind = "political"
date = 2025-10-01
timezone = "Europe/London"
source = "me"

[events.local_time]
title = "Local time with an explicit zone"
kind = "political"
timestamp = 2025-12-16T10:00:00
timezone = "America/New_York"
""",
    )
    cat = load_catalog(path)
    assert len(cat) == 10
    assert cat["blockade"].timestamp == pd.Timestamp("2025-12-16T20:15:00-05:00")
    assert cat["blockade"].source == ""  # replaced as a whole, not merged
    assert cat["my_event"].timestamp == pd.Timestamp("2025-10-01", tz="Europe/London")
    assert not cat["my_event"].time_known
    assert cat["local_time"].timestamp.isoformat() == "2025-12-16T10:00:00-05:00"
    assert cat["local_time"].time_known
    # the default catalog is unaffected
    assert load_catalog()["blockade"].timestamp.hour == 18


def test_script_in_title_survives_as_text(tmp_path: Path) -> None:
    title = "<script>alert('x')</script> & \"quotes\""
    path = write(
        tmp_path,
        f"""
[events.xss]
title = '''{title}'''
kind = "political"
date = 2025-12-01
""",
    )
    cat = load_catalog(path)
    assert cat["xss"].title == title
    assert cat.to_frame().set_index("id").at["xss", "title"] == title


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        (
            'title = "t"\nkind = "seizure"\ntimestamp = "2025-13-45T99:00"',
            r"bad\.toml: event 'bad_event': 'timestamp' '2025-13-45T99:00' is not an ISO",
        ),
        ('kind = "seizure"\ndate = 2025-12-01', r"bad\.toml: event 'bad_event' needs a 'title'"),
        (
            'title = "t"\nkind = "seizure"\ndate = 2025-12-01\nwhen = "noon"',
            r"bad\.toml: event 'bad_event': unknown field\(s\) \['when'\]",
        ),
        (
            'title = "t"\nkind = "seizure"\ntimestamp = 2025-12-16T18:00:00',
            r"bad\.toml: event 'bad_event': 'timestamp' 2025-12-16T18:00:00 has no UTC offset",
        ),
        (
            'title = "t"\nkind = "seizure"\ntimestamp = 2025-12-16',
            r"event 'bad_event': 'timestamp' must be a datetime with an offset",
        ),
        (
            'title = "t"\nkind = "seizure"\ndate = 2025-12-16\ntimestamp = 2025-12-16T18:00:00Z',
            r"event 'bad_event' needs exactly one of 'timestamp'.*got both",
        ),
        ('title = "t"\nkind = "seizure"', r"event 'bad_event' needs exactly one.*got neither"),
        (
            'title = "t"\nkind = "seizure"\ndate = 2025-12-16\ntimezone = "Mars/Olympus"',
            r"event 'bad_event': unknown timezone 'Mars/Olympus'",
        ),
        (
            'title = "t"\nkind = "seizure"\ntimestamp = 2025-11-02T01:30:00\n'
            'timezone = "America/New_York"',
            r"event 'bad_event': local time .* is ambiguous or does not exist",
        ),
        (
            'title = ""\nkind = "seizure"\ndate = 2025-12-16',
            r"bad\.toml: 1 problem.*event 'bad_event' field 'title'.*title must not be empty",
        ),
        (
            'title = "t"\nkind = "Seizure!"\ndate = 2025-12-16',
            r"event 'bad_event' field 'kind'",
        ),
        ('title = 5\nkind = "seizure"\ndate = 2025-12-16', r"'title' must be a string"),
    ],
)
def test_malformed_user_file_names_file_event_and_field(
    tmp_path: Path, body: str, pattern: str
) -> None:
    path = write(tmp_path, f"[events.bad_event]\n{body}\n", name="bad.toml")
    with pytest.raises(ConfigError, match=pattern):
        load_catalog(path)


def test_bad_id_is_reported_by_the_schema(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[events.Bad-Id]\ntitle = "t"\nkind = "seizure"\ndate = 2025-12-16\n', "ids.toml"
    )
    with pytest.raises(ConfigError, match=r"ids\.toml.*event 'Bad-Id' field 'id'"):
        load_catalog(path)


def test_missing_empty_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_catalog(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"empty\.toml has no \[events.ID\] tables"):
        load_catalog(write(tmp_path, "", "empty.toml"))
    with pytest.raises(ConfigError, match=r"broken\.toml is not valid TOML"):
        load_catalog(write(tmp_path, "[events.x\ntitle=", "broken.toml"))
    with pytest.raises(ConfigError, match=r"unknown top-level entries \['series'\]"):
        load_catalog(write(tmp_path, "[series.x]\nkind='price'\n", "other.toml"))


def test_read_events_validates_lazily_all_problems(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[events.a]
title = ""
kind = "seizure"
date = 2025-12-16

[events.B]
title = "ok"
kind = "seizure"
date = 2025-12-17
""",
        "two.toml",
    )
    with pytest.raises(ConfigError) as info:
        read_events(path)
    msg = str(info.value)
    assert "two.toml: 2 problem(s)" in msg
    assert "event 'a' field 'title'" in msg and "event 'B' field 'id'" in msg
