"""The compiled pair windows and their gathered arrays, one pass per pair (twins:
:func:`oilimpact.eventstudy.build.pair_windows` and
:func:`oilimpact.eventstudy.chunks._window_arrays`)."""

from __future__ import annotations

import numpy as np

from ._base import njit as _jit

__all__ = ["TWINS", "gather_windows", "window_positions"]

TWINS = {
    "window_positions": (
        "build.pair_windows",
        "flat session positions of every pair's windows, the days that count",
    ),
    "gather_windows": (
        "chunks._window_arrays",
        "returns, dates and counts of every pair's windows",
    ),
}

_NO_DAY = np.iinfo(np.int64).min
_NAT = np.iinfo(np.int64).min


@_jit
def window_positions(  # noqa: ANN001, ANN201
    k,
    asset,
    event,
    start,
    n_sess,
    top,
    e0,
    evt_off,
    day,
    band_lo,
    band_hi,
    exclude,
    est,
    in_range,
    dropped,
    use_est,
    evt,
    in_evt,
):
    """The windows of pairs (rows) ``0 .. k.size`` of a block: for day 0 at session
    ``k[p]`` of asset ``asset[p]`` (flat sessions ``start[a] .. start[a] + n_sess[a]``),
    the estimation window ``k + e0 + j`` (``j < L1``) and the event window
    ``k + evt_off``, as flat positions clipped to the pair's sessions (and to ``top``),
    whether each day is in the pair's data, and (``exclude``) the estimation days
    within ``[band_lo, band_hi]`` of another event's day 0 ``day[i, a]`` (``_NO_DAY``:
    none).
    """
    n, L1 = est.shape
    L2 = evt.shape[1]
    J = day.shape[0]
    for p in range(n):
        a = asset[p]
        kp = k[p]
        T = n_sess[a]
        base = start[a]
        hi = max(T - 1, 0)
        for j in range(L1):
            rel = kp + e0 + j
            in_range[p, j] = 0 <= rel < T
            est[p, j] = min(base + min(max(rel, 0), hi), top)
            dropped[p, j] = False
        if exclude:
            for i in range(J):
                other = day[i, a]
                if other == _NO_DAY or i == event[p]:
                    continue
                lo = min(max(other + band_lo - kp - e0, 0), L1)
                up = min(max(other + band_hi - kp - e0 + 1, 0), L1)
                for j in range(lo, up):
                    dropped[p, j] = True
        for j in range(L1):
            dropped[p, j] = dropped[p, j] and in_range[p, j]
            use_est[p, j] = in_range[p, j] and not dropped[p, j]
        for j in range(L2):
            rel = kp + evt_off[j]
            in_evt[p, j] = 0 <= rel < T
            evt[p, j] = min(base + min(max(rel, 0), hi), top)


@_jit
def gather_windows(  # noqa: ANN001, ANN201
    est,
    use_est,
    evt,
    in_evt,
    d0,
    asset_ret,
    reg_ret,
    row,
    dates,
    y_est,
    x_est,
    y_evt,
    x_evt,
    n_ok,
    est_dates,
    evt_dates,
    day0,
    gap,
    spanning,
    observed,
):
    """The returns of every pair's windows at the flat positions ``est`` / ``evt``
    (NaN where the day does not count), the estimation days with the asset and every
    regressor observed (``n_ok``), and the dates (int64 nanoseconds of ``dates``, NaT
    where the day does not count; ``day0`` at flat position ``d0``), the days that
    count with a return spanning a gap (``spanning``) and the event days with an asset
    return (``observed``). ``x_est`` / ``x_evt`` have F = 0 columns when the model has
    no regressor."""
    n, L1 = est.shape
    L2 = evt.shape[1]
    F = x_est.shape[2]
    for p in range(n):
        cnt = 0
        n_gap = 0
        n_obs = 0
        for j in range(L1):
            s = est[p, j]
            if use_est[p, j]:
                n_gap += gap[s]
                y = asset_ret[s]
                y_est[p, j] = y
                ok = y == y
                for f in range(F):
                    x = reg_ret[s, f]
                    x_est[p, j, f] = x
                    ok = ok and x == x
                cnt += ok
                est_dates[p, j] = dates[row[s]]
            else:
                y_est[p, j] = np.nan
                for f in range(F):
                    x_est[p, j, f] = np.nan
                est_dates[p, j] = _NAT
        n_ok[p] = cnt
        for j in range(L2):
            s = evt[p, j]
            if in_evt[p, j]:
                n_gap += gap[s]
                y = asset_ret[s]
                n_obs += y == y
                y_evt[p, j] = y
                for f in range(F):
                    x_evt[p, j, f] = reg_ret[s, f]
                evt_dates[p, j] = dates[row[s]]
            else:
                y_evt[p, j] = np.nan
                for f in range(F):
                    x_evt[p, j, f] = np.nan
                evt_dates[p, j] = _NAT
        day0[p] = dates[row[d0[p]]]
        spanning[p] = n_gap
        observed[p] = n_obs
