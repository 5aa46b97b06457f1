"""The session grids of all (asset, regressors) pairs of a study, built by array operations.

A *pair session* of asset ``a`` is a date on which ``a`` and every regressor have a
value. Every pair's sessions are laid end to end in one flat array (asset-major, dates
increasing), so session ``j`` of asset ``a`` is element ``start[a] + j``: the pair's
returns, the sessions each return spans and whether it spans a date where only some
series were observed are computed for all pairs at once (no loop over pairs).

Notes
-----
With prices, the return of a pair session runs from the pair's previous session
(``log(P_t / P_{t-1})`` or ``P_t / P_{t-1} - 1``, as
:func:`~oilimpact.eventstudy.returns.compute_returns` forms them): a date on which only
some series were observed is spanned. With returns as input, the returns dated on such
a date are carried into the next pair session (summed for log returns, compounded for
simple ones), which gives the same numbers; returns before the pair's first session or
after its last are not carried. Under ``conventions="estudy2"`` nothing is carried:
each series' return runs from its own previous price (estudy2 0.10's
``get_rates_from_prices(multi_day = TRUE)``), or, with returns given, each session keeps
its own date's returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .alignment import calendar_days
from .returns import ReturnMethod

__all__ = ["SessionGrid", "session_grid"]


@dataclass(frozen=True, slots=True)
class SessionGrid:
    """The pair sessions of ``A`` assets in one flat layout of ``S`` sessions.

    Attributes
    ----------
    dates : ndarray of datetime64[ns], shape (T,)
        The frame's dates.
    valid : ndarray of bool, shape (T, A)
        Pair sessions: the asset and every regressor observed.
    n_sessions : ndarray of int64, shape (A,)
        Sessions per pair.
    start : ndarray of int64, shape (A,)
        Flat position of each pair's first session.
    before : ndarray of int64, shape (T, A)
        Sessions of each pair on or before each date (a cumulative count of ``valid``).
    row : ndarray of int64, shape (S,)
        Frame row of each flat session.
    asset_ret, reg_ret : ndarray, shapes (S,) and (S, F)
        Returns of the asset and the regressors on each session.
    bad : ndarray of bool, shape (S,)
        Log returns into or out of a non-positive price (refused where a window uses one).
    bad_col : ndarray of int64, shape (S,)
        The first column (0 the asset, ``1 + f`` regressor ``f``) with a price <= 0 on
        each session, -1 where none (names the series in the error).
    gap : ndarray of bool, shape (S,)
        The return spans a date where only some of the pair's series were observed.
    uncarried : ndarray of int64, shape (A,)
        Values dated after the pair's last session (no return can include them).
    """

    dates: np.ndarray
    valid: np.ndarray
    n_sessions: np.ndarray
    start: np.ndarray
    before: np.ndarray
    row: np.ndarray
    asset_ret: np.ndarray
    reg_ret: np.ndarray
    bad: np.ndarray
    bad_col: np.ndarray
    gap: np.ndarray
    uncarried: np.ndarray

    @property
    def first_in_pair(self) -> np.ndarray:
        """Whether each flat session is its pair's first, shape (S,)."""
        out = np.zeros(self.row.size, dtype=bool)
        out[self.start[self.n_sessions > 0]] = True
        return out


def session_grid(
    assets: np.ndarray,
    regs: np.ndarray,
    dates: np.ndarray,
    *,
    input_kind: str,
    method: ReturnMethod,
    conventions: str,
) -> SessionGrid:
    """The pair sessions and their returns, for the columns of ``assets`` (T, A) with the
    regressors ``regs`` (T, F) on ``dates`` (T,). See the module notes."""
    own = ~np.isnan(assets)
    reg_obs = ~np.isnan(regs)
    valid = own & reg_obs.all(axis=1)[:, None]
    any_obs = own | reg_obs.any(axis=1)[:, None]
    n_sess = valid.sum(axis=0).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(n_sess)[:-1]]).astype(np.int64)
    col, row = np.nonzero(valid.T)  # asset-major, dates increasing
    first = np.zeros(row.size, dtype=bool)
    first[start[n_sess > 0]] = True
    before = np.cumsum(valid, axis=0, dtype=np.int64)
    a_val, r_val = assets[row, col], regs[row]
    bad = np.zeros(row.size, dtype=bool)
    bad_col = np.full(row.size, -1, dtype=np.int64)
    if input_kind == "prices":
        asset_ret, reg_ret, bad, bad_col = _price_returns(a_val, r_val, first, method)
    else:
        asset_ret, reg_ret = _carried(assets, regs, a_val, r_val, any_obs, valid, before,
                                      start, n_sess, method)  # fmt: skip
    if conventions == "estudy2":
        asset_ret, reg_ret = _estudy2(assets, regs, row, col, input_kind, method, a_val, r_val)
    any_cum = np.cumsum(any_obs, axis=0, dtype=np.int64)[row, col]
    gap = np.zeros(row.size, dtype=bool)
    gap[1:] = (any_cum[1:] - any_cum[:-1]) > 1
    gap[first] = False
    return SessionGrid(
        dates=dates,
        valid=valid,
        n_sessions=n_sess,
        start=start,
        before=before,
        row=row,
        asset_ret=asset_ret,
        reg_ret=reg_ret,
        bad=bad,
        bad_col=bad_col,
        gap=gap,
        uncarried=_uncarried(own, reg_obs, row, start, n_sess),
    )


def _lagged(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The previous session's values within each pair (NaN on a pair's first)."""
    prev = np.empty_like(values)
    prev[1:] = values[:-1]
    prev[first] = np.nan
    return prev


def _price_returns(
    a_val: np.ndarray, r_val: np.ndarray, first: np.ndarray, method: ReturnMethod
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Returns between consecutive pair sessions (``compute_returns``' arithmetic); under
    log returns a non-positive price gives NaN returns, marked in ``bad``."""
    prices = np.column_stack([a_val, r_val])
    bad = np.zeros(a_val.size, dtype=bool)
    bad_col = np.full(a_val.size, -1, dtype=np.int64)
    if method == "log":
        bad_price = prices <= 0
        if bad_price.any():
            bad_row = bad_price.any(axis=1)
            bad_col = np.where(bad_row, np.argmax(bad_price, axis=1), -1)
            bad = bad_row.copy()
            nxt = np.zeros_like(bad_row)
            nxt[1:] = bad_row[:-1]
            bad |= nxt & ~first
            prices = np.where(bad_price, np.nan, prices)
    prev = _lagged(prices, first)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.log(prices / prev) if method == "log" else prices / prev - 1.0
    return out[:, 0].copy(), out[:, 1:].copy(), bad, bad_col


def _carried(
    assets: np.ndarray,
    regs: np.ndarray,
    a_val: np.ndarray,
    r_val: np.ndarray,
    any_obs: np.ndarray,
    valid: np.ndarray,
    before: np.ndarray,
    start: np.ndarray,
    n_sess: np.ndarray,
    method: ReturnMethod,
) -> tuple[np.ndarray, np.ndarray]:
    """Given returns on the pair sessions, with those of the pair's other dates carried
    into its next session (summed, or compounded for simple returns)."""
    R = np.column_stack([a_val, r_val])
    col, row = np.nonzero((any_obs & ~valid).T)  # per pair, dates increasing
    target = before[row, col]  # the pair's next session
    keep = (target > 0) & (target < n_sess[col])
    col, row, target = col[keep], row[keep], target[keep]
    if row.size:
        flat = start[col] + target
        carried = np.nan_to_num(np.column_stack([assets[row, col], regs[row]]), nan=0.0)
        rows = np.unique(flat)
        if method == "log":
            acc = np.zeros_like(R)
            np.add.at(acc, flat, carried)
            R[rows] += acc[rows]
        else:
            acc = np.ones_like(R)
            np.multiply.at(acc, flat, 1.0 + carried)
            R[rows] = (1.0 + R[rows]) * acc[rows] - 1.0
    return R[:, 0].copy(), R[:, 1:].copy()


def _own_returns(values: np.ndarray, method: ReturnMethod) -> np.ndarray:
    """Each column's returns from its own previous value (T, C); NaN where it has none."""
    col, row = np.nonzero(~np.isnan(values.T))
    v = values[row, col]
    if method == "log":
        v = np.where(v > 0, v, np.nan)
    first = np.ones(v.size, dtype=bool)
    first[1:] = col[1:] != col[:-1]
    prev = _lagged(v, first)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.log(v / prev) if method == "log" else v / prev - 1.0
    out = np.full(values.shape, np.nan)
    out[row, col] = r
    return out


def _estudy2(
    assets: np.ndarray,
    regs: np.ndarray,
    row: np.ndarray,
    col: np.ndarray,
    input_kind: str,
    method: ReturnMethod,
    a_val: np.ndarray,
    r_val: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The session returns as estudy2 0.10 forms them (see the module notes)."""
    if input_kind == "returns":
        return a_val.copy(), r_val.copy()
    return _own_returns(assets, method)[row, col], _own_returns(regs, method)[row]


def _uncarried(
    own: np.ndarray, reg_obs: np.ndarray, row: np.ndarray, start: np.ndarray, n_sess: np.ndarray
) -> np.ndarray:
    """Values of the asset and the regressors dated after each pair's last session."""
    out = np.zeros(n_sess.size, dtype=np.int64)
    has = n_sess > 0
    last = row[start[has] + n_sess[has] - 1]
    own_cum = np.cumsum(own, axis=0, dtype=np.int64)
    reg_cum = np.cumsum(reg_obs.sum(axis=1), dtype=np.int64)
    cols = np.flatnonzero(has)
    out[has] = (own_cum[-1, cols] - own_cum[last, cols]) + (reg_cum[-1] - reg_cum[last])
    return out


def spanned_sessions(
    grid: SessionGrid, own: np.ndarray, codes: list[str], at: np.ndarray
) -> np.ndarray:
    """Sessions of each asset's own calendar that the returns at flat positions ``at``
    span (same shape as ``at``).

    ``codes`` holds each asset's exchange_calendars code. The count of dates in
    ``(s_{j-1}, s_j]`` that are calendar sessions or dates where the asset has a value
    (at least 1; 1 on a pair's first session), as
    :func:`~oilimpact.eventstudy.alignment.sessions_spanned`: a cumulative count of the
    calendar's sessions plus one of the asset's values off the calendar.
    """
    dates_ns = grid.dates.astype("datetime64[ns]").astype(np.int64)
    out = np.ones(at.shape, dtype=np.int64)
    if dates_ns.size == 0 or at.size == 0:
        return out
    col = np.searchsorted(grid.start, at, side="right") - 1
    col = np.where(grid.n_sessions[np.clip(col, 0, None)] > 0, col, 0)
    prev = np.maximum(at - 1, 0)
    first = at == grid.start[col]
    codes_arr = np.asarray(codes, dtype=object)
    for code in dict.fromkeys(codes):
        cal = calendar_days(code, int(dates_ns[0]), int(dates_ns[-1]))
        n_cal = np.searchsorted(cal, dates_ns, side="right")
        off_cal = ~np.isin(dates_ns, cal)
        if len(set(codes)) == 1:
            sel = np.ones(at.shape, dtype=bool)
            extra = np.cumsum(own & off_cal[:, None], axis=0, dtype=np.int64)
            ci = col
        else:
            cols = np.flatnonzero(codes_arr == code)
            extra = np.cumsum(own[:, cols] & off_cal[:, None], axis=0, dtype=np.int64)
            pos = np.full(own.shape[1], -1, dtype=np.int64)
            pos[cols] = np.arange(cols.size)
            sel = pos[col] >= 0
            ci = pos[col]
        r1, r0 = grid.row[at], grid.row[prev]
        span = (n_cal[r1] - n_cal[r0]) + (extra[r1, np.maximum(ci, 0)] - extra[r0, np.maximum(ci, 0)])
        out = np.where(sel, np.maximum(span, 1), out)
    return np.where(first, 1, out)
