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

from dataclasses import dataclass, replace

import numpy as np

from . import kernels
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
    row: np.ndarray
    asset_ret: np.ndarray
    reg_ret: np.ndarray
    bad: np.ndarray
    bad_col: np.ndarray
    gap: np.ndarray
    uncarried: np.ndarray

    def sessions_before(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Sessions of pair ``cols`` strictly before frame row ``rows`` (same shape).

        A binary search of each pair's rows (increasing) ``row[start : start + n]``,
        all pairs at once: ``lo`` and ``hi`` close in on the first session on or after
        the row, ``log2(T)`` steps of array operations.
        """
        cols = np.asarray(cols)
        rows = np.broadcast_to(rows, cols.shape)
        lo = self.start[cols].copy()
        hi = lo + self.n_sessions[cols]
        active = lo < hi
        while active.any():
            mid = (lo + hi) // 2
            after = self.row[np.where(active, mid, 0)] < rows  # the session is before
            lo = np.where(active & after, mid + 1, lo)
            hi = np.where(active & ~after, mid, hi)
            active = lo < hi
        return lo - self.start[cols]


def session_grid(
    assets: np.ndarray,
    regs: np.ndarray,
    dates: np.ndarray,
    *,
    input_kind: str,
    method: ReturnMethod,
    conventions: str,
    n_pairs: int | None = None,
) -> SessionGrid:
    """The pair sessions and their returns, for the columns of ``assets`` (T, A) with the
    regressors ``regs`` (T, F) on ``dates`` (T,).

    From :data:`~oilimpact.eventstudy.kernels.MIN_PAIRS` pairs on (``n_pairs``, the
    columns by default) one compiled pass per column block builds it
    (:func:`oilimpact.eventstudy._jit.grid_columns`); below, the array operations of
    :func:`_grid_numpy`, which are the reference.

    Notes
    -----
    See the module notes for the returns of a pair session and what a spanning return
    carries.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[10.0], [np.nan], [12.1]])
    >>> m = np.array([[100.0], [101.0], [102.0]])
    >>> days = np.array(["2024-01-02", "2024-01-03", "2024-01-04"], dtype="datetime64[ns]")
    >>> g = session_grid(p, m, days, input_kind="prices", method="simple",
    ...                  conventions="textbook")
    >>> g.row.tolist(), round(float(g.asset_ret[1]), 4), g.gap.tolist()
    ([0, 2], 0.21, [False, True])
    """
    args = (assets, regs, dates, input_kind, method, conventions)
    if kernels.enabled(assets.shape[1] if n_pairs is None else n_pairs):
        return _grid_compiled(*args)
    return _grid_numpy(*args)


def _sessions(assets: np.ndarray, regs: np.ndarray) -> tuple[np.ndarray, ...]:
    """The pair sessions: ``own`` (T, A) asset observed, ``reg_obs`` (T, F), ``valid``
    (T, A), sessions per pair and each pair's first flat position."""
    own = ~np.isnan(assets)
    reg_obs = ~np.isnan(regs)
    valid = own & reg_obs.all(axis=1)[:, None]
    n_sess = valid.sum(axis=0).astype(np.int64)
    start = np.zeros(n_sess.size, dtype=np.int64)
    np.cumsum(n_sess[:-1], out=start[1:])
    return own, reg_obs, valid, n_sess, start


def _grid_compiled(
    assets: np.ndarray,
    regs: np.ndarray,
    dates: np.ndarray,
    input_kind: str,
    method: ReturnMethod,
    conventions: str,
) -> SessionGrid:
    """:func:`_grid_numpy` by the compiled kernel, column blocks on a few threads."""
    jit = kernels.jit()
    assert jit is not None
    T, A = assets.shape
    F = regs.shape[1]
    own, reg_obs, valid, n_sess, start = _sessions(assets, regs)
    S = int(n_sess.sum())
    kind = (0 if input_kind == "prices" else 1) + (2 if conventions == "estudy2" else 0)
    log = method == "log"
    reg_day = _reg_day(regs, kind, method)
    reg_cum = np.cumsum(reg_obs.sum(axis=1), dtype=np.int64)
    reg_all, reg_any = reg_obs.all(axis=1), reg_obs.any(axis=1)
    row, bad_col = np.empty(S, np.int64), np.empty(S, np.int64)
    asset_ret, reg_ret = np.empty(S), np.empty((S, F))
    bad, gap, uncarried = np.empty(S, bool), np.empty(S, bool), np.empty(A, np.int64)
    values = np.asfortranarray(assets)

    def run(c0: int, c1: int) -> None:
        jit.grid_columns(values, regs, reg_all, reg_any, reg_cum, reg_day, start, c0, c1,
                         kind, log, row, asset_ret, reg_ret, bad, bad_col, gap,
                         uncarried)  # fmt: skip
        if kind in (0, 2) and log:  # the kernel gave price ratios (numpy's log, as the twin)
            lo = start[c0] if c0 < A else S
            hi = start[c1] if c1 < A else S
            with np.errstate(divide="ignore", invalid="ignore"):
                np.log(asset_ret[lo:hi], out=asset_ret[lo:hi])

    kernels.by_blocks(A, run)
    return SessionGrid(dates, valid, n_sess, start, row, asset_ret, reg_ret, bad,
                       bad_col, gap, uncarried)  # fmt: skip


def _reg_day(regs: np.ndarray, kind: int, method: ReturnMethod) -> np.ndarray:
    """The regressors' returns by date that :func:`~oilimpact.eventstudy._jit.grid_columns`
    reads (T, F): from the previous date (prices, textbook; a price <= 0 read as NaN
    under log returns), estudy2's own returns (prices, estudy2), zeros (returns)."""
    if kind == 2:
        return _own_returns(regs, method)
    out = np.zeros(regs.shape)
    if kind == 0:
        vals = np.where(regs <= 0, np.nan, regs) if method == "log" else regs
        out[0] = np.nan
        out[1:] = _ret(vals[1:], vals[:-1], method)
    return out


def _grid_numpy(
    assets: np.ndarray,
    regs: np.ndarray,
    dates: np.ndarray,
    input_kind: str,
    method: ReturnMethod,
    conventions: str,
) -> SessionGrid:
    """:func:`session_grid` by array operations on the whole (T, A) frame."""
    T, A = assets.shape
    own = ~np.isnan(assets)
    reg_obs = ~np.isnan(regs)
    reg_all = reg_obs.all(axis=1)
    valid = own & reg_all[:, None]
    n_sess = valid.sum(axis=0).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(n_sess)[:-1]]).astype(np.int64)
    mask = valid.T.ravel()  # asset-major, dates increasing
    row = np.tile(np.arange(T, dtype=np.int64), A)[mask]
    a_val = np.ascontiguousarray(assets.T).ravel()[mask]
    first = np.zeros(row.size, dtype=bool)
    first[start[n_sess > 0]] = True
    # dates where some but not all of a pair's series are observed: few, kept sparse
    nrow, ncol = np.nonzero((own | reg_obs.any(axis=1)[:, None]) & ~valid)
    order = np.lexsort((nrow, ncol))
    nrow, ncol = nrow[order], ncol[order]
    grid = SessionGrid(dates, valid, n_sess, start, row, a_val, regs[:0], np.zeros(0, bool),
                       np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, np.int64))  # fmt: skip
    target = grid.sessions_before(nrow, ncol)  # the pair's next session
    bad = np.zeros(row.size, dtype=bool)
    bad_col = np.full(row.size, -1, dtype=np.int64)
    if input_kind == "prices":
        asset_ret, reg_ret, bad, bad_col = _price_returns(a_val, regs, row, first, method)
    else:
        asset_ret, reg_ret = _carried(assets, regs, a_val, row, nrow, ncol, target, start,
                                      n_sess, method)  # fmt: skip
    if conventions == "estudy2":
        asset_ret, reg_ret = _estudy2(assets, regs, row, mask, input_kind, method, a_val)
    inner = (target > 0) & (target < n_sess[ncol])
    gap = np.zeros(row.size, dtype=bool)
    gap[start[ncol[inner]] + target[inner]] = True
    uncarried = _uncarried(own, reg_obs, row, start, n_sess, nrow, ncol)
    return replace(grid, asset_ret=asset_ret, reg_ret=reg_ret, bad=bad, bad_col=bad_col,
                   gap=gap, uncarried=uncarried)  # fmt: skip


def _lagged(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The previous session's values within each pair (NaN on a pair's first)."""
    prev = np.empty_like(values)
    prev[1:] = values[:-1]
    prev[first] = np.nan
    return prev


def _price_returns(
    a_val: np.ndarray,
    regs: np.ndarray,
    row: np.ndarray,
    first: np.ndarray,
    method: ReturnMethod,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Returns between consecutive pair sessions (``compute_returns``' arithmetic); under
    log returns a non-positive price gives NaN returns, marked in ``bad``.

    A regressor's return is its one-date return (computed once per date) except where
    the pair's previous session is not the previous date: there it spans the gap."""
    r_val = regs[row]
    bad = np.zeros(a_val.size, dtype=bool)
    bad_col = np.full(a_val.size, -1, dtype=np.int64)
    if method == "log" and ((a_val <= 0).any() or (regs <= 0).any()):
        bad_price = np.column_stack([a_val <= 0, r_val <= 0])
        bad_row = bad_price.any(axis=1)
        bad_col = np.where(bad_row, np.argmax(bad_price, axis=1), -1)
        bad = bad_row | (_lagged(bad_row.astype("float64"), first) == 1.0)
        a_val = np.where(a_val <= 0, np.nan, a_val)
        regs = np.where(regs <= 0, np.nan, regs)
        r_val = regs[row]
    asset_ret = np.empty_like(a_val)
    asset_ret[:1] = np.nan  # (no session at all: the chunk check names the series)
    asset_ret[1:] = _ret(a_val[1:], a_val[:-1], method)
    asset_ret[first] = np.nan
    one_day = np.full(regs.shape, np.nan)
    one_day[1:] = _ret(regs[1:], regs[:-1], method)
    reg_ret = one_day[row]
    span = np.ones(row.size, dtype=bool)
    span[1:] = (row[1:] - row[:-1]) != 1
    span &= ~first
    if span.any():
        at = np.flatnonzero(span)
        reg_ret[at] = _ret(r_val[at], r_val[at - 1], method)
    reg_ret[first] = np.nan
    return asset_ret, reg_ret, bad, bad_col


def _ret(values: np.ndarray, prev: np.ndarray, method: ReturnMethod) -> np.ndarray:
    """``log(values / prev)`` or ``values / prev - 1`` (NaN where either is NaN)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.divide(values, prev)
        if method == "log":
            return np.log(out, out=out)
        return np.subtract(out, 1.0, out=out)


def _carried(
    assets: np.ndarray,
    regs: np.ndarray,
    a_val: np.ndarray,
    row: np.ndarray,
    nrow: np.ndarray,
    ncol: np.ndarray,
    target: np.ndarray,
    start: np.ndarray,
    n_sess: np.ndarray,
    method: ReturnMethod,
) -> tuple[np.ndarray, np.ndarray]:
    """Given returns on the pair sessions, with those of the pair's other dates
    (``nrow``, ``ncol``; ``target`` their pair's next session) carried into its next
    session (summed, or compounded for simple returns)."""
    R = np.column_stack([a_val, regs[row]])
    keep = (target > 0) & (target < n_sess[ncol])
    ncol, nrow, target = ncol[keep], nrow[keep], target[keep]
    if nrow.size:
        flat = start[ncol] + target
        carried = np.nan_to_num(np.column_stack([assets[nrow, ncol], regs[nrow]]), nan=0.0)
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
    mask: np.ndarray,
    input_kind: str,
    method: ReturnMethod,
    a_val: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The session returns as estudy2 0.10 forms them (see the module notes)."""
    if input_kind == "returns":
        return a_val.copy(), regs[row]
    own = np.ascontiguousarray(_own_returns(assets, method).T).ravel()[mask]
    return own, _own_returns(regs, method)[row]


def _uncarried(
    own: np.ndarray,
    reg_obs: np.ndarray,
    row: np.ndarray,
    start: np.ndarray,
    n_sess: np.ndarray,
    nrow: np.ndarray,
    ncol: np.ndarray,
) -> np.ndarray:
    """Values of the asset and the regressors dated after each pair's last session (the
    asset's are among the non-session dates ``nrow``, ``ncol``)."""
    out = np.zeros(n_sess.size, dtype=np.int64)
    has = n_sess > 0
    last = np.full(n_sess.size, -1, dtype=np.int64)
    last[has] = row[start[has] + n_sess[has] - 1]
    after = (nrow > last[ncol]) & own[nrow, ncol] & has[ncol]
    np.add.at(out, ncol[after], 1)
    reg_cum = np.cumsum(reg_obs.sum(axis=1), dtype=np.int64)
    out[has] += reg_cum[-1] - reg_cum[last[has]]
    return out


def spanned_sessions(
    grid: SessionGrid,
    values: np.ndarray,
    codes: list[str],
    at: np.ndarray,
    at_cols: np.ndarray | None = None,
) -> np.ndarray:
    """Sessions of each asset's own calendar that the returns at flat positions ``at``
    span (same shape as ``at``).

    ``values`` (T, A) holds the assets' values (NaN: none), ``codes`` each asset's
    exchange_calendars code; ``at_cols``, when given, the asset column of each
    position (broadcast to ``at``; found from the grid otherwise). The count of dates in
    ``(s_{j-1}, s_j]`` that are calendar sessions or dates where the asset has a value
    (at least 1; 1 on a pair's first session), as
    :func:`~oilimpact.eventstudy.alignment.sessions_spanned`: a cumulative count of the
    calendar's sessions plus one of the asset's values off the calendar.

    Notes
    -----
    The dates off the calendar are few (holidays with prices), so the asset's values on
    them are counted on those rows only: ``cum[i, c]``, the values of asset ``c`` on
    the first ``i`` off-calendar rows, gives the count in ``(r0, r1]`` as
    ``cum[i(r1), c] - cum[i(r0), c]`` with ``i(r)`` the off-calendar rows up to ``r``.
    """
    dates_ns = grid.dates.astype("datetime64[ns]").astype(np.int64)
    out = np.ones(at.shape, dtype=np.int64)
    if dates_ns.size == 0 or at.size == 0:
        return out
    if at_cols is None:
        col = np.searchsorted(grid.start, at, side="right") - 1
        col = np.where(grid.n_sessions[np.clip(col, 0, None)] > 0, col, 0)
    else:
        col = np.broadcast_to(at_cols, at.shape)
    prev = np.maximum(at - 1, 0)
    first = at == grid.start[col]
    r1, r0 = grid.row[at], grid.row[prev]
    codes_arr = np.asarray(codes, dtype=object)
    one_code = len(set(codes)) == 1
    for code in dict.fromkeys(codes):
        cal = calendar_days(code, int(dates_ns[0]), int(dates_ns[-1]))
        n_cal = np.searchsorted(cal, dates_ns, side="right")
        off_rows = np.flatnonzero(~np.isin(dates_ns, cal))
        if one_code:
            sel, ci, cols = np.ones(at.shape, dtype=bool), col, np.arange(values.shape[1])
        else:
            cols = np.flatnonzero(codes_arr == code)
            pos = np.full(values.shape[1], -1, dtype=np.int64)
            pos[cols] = np.arange(cols.size)
            sel, ci = pos[col] >= 0, np.maximum(pos[col], 0)
        span = n_cal[r1] - n_cal[r0]
        if off_rows.size:
            cum = np.zeros((off_rows.size + 1, cols.size), dtype=np.int64)
            off = values[off_rows] if one_code else values[off_rows][:, cols]
            np.cumsum(~np.isnan(off), axis=0, out=cum[1:])
            i1 = np.searchsorted(off_rows, r1, side="right")
            i0 = np.searchsorted(off_rows, r0, side="right")
            span += cum[i1, ci] - cum[i0, ci]
        out = np.where(sel, np.maximum(span, 1), out)
    return np.where(first, 1, out)
