"""Command-line values read into library ones: dates, windows, events."""

from __future__ import annotations

import re
from typing import Any

from ._output import _errors, _input_error


def _date_opt(value: str | None, flag: str) -> str | None:
    """``value`` unchanged when it reads as a date or time, else an InputError naming ``flag``."""
    import pandas as pd

    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        stamp = None
    if stamp is None or pd.isna(stamp):
        _input_error(
            f"{flag}: cannot read {value!r} as a date; use YYYY-MM-DD "
            "(or ISO 8601 with a time and UTC offset, e.g. 2026-01-09T18:00+00:00)"
        )
    return value


def _window(text: str, flag: str) -> tuple[int, int]:
    lo, sep, hi = text.strip("[]() ").partition(",")
    try:
        pair = (int(lo), int(hi))
    except ValueError:
        _input_error(f"{flag} expects LO,HI trading days such as 0,5 or -1,1; got {text!r}")
    if not sep or pair[0] > pair[1]:
        _input_error(f"{flag} expects LO,HI with LO <= HI (e.g. -1,1); got {text!r}")
    return pair


_EVENT_DATE = re.compile(
    r"^(?P<name>[^=]+)=(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<offset>Z|[+-]\d{2}:?\d{2})?)?$"
)


def _event_dates(items: list[str] | None, catalog: Any) -> list[Any]:
    """Ad-hoc :class:`~oilimpact.events.Event` objects from ``NAME=DATE[THH:MM+ZZ:ZZ]``."""
    import pandas as pd

    from ..events import Event

    events = []
    for item in items or []:
        m = _EVENT_DATE.match(item.strip())
        if m is None:
            _input_error(
                f"--event-date expects NAME=YYYY-MM-DD or NAME=YYYY-MM-DDTHH:MM+ZZ:ZZ, got {item!r}"
            )
        name = m["name"].strip()
        if not re.fullmatch(r"[a-z0-9_]+", name):
            _input_error(
                f"--event-date {item!r}: the name must be lower-case letters, digits and "
                "underscores (e.g. my_event)"
            )
        if name in catalog:
            _input_error(
                f"--event-date {item!r}: {name!r} is already a catalog event "
                f"({catalog[name].date}); use --event {name} or choose another name"
            )
        if m["time"] and not m["offset"]:
            _input_error(
                f"--event-date {item!r}: a time of day needs its UTC offset, "
                f"e.g. {name}={m['date']}T{m['time']}-05:00"
            )
        text = m["date"] + (f"T{m['time']}{m['offset']}" if m["time"] else "")
        try:
            stamp = pd.Timestamp(text)
        except (ValueError, TypeError, OverflowError):
            _input_error(f"--event-date {item!r}: {text!r} is not a valid date or time")
        with _errors():
            if m["time"]:
                events.append(Event(name, name, "user", stamp, True, "command line"))
            else:
                events.append(Event.on_date(name, name, "user", m["date"], source="command line"))
    return events


def _events(ids: list[str] | None, dates: list[str] | None, catalog: Any, default: list[str]):
    """Catalog events by id plus ad-hoc ones; ``default`` ids when neither is given."""
    adhoc = _event_dates(dates, catalog)
    chosen = list(ids or ([] if adhoc else default))
    with _errors():
        return [catalog[e] for e in chosen] + adhoc
