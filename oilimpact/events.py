"""The event catalog: dated announcements and actions whose market impact is studied.

An :class:`Event` has an id, a title, a kind, a tz-aware timestamp and a flag saying
whether the time of day is known. The default catalog ships with the package
(``oilimpact/data/events.toml``); users add or override events with their own TOML file
in the same format (an event with the same id replaces the default one)::

    [events.blockade]
    title = "Total and complete blockade of sanctioned tankers"
    kind = "blockade"
    timestamp = 2025-12-16T18:00:00-05:00   # TOML offset datetime: time known
    source = "Truth Social post, 2025-12-16"
    notes = "evening ET, after the US close"

    [events.my_event]
    title = "Something on a Sunday"
    kind = "political"
    date = 2025-11-16                        # TOML date: time of day unknown
    timezone = "America/New_York"            # optional, the default

A local datetime without an offset (``2025-12-16T18:00:00``) is accepted only together
with an explicit ``timezone``. Titles and notes are stored as given (they may contain
``<`` or ``&``); the report escapes them.

How an event maps to a trading session of each series is decided by
:mod:`oilimpact.eventstudy.alignment`.

Examples
--------
>>> from oilimpact.events import load_catalog
>>> cat = load_catalog()
>>> ev = cat["blockade"]
>>> ev.timestamp.isoformat(), ev.time_known, str(ev.date)
('2025-12-16T18:00:00-05:00', True, '2025-12-16')
>>> cat["fto_announced"].time_known, cat["fto_announced"].timestamp.isoformat()
(False, '2025-11-16T00:00:00-05:00')
>>> list(cat.between("2025-12-01", "2025-12-31"))
['tanker_seizure_1', 'blockade', 'tanker_seizure_2']
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import pandera.pandas as pa

from .errors import ConfigError

__all__ = [
    "DEFAULT_TIMEZONE",
    "EVENT_COLUMNS",
    "KINDS",
    "Event",
    "EventCatalog",
    "UnknownEventError",
    "event_table_schema",
    "load_catalog",
    "read_events",
]

#: Zone of a time-unknown event when its table gives none.
DEFAULT_TIMEZONE = "America/New_York"

#: Kinds used by the default catalog. Any lower-case word is accepted in user files.
KINDS: tuple[str, ...] = ("military", "designation", "seizure", "blockade", "political")

#: Columns of :meth:`EventCatalog.to_frame`, in order.
EVENT_COLUMNS: tuple[str, ...] = (
    "id",
    "title",
    "kind",
    "timestamp",
    "date",
    "time_known",
    "source",
    "notes",
)

_ID_PATTERN = r"^[a-z0-9_]+$"
_KIND_PATTERN = r"^[a-z][a-z0-9_]*$"
_FIELDS = ("title", "kind", "timestamp", "date", "timezone", "source", "notes")
_OFFSET_RE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


@dataclass(frozen=True, slots=True)
class Event:
    """One dated event.

    Attributes
    ----------
    id : str
        Catalog key: lower-case letters, digits and underscores (``"blockade"``).
    title : str
        Short description; plain text (the report escapes it).
    kind : str
        ``"military"``, ``"designation"``, ``"seizure"``, ``"blockade"``, ``"political"``
        or any other lower-case word.
    timestamp : pandas.Timestamp
        tz-aware. When ``time_known`` is False: midnight of the event's date in the
        event's time zone (default America/New_York).
    time_known : bool
        Whether the time of day is known. Alignment treats a time-unknown event as
        happening on its date, before that date's close.
    source, notes : str
        Citation (plain text) and free notes, e.g. why a time was chosen.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = Event("x", "Late news", "political",
    ...            pd.Timestamp("2025-12-16 23:30", tz="America/New_York"), True)
    >>> ev.date, ev.timestamp.tz_convert("UTC").date()
    (datetime.date(2025, 12, 16), datetime.date(2025, 12, 17))
    >>> Event.on_date("y", "Sunday news", "designation", "2025-11-16").timestamp
    Timestamp('2025-11-16 00:00:00-0500', tz='America/New_York')
    """

    id: str
    title: str
    kind: str
    timestamp: pd.Timestamp
    time_known: bool
    source: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        ts = pd.Timestamp(self.timestamp)
        if ts.tzinfo is None:
            raise ConfigError(
                f"event {self.id!r}: timestamp {ts} has no time zone; give an offset "
                "(2025-12-16T18:00:00-05:00) or build a time-unknown event with Event.on_date"
            )
        if not self.time_known and ts != ts.normalize():
            raise ConfigError(
                f"event {self.id!r}: a time-unknown event must be at midnight of its date, "
                f"got {ts.isoformat()}"
            )
        object.__setattr__(self, "timestamp", ts)
        object.__setattr__(self, "time_known", bool(self.time_known))

    @property
    def date(self) -> dt.date:
        """The calendar date of the event in its own time zone."""
        return self.timestamp.date()

    @classmethod
    def on_date(
        cls,
        id: str,
        title: str,
        kind: str,
        date: str | dt.date,
        *,
        timezone: str = DEFAULT_TIMEZONE,
        source: str = "",
        notes: str = "",
    ) -> Event:
        """A time-unknown event: midnight of ``date`` in ``timezone``."""
        day = pd.Timestamp(date)
        if day.tzinfo is not None or day != day.normalize():
            raise ConfigError(f"event {id!r}: on_date needs a plain date, got {date!r}")
        return cls(id, title, kind, day.tz_localize(timezone), False, source, notes)

    def to_record(self) -> dict[str, Any]:
        """The event as one row of :meth:`EventCatalog.to_frame`."""
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "timestamp": self.timestamp.isoformat(),
            "date": self.date.isoformat(),
            "time_known": self.time_known,
            "source": self.source,
            "notes": self.notes,
        }


class UnknownEventError(ConfigError, KeyError):
    """An event id is not in the catalog (a :class:`ConfigError` and a ``KeyError``).

    Being a ``KeyError`` keeps the ``Mapping`` protocol (``in``, ``get``) and callers'
    ``except KeyError`` working; being a ``ConfigError`` lets the CLI report it.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def _parses_with_offset(value: str) -> bool:
    if not isinstance(value, str) or not _OFFSET_RE.search(value):
        return False
    try:
        return pd.Timestamp(value).tzinfo is not None
    except (ValueError, TypeError):
        return False


def _date_matches_timestamp(df: pd.DataFrame) -> pd.Series:
    out = []
    for ts, day in zip(df["timestamp"], df["date"], strict=True):
        try:
            out.append(pd.Timestamp(ts).date().isoformat() == day)
        except (ValueError, TypeError):
            out.append(False)
    return pd.Series(out, index=df.index, dtype=bool)


def _not_blank(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().str.len() > 0


#: pandera schema of :meth:`EventCatalog.to_frame` (string columns hold plain text).
event_table_schema = pa.DataFrameSchema(
    {
        "id": pa.Column(
            str,
            [pa.Check.str_matches(_ID_PATTERN, error="id must match ^[a-z0-9_]+$")],
            unique=True,
        ),
        "title": pa.Column(str, pa.Check(_not_blank, error="title must not be empty")),
        "kind": pa.Column(
            str, pa.Check.str_matches(_KIND_PATTERN, error="kind must be a lower-case word")
        ),
        "timestamp": pa.Column(
            str,
            pa.Check(
                _parses_with_offset,
                element_wise=True,
                error="timestamp must be ISO 8601 with a UTC offset",
            ),
        ),
        "date": pa.Column(
            str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$", error="date must be YYYY-MM-DD")
        ),
        "time_known": pa.Column(bool),
        "source": pa.Column(str),
        "notes": pa.Column(str),
    },
    checks=[
        pa.Check(
            _date_matches_timestamp,
            error="date must be the timestamp's date in its own offset",
        )
    ],
    strict=True,
    ordered=True,
    name="EventTable",
)


def _frame(events: Iterable[Event]) -> pd.DataFrame:
    rows = [ev.to_record() for ev in events]
    df = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    if not rows:
        df = df.astype({"time_known": bool})
    return df


def _validate(events: list[Event], origin: str) -> None:
    """Validate ``events`` with :data:`event_table_schema`; ConfigError names file and ids."""
    df = _frame(events)
    try:
        event_table_schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        lines = []
        for _, row in exc.failure_cases.iterrows():
            idx = row.get("index")
            who = (
                f"event {df.at[idx, 'id']!r}"
                if idx is not None and not pd.isna(idx) and idx in df.index
                else "catalog"
            )
            column = row.get("column")
            field = f" field {column!r}" if isinstance(column, str) and column else ""
            lines.append(f"{who}{field}: {row.get('check')} (got {row.get('failure_case')!r})")
        raise ConfigError(
            f"event file {origin}: {len(lines)} problem(s): " + "; ".join(lines)
        ) from exc


class EventCatalog(Mapping[str, Event]):
    """A read-only mapping of event id to :class:`Event`, iterated in time order.

    Examples
    --------
    >>> cat = load_catalog()
    >>> len(cat), cat.select(["blockade", "fto_announced"]).ids
    (8, ('fto_announced', 'blockade'))
    >>> cat.to_frame().loc[lambda d: d.id == "blockade", ["date", "time_known"]].values.tolist()
    [['2025-12-16', True]]
    """

    def __init__(self, events: Iterable[Event] | Mapping[str, Event] = ()) -> None:
        items = events.values() if isinstance(events, Mapping) else events
        merged: dict[str, Event] = {}
        for ev in items:
            if not isinstance(ev, Event):
                raise ConfigError(f"an EventCatalog holds Event values, got {ev!r}")
            merged[ev.id] = ev
        ordered = sorted(merged.values(), key=lambda e: (e.timestamp.value, e.id))
        self._events: dict[str, Event] = {ev.id: ev for ev in ordered}

    def __getitem__(self, event_id: str) -> Event:
        try:
            return self._events[event_id]
        except KeyError:
            raise UnknownEventError(
                f"unknown event {event_id!r}; known events: {', '.join(self._events)}"
            ) from None

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._events

    def __iter__(self) -> Iterator[str]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __repr__(self) -> str:
        return f"EventCatalog({list(self._events)})"

    @property
    def ids(self) -> tuple[str, ...]:
        """Event ids in time order."""
        return tuple(self._events)

    def to_frame(self) -> pd.DataFrame:
        """One row per event, in time order.

        Columns ``id, title, kind, timestamp`` (ISO 8601 string with its UTC offset, so
        events in different zones share one column), ``date`` (``YYYY-MM-DD`` in the
        event's zone), ``time_known``, ``source``, ``notes``. Valid under
        :data:`event_table_schema`.
        """
        return _frame(self._events.values())

    def with_events(self, *events: Event) -> EventCatalog:
        """Return a new catalog with ``events`` added or replacing same-id events."""
        merged = dict(self._events)
        merged.update({ev.id: ev for ev in events})
        return EventCatalog(merged)

    def with_file(self, path: str | Path) -> EventCatalog:
        """Return a new catalog extended or overridden by the events of a TOML file."""
        return self.with_events(*read_events(path))

    def between(
        self, start: str | dt.date | pd.Timestamp | None, end: str | dt.date | pd.Timestamp | None
    ) -> EventCatalog:
        """Events whose date lies in ``[start, end]`` (inclusive; None is open-ended).

        Dates are compared with each event's own-zone :attr:`Event.date`; a tz-aware
        bound is compared with the event timestamp instead.
        """

        def keep(ev: Event) -> bool:
            for bound, is_start in ((start, True), (end, False)):
                if bound is None:
                    continue
                b = pd.Timestamp(bound)
                if b.tzinfo is not None:
                    ok = ev.timestamp >= b if is_start else ev.timestamp <= b
                else:
                    ok = ev.date >= b.date() if is_start else ev.date <= b.date()
                if not ok:
                    return False
            return True

        return EventCatalog(ev for ev in self._events.values() if keep(ev))

    def select(self, ids: str | Iterable[str]) -> EventCatalog:
        """The events with the given ids; unknown ids raise :class:`ConfigError`."""
        wanted = [ids] if isinstance(ids, str) else list(ids)
        unknown = [i for i in wanted if i not in self._events]
        if unknown:
            raise UnknownEventError(
                f"unknown event id(s) {unknown}; known events: {', '.join(self._events)}"
            )
        return EventCatalog(self._events[i] for i in wanted)


# ---- reading TOML ------------------------------------------------------------------------


def _zone(value: Any, where: str) -> ZoneInfo:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: 'timezone' must be an IANA zone name, got {value!r}")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}: unknown timezone {value!r}") from exc


def _timestamp(value: Any, zone: str | None, where: str) -> pd.Timestamp:
    """Parse a ``timestamp`` entry (TOML datetime or ISO string) to a tz-aware Timestamp."""
    if isinstance(value, str):
        try:
            parsed: dt.datetime = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ConfigError(
                f"{where}: 'timestamp' {value!r} is not an ISO 8601 datetime "
                "(write 2025-12-16T18:00:00-05:00)"
            ) from exc
    elif isinstance(value, dt.datetime):
        parsed = value
    else:
        raise ConfigError(
            f"{where}: 'timestamp' must be a datetime with an offset such as "
            f"2025-12-16T18:00:00-05:00, got {value!r} ({type(value).__name__}); "
            "use 'date = YYYY-MM-DD' when the time is unknown"
        )
    if parsed.tzinfo is None:
        if zone is None:
            raise ConfigError(
                f"{where}: 'timestamp' {parsed.isoformat()} has no UTC offset; write it with "
                'an offset (2025-12-16T18:00:00-05:00), add timezone = "America/New_York", '
                "or use 'date = YYYY-MM-DD' when the time is unknown"
            )
        try:
            return pd.Timestamp(parsed).tz_localize(zone, ambiguous="raise", nonexistent="raise")
        except Exception as exc:  # pytz/zoneinfo ambiguity errors differ by version
            raise ConfigError(
                f"{where}: local time {parsed.isoformat()} is ambiguous or does not exist in "
                f"{zone} (daylight-saving change); give an explicit offset"
            ) from exc
    ts = pd.Timestamp(parsed)
    return ts.tz_convert(zone) if zone is not None else ts


def _event_from_table(event_id: str, data: Any, origin: str) -> Event:
    where = f"{origin}: event {event_id!r}"
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a table [events.{event_id}], got {data!r}")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {unknown}; allowed: {list(_FIELDS)}")
    for name in ("title", "kind"):
        if name not in data:
            raise ConfigError(f"{where} needs a '{name}' entry")
    for name in ("title", "kind", "source", "notes"):
        if name in data and not isinstance(data[name], str):
            raise ConfigError(f"{where}: '{name}' must be a string, got {data[name]!r}")
    zone = data.get("timezone")
    if zone is not None:
        _zone(zone, where)
    has_ts, has_date = "timestamp" in data, "date" in data
    if has_ts == has_date:
        raise ConfigError(
            f"{where} needs exactly one of 'timestamp' (offset datetime, time known) or "
            f"'date' (YYYY-MM-DD, time unknown); got {'both' if has_ts else 'neither'}"
        )
    if has_ts:
        ts = _timestamp(data["timestamp"], zone, where)
        time_known = True
    else:
        raw = data["date"]
        if isinstance(raw, dt.datetime) or not isinstance(raw, (dt.date, str)):
            raise ConfigError(
                f"{where}: 'date' must be a date such as 2025-11-16, got {raw!r}; "
                "use 'timestamp' for a datetime"
            )
        try:
            day = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(raw)
        except ValueError as exc:
            raise ConfigError(f"{where}: 'date' {raw!r} is not YYYY-MM-DD") from exc
        ts = pd.Timestamp(day).tz_localize(zone or DEFAULT_TIMEZONE)
        time_known = False
    return Event(
        id=event_id,
        title=data["title"],
        kind=data["kind"],
        timestamp=ts,
        time_known=time_known,
        source=data.get("source", ""),
        notes=data.get("notes", ""),
    )


def read_events(path: str | Path, text: str | None = None) -> list[Event]:
    """Read and validate the ``[events.*]`` tables of a TOML file.

    Parameters
    ----------
    path : str or Path
        The file; also the name used in error messages.
    text : str, optional
        The file's contents, when already read.

    Returns
    -------
    list of Event

    Raises
    ------
    ConfigError
        The file is missing or not TOML, an event has an unknown field, lacks a title or
        kind, has a bad or offset-less timestamp, or fails :data:`event_table_schema`.
        The message names the file, the event id and the field.
    """
    origin = str(path)
    try:
        raw = tomllib.loads(text if text is not None else Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"event file {origin} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"event file {origin} is not valid TOML: {exc}") from exc
    extra = sorted(set(raw) - {"events"})
    if extra:
        raise ConfigError(
            f"event file {origin}: unknown top-level entries {extra}; use [events.ID]"
        )
    tables = raw.get("events")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"event file {origin} has no [events.ID] tables")
    events = [_event_from_table(str(eid), data, origin) for eid, data in tables.items()]
    _validate(events, origin)
    return events


_DEFAULT_PATH = "oilimpact/data/events.toml"


def load_catalog(path: str | Path | None = None) -> EventCatalog:
    """The default event catalog, extended or overridden by the events of ``path``.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file of ``[events.ID]`` tables (see the module docstring). An event whose
        id is already in the default catalog replaces it.

    Returns
    -------
    EventCatalog

    Raises
    ------
    ConfigError
        ``path`` is missing or malformed (the message names the file and the event).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "mine.toml").write_text('''
    ... [events.blockade]
    ... title = "Blockade (my timing)"
    ... kind = "blockade"
    ... timestamp = 2025-12-16T20:30:00-05:00
    ... ''')
    >>> cat = load_catalog(d / "mine.toml")
    >>> cat["blockade"].title, cat["blockade"].timestamp.hour, len(cat)
    ('Blockade (my timing)', 20, 8)
    """
    text = resources.files("oilimpact").joinpath("data/events.toml").read_text(encoding="utf-8")
    catalog = EventCatalog(read_events(_DEFAULT_PATH, text))
    if path is not None:
        catalog = catalog.with_file(path)
    return catalog
