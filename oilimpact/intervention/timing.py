"""When each event starts on a series' period grid.

An event is dated in New York (:data:`~oilimpact.intervention.spec.EVENT_TZ`) and
placed in the period that contains that date; the *start rule* says whether its effect
starts there (``start="containing"``, the default) or in the next period
(``start="next"``). Events whose effects start in the same period are merged (or
refused); events in adjacent periods are flagged. :func:`first_treated` is the one place
the start rule is written down; :func:`oilimpact.intervention.sample.post_event_periods`
and :func:`place_events` both use it.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError
from .notices import CloseEventsWarning, Collected
from .spec import EVENT_TZ, Freq

__all__ = [
    "Placed",
    "containing_position",
    "event_date",
    "first_treated",
    "label",
    "merge_close",
    "place_events",
    "resolve_events",
]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


@dataclass(frozen=True, slots=True)
class Placed:
    """One event on the grid."""

    id: str
    date: pd.Timestamp
    containing: int  # grid position of the period containing the event date
    first: int  # grid position of the first treated period


def label(ts: pd.Timestamp, freq: str) -> str:
    """How a period is named in messages.

    Examples
    --------
    >>> label(pd.Timestamp("2025-12-01"), "monthly"), label(pd.Timestamp("2025-12-05"), "weekly")
    ('2025-12', 'week of 2025-12-05')
    """
    return f"{ts:%Y-%m}" if freq == "monthly" else f"week of {ts:%Y-%m-%d}"


def event_date(value: Any) -> pd.Timestamp:
    """Calendar date of an event: a tz-aware time is converted to New York first.

    Examples
    --------
    >>> event_date(pd.Timestamp("2026-01-03 03:00", tz="UTC"))
    Timestamp('2026-01-02 00:00:00')
    """
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(EVENT_TZ).tz_localize(None)
    return ts.normalize()


def _is_event_like(obj: Any) -> bool:
    return hasattr(obj, "timestamp") and hasattr(obj, "id") and not isinstance(obj, pd.Timestamp)


def _catalog_lookup(ev_id: str, catalog: list[Any]) -> tuple[str, pd.Timestamp]:
    """``(id, date)`` of a catalogued event; ``catalog`` caches the loaded catalog."""
    if not catalog:
        try:
            from ..events import load_catalog  # type: ignore[attr-defined]
        except ImportError as exc:  # pragma: no cover - the catalog ships with the package
            raise EstimationError(
                f"event id {ev_id!r} needs the event catalog (oilimpact.events), which "
                "is not available; pass a mapping id -> date instead"
            ) from exc
        catalog.append(load_catalog())
    try:
        ev = catalog[0][ev_id]
    except KeyError as exc:
        known = ", ".join(sorted(map(str, catalog[0])))
        raise EstimationError(f"unknown event id {ev_id!r}; known ids: {known}") from exc
    return str(getattr(ev, "id", ev_id)), event_date(ev.timestamp)


def _resolve_one(item: Any, key: Any, catalog: list[Any]) -> tuple[str, pd.Timestamp]:
    """``(id, date)`` of one event given as an Event, id, date or ``(id, date)`` pair."""
    if _is_event_like(item):
        return str(key if key is not None else item.id), event_date(item.timestamp)
    if key is not None:
        try:
            return str(key), event_date(item)
        except (TypeError, ValueError) as exc:
            raise EstimationError(f"event {key!r} needs a date, got {item!r}") from exc
    if isinstance(item, str):
        if _ISO_DATE.match(item.strip()):
            return item.strip(), event_date(item)
        return _catalog_lookup(item, catalog)
    if isinstance(item, tuple) and len(item) == 2:
        return _resolve_one(item[1], item[0], catalog)
    if isinstance(item, pd.Timestamp | _dt.date | np.datetime64):
        d = event_date(item)
        return f"{d:%Y-%m-%d}", d
    raise EstimationError(
        f"each event must be an Event, an event id, a date or an (id, date) pair, got {item!r}"
    )


def resolve_events(events: Any) -> list[tuple[str, pd.Timestamp]]:
    """``(id, date)`` of each event: Events, catalog ids, dates, pairs or a mapping.

    Examples
    --------
    >>> resolve_events({"deal": "2025-10-01"})
    [('deal', Timestamp('2025-10-01 00:00:00'))]
    >>> resolve_events(["2025-12-16", ("x", "2026-01-03")])[1]
    ('x', Timestamp('2026-01-03 00:00:00'))
    """
    catalog: list[Any] = []  # loaded at most once, only when an id needs it
    if isinstance(events, Mapping) and not _is_event_like(events):
        return [_resolve_one(v, k, catalog) for k, v in events.items()]
    if isinstance(events, str | pd.Timestamp | _dt.date | np.datetime64) or _is_event_like(events):
        return [_resolve_one(events, None, catalog)]
    if isinstance(events, Iterable):
        return [_resolve_one(item, None, catalog) for item in events]
    raise EstimationError(f"events must be Events, ids or a mapping id -> date, got {events!r}")


def containing_position(grid: pd.DatetimeIndex, date: pd.Timestamp, freq: Freq) -> int | None:
    """Grid position of the period whose span contains ``date`` (None when outside).

    Monthly periods are labelled by their first day; weekly ones by their last day
    (EIA's week ending), so a weekly period labelled ``d`` spans ``(d - 7 days, d]``.

    Examples
    --------
    >>> grid = pd.date_range("2025-10-01", periods=4, freq="MS")
    >>> containing_position(grid, pd.Timestamp("2025-12-16"), "monthly")
    2
    >>> containing_position(grid, pd.Timestamp("2026-02-01"), "monthly") is None
    True
    """
    if freq == "monthly":
        month = date.to_period("M").to_timestamp()
        pos = grid.get_indexer([month])[0]
        return None if pos < 0 else int(pos)
    pos = int(grid.searchsorted(date, side="left"))
    if pos >= len(grid):
        return None
    if pos == 0 and date <= grid[0] - pd.Timedelta(days=7):
        return None
    return pos


def first_treated(containing: int, start: str) -> int:
    """The start rule: grid position of the first treated period.

    ``start="containing"``: the period containing the event (a partially treated
    period counts as treated); ``start="next"``: the period after it.

    Examples
    --------
    >>> first_treated(5, "containing"), first_treated(5, "next")
    (5, 6)
    """
    return containing + (1 if start == "next" else 0)


def place_events(
    events: Any,
    grid: pd.DatetimeIndex,
    freq: Freq,
    start: str,
    close_events: str,
    name: str,
    collected: Collected,
) -> list[Placed]:
    """Events -> grid positions (containing and first treated period), merged if close."""
    resolved = resolve_events(events)
    if not resolved:
        raise EstimationError(f"needs at least one event, got none (series={name})")
    n = len(grid)
    placed = []
    for ev_id, ev_date in resolved:
        pos = containing_position(grid, ev_date, freq)
        if pos is None:
            raise EstimationError(
                f"event {ev_id} on {ev_date:%Y-%m-%d} falls outside the data of {name} "
                f"({label(grid[0], freq)} .. {label(grid[-1], freq)}, {freq}); needed a "
                "date inside the series' span"
            )
        first = first_treated(pos, start)
        if first >= n:
            raise EstimationError(
                f"event {ev_id} on {ev_date:%Y-%m-%d} with start='next' is treated from the "
                f"period after {label(grid[pos], freq)}, but {name} ends there: needed at "
                "least one period after the event, got 0"
            )
        placed.append(Placed(ev_id, ev_date, pos, first))
    return merge_close(placed, grid, freq, close_events, collected)


def merge_close(
    placed: list[Placed],
    grid: pd.DatetimeIndex,
    freq: Freq,
    how: str,
    collected: Collected,
) -> list[Placed]:
    """Merge events that start in the same period (or refuse them); flag adjacent ones."""
    merged: list[Placed] = []
    for p in sorted(placed, key=lambda p: (p.first, p.date)):
        if merged and merged[-1].first == p.first:
            q = merged[-1]
            msg = (
                f"events {q.id} ({q.date:%Y-%m-%d}) and {p.id} ({p.date:%Y-%m-%d}) start in "
                f"the same {freq} period {label(grid[p.first], freq)}: a {freq} series "
                "cannot separate them"
            )
            if how == "raise":
                raise EstimationError(
                    msg + "; needed events in different periods, got the same period "
                    "(pass close_events='merge' to estimate them as one event)"
                )
            new = Placed(f"{q.id}+{p.id}", q.date, q.containing, q.first)
            collected.append((CloseEventsWarning, msg + f"; estimated as one event '{new.id}'"))
            merged[-1] = new
        else:
            merged.append(p)
    for a, b in zip(merged, merged[1:], strict=False):
        if b.first - a.first == 1:
            collected.append((CloseEventsWarning, _adjacent_message(a, b, grid, freq)))
    return merged


def _adjacent_message(a: Placed, b: Placed, grid: pd.DatetimeIndex, freq: Freq) -> str:
    pa, pb = label(grid[a.first], freq), label(grid[b.first], freq)
    return (
        f"events {a.id} ({a.date:%Y-%m-%d}) and {b.id} ({b.date:%Y-%m-%d}) start "
        f"in adjacent {freq} periods {pa} and {pb}: each has its own regressors, but "
        f"{a.id}'s own effect rests on the one period {pa} "
        f"(a slope of {a.id} is not identified), so part of what {b.id} did may "
        f"be credited to {a.id} or the reverse; read them jointly (the 'average' "
        "row)"
    )
