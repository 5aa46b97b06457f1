"""The compiled row sorts, rank sums, GRANK split and residual moments of the
cross-sectional tests (twins in :mod:`oilimpact.eventstudy.crosssection`)."""

from __future__ import annotations

import numpy as np

from ._base import njit as _jit

__all__ = [
    "TWINS",
    "est_row_stats",
    "grank_split",
    "pack_sort_keys",
    "rank_column_sums",
    "unpack_sorted_rows",
]

TWINS = {
    "pack_sort_keys": ("crosssection._arrays._sort_rows", "row sort of AR and residuals"),
    "unpack_sorted_rows": ("crosssection._arrays._sort_rows", "row sort: order, counts"),
    "rank_column_sums": ("crosssection._parts._Parts.rank_days", "rank sums per day"),
    "grank_split": ("crosssection.grank._GrankPrep._split", "GRANK estimation ranks"),
    "est_row_stats": ("crosssection._parts._Parts.est_dev", "residual moments per pair"),
}


_SIGN = np.uint64(0x8000000000000000)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


@_jit
def _sort_key(v, bits):  # noqa: ANN001, ANN201
    """Unsigned key whose order is the numeric order of ``v`` (NaN the largest)."""
    if v != v:
        return _ALL
    return (bits ^ _ALL) if (bits & _SIGN) else (bits | _SIGN)


@_jit
def pack_sort_keys(left, left_bits, right, right_bits, valid, low, out):  # noqa: ANN001, ANN201
    """Order-preserving unsigned keys of the rows of ``[left | right]``, with the column
    index in the ``low`` bits; a row with ``valid[i]`` False is all NaN.

    The float's bits are mapped so that unsigned order is numeric order (negative
    values bit-inverted, the sign bit set on the others; NaN the largest key), then the
    ``low`` bits (enough for a column index) are replaced by the column index. Sorting
    the keys sorts the row up to values that differ only in those low bits, which
    :func:`unpack_sorted_rows` puts right.
    """
    n, w1 = left.shape
    w2 = right.shape[1]
    high = ~low
    for i in range(n):
        if not valid[i]:
            for k in range(w1 + w2):
                out[i, k] = (_ALL & high) | np.uint64(k)
            continue
        for k in range(w1):
            out[i, k] = (_sort_key(left[i, k], left_bits[i, k]) & high) | np.uint64(k)
        for k in range(w2):
            key = _sort_key(right[i, k], right_bits[i, k])
            out[i, w1 + k] = (key & high) | np.uint64(w1 + k)


@_jit
def unpack_sorted_rows(left, right, valid, keys, low, order, xs, n_row, col_count):  # noqa: ANN001, ANN201
    """Column order and sorted values of the rows of ``[left | right]`` from their sorted
    keys (:func:`pack_sort_keys`), the non-NaN count of each row (``n_row``) and, added
    to ``col_count``, of each column. ``keys`` may share ``xs``'s memory (each row's
    keys are copied before the row is written).

    Keys that share their high bits were ordered by column index; an insertion sort over
    each such run orders them by value (runs are short: values within a relative 2^-43).
    """
    n, w = keys.shape
    w1 = left.shape[1]
    high = ~low
    nan_high = _ALL & high
    kb = np.empty(w, dtype=np.uint64)
    for i in range(n):
        for k in range(w):
            kb[k] = keys[i, k]
        m = w
        while m > 0 and (kb[m - 1] & high) == nan_high:
            m -= 1  # NaN keys are the largest
        n_row[i] = m
        ok = valid[i]
        for k in range(w):
            c = np.intp(kb[k] & low)
            order[i, k] = c
            if k < m:
                col_count[c] += 1
            if not ok:
                xs[i, k] = np.nan
            elif c < w1:
                xs[i, k] = left[i, c]
            else:
                xs[i, k] = right[i, c - w1]
        for k in range(1, m):
            hk = kb[k] & high
            if hk != (kb[k - 1] & high):
                continue
            v = xs[i, k]
            c = order[i, k]
            j = k
            while j > 0 and (kb[j - 1] & high) == hk and xs[i, j - 1] > v:
                xs[i, j] = xs[i, j - 1]
                order[i, j] = order[i, j - 1]
                j -= 1
            xs[i, j] = v
            order[i, j] = c


@_jit
def rank_column_sums(order, xs, n_ranked, k_sum, u_sum):  # noqa: ANN001, ANN201
    """Column sums of ``K - (L_i + 1)/2`` and ``K/(L_i + 1) - 1/2`` over the rows.

    ``xs`` are sorted rows and ``order`` their column indices; the first ``n_ranked[i]``
    positions of row ``i`` are ranked, ties get their average rank. Rows are added in
    order (as ``numpy.bincount`` does); the caller adds the sums of its row blocks.
    """
    n, w = xs.shape
    for i in range(n):
        li = n_ranked[i]
        half = (li + 1.0) / 2.0
        inv = 1.0 / (li + 1.0)
        k = 0
        while k < li:
            e = k + 1
            while e < li and xs[i, e] == xs[i, k]:
                e += 1
            rank = (k + 1 + e) / 2.0
            for p in range(k, e):
                c = order[i, p]
                k_sum[c] += rank - half
                u_sum[c] += rank * inv - 0.5
            k = e


@_jit
def grank_split(order, xs, l1, s, sv, order_e, n_fin, n_num, q):  # noqa: ANN001, ANN201
    """The estimation columns of sorted rows, as standardised values, and their ranks.

    ``order``/``xs`` sort each row of ``[estimation | event]`` values. Writes the
    estimation part in sorted order as ``xs / s_i`` (``sv``, their columns
    ``order_e``), its finite and non-NaN counts, and in column order
    ``q[i, t]`` = 1 + the number of the row's values strictly below value ``t`` (0 for
    NaN). Returns whether any row has tied values.
    """
    n, w = order.shape
    tied = False
    for i in range(n):
        k2 = 0
        fin = 0
        num = 0
        for k in range(w):
            c = order[i, k]
            if c < l1:
                v = xs[i, k] / s[i]
                sv[i, k2] = v
                order_e[i, k2] = c
                k2 += 1
                if v == v:
                    num += 1
                    if v - v == 0.0:
                        fin += 1
        n_fin[i] = fin
        n_num[i] = num
        k = 0
        while k < num:  # non-NaN values come first, NaN last
            e = k + 1
            while e < num and sv[i, e] == sv[i, k]:
                e += 1
            if e - k > 1:
                tied = True
            for p in range(k, e):
                q[i, order_e[i, p]] = k + 1
            k = e
        for p in range(num, l1):
            q[i, order_e[i, p]] = 0
    return tied


@_jit
def est_row_stats(est, group, cnt, mean, ss, z2, n_pos, use, col_cnt, col_sum, gz, gm):  # noqa: ANN001, ANN201
    """Row and column moments of the estimation residuals (finite values only).

    Per row: count, mean, sum of squared deviations, sum of squared standardised
    deviations ``z = (e - mean) / sd`` (sd with divisor n - 1), number of positive
    values and whether the sd is usable (finite, > 0). Added to the column arrays: the
    count and sum of each day, and per same-date group ``group[i]`` the sums of ``z`` and
    the counts of the rows with a usable sd (for the Kolari-Pynnonen correlation);
    with no groups (``gz`` of 0 rows) that pass is skipped and ``z2`` is 0.
    """
    n, l1 = est.shape
    for i in range(n):
        c = 0
        s = 0.0
        pos = 0
        for t in range(l1):
            v = est[i, t]
            if v - v == 0.0:  # finite
                c += 1
                s += v
                pos += v > 0.0
                col_cnt[t] += 1.0
                col_sum[t] += v
        m = s / c
        q = 0.0
        for t in range(l1):
            v = est[i, t]
            if v - v == 0.0:
                d = v - m
                q += d * d
        cnt[i] = c
        mean[i] = m
        ss[i] = q if c > 0 else np.nan  # as the numpy path's NaN mean makes it
        n_pos[i] = pos
        sd = np.sqrt(q / (c - 1))
        ok = sd - sd == 0.0 and sd > 0.0
        use[i] = ok
        zz = 0.0
        if ok and gz.shape[0]:  # no groups: the standardised pass is skipped (z2 0)
            g = group[i]
            for t in range(l1):
                v = est[i, t]
                if v - v == 0.0:
                    z = (v - m) / sd
                    gz[g, t] += z
                    gm[g, t] += 1.0
                    zz += z * z
        z2[i] = zz
