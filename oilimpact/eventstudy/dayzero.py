"""Day 0 of every (event, asset) pair, from one alignment per (close rule, event).

:func:`~oilimpact.eventstudy.alignment.align_event` chooses day 0 as the first session
``s`` of a series with ``c(s) > t`` (time known) or ``s >= date`` (time unknown). That set
of qualifying dates is upward closed, so on a pair's sessions day 0 is the first pair
session on or after the day 0 found on *any* superset of them. The engine therefore
aligns each event once per close rule (exchange calendar, close time, zone) on the
dates where the regressors are observed, and maps that day 0 to every asset's own
sessions by counting the asset's sessions before it
(:meth:`~oilimpact.eventstudy.grid.SessionGrid.sessions_before`):
no per-pair alignment.

The reason text of a pair depends only on the event, the close rule, whether the
event's own-zone date is a session of the pair, and the pair's day 0; it is computed by
``align_event`` once per distinct combination (a handful).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError
from .alignment import _calendar, align_event
from .grid import SessionGrid
from .inputs import StudyEvent

__all__ = ["DayZero", "close_rule", "day_zero"]


def close_rule(spec: Any) -> tuple[str, Any, str]:
    """What decides day 0 besides the sessions: calendar code, close time, zone."""
    return (spec.calendar, spec.close_time, str(spec.timezone))


@dataclass(frozen=True, slots=True)
class DayZero:
    """Day 0 of every event on every pair's sessions.

    Attributes
    ----------
    pos : ndarray of int64, shape (J, A)
        Session position of day 0 (``-1``: none in the data).
    early : ndarray of int64, shape (J, A)
        Virtual (non-positive) day 0 of an event just before the pair's data, counted in
        assumed calendar sessions before its first session, when its exclusion band
        reaches the data; ``INT64_MIN`` otherwise.
    reasons : ndarray of str (object), length E * A
        Why day 0 of each studied event is where it is (pair order: asset-major).
    failed : ndarray of bool, shape (E, A)
        Studied events with no day 0 on the pair (an error for the study).
    """

    pos: np.ndarray
    early: np.ndarray
    reasons: np.ndarray
    failed: np.ndarray


NO_DAY = np.iinfo(np.int64).min


def day_zero(
    grid: SessionGrid,
    events: Sequence[StudyEvent],
    n_studied: int,
    specs: Sequence[Any],
    band_hi: int,
) -> DayZero:
    """Day 0 of ``events`` (studied first) for every asset (``specs`` per asset)."""
    J, A = len(events), len(specs)
    pos = np.full((J, A), -1, dtype=np.int64)
    early = np.full((J, A), NO_DAY, dtype=np.int64)
    reasons = np.full(n_studied * A, "", dtype=object)
    has = grid.n_sessions > 0
    first_row = np.where(has, grid.row[np.minimum(grid.start, max(grid.row.size - 1, 0))], 0)
    first_day = grid.dates[first_row]
    base = pd.DatetimeIndex(grid.dates[grid.valid.any(axis=1)])
    for idx in _by_close_rule(specs):
        spec = specs[int(idx[0])]
        for j, ev in enumerate(events):
            _one_event(grid, ev, j, j < n_studied, spec, idx, base, first_day, band_hi,
                       pos, early, reasons)  # fmt: skip
    failed = (pos[:n_studied] < 0) & has[None, :]
    return DayZero(pos, early, reasons, failed)


def _by_close_rule(specs: Sequence[Any]) -> list[np.ndarray]:
    """The asset columns of each close rule (increasing, rules in order of first use).

    Assets often share one spec object (the registry's generic spec of unregistered
    series), so the rule is read once per distinct object, not once per asset."""
    obj_id = np.fromiter(map(id, specs), dtype=np.int64, count=len(specs))
    codes, first = _first_seen(obj_id)
    rules: dict[tuple[str, Any, str], list[int]] = {}
    for code, a in enumerate(first.tolist()):
        rules.setdefault(close_rule(specs[a]), []).append(code)
    return [np.flatnonzero(np.isin(codes, objs)) for objs in rules.values()]


def _first_seen(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes numbering the distinct ``values`` in order of first appearance, and the
    position of each one's first appearance."""
    uniq, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return rank[inverse.ravel()], first[order]


def _one_event(
    grid: SessionGrid,
    ev: StudyEvent,
    j: int,
    studied: bool,
    spec: Any,
    cols: np.ndarray,
    base: pd.DatetimeIndex,
    first_day: np.ndarray,
    band_hi: int,
    pos: np.ndarray,
    early: np.ndarray,
    reasons: np.ndarray,
) -> None:
    """Fill row ``j`` of ``pos``/``early`` (and the reasons) for the assets ``cols``."""
    has = grid.n_sessions[cols] > 0
    ev_day = np.datetime64(ev.timestamp.date(), "ns")
    before = has & (ev_day < first_day[cols])
    if not studied and band_hi >= 0 and before.any():
        _virtual(ev, j, spec, cols[before], first_day, band_hi, pos, early)
    inside = cols[has & ~before]
    if inside.size == 0 or len(base) == 0 or _own_date(ev, spec) > base[-1].to_datetime64():
        return  # (an event dated after the last session has no day 0: align_event raises)
    try:
        row0 = int(
            np.searchsorted(grid.dates, align_event(ev.obj, base, spec).day0.to_datetime64())
        )
    except EstimationError:
        return  # after the last session of every pair
    k = grid.sessions_before(np.full(inside.size, row0, dtype=np.int64), inside)
    ok = k < grid.n_sessions[inside]
    pos[j, inside[ok]] = k[ok]
    if studied:
        _reasons(grid, ev, j, spec, inside[ok], k[ok], reasons)


def _virtual(
    ev: StudyEvent,
    j: int,
    spec: Any,
    cols: np.ndarray,
    first_day: np.ndarray,
    band_hi: int,
    pos: np.ndarray,
    early: np.ndarray,
) -> None:
    """Day 0 of an other event just before the data of the assets ``cols``: on the first
    session (e.g. a weekend event before a Monday start) or virtual, before it."""
    for day in np.unique(first_day[cols]):
        first = pd.Timestamp(day)
        pre = _sessions_before(first, band_hi + 1, spec)
        v = _virtual_day0(ev, pre, first, spec)
        sel = cols[first_day[cols] == day]
        if v is not None and v == 0:
            pos[j, sel] = 0
        elif v is not None and v + band_hi >= 0:
            early[j, sel] = v


def _reasons(
    grid: SessionGrid,
    ev: StudyEvent,
    j: int,
    spec: Any,
    cols: np.ndarray,
    k: np.ndarray,
    reasons: np.ndarray,
) -> None:
    """The reason texts of event ``j`` on the assets ``cols`` (day 0 at sessions ``k``):
    one ``align_event`` call per distinct (own date a session?, day 0)."""
    day0_row = grid.row[grid.start[cols] + k]
    start = _own_date(ev, spec)
    srow = int(np.searchsorted(grid.dates, start))
    if srow < grid.dates.size and grid.dates[srow] == start:
        start_in = grid.valid[srow, cols]
    else:
        start_in = np.zeros(cols.size, dtype=bool)
    n_ev = len(reasons) // max(grid.n_sessions.size, 1)
    combos, which = np.unique(2 * day0_row + start_in, return_inverse=True)
    texts = []
    for r0, s_in in zip(*divmod(combos, 2), strict=True):  # a handful of combinations
        days = ([start] if s_in and grid.dates[r0] != start else []) + [grid.dates[r0]]
        texts.append(align_event(ev.obj, pd.DatetimeIndex(days), spec).reason)
    reasons[cols * n_ev + j] = np.asarray(texts, dtype=object)[np.ravel(which)]


def _own_date(ev: StudyEvent, spec: Any) -> np.datetime64:
    """The date ``align_event`` starts from: the event's date in the series' zone (time
    known) or in its own zone (time unknown)."""
    t = ev.timestamp
    day = t.tz_convert(spec.timezone).date() if ev.time_known else t.date()
    return np.datetime64(day, "ns")


def _sessions_before(first: pd.Timestamp, n: int, spec: Any) -> pd.DatetimeIndex:
    """The ``n`` sessions before ``first``, assumed where the data have none.

    Taken from the series' exchange calendar (``spec.calendar``) when it is an
    exchange_calendars code covering the dates, else Monday-Friday weekdays.
    """
    end = first - pd.Timedelta(days=1)
    start = first - pd.Timedelta(days=2 * n + 21)
    days = pd.bdate_range(start, end)
    cal = _calendar(spec.calendar)
    if cal is not None and cal.first_session <= start and end <= cal.last_session:
        days = pd.DatetimeIndex(cal.sessions_in_range(start, end)).tz_localize(None)
    return days[-n:].as_unit("ns")


def _virtual_day0(
    ev: StudyEvent, pre: pd.DatetimeIndex, first: pd.Timestamp, spec: Any
) -> int | None:
    """Day 0 of an event before the data, counted in sessions from ``first`` (<= 0).

    ``pre`` holds the assumed sessions just before ``first`` (:func:`_sessions_before`);
    None when the event precedes them all (its window cannot reach the data).
    """
    if len(pre) == 0 or ev.timestamp.date() < pre[0].date():
        return None
    grid = pre.append(pd.DatetimeIndex([first]).as_unit("ns"))
    try:
        al = align_event(ev.obj, grid, spec)
    except EstimationError:  # pragma: no cover - the event is before ``first``
        return None
    k = int(grid.get_indexer([pd.Timestamp(al.day0)])[0])
    return k - len(pre) if k >= 0 else None


def alignment_error(
    ev: StudyEvent, asset: str, sessions: pd.DatetimeIndex, spec: Any
) -> EstimationError:
    """The error for a studied event with no day 0 in the pair's sessions."""
    if ev.timestamp.date() < sessions[0].date():
        return EstimationError(
            f"event {ev.id!r} ({ev.timestamp.isoformat()}) is outside the data of "
            f"series {asset!r}: its sessions run {sessions[0].date()} .. "
            f"{sessions[-1].date()}"
        )
    try:
        align_event(ev.obj, sessions, spec)
    except EstimationError as exc:
        err = EstimationError(
            f"event {ev.id!r} ({ev.timestamp.isoformat()}) is outside the data of "
            f"series {asset!r} (sessions {sessions[0].date()} .. "
            f"{sessions[-1].date()}): {exc}"
        )
        err.__cause__ = exc
        return err
    raise AssertionError(f"event {ev.id!r} has a day 0 on series {asset!r}")  # pragma: no cover
