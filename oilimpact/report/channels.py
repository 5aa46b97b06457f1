"""The heavy-sour and curve channels of the brief: tables of levels and event changes (pure).

Two channels an energy analyst reads first after a Venezuelan supply shock:

* **heavy-sour differentials** (monthly): what a heavy or medium sour barrel costs against
  WTI. Venezuela's Merey is a heavy sour crude; when it stops flowing, Gulf Coast coking
  refiners bid for the nearest substitutes (Mexico's Maya, Gulf of Mexico Mars), so their
  discount to WTI narrows. Built from EIA's monthly stream prices (``maya_landed``,
  ``maya_fob``, ``merey_landed``, ``mars_first_purchase``, ``wti_first_purchase``) and the
  daily ``wti`` spot;
* **futures curve** (daily): contract 1 minus contract 2 (or 6) of Brent and WTI. A
  supply scare lifts the front of the curve most, so the spread rises (backwardation
  deepens). Built from the stored spreads ``brent_m1_m2``, ``brent_m1_m6``,
  ``wti_m1_m2``, ``wti_m1_m6`` (single contracts, :mod:`oilimpact.contracts`) and, for
  history, EIA's WTI contracts 1-4 (``wti_fut_c1``..``wti_fut_c4``, which end on
  2024-04-05).

:func:`channel_tables` takes the frames the brief already has (daily prices, monthly
series, both as known on the brief's date) and returns one table per channel with the
latest value and the change around each focus event, plus a notice naming every series
the store lacks. Nothing here reads the store or the network.

Examples
--------
>>> import numpy as np, pandas as pd
>>> days = pd.bdate_range("2025-09-01", "2026-03-31")
>>> prices = pd.DataFrame({"wti": 60.0, "brent_m1_m2": 0.5}, index=days)
>>> monthly = {"maya_landed": pd.Series(52.0, index=pd.date_range("2025-09-01", "2025-12-01", freq="MS"))}
>>> class Ev:  # anything with ``id`` and ``date``, e.g. a catalog Event
...     id, date = "blockade", pd.Timestamp("2025-12-16").date()
>>> out = channel_tables(prices, monthly, as_of="2026-03-31", events=[Ev()])
>>> row = out.tables["heavy_sour"].set_index("series").loc["maya_wti"]
>>> row["last"], row["unit"], row["event"], str(row["before_date"]), str(row["after_date"])
(np.float64(-8.0), 'USD/bbl', 'blockade', '2025-11-01', '2025-12-01')
>>> out.notices[0].startswith("heavy-sour channel: not in the store: maya_fob")
True
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from ..contracts import roll_dates
from ..series import SeriesRegistry, default_registry, known_by, last_known_period

__all__ = [
    "CHANNELS",
    "Channel",
    "ChannelTables",
    "MIN_SESSIONS_PER_MONTH",
    "channel_series",
    "channel_tables",
]

#: A month's WTI average needs at least this many daily observations (else NaN).
MIN_SESSIONS_PER_MONTH = 10

Group = Literal["heavy_sour", "curve"]


@dataclass(frozen=True, slots=True)
class Channel:
    """One row family of a channel table: a stored series or a difference of two.

    Attributes
    ----------
    name : str
        Name in the table (``"maya_wti"``, ``"brent_m1_m2"``).
    label : str
        Display label.
    group : {"heavy_sour", "curve"}
        Which table it belongs to.
    frequency : {"daily", "monthly"}
        Frequency of the channel's values.
    legs : tuple of str
        Registry series used: one (shown as stored) or two (``legs[0] - legs[1]``). A daily
        leg of a monthly channel enters as its calendar-month mean.
    basis : str
        What is compared with what, in one sentence (the page's footnote).
    root : str or None
        Futures root (``"BZ"``, ``"CL"``) whose contract rolls are flagged in change windows.
    """

    name: str
    label: str
    group: Group
    frequency: Literal["daily", "monthly"]
    legs: tuple[str, ...]
    basis: str
    root: str | None = None


_MEAN = "WTI Cushing spot, mean of the month's sessions"
#: The channels of the brief, in table order.
CHANNELS: tuple[Channel, ...] = (
    Channel("maya_wti", "Maya landed - WTI", "heavy_sour", "monthly", ("maya_landed", "wti"),
            f"EIA landed cost of Mexico Maya at US ports minus {_MEAN}"),
    Channel("maya_fob_wti", "Maya f.o.b. - WTI", "heavy_sour", "monthly", ("maya_fob", "wti"),
            f"EIA f.o.b. cost of US imports of Mexico Maya minus {_MEAN}"),
    Channel("merey_wti", "Merey landed - WTI", "heavy_sour", "monthly", ("merey_landed", "wti"),
            f"EIA landed cost of Venezuela Merey at US ports minus {_MEAN}"),
    Channel("mars_wti", "Mars - WTI (first purchase)", "heavy_sour", "monthly",
            ("mars_first_purchase", "wti_first_purchase"),
            "EIA first purchase price of Mars Blend minus that of WTI (the same survey)"),
    Channel("brent_m1_m2", "Brent M1-M2", "curve", "daily", ("brent_m1_m2",),
            "NYMEX Brent contract 1 minus contract 2, same-day closes", "BZ"),
    Channel("brent_m1_m6", "Brent M1-M6", "curve", "daily", ("brent_m1_m6",),
            "NYMEX Brent contract 1 minus contract 6, same-day closes", "BZ"),
    Channel("wti_m1_m2", "WTI M1-M2", "curve", "daily", ("wti_m1_m2",),
            "NYMEX WTI contract 1 minus contract 2, same-day closes", "CL"),
    Channel("wti_m1_m6", "WTI M1-M6", "curve", "daily", ("wti_m1_m6",),
            "NYMEX WTI contract 1 minus contract 6, same-day closes", "CL"),
    Channel("wti_c1_c2_eia", "WTI C1-C2 (EIA)", "curve", "daily", ("wti_fut_c1", "wti_fut_c2"),
            "EIA's NYMEX WTI contract 1 minus contract 2 settlements (end 2024-04-05)", "CL"),
    Channel("wti_c1_c4_eia", "WTI C1-C4 (EIA)", "curve", "daily", ("wti_fut_c1", "wti_fut_c4"),
            "EIA's NYMEX WTI contract 1 minus contract 4 settlements (end 2024-04-05)", "CL"),
)  # fmt: skip

_COLUMNS = [
    "series", "label", "unit", "frequency", "last_date", "last", "event", "event_date",
    "before_date", "before", "after_date", "after", "change", "note",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ChannelTables:
    """What :func:`channel_tables` returns.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        ``"heavy_sour"`` and ``"curve"``: one row per channel and focus event (one row
        with empty event columns when there is no event), columns ``series, label, unit,
        frequency, last_date, last, event, event_date, before_date, before, after_date,
        after, change, note``.
    notices : tuple of str
        One line per channel group with series absent from the store (for the page's
        Notices box, like the brief's "series not available" line).
    methods : tuple of str
        The paragraph of the methods section that defines the changes.
    """

    tables: dict[str, pd.DataFrame]
    notices: tuple[str, ...] = ()
    methods: tuple[str, ...] = field(default_factory=tuple)


def _monthly_mean(daily: pd.Series, through: pd.Timestamp) -> pd.Series:
    """Calendar-month mean of a daily series over the months whose sessions are all known
    (month end on or before ``through``, the last session published on the brief's date)."""
    s = daily.dropna()
    grouped = s.groupby(s.index.to_period("M"))
    mean = grouped.mean().where(grouped.count() >= MIN_SESSIONS_PER_MONTH)
    months = mean.index.to_timestamp()
    complete = (months + pd.offsets.MonthEnd(0)) <= through
    return pd.Series(mean.to_numpy()[complete], index=months[complete], dtype="float64")


def _leg(
    name: str,
    frequency: str,
    prices: pd.DataFrame,
    monthly: Mapping[str, pd.Series],
    as_of: pd.Timestamp,
    registry: SeriesRegistry,
) -> pd.Series | None:
    """One leg at the channel's frequency, as published by ``as_of``; None when absent.

    The leg is cut by :func:`oilimpact.series.known_by` with its registry spec (a no-op on
    frames already read as known on ``as_of``, a guard on raw ones).
    """
    if name in prices.columns and prices[name].notna().any():
        raw = prices[name].dropna()
    elif name in monthly and monthly[name] is not None and monthly[name].notna().any():
        raw = monthly[name].dropna()
        raw.index = pd.DatetimeIndex(raw.index).to_period("M").to_timestamp()
    else:
        return None
    if name in registry:
        s = known_by(raw, registry[name], as_of)[0]
        through = last_known_period(registry[name], as_of)
    else:
        s, through = raw.loc[:as_of], as_of
    if frequency == "monthly" and registry.spec_or_default(name).frequency == "daily":
        return _monthly_mean(s, through)
    return s


def channel_series(
    channel: Channel,
    prices: pd.DataFrame,
    monthly: Mapping[str, pd.Series],
    as_of: Any,
    registry: SeriesRegistry | None = None,
) -> tuple[pd.Series | None, list[str]]:
    """The values of one channel known on ``as_of``, and the legs absent from the inputs.

    Notes
    -----
    Each leg keeps only the periods published by ``as_of`` (its registry
    ``publication_lag``, :func:`oilimpact.series.known_by`). Monthly differential for
    month ``m``: ``x_m - y_m`` where a monthly leg is EIA's monthly average and a daily leg
    ``y`` enters as ``mean(y_t, t in m)`` over the month's sessions with a value (at least
    :data:`MIN_SESSIONS_PER_MONTH`, and only months ended by ``as_of``). Daily two-leg
    channels subtract same-day values. Months or days where a leg has no value are
    missing, never filled.

    Examples
    --------
    >>> days = pd.bdate_range("2025-11-03", "2025-12-31")
    >>> prices = pd.DataFrame({"wti": range(len(days))}, index=days, dtype=float)
    >>> maya = pd.Series([30.0, 40.0], index=pd.DatetimeIndex(["2025-11-01", "2025-12-01"]))
    >>> s, missing = channel_series(CHANNELS[0], prices, {"maya_landed": maya}, "2026-03-31")
    >>> s.round(2).tolist(), missing
    ([20.5, 9.0], [])
    >>> channel_series(CHANNELS[0], prices, {"maya_landed": maya}, "2026-02-10")[0].tolist()
    [20.5]

    (On 10 February 2026 December's Maya landed cost is not yet published.)
    """
    reg = registry if registry is not None else default_registry()
    cut = pd.Timestamp(as_of).normalize()
    legs = [_leg(n, channel.frequency, prices, monthly, cut, reg) for n in channel.legs]
    missing = [n for n, s in zip(channel.legs, legs, strict=True) if s is None]
    if missing:
        return None, missing
    values = legs[0] if len(legs) == 1 else legs[0].sub(legs[1]).dropna()
    values = values.dropna()
    return values.rename(channel.name), []


def _value_at(s: pd.Series, when: pd.Timestamp, *, before: bool) -> tuple[Any, float]:
    part = s.loc[: when - pd.Timedelta(days=1)] if before else s.loc[:when]
    if part.empty:
        return None, math.nan
    return part.index[-1], float(part.iloc[-1])


def _window(
    s: pd.Series, channel: Channel, day: pd.Timestamp, horizon: int
) -> tuple[Any, float, Any, float, str]:
    """Value before the event and ``horizon`` periods after day 0, with a note."""
    d0, v0 = _value_at(s, day, before=True)
    on_after = s.loc[day:]
    if d0 is None or on_after.empty:
        why = "no value before the event" if d0 is None else "no value since the event"
        return d0, v0, None, math.nan, why
    reached = min(horizon, len(on_after) - 1)
    d1, v1 = on_after.index[reached], float(on_after.iloc[reached])
    unit = "session" if channel.frequency == "daily" else "month"
    note = "" if reached == horizon else f"only {reached} {unit}(s) after day 0 known yet"
    if channel.root is not None:
        rolls = roll_dates(channel.root, d0 + pd.Timedelta(days=1), d1)
        if len(rolls):
            note = "; ".join(
                [note] * bool(note)
                + [f"contract roll on {', '.join(str(r.date()) for r in rolls)}: the change "
                   "compares different contracts"]
            )  # fmt: skip
    return d0, v0, d1, v1, note


def _rows(
    channel: Channel,
    s: pd.Series | None,
    missing: list[str],
    events: Sequence[Any],
    unit: str,
    horizons: Mapping[str, int],
) -> list[dict[str, Any]]:
    base: dict[str, Any] = dict.fromkeys(_COLUMNS)
    base.update(series=channel.name, label=channel.label, unit=unit, frequency=channel.frequency)
    if s is None or s.empty:
        base["note"] = (
            f"not in the store: {', '.join(missing)}" if missing else "no value known yet"
        )
        return [base]
    base.update(last_date=s.index[-1].date(), last=float(s.iloc[-1]))
    if not events:
        return [base]
    rows = []
    for ev in events:
        day = pd.Timestamp(ev.date)
        if channel.frequency == "monthly":
            day = day.to_period("M").to_timestamp()
        d0, v0, d1, v1, note = _window(s, channel, day, horizons[channel.frequency])
        rows.append(
            {
                **base, "event": ev.id, "event_date": pd.Timestamp(ev.date).date(),
                "before_date": d0.date() if d0 is not None else None, "before": v0,
                "after_date": d1.date() if d1 is not None else None, "after": v1,
                "change": v1 - v0, "note": note,
            }
        )  # fmt: skip
    return rows


def _notice(group: str, absent: Mapping[str, list[str]]) -> list[str]:
    if not absent:
        return []
    series = list(dict.fromkeys(leg for legs in absent.values() for leg in legs))
    title = {"heavy_sour": "heavy-sour channel", "curve": "curve channel"}[group]
    return [
        f"{title}: not in the store: {', '.join(series)} (so {', '.join(absent)} "
        "not shown; fetch them with `oilimpact fetch " + group + "`)"
    ]


def _methods(horizons: Mapping[str, int]) -> tuple[str, ...]:
    return (
        "Heavy-sour and curve channels: each change runs from the last value before the "
        f"event (day -1) to {horizons['daily']} sessions after day 0 for daily spreads and "
        f"{horizons['monthly']} month(s) after the event's month for monthly differentials "
        "(fewer when not yet published on the brief's date, as the note says). Monthly "
        "differentials subtract the calendar-month mean of daily WTI spot (complete months, "
        f"at least {MIN_SESSIONS_PER_MONTH} sessions) from EIA's monthly stream prices, or "
        "two first purchase prices from each other. Futures spreads subtract contracts "
        "settled the same day; a change window with a contract roll compares different "
        "contracts and is flagged. Levels, not tests: no significance is claimed.",
    )


def channel_tables(
    prices: pd.DataFrame,
    monthly: Mapping[str, pd.Series],
    *,
    as_of: dt.date | str | pd.Timestamp,
    events: Sequence[Any] = (),
    registry: SeriesRegistry | None = None,
    daily_horizon: int = 5,
    monthly_horizon: int = 1,
) -> ChannelTables:
    """The heavy-sour and curve tables of the brief, as known on ``as_of``.

    Parameters
    ----------
    prices : pandas.DataFrame
        Daily series by registry name (the brief's ``prices``: ``wti``, ``brent_m1_m2``,
        ``wti_fut_c1`` ...), already read as known on ``as_of``.
    monthly : mapping of str to pandas.Series
        Monthly series by registry name (the brief's ``volumes`` mapping may be passed
        as is: only the channel legs are read), dated by the first of the month.
    as_of : date-like
        The brief's date: later observations are ignored.
    events : sequence
        The focus events: objects with ``id`` and ``date`` (catalog ``Event``).
    registry : SeriesRegistry, optional
        Gives the units (default: the packaged registry).
    daily_horizon, monthly_horizon : int
        Sessions (daily) or months (monthly) after day 0 at which a change is read.

    Returns
    -------
    ChannelTables
        ``tables["heavy_sour"]``, ``tables["curve"]``, the notices and the methods text.

    Notes
    -----
    ``change = y(after) - y(before)``: ``before`` is the last value dated before the
    event (for monthly channels, before the event's month), ``after`` the value
    ``horizon`` periods after day 0 (the first session on or after the event; the
    event's month). In USD/bbl; a rise of a ``X - WTI`` differential means X gained on
    WTI, a rise of an ``M1-Mk`` spread a steeper backwardation.
    """
    reg = registry if registry is not None else default_registry()
    cut = pd.Timestamp(as_of).normalize()
    prices = prices.sort_index().loc[:cut] if len(prices) else prices
    horizons = {"daily": int(daily_horizon), "monthly": int(monthly_horizon)}
    tables: dict[str, pd.DataFrame] = {}
    notices: list[str] = []
    for group in ("heavy_sour", "curve"):
        rows: list[dict[str, Any]] = []
        absent: dict[str, list[str]] = {}
        for channel in (c for c in CHANNELS if c.group == group):
            s, missing = channel_series(channel, prices, monthly, cut, reg)
            if missing:
                absent[channel.name] = missing
            unit = reg[channel.legs[0]].unit if channel.legs[0] in reg else ""
            rows += _rows(channel, s, missing, events, unit, horizons)
        table = pd.DataFrame(rows, columns=_COLUMNS)
        for col in ("last", "before", "after", "change"):
            table[col] = pd.to_numeric(table[col], errors="coerce").astype("float64")
        tables[group] = table
        notices += _notice(group, absent)
    return ChannelTables(tables=tables, notices=tuple(notices), methods=_methods(horizons))
