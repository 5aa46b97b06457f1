"""Futures contract months: symbols, last trading days, ranks and time spreads (pure).

A time spread such as Brent M1-M2 must be the difference of two contracts settled on the
same session. A continuous front-month series (Yahoo's ``BZ=F``) jumps from one contract
to the next at each roll, so neither its changes across a roll nor a spread built from
two continuous series with different roll days is a price of anything. This module
therefore works contract by contract:

* :func:`last_trade_date` applies the exchange's expiry rule to a contract month;
* :func:`ranked_contracts` says which contract is the k-th (contract 1 = the nearest one
  not yet past its last trading day) on each session;
* :func:`spread_from_contracts` takes the closes of single contracts and returns
  ``contract near - contract far`` per session, from the two contracts of that session's
  ranks, and NaN when either has no close (never another contract's close);
* :func:`roll_dates` lists the sessions on which contract 1 changes, so a report can flag
  a change window that straddles a roll.

Nothing here does I/O; :class:`oilimpact.sources.yahoo.YahooSource` fetches the single
contracts (``BZH26.NYM``) and calls :func:`spread_from_contracts`. The registry series
``brent_m1_m2``, ``brent_m1_m6``, ``wti_m1_m2`` and ``wti_m1_m6`` name these spreads
(``docs/channels.md``).

Expiry rules (CME Group contract specifications):

* NYMEX WTI crude (``CL``): trading terminates 3 business days before the 25th calendar
  day of the month before the contract month; when the 25th is not a business day, 3
  business days before the last business day preceding the 25th (so 4 before the 25th).
  Business days: the ``CMES`` calendar of ``exchange_calendars``.
* NYMEX Brent Last Day Financial (``BZ``): trading terminates on the last business day of
  the second month before the contract month (the March contract on the last business
  day of January), as ICE Brent does. Business days: London (``XLON``), ICE Brent's.

Outside the span of the ``exchange_calendars`` calendar, business days are Monday to
Friday.

Examples
--------
>>> contract_symbol("BZ", pd.Period("2026-03", "M"))
'BZH26.NYM'
>>> str(last_trade_date("CL", pd.Period("2026-02", "M")).date())   # 25 Jan 2026 is a Sunday
'2026-01-20'
>>> str(last_trade_date("BZ", pd.Period("2026-03", "M")).date())
'2026-01-30'
>>> parse_curve("M1-M6")
(1, 6)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from .errors import ConfigError

__all__ = [
    "CONTRACTS",
    "MONTH_CODES",
    "ContractSpec",
    "contract_symbol",
    "contracts_needed",
    "front_contract",
    "last_trade_date",
    "parse_curve",
    "ranked_contracts",
    "roll_dates",
    "spread_from_contracts",
]

#: CME month codes, January to December.
MONTH_CODES = "FGHJKMNQUVXZ"
_CURVE = re.compile(r"^\s*M(\d{1,2})\s*-\s*M(\d{1,2})\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """One futures root: its name, Yahoo exchange suffix, business-day calendar and rule.

    Attributes
    ----------
    root : str
        Exchange symbol root (``"CL"``, ``"BZ"``).
    name : str
        What it is, for messages and docs.
    suffix : str
        Yahoo's exchange suffix of single-contract symbols (``"NYM"``: ``CLG26.NYM``).
    calendar : str
        ``exchange_calendars`` code of the business days the expiry rule counts.
    rule : {"cl", "bz"}
        Which expiry rule of the module docstring applies.
    """

    root: str
    name: str
    suffix: str
    calendar: str
    rule: str


#: The roots this module knows.
CONTRACTS: dict[str, ContractSpec] = {
    "CL": ContractSpec("CL", "NYMEX WTI light sweet crude oil futures", "NYM", "CMES", "cl"),
    "BZ": ContractSpec("BZ", "NYMEX Brent last day financial futures", "NYM", "XLON", "bz"),
}


def _spec(root: str) -> ContractSpec:
    try:
        return CONTRACTS[root.upper()]
    except KeyError:
        raise ConfigError(
            f"unknown futures root {root!r}; known roots: {', '.join(sorted(CONTRACTS))}"
        ) from None


def parse_curve(text: str) -> tuple[int, int]:
    """``"M1-M2"`` as ``(1, 2)``: the near and far contract ranks of a time spread.

    Raises
    ------
    ConfigError
        Not of the form ``Mi-Mj`` with ``1 <= i < j <= 24``.

    Examples
    --------
    >>> parse_curve("m1-m2")
    (1, 2)
    """
    match = _CURVE.match(str(text))
    if match is None:
        raise ConfigError(f"curve must read like 'M1-M2' or 'M1-M6', got {text!r}")
    near, far = int(match.group(1)), int(match.group(2))
    if not 1 <= near < far <= 24:
        raise ConfigError(f"curve {text!r}: need 1 <= near < far <= 24, got {near} and {far}")
    return near, far


def contract_symbol(root: str, month: pd.Period) -> str:
    """Yahoo's symbol of one contract month (``BZH26.NYM``).

    Examples
    --------
    >>> contract_symbol("CL", pd.Period("2025-12", "M"))
    'CLZ25.NYM'
    """
    spec = _spec(root)
    return f"{spec.root}{MONTH_CODES[month.month - 1]}{month.year % 100:02d}.{spec.suffix}"


@lru_cache(maxsize=8)
def _calendar_sessions(code: str) -> pd.DatetimeIndex:
    """All sessions of an ``exchange_calendars`` calendar (empty when it cannot load)."""
    try:
        import warnings

        import exchange_calendars as xc

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cal = xc.get_calendar(code)
            return pd.DatetimeIndex(cal.sessions).tz_localize(None).normalize()
    except Exception:  # pragma: no cover - exchange_calendars is a dependency
        return pd.DatetimeIndex([])


def _business_days(code: str, first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    """Business days from ``first`` to ``last``: the calendar's sessions, else Mon-Fri."""
    sessions = _calendar_sessions(code)
    if len(sessions) and sessions[0] <= first and last <= sessions[-1]:
        return sessions[(sessions >= first) & (sessions <= last)]
    return pd.bdate_range(first, last)


def last_trade_date(root: str, month: pd.Period) -> pd.Timestamp:
    """The last trading day of contract ``month`` of ``root`` (rules in the module doc).

    Examples
    --------
    >>> str(last_trade_date("CL", pd.Period("2020-05", "M")).date())   # the -37.63 contract
    '2020-04-21'
    >>> str(last_trade_date("BZ", pd.Period("2026-02", "M")).date())
    '2025-12-31'
    """
    spec = _spec(root)
    month = pd.Period(month, "M")
    if spec.rule == "cl":
        prior = (month - 1).to_timestamp()
        the_25th = prior + pd.Timedelta(days=24)
        days = _business_days(spec.calendar, the_25th - pd.Timedelta(days=20), the_25th)
        before = days[days < the_25th]
        back = 3 if the_25th in days else 4
        return pd.Timestamp(before[-back])
    second_prior = month - 2
    days = _business_days(
        spec.calendar, second_prior.to_timestamp(), second_prior.to_timestamp(how="end").normalize()
    )
    return pd.Timestamp(days[-1])


def front_contract(root: str, day: Any) -> pd.Period:
    """Contract 1 on ``day``: the nearest contract month whose last trading day is not past.

    Examples
    --------
    >>> str(front_contract("CL", "2026-01-20")), str(front_contract("CL", "2026-01-21"))
    ('2026-02', '2026-03')
    """
    day = pd.Timestamp(day).normalize()
    month = pd.Period(day, "M")
    while last_trade_date(root, month) < day:
        month += 1
    return month


def ranked_contracts(root: str, sessions: Any, ranks: int) -> pd.DataFrame:
    """Which contract month is contract 1..``ranks`` on each session.

    Returns
    -------
    pandas.DataFrame
        Index ``sessions`` (named ``"date"``), columns ``1..ranks``, values
        :class:`pandas.Period` (monthly): contract k is contract 1's month plus k - 1 (every
        calendar month is listed for CL and BZ).

    Examples
    --------
    >>> r = ranked_contracts("BZ", ["2025-12-31", "2026-01-02"], 2)
    >>> [str(p) for p in r.loc["2025-12-31"]], [str(p) for p in r.loc["2026-01-02"]]
    (['2026-02', '2026-03'], ['2026-03', '2026-04'])
    """
    index = pd.DatetimeIndex(pd.to_datetime(sessions)).normalize()
    fronts = {d: front_contract(root, d) for d in index.unique()}
    data = {k: [fronts[d] + (k - 1) for d in index] for k in range(1, ranks + 1)}
    return pd.DataFrame(data, index=index.rename("date"))


def contracts_needed(root: str, start: Any, end: Any, far: int) -> list[pd.Period]:
    """Every contract month that is contract 1..``far`` on some day from ``start`` to ``end``.

    Examples
    --------
    >>> [str(p) for p in contracts_needed("BZ", "2025-12-15", "2026-01-15", 2)]
    ['2026-02', '2026-03', '2026-04']
    """
    first = front_contract(root, start)
    last = front_contract(root, end) + (far - 1)
    return list(pd.period_range(first, last, freq="M"))


def roll_dates(root: str, start: Any, end: Any) -> pd.DatetimeIndex:
    """The days from ``start`` to ``end`` on which contract 1 is a new contract.

    The business day after each last trading day is where a contract-n series such as
    EIA's ``RCLC1`` or a spread of :func:`spread_from_contracts` switches contracts.

    Examples
    --------
    >>> [str(d.date()) for d in roll_dates("CL", "2026-01-01", "2026-02-28")]
    ['2026-01-21', '2026-02-23']
    """
    spec = _spec(root)
    first, last = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    months = pd.period_range(pd.Period(first, "M"), pd.Period(last, "M") + 3, freq="M")
    days = []
    for month in months:
        expiry = last_trade_date(root, month)
        after = _business_days(spec.calendar, expiry, expiry + pd.Timedelta(days=10))
        days.append(after[after > expiry][0])
    out = pd.DatetimeIndex(sorted({d for d in days if first <= d <= last}))
    return out.rename("date")


def spread_from_contracts(
    closes: Mapping[pd.Period, pd.Series], root: str, near: int, far: int, name: str = ""
) -> pd.Series:
    """Contract ``near`` minus contract ``far``, each session from that session's contracts.

    Parameters
    ----------
    closes : mapping of pandas.Period to pandas.Series
        Daily closes of single contracts by contract month (frame convention: tz-naive
        ``DatetimeIndex``); a month may be missing or empty (Yahoo no longer lists it).
    root : str
        ``"CL"`` or ``"BZ"``: whose expiry rule ranks the contracts.
    near, far : int
        Contract ranks (1 = the front contract).
    name : str
        Name of the returned series.

    Returns
    -------
    pandas.Series
        One value per session on which any contract has a close; NaN where the near or
        the far contract of that session has none. Never a difference across contracts
        of different sessions, never a continuous (rolled) series.

    Notes
    -----
    ``spread_t = F(t, c_near(t)) - F(t, c_far(t))`` with ``c_k(t)`` the k-th contract of
    session ``t`` (:func:`ranked_contracts`) and ``F(t, c)`` contract ``c``'s close on
    ``t``. Positive values are backwardation (the nearer contract dearer).

    Examples
    --------
    >>> idx = pd.DatetimeIndex(["2025-12-31", "2026-01-02"])
    >>> closes = {pd.Period("2026-02", "M"): pd.Series([61.0, np.nan], idx),
    ...           pd.Period("2026-03", "M"): pd.Series([60.5, 61.2], idx),
    ...           pd.Period("2026-04", "M"): pd.Series([60.2, 60.9], idx)}
    >>> spread_from_contracts(closes, "BZ", 1, 2).round(2).tolist()   # roll on 2026-01-01
    [0.5, 0.3]
    """
    frames = {m: s for m, s in closes.items() if s is not None and len(s)}
    if not frames:
        return pd.Series([], index=pd.DatetimeIndex([], name="date"), dtype="float64", name=name)
    wide = pd.concat(frames, axis=1).sort_index()
    wide.index = pd.DatetimeIndex(wide.index).normalize().rename("date")
    ranks = ranked_contracts(root, wide.index, far)
    months = list(wide.columns)
    position = {m: i for i, m in enumerate(months)}
    values = wide.to_numpy(dtype="float64")
    rows = np.arange(len(wide))

    def pick(rank: int) -> np.ndarray:
        cols = np.array([position.get(m, -1) for m in ranks[rank]])
        out = np.full(len(wide), np.nan)
        ok = cols >= 0
        out[ok] = values[rows[ok], cols[ok]]
        return out

    spread = pick(near) - pick(far)
    return pd.Series(spread, index=wide.index, name=name, dtype="float64")
