"""The compiled session grid: every pair's sessions, returns and gaps in one pass per
column (twin: :func:`oilimpact.eventstudy.grid._grid_numpy`, the reference below
:data:`~oilimpact.eventstudy.kernels.MIN_PAIRS` pairs)."""

from __future__ import annotations

import numpy as np

from ._base import njit as _jit

__all__ = ["TWINS", "grid_columns"]

TWINS = {
    "grid_columns": (
        "grid._grid_numpy",
        "pair sessions, their returns, spanning gaps and uncarried values",
    ),
}

#: ``kind`` of :func:`grid_columns`: how the session returns are formed
PRICES, RETURNS, PRICES_ESTUDY2, RETURNS_ESTUDY2 = 0, 1, 2, 3

_BIG = np.finfo(np.float64).max


@_jit
def _ret(value, prev, log):  # noqa: ANN001, ANN201
    """``log(value / prev)`` or ``value / prev - 1`` (the twin's ``_ret``)."""
    x = value / prev
    return np.log(x) if log else x - 1.0


@_jit
def _positive(value, log):  # noqa: ANN001, ANN201
    """A price as log returns read it: NaN where it is <= 0."""
    return np.nan if log and value <= 0.0 else value


@_jit
def _finite(value):  # noqa: ANN001, ANN201
    """``np.nan_to_num(value, nan=0.0)``."""
    if value != value:
        return 0.0
    if value == np.inf:
        return _BIG
    if value == -np.inf:
        return -_BIG
    return value


@_jit
def _bad_column(assets, regs, t, a):  # noqa: ANN001, ANN201
    """The first column (0 the asset, 1 + f regressor f) with a price <= 0 on row t, or -1."""
    if assets[t, a] <= 0.0:
        return 0
    for f in range(regs.shape[1]):
        if regs[t, f] <= 0.0:
            return 1 + f
    return -1


@_jit
def _carry(acc, value, log):  # noqa: ANN001, ANN201
    """One carried return added (log) or compounded (simple) into ``acc``."""
    return acc + _finite(value) if log else acc * (1.0 + _finite(value))


@_jit
def _carried(ret, acc, log):  # noqa: ANN001, ANN201
    """A session's return with the carried ``acc`` of the dates before it."""
    return ret + acc if log else (1.0 + ret) * acc - 1.0


@_jit
def _ratio(value, prev, log):  # noqa: ANN001, ANN201
    """``value / prev`` (its log is taken afterwards, by numpy, on all sessions at once)
    or ``value / prev - 1``."""
    x = value / prev
    return x if log else x - 1.0


@_jit
def _asset_return(v, prev, last_obs, first, kind, log):  # noqa: ANN001, ANN201
    """The asset's return on a session (``prev``: its value on the pair's previous
    session; ``last_obs``: its previous value, for estudy2; ``first``: the pair's first
    session). A price ratio under log returns (see :func:`_ratio`). Scalars only: a
    helper taking arrays would pay reference counting on every call."""
    if kind == PRICES:
        return np.nan if first else _ratio(_positive(v, log), _positive(prev, log), log)
    if kind == PRICES_ESTUDY2:
        return _ratio(_positive(v, log), last_obs, log)
    return v  # given returns (carried ones are added by the caller)


@_jit
def _price_reg_returns(regs, reg_day, row, s0, s1, textbook, log, reg_ret):  # noqa: ANN001, ANN201
    """The regressors' returns on the sessions ``s0 .. s1`` of one pair, from prices:
    ``reg_day`` of the session's date (the return from the previous date, or the
    estudy2 return); textbook: NaN on the pair's first session, and from the value on
    the previous session where that is further back than the previous date.

    A pass of its own after the pair's sessions are known: a tight gather, and the log
    of a spanning return only where one is needed (inside the main loop the compiler
    computes it for every session to choose)."""
    for f in range(regs.shape[1]):
        for q in range(s0, s1):
            reg_ret[q, f] = reg_day[row[q], f]
        if not textbook or s1 <= s0:
            continue
        reg_ret[s0, f] = np.nan
        for q in range(s0 + 1, s1):
            t1, t0 = row[q], row[q - 1]
            if t1 - t0 != 1:
                reg_ret[q, f] = _ret(_positive(regs[t1, f], log), _positive(regs[t0, f], log), log)


@_jit
def grid_columns(  # noqa: ANN001, ANN201
    assets,
    regs,
    reg_all,
    reg_any,
    reg_cum,
    reg_day,
    start,
    c0,
    c1,
    kind,
    log,
    row,
    asset_ret,
    reg_ret,
    bad,
    bad_col,
    gap,
    uncarried,
):
    """The pair sessions of the columns ``c0 .. c1`` of ``assets`` (T, A) and their
    returns, written from flat position ``start[a]`` of each column ``a``.

    A session is a row where the asset and every regressor (``reg_all``) are observed.
    Between two sessions, rows where some series is observed (the asset or any
    regressor, ``reg_any``) make the next session's return spanning (``gap``); with
    given returns (``kind`` RETURNS) their values are carried into it (summed under log
    returns, compounded otherwise, in date order as the twin's ``add.at`` /
    ``multiply.at``). ``uncarried[a]``: the asset's values after its last session plus
    the regressors' (``reg_cum``: cumulative count of regressor values per row).
    Under log returns of prices, ``bad_col`` is the first column with a price <= 0 and
    ``bad`` marks the sessions into or out of such a price, and ``asset_ret`` holds
    price ratios (the caller takes their log). ``reg_day`` (T, F) holds the regressors'
    one-date returns (``kind`` PRICES) or their estudy2 returns (PRICES_ESTUDY2).
    """
    T, F = assets.shape[0], regs.shape[1]
    acc_r = np.empty(F)
    prices = kind == PRICES or kind == PRICES_ESTUDY2
    for a in range(c0, c1):
        s = start[a]
        prev_t = -1
        pending = False
        prev_bad = False
        acc_a = 0.0
        since = 0
        last_obs = np.nan
        for t in range(T):
            v = assets[t, a]
            seen = v == v
            if not (seen and reg_all[t]):
                since += seen
                if prev_t >= 0 and (seen or reg_any[t]):
                    if not pending:
                        acc_a = 0.0 if log else 1.0
                        acc_r[:] = acc_a
                        pending = True
                    if kind == RETURNS:
                        acc_a = _carry(acc_a, v, log)
                        for f in range(F):
                            acc_r[f] = _carry(acc_r[f], regs[t, f], log)
                if seen:
                    last_obs = _positive(v, log)
                continue
            since = 0
            row[s] = t
            bc = _bad_column(assets, regs, t, a) if prices and log else -1
            bad_col[s] = bc
            bad[s] = bc >= 0 or (prev_t >= 0 and prev_bad)
            prev_bad = bc >= 0
            first = prev_t < 0
            p = t if first else prev_t  # (not read on a first session)
            asset_ret[s] = _asset_return(v, assets[p, a], last_obs, first, kind, log)
            if not prices:  # given returns (those of prices: _price_reg_returns)
                for f in range(F):
                    reg_ret[s, f] = regs[t, f]
            if kind == RETURNS and pending:
                asset_ret[s] = _carried(asset_ret[s], acc_a, log)
                for f in range(F):
                    reg_ret[s, f] = _carried(reg_ret[s, f], acc_r[f], log)
            last_obs = _positive(v, log)
            gap[s] = pending
            pending = False
            prev_t = t
            s += 1
        uncarried[a] = since + reg_cum[T - 1] - reg_cum[prev_t] if prev_t >= 0 else 0
        if prices:
            _price_reg_returns(regs, reg_day, row, start[a], s, kind == PRICES, log, reg_ret)
