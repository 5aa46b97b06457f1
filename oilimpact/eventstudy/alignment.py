"""Event day 0 for each series: the first session whose close reflects the event.

A daily series is observed once per session at its close (``SeriesSpec.close_time`` in
``SeriesSpec.timezone``: NYMEX WTI settlement 14:30 New York, ICE Brent 19:30 London,
US equities 16:00 New York). An event can move a series only from the first close after
it, so that session is day 0. Weekly and monthly series are aligned to the period that
contains the event (:func:`align_period`).

Nothing here touches the network or the disk: ``exchange_calendars`` ships its holiday
rules with the package.

Examples
--------
>>> import pandas as pd
>>> from oilimpact.events import load_catalog
>>> from oilimpact.series import default_registry
>>> sessions = pd.bdate_range("2025-12-01", "2025-12-31")
>>> al = align_event(load_catalog()["blockade"], sessions, default_registry()["wti"])
>>> al.day0.date(), al.close.isoformat()
(datetime.date(2025, 12, 17), '2025-12-17T14:30:00-05:00')
>>> al.reason
'event at 2025-12-16 18:00 EST is after the 14:30 EST close of 2025-12-16 -> next session 2025-12-17'
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import pandas as pd

from ..errors import ConfigError, EstimationError
from ..events import Event
from ..series import SeriesRegistry, SeriesSpec

__all__ = [
    "ALIGNMENT_COLUMNS",
    "Alignment",
    "align_event",
    "align_events",
    "align_period",
    "calendar_days",
    "session_close",
    "sessions_spanned",
]

#: Columns of :func:`align_events`.
ALIGNMENT_COLUMNS: tuple[str, ...] = ("event", "series", "timestamp", "day0", "close", "reason")

_PANDAS_DEPRECATION: type[Warning] = getattr(pd.errors, "Pandas4Warning", FutureWarning)

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class Alignment:
    """Day 0 of one event for one series, and why.

    Attributes
    ----------
    event_id, series : str
        The event and the series.
    timestamp : pandas.Timestamp
        The event's timestamp (tz-aware, in the event's own zone).
    day0 : pandas.Timestamp
        The session (daily) or period (weekly/monthly) date of day 0: tz-naive midnight,
        always one of the dates passed in.
    close : pandas.Timestamp
        tz-aware close of ``day0`` in the series' zone (for a period: its end, the
        start of the next period, in the event's zone).
    reason : str
        The rule that chose ``day0``, with the times compared, e.g. ``"2025-11-16 is a
        Sunday; time unknown -> next session 2025-11-17"``.
    """

    event_id: str
    series: str
    timestamp: pd.Timestamp
    day0: pd.Timestamp
    close: pd.Timestamp
    reason: str

    def to_record(self) -> dict[str, Any]:
        """The alignment as one row of :func:`align_events`."""
        return {
            "event": self.event_id,
            "series": self.series,
            "timestamp": self.timestamp,
            "day0": self.day0,
            "close": self.close,
            "reason": self.reason,
        }


# ---- calendars and closes ----------------------------------------------------------------


@lru_cache(maxsize=32)
def _calendar(code: str) -> Any | None:
    """The exchange_calendars calendar for ``code``, or None when it is not one."""
    try:
        import exchange_calendars as xc
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    if not code or code not in xc.get_calendar_names(include_aliases=True):
        return None
    with warnings.catch_warnings():
        # exchange_calendars 4.13 reads Series.values of tz-aware data (pandas 3.1 warns)
        warnings.simplefilter("ignore", _PANDAS_DEPRECATION)
        return xc.get_calendar(code)


def _in_bounds(cal: Any, day: pd.Timestamp) -> bool:
    return bool(cal.first_session <= day <= cal.last_session)


def _cal_is_session(cal: Any | None, day: pd.Timestamp) -> bool | None:
    """True/False from the calendar, or None when there is no calendar for that date."""
    if cal is None or not _in_bounds(cal, day):
        return None
    return bool(cal.is_session(day))


def session_close(day: pd.Timestamp | str | dt.date, spec: SeriesSpec) -> pd.Timestamp:
    """The close of session ``day`` for ``spec``, tz-aware in ``spec.timezone``.

    The close is ``day`` at ``spec.close_time`` in ``spec.timezone``. When
    ``spec.calendar`` is an ``exchange_calendars`` code, ``day`` is within that
    calendar's range and the calendar lists ``day`` as an early close (e.g. XNYS at 13:00
    New York on 2025-11-28 and 2025-12-24), the close is the earlier of the two.

    Examples
    --------
    >>> from oilimpact.series import default_registry
    >>> reg = default_registry()
    >>> session_close("2025-12-17", reg["brent"]).isoformat()
    '2025-12-17T19:30:00+00:00'
    >>> session_close("2025-07-15", reg["brent"]).tz_convert("America/New_York").isoformat()
    '2025-07-15T14:30:00-04:00'
    >>> session_close("2025-12-24", reg["wti"]).isoformat()
    '2025-12-24T13:00:00-05:00'
    """
    d = pd.Timestamp(day).normalize()
    regular = pd.Timestamp.combine(d.date(), spec.close_time).tz_localize(spec.timezone)
    early = _early_close(d, spec)
    return min(regular, early) if early is not None else regular


def _early_close(day: pd.Timestamp, spec: SeriesSpec) -> pd.Timestamp | None:
    cal = _calendar(spec.calendar)
    if cal is None or not _in_bounds(cal, day) or day not in cal.early_closes:
        return None
    return cal.session_close(day).tz_convert(spec.timezone)


def _fmt(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d %H:%M %Z")


def _describe_close(day: pd.Timestamp, close: pd.Timestamp, spec: SeriesSpec) -> str:
    regular = pd.Timestamp.combine(day.date(), spec.close_time).tz_localize(spec.timezone)
    label = "early close" if close < regular else "close"
    extra = f" ({spec.calendar})" if close < regular else ""
    return f"the {close.strftime('%H:%M %Z')} {label}{extra} of {day.date()}"


# ---- sessions --------------------------------------------------------------------------


def _as_sessions(sessions: Any, what: str) -> pd.DatetimeIndex:
    """Normalise ``sessions`` to a sorted, unique, tz-naive midnight DatetimeIndex.

    A Series is reduced to the dates of its non-missing values (FRED lists holidays as
    empty rows).
    """
    if isinstance(sessions, pd.Series):
        sessions = sessions.dropna().index
    idx = pd.DatetimeIndex(sessions)
    if idx.tz is not None:
        raise EstimationError(f"sessions of {what} must be tz-naive dates, got tz={idx.tz}")
    return idx.normalize().as_unit("ns").unique().sort_values()


def _why_not_session(day: pd.Timestamp, cal: Any | None, code: str) -> str:
    if day.weekday() >= 5:
        return f"{day.date()} is a {_WEEKDAYS[day.weekday()]}"
    on_cal = _cal_is_session(cal, day)
    if on_cal is False:
        return f"{day.date()} is a {code} holiday"
    if on_cal is True:
        return f"{day.date()} is a {code} session but the series has no observation on it"
    return f"{day.date()} is not a session of the series"


def _skipped_note(
    start: pd.Timestamp, day0: pd.Timestamp, sessions: pd.DatetimeIndex, cal: Any, code: str
) -> str:
    """Name calendar sessions in ``(start, day0)`` that the data lacks."""
    if cal is None:
        return ""
    lo, hi = start + pd.Timedelta(days=1), day0 - pd.Timedelta(days=1)
    if lo > hi:
        return ""
    try:
        cal_days = cal.sessions_in_range(max(lo, cal.first_session), min(hi, cal.last_session))
    except Exception:
        return ""
    missing = [d.date().isoformat() for d in cal_days if d.tz_localize(None) not in sessions]
    if not missing:
        return ""
    return f" ({code} session(s) {', '.join(missing)} have no observation in the series)"


def align_event(event: Event, sessions: Any, spec: SeriesSpec) -> Alignment:
    """Day 0 of ``event`` for the daily series ``spec``.

    Parameters
    ----------
    event : Event
        The event.
    sessions : pandas.DatetimeIndex
        Dates on which the series has observations (tz-naive; the data's own trading
        days). A Series is accepted and reduced to the dates of its non-missing values.
    spec : SeriesSpec
        Supplies ``name``, ``calendar``, ``close_time`` and ``timezone``.

    Returns
    -------
    Alignment

    Raises
    ------
    EstimationError
        The event comes after the close of the last session, or ``sessions`` is empty.

    Notes
    -----
    The alignment rule, with :math:`c(s)` the close of session :math:`s` (the session
    date at ``spec.close_time`` in ``spec.timezone``, or the calendar's earlier close on
    an exchange_calendars early-close day, see :func:`session_close`):

    * time known: day 0 is the first :math:`s` in ``sessions`` with
      :math:`c(s) > t`. An event exactly at the close belongs to the next session. The
      comparison is between tz-aware instants, so daylight-saving time is honoured in
      both zones (19:30 London is 14:30 New York in winter and July, but 15:30 in the
      weeks when only the US has moved its clocks).
    * time unknown: day 0 is the event's own-zone date if it is in ``sessions``, else the
      next date in ``sessions``. Such an event may have come after that day's close; read
      a window that includes day +1.

    Weekends and holidays roll forward. ``spec.calendar`` (an exchange_calendars code) is
    used only to explain the roll (weekend, holiday, or a calendar session the data lacks)
    and for early closes; day 0 is always taken from ``sessions``. Outside the range an
    exchange_calendars calendar covers (by default about 20 years back, 1 year ahead)
    the regular close is used.

    Examples
    --------
    >>> import pandas as pd
    >>> from oilimpact.events import Event
    >>> from oilimpact.series import default_registry
    >>> reg = default_registry()
    >>> sessions = pd.bdate_range("2025-12-01", "2025-12-31")
    >>> ev = Event("x", "3pm news", "political",
    ...            pd.Timestamp("2025-12-16 15:00", tz="America/New_York"), True)
    >>> align_event(ev, sessions, reg["sp500"]).day0.date()
    datetime.date(2025, 12, 16)
    >>> align_event(ev, sessions, reg["wti"]).day0.date()
    datetime.date(2025, 12, 17)
    >>> sun = Event.on_date("fto", "Sunday designation", "designation", "2025-11-16")
    >>> align_event(sun, pd.bdate_range("2025-11-03", "2025-11-28"), reg["wti"]).reason
    '2025-11-16 is a Sunday; time unknown -> next session 2025-11-17'
    """
    idx = _as_sessions(sessions, f"series {spec.name!r}")
    if len(idx) == 0:
        raise EstimationError(f"series {spec.name!r} has no sessions to align event {event.id!r}")
    cal = _calendar(spec.calendar)
    code = spec.calendar
    t = event.timestamp

    if not event.time_known:
        start = pd.Timestamp(event.date)
        pos = int(idx.searchsorted(start, side="left"))
        if pos >= len(idx):
            _after_last(event, spec, idx)
        day0 = idx[pos]
        if day0 == start:
            reason = f"time unknown; {start.date()} is a session -> day 0 {day0.date()}"
        else:
            reason = (
                f"{_why_not_session(start, cal, code)}; time unknown -> next session "
                f"{day0.date()}{_skipped_note(start, day0, idx, cal, code)}"
            )
        return Alignment(event.id, spec.name, t, day0, session_close(day0, spec), reason)

    local = t.tz_convert(spec.timezone)
    start = pd.Timestamp(local.date())
    when = f"event at {_fmt(t)}"
    if _fmt(local) != _fmt(t):
        when += f" ({_fmt(local)})"
    pos = int(idx.searchsorted(start, side="left"))
    # Sessions before the event's local date close before it; check the first candidate.
    if pos < len(idx) and idx[pos] == start:
        close = session_close(start, spec)
        if t < close:
            reason = f"{when} is before {_describe_close(start, close, spec)} -> same session {start.date()}"
            return Alignment(event.id, spec.name, t, start, close, reason)
        pos += 1
        if pos >= len(idx):
            _after_last(event, spec, idx)
        day0 = idx[pos]
        reason = (
            f"{when} is {'at' if t == close else 'after'} {_describe_close(start, close, spec)}"
            f" -> next session "
            f"{day0.date()}{_skipped_note(start, day0, idx, cal, code)}"
        )
    else:
        if pos >= len(idx):
            _after_last(event, spec, idx)
        day0 = idx[pos]
        reason = (
            f"{when}; {_why_not_session(start, cal, code)} -> next session "
            f"{day0.date()}{_skipped_note(start, day0, idx, cal, code)}"
        )
    return Alignment(event.id, spec.name, t, day0, session_close(day0, spec), reason)


def _after_last(event: Event, spec: SeriesSpec, idx: pd.DatetimeIndex) -> None:
    raise EstimationError(
        f"event {event.id!r} at {event.timestamp.isoformat()} comes after the last session "
        f"of series {spec.name!r} ({idx[-1].date()}, close "
        f"{session_close(idx[-1], spec).strftime('%H:%M %Z')}); no day 0 in the data"
    )


# ---- sessions a return spans -------------------------------------------------------------------


@lru_cache(maxsize=64)
def _calendar_days_cached(code: str, start: pd.Timestamp, end: pd.Timestamp) -> Any:
    days = pd.bdate_range(start, end)  # weekdays where the calendar does not reach
    cal = _calendar(code)
    if cal is not None:
        lo = max(start, cal.first_session.tz_localize(None))
        hi = min(end, cal.last_session.tz_localize(None))
        if lo <= hi:
            inside = pd.DatetimeIndex(cal.sessions_in_range(lo, hi)).tz_localize(None)
            days = days[(days < lo) | (days > hi)].append(inside).sort_values()
    out = days.as_unit("ns").asi8
    out.flags.writeable = False
    return out


def calendar_days(code: str | None, start: Any, end: Any) -> Any:
    """Sessions of exchange calendar ``code`` from ``start`` to ``end`` (inclusive), as
    int64 nanoseconds; Monday-Friday weekdays where ``code`` is not an
    exchange_calendars code or the dates are outside the calendar's range. Cached.

    Examples
    --------
    >>> calendar_days("XNYS", "2025-12-31", "2026-01-05").astype("M8[ns]").astype(str).tolist()
    ['2025-12-31T00:00:00.000000000', '2026-01-02T00:00:00.000000000', \
'2026-01-05T00:00:00.000000000']
    """
    start = pd.Timestamp(start).normalize().tz_localize(None)
    end = pd.Timestamp(end).normalize().tz_localize(None)
    return _calendar_days_cached(str(code or ""), start, end)


def sessions_spanned(
    sessions: pd.DatetimeIndex, own_dates: pd.DatetimeIndex, spec: SeriesSpec
) -> Any:
    """How many sessions of the series' own calendar each return of the pair grid spans.

    Parameters
    ----------
    sessions : DatetimeIndex
        The pair's sessions (dates where the series and every regressor are observed),
        increasing; the return of ``sessions[j]`` runs from ``sessions[j - 1]``.
    own_dates : DatetimeIndex
        Dates on which the series itself has a value.
    spec : SeriesSpec
        Supplies ``calendar`` (an exchange_calendars code; weekdays when it is none).

    Returns
    -------
    ndarray of int64, shape (len(sessions),)
        For ``j >= 1`` the number of dates in ``(sessions[j-1], sessions[j]]`` that are
        sessions of the series' calendar *or* dates on which the series has a value
        (whichever holds: a price published on an exchange holiday counts, and so does a
        calendar session without a price), at least 1; 1 for the first session.

    Notes
    -----
    A return spanning ``k`` sessions is the sum of ``k`` one-session returns, so under
    the normal-return model its abnormal part has variance ``k sigma^2`` (the engine
    scales the prediction-error variance by it, docs/methods.md). Example: EIA has no
    Henry Hub price on 2026-01-02 (an XNYS session), so the 2025-12-31 -> 2026-01-05
    return spans 2 sessions.

    Examples
    --------
    >>> import pandas as pd
    >>> from oilimpact.series import default_registry
    >>> s = pd.DatetimeIndex(["2025-12-30", "2025-12-31", "2026-01-05", "2026-01-06"])
    >>> sessions_spanned(s, s, default_registry().spec_or_default("henry_hub")).tolist()
    [1, 1, 2, 1]
    """
    return spanned_ns(
        sessions.as_unit("ns").asi8,
        own_dates.as_unit("ns").asi8,
        getattr(spec, "calendar", None),
    )


def spanned_ns(sessions: Any, own: Any, code: str | None) -> Any:
    """:func:`sessions_spanned` on sorted int64 nanosecond arrays (the engine's form)."""
    import numpy as np

    out = np.ones(len(sessions), dtype=np.int64)
    if len(sessions) < 2:
        return out
    s = np.asarray(sessions, dtype=np.int64)
    cal = calendar_days(code, pd.Timestamp(int(s[0])), pd.Timestamp(int(s[-1])))
    own = np.asarray(own, dtype=np.int64)
    lo = np.searchsorted(own, s[0], side="left")
    hi = np.searchsorted(own, s[-1], side="right")
    union = np.union1d(cal, own[lo:hi])
    count = np.searchsorted(union, s, side="right")
    out[1:] = np.maximum(np.diff(count), 1)
    return out


# ---- weekly and monthly periods ---------------------------------------------------------------


def _period_end(period: pd.Timestamp, frequency: str) -> pd.Timestamp:
    """Exclusive end of a period labelled ``period`` (naive midnight)."""
    if frequency == "weekly":  # labelled by the week's last day (EIA: week ending)
        return period + pd.Timedelta(days=1)
    return period + pd.offsets.MonthBegin(1)  # labelled by the first day of the month


def align_period(
    event: Event,
    periods: Any,
    frequency: Literal["weekly", "monthly"],
    *,
    series: str = "",
) -> Alignment:
    """Day 0 of ``event`` for a weekly or monthly series: the period containing it.

    Parameters
    ----------
    event : Event
        The event.
    periods : pandas.DatetimeIndex
        The series' period dates (tz-naive), in the convention of
        ``docs/architecture.md``: weekly periods are labelled by the week's last day
        (EIA: week ending), monthly periods by the first day of the month. A Series is
        reduced to the dates of its non-missing values.
    frequency : {"weekly", "monthly"}
        The series frequency.
    series : str, optional
        Series name recorded in the result.

    Returns
    -------
    Alignment
        ``close`` is the period's exclusive end (midnight starting the next period) in
        the event's zone.

    Raises
    ------
    ConfigError
        ``frequency`` is not weekly or monthly.
    EstimationError
        The event comes after the end of the last period.

    Notes
    -----
    Day 0 is the first period in ``periods`` whose end comes after the event, compared in
    the event's own zone; this is the period that contains the event's date. If that
    period is absent from ``periods`` (EIA's weekly top-10 origins table omits weeks), the
    next listed period is day 0 and the reason says so. The intervention analysis of
    volumes takes day 0 as the first post-event period.

    Examples
    --------
    >>> import pandas as pd
    >>> from oilimpact.events import load_catalog
    >>> cat = load_catalog()
    >>> months = pd.date_range("2025-01-01", "2026-03-01", freq="MS")
    >>> al = align_period(cat["blockade"], months, "monthly", series="ve_crude_production")
    >>> al.day0.date(), al.reason
    (datetime.date(2025, 12, 1), 'monthly period 2025-12-01 .. 2025-12-31 contains 2025-12-16 -> day 0 2025-12-01')
    >>> weeks = pd.date_range("2025-11-07", "2026-01-30", freq="W-FRI")
    >>> align_period(cat["tanker_seizure_2"], weeks, "weekly").day0.date()
    datetime.date(2025, 12, 26)
    """
    if frequency not in ("weekly", "monthly"):
        raise ConfigError(
            f"align_period needs frequency 'weekly' or 'monthly', got {frequency!r}; "
            "use align_event for daily series"
        )
    idx = _as_sessions(periods, f"series {series!r}")
    tz = event.timestamp.tz
    local = event.timestamp.tz_localize(None)  # wall clock in the event's own zone
    ends = pd.DatetimeIndex([_period_end(p, frequency) for p in idx])
    pos = int(ends.searchsorted(local, side="right"))
    if len(idx) == 0 or pos >= len(idx):
        last = f"{idx[-1].date()}" if len(idx) else "none"
        raise EstimationError(
            f"event {event.id!r} ({event.date}) comes after the last {frequency} period of "
            f"series {series!r} (last period {last}); no day 0 in the data"
        )
    day0 = idx[pos]
    end = ends[pos]
    close = end.tz_localize(tz)
    if frequency == "weekly":
        first_day = day0 - pd.Timedelta(days=6)
        span = f"weekly period ending {day0.date()} ({first_day.date()} .. {day0.date()})"
    else:
        first_day = day0
        span = f"monthly period {day0.date()} .. {(end - pd.Timedelta(days=1)).date()}"
    if first_day <= pd.Timestamp(event.date):
        reason = f"{span} contains {event.date} -> day 0 {day0.date()}"
    else:
        reason = (
            f"the period containing {event.date} is absent from the series; first later "
            f"{span} -> day 0 {day0.date()}"
        )
    return Alignment(event.id, series, event.timestamp, day0, close, reason)


# ---- many events, many series ----------------------------------------------------------


def _spec_for(name: str, specs: Any) -> SeriesSpec:
    if isinstance(specs, SeriesRegistry):
        return specs.spec_or_default(name)
    if isinstance(specs, SeriesSpec):
        if specs.name != name:
            raise ConfigError(f"no spec for series {name!r} (got a spec for {specs.name!r})")
        return specs
    table = specs if isinstance(specs, Mapping) else {s.name: s for s in specs}
    if name not in table:
        raise ConfigError(f"no spec for series {name!r}; specs given for: {', '.join(table)}")
    return table[name]


def align_events(
    events: Iterable[Event] | Mapping[str, Event],
    sessions_by_series: Mapping[str, Any],
    registry_or_specs: SeriesRegistry | Mapping[str, SeriesSpec] | Iterable[SeriesSpec],
) -> pd.DataFrame:
    """Align every event to every series: a tidy table.

    Parameters
    ----------
    events : iterable of Event or EventCatalog
        The events.
    sessions_by_series : mapping of str to DatetimeIndex
        Per series, its observation dates (or the series itself; missing values are
        dropped).
    registry_or_specs : SeriesRegistry, mapping or iterable of SeriesSpec
        The specs. A :class:`~oilimpact.series.SeriesRegistry` supplies a generic daily
        spec (16:00 New York, XNYS) for unregistered names; otherwise a missing spec
        raises :class:`ConfigError`.

    Returns
    -------
    pandas.DataFrame
        Columns ``event, series, timestamp, day0, close, reason``; one row per
        (event, series), events in the given order. ``timestamp`` and ``close`` are in
        UTC (one dtype for events and closes in different zones; the reason quotes local
        times), ``day0`` is tz-naive.

    Notes
    -----
    Daily series follow :func:`align_event`, weekly and monthly ones
    :func:`align_period`.

    Examples
    --------
    >>> import pandas as pd
    >>> from oilimpact.events import load_catalog
    >>> from oilimpact.series import default_registry
    >>> days = pd.bdate_range("2025-11-03", "2025-12-31")
    >>> tab = align_events(load_catalog().select(["fto_announced", "blockade"]),
    ...                    {"wti": days, "brent": days}, default_registry())
    >>> tab[["event", "series", "day0"]].astype(str).values.tolist()
    [['fto_announced', 'wti', '2025-11-17'], ['fto_announced', 'brent', '2025-11-17'], ['blockade', 'wti', '2025-12-17'], ['blockade', 'brent', '2025-12-17']]
    """
    evs = list(events.values()) if isinstance(events, Mapping) else list(events)
    rows = []
    for ev in evs:
        for name, sessions in sessions_by_series.items():
            spec = _spec_for(name, registry_or_specs)
            if spec.frequency == "daily":
                al = align_event(ev, sessions, spec)
            else:
                al = align_period(ev, sessions, spec.frequency, series=name)
            rows.append(al.to_record())
    df = pd.DataFrame(rows, columns=list(ALIGNMENT_COLUMNS))
    for col in ("timestamp", "close"):
        utc = [pd.Timestamp(v).tz_convert("UTC") for v in df[col]]
        df[col] = pd.Series(pd.DatetimeIndex(utc, tz="UTC").as_unit("ns"), index=df.index)
    df["day0"] = pd.Series(pd.DatetimeIndex(df["day0"].tolist()).as_unit("ns"), index=df.index)
    df["event"] = df["event"].astype(str)
    df["series"] = df["series"].astype(str)
    df["reason"] = df["reason"].astype(str)
    return df
