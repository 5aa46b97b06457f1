"""The event-study engine: from prices (or returns) and events to an EventStudyResult.

:func:`event_study` is the user entry point. It

1. builds, per asset, its *session grid*: the dates where the asset and every regressor
   (market, factors) have an observation;
2. turns prices into returns (:func:`oilimpact.eventstudy.returns.compute_returns`) on that
   grid, so a date that is not a session of the pair is spanned by the next return; with
   returns as input, the returns of such a date are carried into the next pair session
   (summed for log returns, compounded for simple ones), which gives the same numbers;
3. aligns every studied event, and every other catalog event, to that grid with
   :func:`oilimpact.eventstudy.alignment.align_event` (day 0 = first session whose close comes
   after the event; a time-unknown event uses its own date's session);
4. cuts the estimation window ``[e0, e1]`` and the event windows (relative trading days
   of that grid), dropping from each estimation window the event windows of the *other*
   catalog events and flagging an event window that contains another event's day 0;
5. fits the normal-return model of all (event, asset) pairs at once with
   :func:`oilimpact.eventstudy.models.fit_panel` (batched least squares);
6. runs the single-pair tests (:mod:`oilimpact.eventstudy.single`: PE-corrected t test and
   the SQ test) and, with two or more pairs, the cross-sectional tests
   (:mod:`oilimpact.eventstudy.crosssection`).
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import ConfigError, EstimationError
from ..series import SeriesRegistry, default_registry
from .alignment import spanned_ns
from .models import MODELS, ModelName, fit_panel, scale_spanning_returns
from .multitest import MULTITEST_METHODS, MultitestMethod, adjust_pvalues
from .panel import MARKET_PE, AbnormalPanel, Conventions, panel_store
from .result import EventStudyResult, ShortEstimationWarning, StudySpec, with_coefficients
from .returns import NON_POSITIVE_ADVICE, ReturnMethod, compute_returns
from .single import ar_tests, car_tests

__all__ = ["InputKind", "event_study", "prepare_windows"]

InputKind = Literal["auto", "prices", "returns"]

DEFAULT_EVENT_WINDOWS: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (-1, 1), (0, 5), (0, 10))

#: Relative days around every *other* event's day 0 removed from an estimation window:
#: fixed, so adding an event window never changes another window's numbers (it covers
#: the default windows, and a pre-event drift of two weeks).
DEFAULT_EXCLUSION_BAND: tuple[int, int] = (-10, 10)

#: The smallest default ``min_estimation``: half the default estimation window.
DEFAULT_MIN_ESTIMATION = 120


@dataclass(frozen=True, slots=True)
class _Ev:
    """An event as the engine needs it (wraps an Event or a bare timestamp)."""

    id: str
    title: str
    timestamp: pd.Timestamp
    time_known: bool
    obj: Any  # the Event passed to align_event


def _make_event(event_id: str, when: Any) -> _Ev:
    """An ad-hoc event from an id and a timestamp or date (naive -> time unknown)."""
    from ..events import Event

    if hasattr(when, "timestamp") and hasattr(when, "time_known") and hasattr(when, "id"):
        return _Ev(
            when.id,
            str(getattr(when, "title", when.id)),
            when.timestamp,
            bool(when.time_known),
            when,
        )
    ts = pd.Timestamp(when)
    if ts is pd.NaT or pd.isna(ts):
        raise EstimationError(f"event {event_id!r}: no timestamp given")
    if ts.tzinfo is None:
        if ts != ts.normalize():
            raise EstimationError(
                f"event {event_id!r}: timestamp {ts} has a time of day but no time zone; "
                "give a tz-aware timestamp (2025-12-16 18:00-05:00) or a plain date"
            )
        ev = Event.on_date(event_id, event_id, "user", ts)
    else:
        ev = Event(event_id, event_id, "user", ts, True)
    return _Ev(ev.id, ev.title, ev.timestamp, ev.time_known, ev)


def _resolve_events(events: Any, catalog: Any) -> list[_Ev]:
    if isinstance(events, (str, bytes)) or hasattr(events, "time_known"):
        events = [events]
    out: list[_Ev] = []
    if isinstance(events, Mapping):
        items: Iterable[tuple[str, Any]] = events.items()
        for key, val in items:
            out.append(_make_event(str(key), val))
    else:
        for item in events:
            if isinstance(item, str):
                cat = catalog if catalog is not None else _default_catalog()
                if cat is None:
                    raise ConfigError(
                        f"unknown event {item!r}: no event catalog available to look it up"
                    )
                try:
                    ev = cat[item]
                except (KeyError, ConfigError) as exc:
                    known = ", ".join(list(cat)[:50])
                    raise ConfigError(f"unknown event {item!r}; known events: {known}") from exc
                out.append(_make_event(item, ev))
            else:
                out.append(_make_event(str(getattr(item, "id", "event")), item))
    if not out:
        raise EstimationError("no events given")
    ids = [e.id for e in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise EstimationError(f"events given more than once: {', '.join(dup)}")
    return out


def _default_catalog() -> Any:
    try:
        from ..events import load_catalog
    except ImportError:  # pragma: no cover - events.py is part of the package
        return None
    return load_catalog()


def _as_series(obj: Any, default_name: str) -> pd.Series:
    s = obj if isinstance(obj, pd.Series) else pd.Series(obj)
    name = s.name if s.name is not None else default_name
    return s.rename(str(name))


def _normalise_index(df: pd.DataFrame) -> pd.DataFrame:
    idx = pd.DatetimeIndex(df.index)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    idx = idx.normalize().as_unit("ns")
    out = df.copy()
    out.index = idx
    out.index.name = "date"
    if not out.index.is_unique:
        dup = out.index[out.index.duplicated()][0]
        raise EstimationError(f"input has duplicate dates (first: {dup.date()})")
    return out.sort_index()


def _looks_like_returns(df: pd.DataFrame, registry: SeriesRegistry) -> bool:
    kinds = {registry.spec_or_default(str(c)).kind for c in df.columns}
    if kinds == {"return"}:
        return True
    vals = np.abs(df.to_numpy(dtype="float64", na_value=np.nan))
    vals = vals[~np.isnan(vals)]
    if vals.size == 0:
        return False
    return bool(np.median(vals) < 0.2 and np.max(vals) < 2.0)


def _sessions_before(first: pd.Timestamp, n: int, spec: Any) -> pd.DatetimeIndex:
    """The ``n`` sessions before ``first``, assumed where the data have none.

    Taken from the series' exchange calendar (``spec.calendar``) when it is an
    exchange_calendars code covering the dates, else Monday-Friday weekdays.
    """
    from .alignment import _calendar

    end = first - pd.Timedelta(days=1)
    start = first - pd.Timedelta(days=2 * n + 21)
    days = pd.bdate_range(start, end)
    cal = _calendar(spec.calendar)
    if cal is not None and cal.first_session <= start and end <= cal.last_session:
        days = pd.DatetimeIndex(cal.sessions_in_range(start, end)).tz_localize(None)
    return days[-n:].as_unit("ns")


def _virtual_day0(ev: _Ev, pre: pd.DatetimeIndex, first: pd.Timestamp, spec: Any) -> int | None:
    """Day 0 of an event before the data, counted in sessions from ``first`` (<= 0).

    ``pre`` holds the assumed sessions just before ``first`` (:func:`_sessions_before`);
    None when the event precedes them all (its window cannot reach the data).
    """
    from .alignment import align_event

    if len(pre) == 0 or ev.timestamp.date() < pre[0].date():
        return None
    grid = pre.append(pd.DatetimeIndex([first]).as_unit("ns"))
    try:
        al = align_event(ev.obj, grid, spec)
    except EstimationError:  # pragma: no cover - the event is before ``first``
        return None
    k = int(grid.get_indexer([pd.Timestamp(al.day0)])[0])
    return k - len(pre) if k >= 0 else None


def _estudy2_returns(
    sub: pd.DataFrame,
    observed: np.ndarray,
    R: np.ndarray,
    input_kind: str,
    method: ReturnMethod,
) -> np.ndarray:
    """The pair's session returns as estudy2 0.10 forms them (interior gaps).

    estudy2 lines the series up by date and drops a date where the security has no
    return (``lm`` on complete rows): nothing is carried. With returns as input, each
    session keeps the returns of its own date (a regressor's return on a date where the
    asset has none is dropped, not carried). With prices, every series' return runs from
    its own previous price (``get_rates_from_prices(multi_day = TRUE)``): the asset's
    return after a missing price spans the gap, the market's return is its one-day
    return. ``R`` (the textbook returns) is kept where the two agree (no gap).
    """
    if input_kind == "returns":
        return sub.to_numpy()[observed].copy()
    vals = sub.to_numpy()
    out = np.array(R, dtype="float64", copy=True)
    rows = np.flatnonzero(observed)
    for c in range(vals.shape[1]):
        col = vals[:, c]
        have = np.flatnonzero(~np.isnan(col))
        own = pd.DataFrame({"p": col[have]})
        if method == "log":
            own = own.where(own > 0)  # a log return across p <= 0: NaN (refused later)
        r = compute_returns(own, method)["p"].to_numpy()
        pos = np.searchsorted(have, rows)  # every session is one of the column's dates
        out[:, c] = r[pos]
    return out


def _carry_returns(
    values: np.ndarray, observed: np.ndarray, any_obs: np.ndarray, method: ReturnMethod
) -> np.ndarray:
    """Returns of the pair's sessions, with the returns of its non-session dates carried.

    ``values`` (rows = dates, columns = asset then regressors) holds returns; a date where
    some but not all of the pair's series have a return is not a session of the pair, and
    each of its returns is carried into the next session of that column: summed
    (``method="log"``) or compounded, ``(1 + r1)(1 + r2) - 1`` (``"simple"``). This is what
    the prices path gives, where the next session's return spans the date. Returns
    before the first session are not carried: no return of the pair spans them (a
    series that starts later, e.g. a listing, has no return before its first one; with
    prices the first session has no return at all). Returns after the last session
    cannot be carried either (the caller counts them). Returns R, shape (sessions,
    columns).

    Examples
    --------
    >>> v = np.array([[0.01, 0.02], [0.10, np.nan], [0.01, 0.03]])
    >>> obs = ~np.isnan(v).any(axis=1)
    >>> _carry_returns(v, obs, np.ones(3, bool), "log").round(4).tolist()
    [[0.01, 0.02], [0.11, 0.03]]
    >>> _carry_returns(v, obs, np.ones(3, bool), "simple").round(4).tolist()
    [[0.01, 0.02], [0.111, 0.03]]
    """
    R = values[observed].copy()
    obs_idx = np.flatnonzero(observed)
    drop = np.flatnonzero(any_obs & ~observed)
    if drop.size == 0 or obs_idx.size == 0:
        return R
    target = np.searchsorted(obs_idx, drop, side="left")  # next session of each date
    keep = (target > 0) & (target < obs_idx.size)  # not before the first, nor after the last
    drop, target = drop[keep], target[keep]
    if drop.size == 0:
        return R
    carried = np.nan_to_num(values[drop], nan=0.0)
    rows = np.unique(target)  # only these sessions change (others stay bit-identical)
    if method == "log":
        acc = np.zeros_like(R)
        np.add.at(acc, target, carried)
        R[rows] += acc[rows]
    else:
        acc = np.ones_like(R)
        np.multiply.at(acc, target, 1.0 + carried)
        R[rows] = (1.0 + R[rows]) * acc[rows] - 1.0
    return R


def prepare_windows(
    estimation_window: tuple[int, int], event_windows: Sequence[tuple[int, int]]
) -> tuple[tuple[int, int], tuple[tuple[int, int], ...], tuple[int, int]]:
    """Validate the windows; return them and the union ``(lo, hi)`` of the event windows.

    Examples
    --------
    >>> prepare_windows((-250, -11), [(0, 0), (-1, 1), (0, 10)])[2]
    (-1, 10)
    """
    try:
        e0, e1 = (int(v) for v in estimation_window)
    except (TypeError, ValueError) as exc:
        raise EstimationError(
            f"estimation_window must be two relative trading days, got {estimation_window!r}"
        ) from exc
    wins = []
    for w in event_windows:
        try:
            lo, hi = (int(v) for v in w)
        except (TypeError, ValueError) as exc:
            raise EstimationError(f"an event window must be (start, end), got {w!r}") from exc
        if lo > hi:
            raise EstimationError(f"event window {w!r} starts after it ends")
        wins.append((lo, hi))
    if not wins:
        raise EstimationError("at least one event window is needed")
    lo_u = min(w[0] for w in wins)
    hi_u = max(w[1] for w in wins)
    if e0 > e1:
        raise EstimationError(f"estimation window {estimation_window!r} starts after it ends")
    if e1 >= lo_u:
        raise EstimationError(
            f"estimation window {estimation_window!r} must end before the first event-window "
            f"day {lo_u}"
        )
    return (e0, e1), tuple(wins), (lo_u, hi_u)


def event_study(
    returns_or_prices: pd.DataFrame | pd.Series,
    events: Any,
    *,
    market: pd.Series | str | None = None,
    factors: pd.DataFrame | Sequence[str] | None = None,
    model: ModelName = "market",
    estimation_window: tuple[int, int] = (-250, -11),
    event_windows: Sequence[tuple[int, int]] = DEFAULT_EVENT_WINDOWS,
    returns: ReturnMethod = "log",
    input: InputKind = "auto",
    min_estimation: int | None = None,
    conventions: Conventions = "textbook",
    catalog: Mapping[str, Any] | None = None,
    registry: SeriesRegistry | None = None,
    exclude_confounders: bool = True,
    pooled: bool | Literal["auto"] = "auto",
    independence_tests: bool = False,
    exclusion_band: tuple[int, int] = DEFAULT_EXCLUSION_BAND,
    multitest: MultitestMethod = "fdr_bh",
) -> EventStudyResult:
    """Event study of one or more series around one or more events.

    Parameters
    ----------
    returns_or_prices : pandas.DataFrame or pandas.Series
        Prices (or returns) on a daily ``DatetimeIndex``, one column per series; the
        column name is the registry name (``"brent"``) used to find the series' close.
    events : iterable of Event or str, Event, str, or mapping of id to timestamp
        The events to study. Ids are looked up in ``catalog`` (default: the packaged
        catalog). A mapping gives ad-hoc events: a plain date means time unknown, a
        tz-aware timestamp a known time.
    market : pandas.Series or str, optional
        The market return (or price) series, or the name of a column of
        ``returns_or_prices`` (removed from the studied series). Needed by the
        ``market`` and ``market_adjusted`` models; with ``multifactor`` it is the first
        factor.
    factors : pandas.DataFrame or sequence of str, optional
        Extra regressors of the ``multifactor`` model (column names of
        ``returns_or_prices``, or a frame).
    model : {"market", "zero_mean", "constant_mean", "market_adjusted", "multifactor"}
        Normal-return model (see :mod:`oilimpact.eventstudy.models`).
    estimation_window : (int, int)
        Inclusive relative trading days of the estimation window, default ``(-250, -11)``.
    event_windows : sequence of (int, int)
        Inclusive windows over which CARs are computed.
    returns : {"log", "simple"}
        Return definition when prices are given. With returns as input: how the given
        returns compound when one is carried into the next pair session (``"log"``:
        summed, also right for price *changes*; ``"simple"``: ``(1 + r1)(1 + r2) - 1``).
    input : {"auto", "prices", "returns"}
        What ``returns_or_prices`` (and ``market``/``factors``) hold. ``"auto"``:
        returns when every series has registry kind ``"return"`` or the values look
        like returns (median absolute value below 0.2 and none above 2), else prices.
        Pass it explicitly when in doubt; the resolved value is in ``result.spec``.
        Returns are read as each series' returns on its own dates: a missing value
        means the series has no return that day (its next return spans it).
    min_estimation : int, optional
        Minimum non-missing estimation days per pair; default half the estimation
        window (120 for the default window), at least ``k + 1``. When a short
        estimation window makes that default lower than 120 (``(-30, -11)`` gives 10),
        a :class:`~oilimpact.eventstudy.result.ShortEstimationWarning` is issued and the
        summary says so; pass ``min_estimation`` to choose the minimum yourself.
    conventions : {"textbook", "estudy2"}
        See :func:`oilimpact.eventstudy.models.fit_panel` and docs/methods.md. Under
        ``"estudy2"`` the market mean and sum of squares of the PE correction are taken
        over the market's own days ``[d0 + e0, d0 + e1]`` (all index days of the
        estimation window, also where the asset has no return), and interior gaps are
        handled as estudy2 0.10 does: a date where the asset has no return is dropped
        (with returns given, the market's return of that date is not carried; with
        prices, each series' return runs from its own previous price), and returns
        spanning several sessions are not variance-scaled. Relative days still count
        the pair's sessions, while estudy2 takes its windows as date ranges (see
        docs/methods.md).
    catalog : mapping of id to Event, optional
        Where event ids are looked up and the set of *other* events used to clean the
        estimation windows and flag confounding (default: the packaged catalog).
    registry : SeriesRegistry, optional
        Series metadata (close time, time zone); default the packaged registry. Unknown
        names get a generic 16:00 New York daily spec.
    exclude_confounders : bool
        Drop the ``exclusion_band`` days of the other catalog events *and* of the other
        studied events from each estimation window (default True). With False nothing is
        dropped, the catalog is not consulted for confounding, and only the studied
        events are checked against each other for ``confounded``.
    pooled : bool or "auto"
        Whether to run the pooled (cross-sectional, CAAR) tests: ``True``, ``False``,
        or ``"auto"`` (the policy of
        :func:`oilimpact.eventstudy.crosssection.cross_sectional_tests`, which decides by
        the number of pairs and whether they share event dates).
    independence_tests : bool
        Also show the pooled tests that assume independent pairs (labelled invalid for
        clustered events); default False.
    exclusion_band : (int, int)
        Relative days ``[lo, hi]`` around the day 0 of every other catalog or studied
        event that are removed from each estimation window (default ``(-10, 10)``). It
        does not depend on ``event_windows``, so adding a window never changes the
        estimation sample (nor, therefore, another window's numbers). An event's own
        band is not removed from its own estimation window (which must end before its
        first event-window day anyway).
    multitest : {"fdr_bh", "holm", "none"}
        Adjustment of the ``qvalue`` columns (:func:`~oilimpact.eventstudy.multitest.
        adjust_pvalues`): Benjamini-Hochberg q-values (default), Holm adjusted p-values,
        or none (the p-values). The family of ``res.car["qvalue"]`` is every (event,
        series, window) CAR t test of the result (``sq_qvalue``: every SQ test of
        ``res.car``); that of ``res.abnormal["qvalue"]`` every (event, series, day) AR
        t test. Adding events, series or windows enlarges the family.

    Returns
    -------
    EventStudyResult

    Raises
    ------
    EstimationError
        Too few estimation days (the message says how many were needed and got, with
        the event, series and day 0), an event outside the data, a log return across a
        non-positive price that enters a window (names the series and date; simple
        returns are not a remedy, see :mod:`oilimpact.eventstudy.returns`), bad windows.
    ConfigError
        An unknown event id.

    Notes
    -----
    Relative days count sessions of the pair's grid (dates where the asset and all
    regressors are observed). A date where only some of them are observed is not a
    session: with prices, the next session's return spans it; with returns, each
    series' return of that date is carried into the next session (the two inputs give
    the same AR and CAR; returns before the pair's first session are not carried).
    ``alignment.spanning_returns`` counts the used returns that span such a date;
    ``alignment.uncarried_returns`` counts the values (of the asset or a regressor)
    dated after the pair's last session, which no return can include. Day 0 comes from
    :func:`oilimpact.eventstudy.alignment.align_event` on that grid. The estimation window
    of event *i* is the sessions ``[d0 + e0, d0 + e1]`` minus the days
    ``[d0' + lo, d0' + hi]`` of every other catalog or studied event (``lo``/``hi`` the
    ``exclusion_band``, default ``[-10, +10]``); those dropped days are counted in
    ``alignment.dropped_est_days``. A catalog event shortly before the data start counts
    too: its day 0 is placed on the series' exchange calendar (weekdays when it has
    none) before the first session, and the part of its window inside the data is
    dropped. An event window containing another event's day 0 is
    flagged (``car.confounded``, ``alignment.confounded_by``). A CAR needs every AR of
    its window (otherwise NaN), e.g. when the window runs past the end of the data.
    Formulas: docs/methods.md (MacKinlay 1997; Gelbach, Helland and Klick 2013).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> days = pd.bdate_range("2024-01-01", periods=320)
    >>> m = rng.normal(0, 0.01, 320)
    >>> y = 0.8 * m + rng.normal(0, 0.012, 320)
    >>> y[300] += 0.05                                   # the event
    >>> data = pd.DataFrame({"asset": 100 * np.exp(np.cumsum(y)),
    ...                      "mkt": 4000 * np.exp(np.cumsum(m))}, index=days)
    >>> res = event_study(data, {"news": days[300].date()}, market="mkt", catalog={})
    >>> row = res.car.iloc[0]
    >>> row["window"], round(float(row["car"]), 3), bool(row["pvalue"] < 0.01), int(row["n_est"])
    ((0, 0), 0.064, True, 240)
    """
    reg = registry if registry is not None else default_registry()
    if model not in MODELS:
        raise EstimationError(f"model must be one of {MODELS}, got {model!r}")
    if returns not in ("log", "simple"):
        raise EstimationError(f"returns must be 'log' or 'simple', got {returns!r}")
    if input not in ("auto", "prices", "returns"):
        raise EstimationError(f"input must be 'auto', 'prices' or 'returns', got {input!r}")
    if conventions not in ("textbook", "estudy2"):
        raise EstimationError(f"conventions must be 'textbook' or 'estudy2', got {conventions!r}")
    if multitest not in MULTITEST_METHODS:
        raise EstimationError(f"multitest must be one of {MULTITEST_METHODS}, got {multitest!r}")
    (e0, e1), windows, (lo_u, hi_u) = prepare_windows(estimation_window, event_windows)
    b_lo, b_hi = _check_band(exclusion_band)

    # ---- data, market and factors -----------------------------------------------------
    if isinstance(returns_or_prices, pd.Series):
        data = _as_series(returns_or_prices, "series").to_frame()
    elif isinstance(returns_or_prices, pd.DataFrame):
        data = returns_or_prices.copy()
        data.columns = [str(c) for c in data.columns]
    else:
        raise EstimationError(
            f"returns_or_prices must be a pandas Series or DataFrame, got "
            f"{type(returns_or_prices).__name__}"
        )
    regressors: list[str] = []
    market_name: str | None = None
    if market is not None:
        if isinstance(market, str):
            if market not in data.columns:
                raise EstimationError(
                    f"market {market!r} is not a column; columns: {', '.join(data.columns)}"
                )
            market_name = market
        else:
            ms = _as_series(market, "market")
            market_name = str(ms.name)
            if market_name in data.columns:
                market_name = f"{market_name}_market"
                ms = ms.rename(market_name)
            data = data.join(ms, how="outer")
        regressors.append(market_name)
    factor_names: list[str] = []
    if factors is not None:
        if isinstance(factors, pd.DataFrame):
            fdf = factors.copy()
            fdf.columns = [str(c) for c in fdf.columns]
            clash = [c for c in fdf.columns if c in data.columns]
            if clash:
                raise EstimationError(f"factor columns clash with data columns: {clash}")
            data = data.join(fdf, how="outer")
            factor_names = list(fdf.columns)
        else:
            factor_names = [str(f) for f in factors]
            missing = [f for f in factor_names if f not in data.columns]
            if missing:
                raise EstimationError(f"factors {missing} are not columns of the data")
        regressors += [f for f in factor_names if f not in regressors]
    if model in ("market", "market_adjusted"):
        if market_name is None:
            raise EstimationError(f"model={model!r} needs a market series (market=...)")
        if factor_names:
            raise EstimationError(
                f"model={model!r} takes no factors; use model='multifactor' for {factor_names}"
            )
    elif model == "multifactor":
        if not regressors:
            raise EstimationError("model='multifactor' needs factors (or a market)")
    else:
        regressors = [] if model in ("zero_mean", "constant_mean") else regressors
    used_regressors = regressors if model in ("market", "market_adjusted", "multifactor") else []

    data = _normalise_index(data)
    assets = [c for c in data.columns if c not in set(regressors)]
    if not assets:
        raise EstimationError("no series to study (every column is a market or factor)")
    try:
        numeric = data.apply(pd.to_numeric, errors="raise").astype("float64")
    except (TypeError, ValueError) as exc:
        raise EstimationError(f"non-numeric values in the data: {exc}") from exc
    if input == "auto":
        resolved_input: Literal["prices", "returns"] = (
            "returns" if _looks_like_returns(numeric, reg) else "prices"
        )
    else:
        resolved_input = input
    min_est, notices = _min_estimation(min_estimation, (e0, e1))

    # ---- events --------------------------------------------------------------------------
    studied = _resolve_events(events, catalog)
    studied_ids = {e.id for e in studied}
    others: list[_Ev] = []
    if exclude_confounders:
        cat = catalog if catalog is not None else _default_catalog()
        for key, ev in (cat or {}).items():
            if str(key) not in studied_ids:
                others.append(_make_event(str(key), ev))
    all_events = studied + others  # studied first: their indices are 0..E-1

    from .alignment import align_event

    n_ev = len(studied)
    L1 = e1 - e0 + 1
    L2 = hi_u - lo_u + 1
    est_off = np.arange(e0, e1 + 1)
    evt_off = np.arange(lo_u, hi_u + 1)
    F = len(used_regressors)

    blocks_y_est, blocks_y_evt, blocks_x_est, blocks_x_evt = [], [], [], []
    ids_ev: list[str] = []
    ids_as: list[str] = []
    day0s: list[pd.Timestamp] = []
    align_rows: list[dict[str, Any]] = []  # one dict of columns per asset
    evt_dates_rows: list[np.ndarray] = []
    est_dates_rows: list[np.ndarray] = []
    evt_sessions_rows: list[np.ndarray] = []
    confounded_w: list[np.ndarray] = []
    mkt_mean_all: list[np.ndarray] = []
    mkt_ss_all: list[np.ndarray] = []
    align_cache: dict[
        tuple[Any, ...], tuple[pd.DatetimeIndex, np.ndarray, list[str], dict[int, int]]
    ] = {}

    date_ns = numeric.index.as_unit("ns").asi8
    for asset in assets:
        cols = [asset] + used_regressors
        sub = numeric[cols]
        observed = sub.notna().all(axis=1).to_numpy()
        any_obs = sub.notna().any(axis=1).to_numpy()
        grid = sub[observed]
        sessions = grid.index
        # a session whose previous pair session is not the previous dated row: one of
        # the series had a price on a date in between (its return spans that date)
        obs_idx = np.flatnonzero(observed)
        any_cum = np.cumsum(any_obs)
        gap = np.zeros(len(sessions), dtype=bool)
        if len(obs_idx) > 1:
            gap[1:] = (any_cum[obs_idx[1:]] - any_cum[obs_idx[:-1]]) > 1
        bad = np.zeros(len(sessions), dtype=bool)
        bad_src: dict[pd.Timestamp, tuple[str, pd.Timestamp]] = {}
        if resolved_input == "prices":
            prices = grid.to_numpy()
            if returns == "log" and (prices <= 0).any():
                # log returns into or out of a non-positive price are undefined: mark
                # them, and refuse below if a window uses one
                bad_price = prices <= 0
                bad_row = bad_price.any(axis=1)
                bad[:] = bad_row
                bad[1:] |= bad_row[:-1]
                for r, c in zip(*np.nonzero(bad_price), strict=True):
                    for rr in (r, r + 1):
                        if rr < len(sessions):
                            bad_src.setdefault(sessions[rr], (cols[c], sessions[r]))
                R = compute_returns(grid.where(~bad_price), returns).to_numpy()
            else:
                R = compute_returns(grid, returns).to_numpy()
        else:
            # returns given: a return dated on a non-session of the pair is carried into
            # the next pair session (like the prices path, whose next return spans it)
            R = _carry_returns(sub.to_numpy(), observed, any_obs, returns)
        if conventions == "estudy2":
            R = _estudy2_returns(sub, observed, R, resolved_input, returns)
        # values after the last pair session: no pair return can span them
        uncarried = (
            int(sub.iloc[int(obs_idx[-1]) + 1 :].notna().to_numpy().sum()) if len(obs_idx) else 0
        )
        T = len(sessions)
        spec = reg.spec_or_default(asset)
        if T == 0:
            raise EstimationError(
                f"series {asset!r} has no dates on which it and the regressors "
                f"({', '.join(used_regressors) or 'none'}) are all observed"
            )

        # day 0 of every event on this grid: aligned once per (grid, close rule) and
        # reused by every asset that shares both (align_event is the slow part)
        key = (
            len(sessions),
            hash(sessions.asi8.tobytes()),
            spec.calendar,
            spec.close_time,
            str(spec.timezone),
        )
        cached = align_cache.get(key)
        if cached is not None and cached[0].equals(sessions):
            pos, reasons, early = cached[1].copy(), list(cached[2]), dict(cached[3])
            pending: Iterable[int] = [j for j in range(len(all_events)) if j < n_ev and pos[j] < 0]
        else:
            pos = np.full(len(all_events), -1, dtype=np.int64)
            reasons = [""] * len(all_events)
            early = {}  # catalog events before the data: virtual (negative) day 0
            pending = range(len(all_events))
        sess_pos = {d: i for i, d in enumerate(sessions.asi8)} if cached is None else None
        pre: pd.DatetimeIndex | None = None
        for j in pending:
            ev = all_events[j]
            is_studied = j < n_ev
            if ev.timestamp.date() < sessions[0].date():
                if is_studied:
                    raise EstimationError(
                        f"event {ev.id!r} ({ev.timestamp.isoformat()}) is outside the data of "
                        f"series {asset!r}: its sessions run {sessions[0].date()} .. "
                        f"{sessions[-1].date()}"
                    )
                # an other event just before the data: its band may reach the first
                # sessions, which must then leave the estimation windows
                if b_hi >= 0:
                    if pre is None:
                        pre = _sessions_before(sessions[0], b_hi + 1, spec)
                    v = _virtual_day0(ev, pre, sessions[0], spec)
                    if v is not None and v == 0:
                        pos[j] = 0  # e.g. a weekend event before a Monday data start
                        reasons[j] = "day 0 is the first session of the data"
                    elif v is not None and v + b_hi >= 0:
                        early[j] = v
                continue
            try:
                al = align_event(ev.obj, sessions, spec)
            except EstimationError as exc:
                if is_studied:
                    raise EstimationError(
                        f"event {ev.id!r} ({ev.timestamp.isoformat()}) is outside the data of "
                        f"series {asset!r} (sessions {sessions[0].date()} .. "
                        f"{sessions[-1].date()}): {exc}"
                    ) from exc
                continue
            k = (
                sess_pos.get(pd.Timestamp(al.day0).value, -1)
                if sess_pos is not None
                else int(sessions.get_indexer([pd.Timestamp(al.day0)])[0])
            )
            if k < 0:  # pragma: no cover - align_event returns one of the sessions
                raise EstimationError(f"alignment of {ev.id!r} returned a non-session day")
            pos[j] = k
            reasons[j] = al.reason
        if cached is None:
            align_cache[key] = (sessions, pos.copy(), list(reasons), dict(early))

        k_st = pos[:n_ev]
        # ---- estimation positions, minus other events' bands --------------------------
        est_pos = k_st[:, None] + est_off[None, :]  # (E, L1)
        in_range = (est_pos >= 0) & (est_pos < T)
        clipped = np.clip(est_pos, 0, T - 1)
        dropped = _band_dropped(
            pos, early, T, (b_lo, b_hi), est_off, clipped, in_range, exclude_confounders
        )
        use_est = in_range & ~dropped

        evt_pos = k_st[:, None] + evt_off[None, :]
        in_evt = (evt_pos >= 0) & (evt_pos < T)
        clipped_evt = np.clip(evt_pos, 0, T - 1)

        y_est = np.where(use_est, R[clipped, 0], np.nan)
        y_evt = np.where(in_evt, R[clipped_evt, 0], np.nan)
        if F:
            x_est = np.where(use_est[:, :, None], R[clipped][:, :, 1:], np.nan)
            x_evt = np.where(in_evt[:, :, None], R[clipped_evt][:, :, 1:], np.nan)
        else:
            x_est = np.zeros((n_ev, L1, 0))
            x_evt = np.zeros((n_ev, L2, 0))

        # log returns across a non-positive price, if used, are an error
        if bad.any():
            hit_est = use_est & bad[clipped]
            hit_evt = in_evt & bad[clipped_evt]
            for i in range(n_ev):
                hits = np.concatenate([clipped[i][hit_est[i]], clipped_evt[i][hit_evt[i]]])
                if hits.size:
                    when = sessions[int(hits.min())]
                    src = bad_src.get(when, (asset, when))
                    raise EstimationError(
                        f"log returns need positive prices: series {src[0]!r} has a price "
                        f"<= 0 on {src[1].date()}, which enters the windows of event "
                        f"{studied[i].id!r}; {NON_POSITIVE_ADVICE}"
                    )

        # ---- minimum estimation length -------------------------------------------------
        ok_est = ~np.isnan(y_est)
        if F:
            ok_est &= ~np.isnan(x_est).any(axis=2)
        n_ok = ok_est.sum(axis=1)
        for i in np.flatnonzero(n_ok < min_est):
            ev = studied[int(i)]
            day0 = sessions[int(k_st[i])].date()
            extra = ""
            if est_pos[i, 0] < 0:
                extra = f"; the data start {sessions[0].date()}"
            nd = int(dropped[i].sum())
            if nd:
                extra += (
                    f"; {nd} day(s) dropped as other events' days [{b_lo:+d}, {b_hi:+d}] "
                    "(exclusion_band=)"
                )
            raise EstimationError(
                f"estimation window needs {min_est} trading days before {day0}, got "
                f"{int(n_ok[i])} (event={ev.id}, series={asset}){extra}"
            )

        # ---- confounding: another event's day 0 inside this event's windows -----------
        # (vectorised over the studied events: rel[i, j] = day of event j relative to i)
        n_all = len(all_events)
        rel = pos[None, :] - k_st[:, None]
        other = (pos[None, :] >= 0) & (np.arange(n_all)[None, :] != np.arange(n_ev)[:, None])
        conf_w = np.zeros((n_ev, len(windows)), dtype=bool)
        for w, (lo, hi) in enumerate(windows):  # a handful of windows
            conf_w[:, w] = (other & (rel >= lo) & (rel <= hi)).any(axis=1)
        in_u = other & (rel >= lo_u) & (rel <= hi_u)
        conf_by = [""] * n_ev
        for i in np.flatnonzero(in_u.any(axis=1)):  # only the confounded pairs
            conf_by[i] = ", ".join(all_events[j].id for j in np.flatnonzero(in_u[i]))
        sess_np = sessions.to_numpy()
        any_in = in_range.any(axis=1)
        first = np.clip(est_pos[:, 0], 0, T - 1)
        last = np.clip(est_pos[:, -1], 0, T - 1)
        nat = np.datetime64("NaT", "ns")
        align_rows.append(
            {
                "event": [ev.id for ev in studied],
                "series": [asset] * n_ev,
                "title": [ev.title for ev in studied],
                "timestamp": [ev.timestamp for ev in studied],
                "time_known": [ev.time_known for ev in studied],
                "day0": sess_np[k_st],
                "reason": reasons[:n_ev],
                "confounded_by": conf_by,
                "n_est": n_ok.astype(int),
                "dropped_est_days": dropped.sum(axis=1).astype(int),
                "est_start": np.where(any_in, sess_np[first], nat),
                "est_end": np.where(any_in, sess_np[last], nat),
                "event_days_observed": (in_evt & ~np.isnan(y_evt)).sum(axis=1).astype(int),
                "spanning_returns": (
                    (use_est & gap[clipped]).sum(axis=1) + (in_evt & gap[clipped_evt]).sum(axis=1)
                ).astype(int),
                "uncarried_returns": np.full(n_ev, uncarried, dtype=int),
            }
        )
        confounded_w.append(conf_w)

        # estudy2: market mean and sum of squares over all market days of the window
        if conventions == "estudy2" and model == "market":
            mkt = numeric[used_regressors[0]]
            if resolved_input == "prices":
                mkt = compute_returns(mkt.dropna(), returns)
            mkt = mkt.dropna()
            mv = mkt.to_numpy()
            cs = np.concatenate([[0.0], np.cumsum(mv)])
            cs2 = np.concatenate([[0.0], np.cumsum(mv**2)])
            means = np.full(n_ev, np.nan)
            sss = np.full(n_ev, np.nan)
            for i in range(n_ev):
                # the window counted on the market's own days: all index days of it
                km = int(mkt.index.searchsorted(sessions[int(k_st[i])], side="left"))
                lo_m, hi_m = max(km + e0, 0), min(km + e1 + 1, len(mv))
                cnt = hi_m - lo_m
                if cnt < 2:
                    continue
                tot = cs[hi_m] - cs[lo_m]
                means[i] = tot / cnt
                sss[i] = (cs2[hi_m] - cs2[lo_m]) - tot**2 / cnt
            mkt_mean_all.append(means)
            mkt_ss_all.append(sss)

        blocks_y_est.append(y_est)
        blocks_y_evt.append(y_evt)
        blocks_x_est.append(x_est)
        blocks_x_evt.append(x_evt)
        ids_ev += [e.id for e in studied]
        ids_as += [asset] * n_ev
        day0s += [sessions[int(k)] for k in k_st]
        evt_dates_rows.append(
            np.where(in_evt, sessions.to_numpy()[clipped_evt], np.datetime64("NaT"))
        )
        est_dates_rows.append(np.where(use_est, sess_np[clipped], nat))
        spanned = spanned_ns(
            sessions.as_unit("ns").asi8,
            date_ns[~np.isnan(sub.iloc[:, 0].to_numpy())],
            spec.calendar,
        )
        evt_sessions_rows.append(np.where(in_evt, spanned[clipped_evt], 0))

    ids = pd.MultiIndex.from_arrays([ids_ev, ids_as], names=["event", "asset"])
    y_est_all = np.concatenate(blocks_y_est)
    y_evt_all = np.concatenate(blocks_y_evt)
    x_est_all = np.concatenate(blocks_x_est) if F else None
    x_evt_all = np.concatenate(blocks_x_evt) if F else None
    panel = fit_panel(
        y_est_all,
        y_evt_all,
        x_est_all,
        x_evt_all,
        model=model,
        event_days=evt_off,
        ids=ids,
        event_dates=np.array(day0s, dtype="datetime64[ns]"),
        conventions=conventions,
        market_mean_all=np.concatenate(mkt_mean_all) if mkt_mean_all else None,
        market_ss_all=np.concatenate(mkt_ss_all) if mkt_ss_all else None,
        min_estimation=None,
    )
    evt_dates = np.concatenate(evt_dates_rows).astype("datetime64[ns]")
    panel = _with_dates_and_sessions(
        panel, np.concatenate(est_dates_rows), np.concatenate(evt_sessions_rows)
    )
    panel = scale_spanning_returns(panel, y_est_all, x_est_all)
    conf = np.concatenate(confounded_w)

    spec_obj = StudySpec(
        model=model,
        market=market_name,
        factors=tuple(factor_names),
        estimation_window=(e0, e1),
        event_windows=windows,
        returns=returns,
        input=resolved_input,
        min_estimation=min_est,
        conventions=conventions,
        exclude_confounders=exclude_confounders,
        exclusion_band=(b_lo, b_hi),
        multitest=multitest,
        events=tuple(e.id for e in studied),
        series=tuple(assets),
        confounders=tuple(e.id for e in others),
        pooled=pooled,
        independence_tests=bool(independence_tests),
    )
    align_df = pd.DataFrame(
        {
            col: [x for r in align_rows for x in r[col]]
            if col
            in ("event", "series", "title", "timestamp", "time_known", "reason", "confounded_by")
            else np.concatenate([np.asarray(r[col]) for r in align_rows])
            for col in align_rows[0]
        }
    )
    result = build_result(panel, windows, spec_obj, align_df, evt_dates, conf, notices=notices)
    # keep alpha and beta for res.params (the panel holds residuals, not the returns)
    return with_coefficients(result, y_est_all, x_est_all)


def build_result(
    panel: AbnormalPanel,
    windows: Sequence[tuple[int, int]],
    spec: StudySpec,
    alignment: pd.DataFrame | None = None,
    event_dates: np.ndarray | None = None,
    confounded: np.ndarray | None = None,
    *,
    pooled: bool | Literal["auto"] | None = None,
    independence_tests: bool | None = None,
    notices: Sequence[str] = (),
) -> EventStudyResult:
    """Run the single-pair and cross-sectional tests on ``panel`` and pack the result.

    Also used by the benchmark and the simulations (array entry point). ``pooled`` and
    ``independence_tests`` default to ``spec.pooled`` and ``spec.independence_tests``
    and are passed to :func:`oilimpact.eventstudy.crosssection.cross_sectional_tests`;
    ``notices`` become :attr:`EventStudyResult.notices`. Adds the ``sessions`` columns
    and the ``qvalue`` columns (``spec.multitest``) to the tables.
    """
    if pooled is None:
        pooled = spec.pooled
    if independence_tests is None:
        independence_tests = spec.independence_tests
    n = panel.n_pairs
    L2 = panel.event_days.size
    ev = np.asarray(panel.ids.get_level_values(0), dtype=object)
    asset = np.asarray(panel.ids.get_level_values(1), dtype=object)
    art = ar_tests(panel)
    sessions = (
        np.asarray(panel.event_sessions, dtype=np.int64)
        if panel.event_sessions is not None
        else np.ones((n, L2), dtype=np.int64)
    )
    if event_dates is None:
        event_dates = np.full((n, L2), np.datetime64("NaT"), dtype="datetime64[ns]")
    abnormal = pd.DataFrame(
        {
            "event": np.repeat(ev, L2),
            "series": np.repeat(asset, L2),
            "day": np.tile(panel.event_days, n),
            "date": event_dates.reshape(-1),
            "ar": art["ar"].reshape(-1),
            "se": art["se"].reshape(-1),
            "tstat": art["tstat"].reshape(-1),
            "pvalue": art["pvalue"].reshape(-1),
            "sq_pvalue": art["sq_pvalue"].reshape(-1),
            "sessions": sessions.reshape(-1),
        }
    )
    car = car_tests(panel, windows).rename(columns={"asset": "series"})
    nw = len(windows)
    if confounded is None:
        confounded = np.zeros((n, nw), dtype=bool)
    car["confounded"] = np.asarray(confounded, dtype=bool).reshape(-1)
    car["sessions"] = _window_sessions(panel, sessions, windows).reshape(-1)
    _add_qvalues(abnormal, car, spec.multitest)
    tests = (
        _cross_sectional(panel, windows, pooled, independence_tests) if n >= 2 else _empty_tests()
    )
    if alignment is None:
        alignment = pd.DataFrame(
            {
                "event": ev,
                "series": asset,
                "day0": panel.event_dates,
                "n_est": panel.n_est,
            }
        )
    return EventStudyResult(
        spec=spec,
        alignment=alignment,
        abnormal=abnormal,
        car=car,
        tests=tests,
        panel=panel,
        notices=tuple(notices),
    )


def _add_qvalues(abnormal: pd.DataFrame, car: pd.DataFrame, method: MultitestMethod) -> None:
    """``qvalue`` (and ``sq_qvalue``) columns, in place: one family per table and test
    (all CAR t tests of the result; all its CAR SQ tests; all its AR t tests)."""
    car["qvalue"] = adjust_pvalues(car["pvalue"].to_numpy(dtype="float64"), method)
    car["sq_qvalue"] = adjust_pvalues(car["sq_pvalue"].to_numpy(dtype="float64"), method)
    abnormal["qvalue"] = adjust_pvalues(abnormal["pvalue"].to_numpy(dtype="float64"), method)


def _check_band(band: tuple[int, int]) -> tuple[int, int]:
    """The exclusion band as two ints ``lo <= 0 <= hi``, or an EstimationError."""
    try:
        lo, hi = (int(v) for v in band)
    except (TypeError, ValueError) as exc:
        raise EstimationError(
            f"exclusion_band must be two relative trading days (lo, hi), got {band!r}"
        ) from exc
    if lo > 0 or hi < 0:
        raise EstimationError(f"exclusion_band must contain day 0 (lo <= 0 <= hi), got {band!r}")
    return lo, hi


def _min_estimation(
    min_estimation: int | None, estimation: tuple[int, int]
) -> tuple[int, list[str]]:
    """The minimum estimation length and the notices about it.

    Default ``ceil(L1 / 2)``; when that is below :data:`DEFAULT_MIN_ESTIMATION` (a short
    estimation window) a :class:`~oilimpact.eventstudy.result.ShortEstimationWarning` is
    issued and returned as a notice for the summary.
    """
    if min_estimation is not None:
        return int(min_estimation), []
    e0, e1 = estimation
    value = math.ceil((e1 - e0 + 1) / 2)
    if value >= DEFAULT_MIN_ESTIMATION:
        return value, []
    msg = (
        f"the estimation window [{e0}, {e1}] ({e1 - e0 + 1} days) lowers the minimum "
        f"estimation length from {DEFAULT_MIN_ESTIMATION} to {value} days (half the "
        "window); variances from so few days are imprecise. Pass min_estimation= "
        "(--min-estimation) to set it"
    )
    warnings.warn(msg, ShortEstimationWarning, stacklevel=3)
    return value, [msg]


def _band_dropped(
    pos: np.ndarray,
    early: Mapping[int, int],
    T: int,
    band: tuple[int, int],
    est_off: np.ndarray,
    clipped: np.ndarray,
    in_range: np.ndarray,
    active: bool,
) -> np.ndarray:
    """Estimation days of the studied events (rows of ``clipped``) inside the exclusion
    band of another event, shape (E, L1).

    ``pos`` holds the day-0 session of every event (studied first; -1 if none) and
    ``early`` the virtual (negative) day 0 of events just before the data. The bands
    of all events are counted per session; a studied event's own band (the columns
    ``est_off`` inside the band) is subtracted, so only *other* events drop days.
    """
    if not active:
        return np.zeros(clipped.shape, dtype=bool)
    lo, hi = band
    cover = np.zeros(T + 1, dtype=np.int64)
    for j in range(len(pos)):
        pj = int(pos[j]) if pos[j] >= 0 else early.get(j)
        if pj is None:
            continue
        a = max(pj + lo, 0)
        b = min(pj + hi + 1, T)
        if a < b:
            cover[a] += 1
            cover[b] -= 1
    count = np.cumsum(cover)[:T]
    own = ((est_off >= lo) & (est_off <= hi)).astype(np.int64)[None, :]
    return in_range & ((count[clipped] - own) > 0)


def _window_sessions(
    panel: AbnormalPanel, sessions: np.ndarray, windows: Sequence[tuple[int, int]]
) -> np.ndarray:
    """Sessions of the series' calendar each CAR window spans, shape (N, J): the sum of
    its returns' ``sessions`` (more than the window's length when one spans a missing
    session; 0 counts a day outside the data)."""
    out = np.empty((panel.n_pairs, len(windows)), dtype=np.int64)
    for j, window in enumerate(windows):
        out[:, j] = sessions[:, panel.window_index(tuple(window))].sum(axis=1)
    return out


def _empty_tests() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "window": pd.Series(dtype=object),
            "test": pd.Series(dtype=object),
            "statistic": pd.Series(dtype="float64"),
            "pvalue": pd.Series(dtype="float64"),
            "n": pd.Series(dtype="int64"),
        }
    )


def _cross_sectional(
    panel: AbnormalPanel,
    windows: Sequence[tuple[int, int]],
    pooled: bool | Literal["auto"] = "auto",
    independence_tests: bool = False,
) -> pd.DataFrame:
    """The cross-sectional tests, under the pooled-test policy of
    :func:`~oilimpact.eventstudy.crosssection.cross_sectional_tests`."""
    try:
        from .crosssection import cross_sectional_tests
    except ImportError:
        return _empty_tests()
    params = inspect.signature(cross_sectional_tests).parameters
    if "pooled" in params and "independence_tests" in params:
        return cross_sectional_tests(
            panel, list(windows), pooled=pooled, independence_tests=independence_tests
        )
    return cross_sectional_tests(panel, list(windows))  # pragma: no cover - older policy


def _with_dates_and_sessions(
    panel: AbnormalPanel, est_dates: np.ndarray, event_sessions: np.ndarray
) -> AbnormalPanel:
    """``panel`` with :attr:`~AbnormalPanel.est_dates` (NaT where the fit has no residual)
    and :attr:`~AbnormalPanel.event_sessions` set; the fit's cache mark is kept."""
    dates = np.asarray(est_dates, dtype="datetime64[ns]").copy()
    dates[np.isnan(panel.est_resid)] = np.datetime64("NaT", "ns")
    out = replace(panel, est_dates=dates, event_sessions=np.asarray(event_sessions, np.int64))
    if panel_store(panel).get(MARKET_PE):
        panel_store(out)[MARKET_PE] = True
    return out
