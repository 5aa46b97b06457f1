"""The compiled r-bar and rank sums of the per-chunk pieces of the pooled tests (twins
in :mod:`oilimpact.eventstudy.crosssection.pieces`).

For the pairs of one event date, Kolari and Pynnonen's (2010) r-bar needs, per calendar
date ``t`` of their estimation windows, :math:`\\sum_i z_{it}` and the number of pairs
observing ``t``, plus :math:`\\sum_{it} z_{it}^2`, where :math:`z_{it} = (e_{it} -
\\bar e_i)/s_i` is pair ``i``'s residual standardized over its own observed dates (sd
with divisor :math:`n_i - 1`). The numpy twin scatters the residuals onto a dense
``(pairs, dates)`` grid first; this kernel reads the residuals and their dates where they
are and adds each ``z`` straight into its date's slot.

The rank tests need, per window's set of pairs and per day, the sums of the centred
ranks of each pair's row of estimation residuals and event ARs (Corrado 1989). The rows
are sorted as integer keys (:func:`oilimpact.eventstudy._jit.pack_sort_keys`) and
:func:`rank_set_sums` reads the ranks off the sorted keys, looking at values only
where keys leave ties possible.
"""

from __future__ import annotations

import numpy as np

from ._base import njit as _jit

__all__ = ["TWINS", "rank_set_sums", "rbar_date_sums"]

TWINS = {
    "rbar_date_sums": (
        "crosssection.pieces._rbar_date_sums_numpy",
        "r-bar sums of one event date's pairs by calendar date",
    ),
    "rank_set_sums": ("crosssection.pieces._rank_sums", "rank sums of each window's pairs"),
}

_NAT = np.iinfo(np.int64).min  # the int64 view of NaT
_DAY = np.int64(86_400 * 10**9)  # nanoseconds in a day
_BIG = np.iinfo(np.int64).max
_UDAY = np.uint64(86_400 * 10**9)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_NEG_ZERO = np.uint64(0x7FFFFFFFFFFFFFFF)  # the sort key of -0.0
_POS_ZERO = np.uint64(0x8000000000000000)  # of +0.0


@_jit
def _date_bounds(dates, rows):  # noqa: ANN001, ANN201
    """The earliest and latest known date (int64 ns) of the pairs ``rows`` and how
    many known dates they have."""
    lo, hi, n = _BIG, _NAT, 0
    for k in range(rows.size):
        i = rows[k]
        for t in range(dates.shape[1]):
            d = dates[i, t]
            known = d != _NAT
            lo = min(lo, d) if known else lo
            hi = max(hi, d)  # NaT is the smallest int64
            n += known
    return lo, hi, n


@_jit
def _observed_dates(est, dates, rows):  # noqa: ANN001, ANN201
    """The distinct dates of the finite residuals of the pairs ``rows``, sorted (by a
    sort: for dates that are not whole days, or too far apart for a table of days)."""
    flat = np.empty(rows.size * est.shape[1], dtype=np.int64)
    n = 0
    for k in range(rows.size):
        for t in range(est.shape[1]):
            d = dates[rows[k], t]
            if est[rows[k], t] - est[rows[k], t] == 0.0 and d != _NAT:
                flat[n] = d
                n += 1
    return np.unique(flat[:n])


@_jit
def _row_slots(est, dates, i, mode, lo, keys, js, vs):  # noqa: ANN001, ANN201
    """The observed values of pair ``i`` (finite, with a known date) into ``vs`` and the
    slots of their dates into ``js``: the column (``mode`` 0), the days since the
    midnight ``lo`` (1) or the date's position in ``keys`` (2). Returns how many, their
    sum and whether all fit (mode 1: whole days within the ``keys.size`` days of the
    table)."""
    c = 0
    s = 0.0
    fits = True
    for t in range(est.shape[1]):
        v = est[i, t]
        if v - v != 0.0:
            continue
        if mode == 0:
            j = t
        else:
            d = dates[i, t]
            if d == _NAT:
                continue
            if mode == 1:  # unsigned: a date before lo wraps to a huge slot
                off = np.uint64(d - lo)
                j = np.int64(off // _UDAY)
                fits = fits and off - np.uint64(j) * _UDAY == 0 and j < keys.size
            else:
                j = np.searchsorted(keys, d)
        js[c] = j
        vs[c] = v
        c += 1
        s += v
    return c, s, fits


@_jit
def _add_z(est, dates, rows, mode, lo, keys, sum_z, count, cnt):  # noqa: ANN001, ANN201
    """Standardize each pair ``rows[k]`` over its observed values (two-pass mean and
    sd, ddof 1) and add each ``z = (e - mean) / sd`` to the slot of its date
    (:func:`_row_slots`); ``cnt[k]``: the pair's observed values. Returns ``(sum of
    z^2, the first pair observing a date twice (-1 when none, -2 when a date does not
    fit the table of days), whether some sd is 0 or NaN)``."""
    last = np.full(sum_z.size, -1, dtype=np.int64)
    js = np.empty(est.shape[1], dtype=np.int64)
    vs = np.empty(est.shape[1])
    z2, poison = 0.0, False
    for k in range(rows.size):
        c, s, fits = _row_slots(est, dates, rows[k], mode, lo, keys, js, vs)
        if not fits:
            return z2, -2, poison
        m = s / c
        ss = 0.0
        for u in range(c):
            dv = vs[u] - m
            ss += dv * dv
        sd = np.sqrt(ss / (c - 1)) if c > 1 else np.nan
        poison = poison or not sd > 0.0
        zz = 0.0  # per pair, then added: a shorter chain of rounding than one long sum
        for u in range(c):
            j = js[u]
            if last[j] == k:
                return z2, k, poison
            last[j] = k
            z = (vs[u] - m) / sd
            sum_z[j] += z
            count[j] += 1.0
            zz += z * z
        z2 += zz
        cnt[k] = c
    return z2, -1, poison


@_jit
def _first_known(dates, rows):  # noqa: ANN001, ANN201
    """The first known date of the pairs ``rows`` (NaT when none)."""
    for k in range(rows.size):
        for t in range(dates.shape[1]):
            if dates[rows[k], t] != _NAT:
                return dates[rows[k], t]
    return _NAT


@_jit
def rbar_date_sums(est, dates, rows):  # noqa: ANN001, ANN201
    """r-bar sums of the pairs ``rows`` by calendar date.

    ``est`` ``(N, L1)`` residuals (NaN where missing), ``dates`` ``(N, L1)`` their
    dates as int64 ns (NaT as int64 min), or ``(0, 0)`` when the columns are the dates.
    Returns ``(keys, sum_z, count, z2, min_cnt, bad)``: the observed dates (or the
    column indices), per date the sum of the pairs' standardized residuals and the pairs
    observing it, the sum of the squared standardized residuals, the fewest residuals of
    a pair, and ``bad`` = the position in ``rows`` of the first pair observing a date
    twice (-1 when none; the other outputs are then incomplete). A pair whose sd is 0 or
    undefined makes every sum NaN (as its NaN row does on the twin's dense grid).

    Whole-day dates go to a table of days (no sort, no integer division by a variable):
    first one of ``2 (4 L1 + 4096) + 1`` days centred on the first known date, then,
    if some date falls outside, one spanning the dates; dates that are not whole days
    (or too far apart for a table) are sorted.
    """
    l1 = est.shape[1]
    mode, lo, width = 0, np.int64(0), l1
    if dates.shape[0]:
        half = 4 * l1 + 4096
        mode, lo, width = 1, (_first_known(dates, rows) // _DAY - half) * _DAY, 2 * half + 1
    for attempt in range(3):
        keys = np.arange(width, dtype=np.int64) if mode < 2 else _observed_dates(est, dates, rows)
        sum_z, count = np.zeros(keys.size), np.zeros(keys.size)
        cnt = np.zeros(rows.size, dtype=np.int64)
        z2, bad, poison = _add_z(est, dates, rows, mode, lo, keys, sum_z, count, cnt)
        if bad != -2:
            break
        first, last, n_known = _date_bounds(dates, rows)
        lo, width = (first // _DAY) * _DAY, (last - first) // _DAY + 2
        mode = 1 if attempt == 0 and width < 4 * n_known + 4096 else 2
    if mode == 1:  # the days some pair observes
        seen = np.flatnonzero(count)
        keys, sum_z, count = lo + seen * _DAY, sum_z[seen], count[seen]
    if poison:  # the twin's z row of such a pair is NaN, and so every sum
        sum_z[:] = np.nan
        z2 = np.nan
    return keys, sum_z, count, z2, cnt.min() if rows.size else 0, bad


@_jit
def _run_end(kr, k, m, high):  # noqa: ANN001, ANN201
    """End of the run of the sorted keys ``kr`` of a row from position ``k`` (< ``m``) that share
    their high bits: values that may be equal or out of order. The runs holding -0.0
    and +0.0 are one (the two are equal, and adjacent in key order)."""
    hk = kr[k] & high
    e = k + 1
    while e < m and (kr[e] & high) == hk:
        e += 1
    if hk == _NEG_ZERO & high:
        while e < m and (kr[e] & high) == _POS_ZERO & high:
            e += 1
    return e


@_jit
def _rank_run(lr, rr, kr, k, e, low, vals, cols, ranks):  # noqa: ANN001, ANN201
    """Ranks of the values at sorted positions ``k..e-1`` of a row (one run of
    :func:`_run_end`): the values ordered by an insertion sort (the keys ordered them
    by column), ties averaged; writes ``cols[q]`` and ``ranks[q]`` for ``q < e - k``."""
    w1 = lr.size
    for q in range(e - k):
        c = np.intp(kr[k + q] & low)
        v = lr[c] if c < w1 else rr[c - w1]
        j = q
        while j > 0 and vals[j - 1] > v:
            vals[j], cols[j] = vals[j - 1], cols[j - 1]
            j -= 1
        vals[j], cols[j] = v, c
    q = 0
    while q < e - k:
        r = q + 1
        while r < e - k and vals[r] == vals[q]:
            r += 1
        for t in range(q, r):
            ranks[t] = (k + q + 1 + k + r) / 2.0
        q = r


@_jit
def rank_set_sums(left, right, keys, low, member, k_sum, u_sum, cnt, n_row):  # noqa: ANN001, ANN201
    """Rank sums of sorted rows, per set of rows, without unpacking the sorted rows.

    ``keys`` are the sorted keys of the rows of ``[left | right]``
    (:func:`oilimpact.eventstudy._jit.pack_sort_keys`: order-preserving value bits,
    the column in the ``low`` bits; invalid rows all NaN); ``member[i, s]`` whether row
    ``i`` is in set ``s``. A key alone in its run of equal high bits holds a value that
    is neither tied nor out of order: its rank is its position + 1, read off the key
    without the value; runs of several keys are ranked from their values
    (:func:`_rank_run`, ties averaged). For every set the row is in,
    ``K - (L_i + 1)/2``, ``K/(L_i + 1) - 1/2`` and 1 are added to ``k_sum[s, c]``,
    ``u_sum[s, c]`` and ``cnt[s, c]`` at each ranked value's column ``c`` (0 at the
    others), rows in order: per column the additions of
    :func:`oilimpact.eventstudy._jit.rank_column_sums` on the unpacked rows.
    ``n_row[i] = L_i``, the row's non-NaN values.
    """
    n, w = keys.shape
    high = ~low
    nan_high = _ALL & high
    vals, cols, ranks = np.empty(w), np.empty(w, dtype=np.intp), np.empty(w)
    dk, du, ok = np.empty(w), np.empty(w), np.empty(w)
    for i in range(n):
        kr = keys[i]
        m = w
        while m > 0 and (kr[m - 1] & high) == nan_high:
            m -= 1  # NaN keys are the largest
        n_row[i] = m
        dk[:] = 0.0
        du[:] = 0.0
        ok[:] = 0.0
        half = (m + 1.0) / 2.0
        inv = 1.0 / (m + 1.0)
        k = 0
        while k < m:
            e = _run_end(kr, k, m, high)
            if e == k + 1:
                cols[0], ranks[0] = np.intp(kr[k] & low), k + 1.0
            else:
                _rank_run(left[i], right[i], kr, k, e, low, vals, cols, ranks)
            for q in range(e - k):  # in column order: the additions below vectorise
                dk[cols[q]] = ranks[q] - half
                du[cols[q]] = ranks[q] * inv - 0.5
                ok[cols[q]] = 1.0
            k = e
        for s in range(member.shape[1]):
            if member[i, s]:
                ks, us, cs = k_sum[s], u_sum[s], cnt[s]
                for c in range(w):
                    ks[c] += dk[c]
                    us[c] += du[c]
                    cs[c] += ok[c]
