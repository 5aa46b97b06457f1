"""Array helpers of the cross-sectional tests: safe division, masked column moments,
p-values, and the row sorts and ranks the rank tests share.

The sorts run on contiguous row blocks (:func:`oilimpact.eventstudy.kernels.by_blocks`:
on a few threads for large panels; rows are independent, so the result is that of one
block). :func:`_sort_rows_compiled` is the compiled twin of :func:`_sort_rows`, used from
:data:`oilimpact.eventstudy.kernels.MIN_PAIRS` pairs on; ``tests/eventstudy/test_kernels.py``
requires the same sorted values from both.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse, special

from .. import kernels


def _by_rows(n: int, fn: Callable[[int, int], None]) -> None:
    """Run ``fn(a, b)`` on row blocks covering ``0..n`` (rows independent, writes only)."""
    kernels.by_blocks(n, fn)


def _div(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray:
    """``num / den`` with NaN (not inf or a warning) where ``den`` is 0 or NaN."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    ok = np.isfinite(den) & (den != 0)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=ok)
    return out


def _col_mean(x: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means of ``x`` over ``mask`` and the counts (NaN mean where count is 0)."""
    cnt = mask.sum(axis=0)
    tot = np.where(mask, x, 0.0).sum(axis=0)
    return _div(tot, cnt), cnt


def _col_sd(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Column sample standard deviations (ddof 1) over ``mask``."""
    mean, cnt = _col_mean(x, mask)
    dev = np.where(mask, x - mean, 0.0)
    return np.sqrt(_div((dev**2).sum(axis=0), cnt - 1))


def _pvalue_normal(z: np.ndarray) -> np.ndarray:
    r"""Two-sided normal p-value :math:`2\,\Phi(-|z|)`: ``scipy.stats.norm.sf`` without
    its argument handling (the same ``scipy.special.ndtr`` call, so the same bits)."""
    return 2.0 * special.ndtr(-np.abs(z))


def _pvalue_t(z: np.ndarray, df: np.ndarray | float) -> np.ndarray:
    r"""Two-sided Student-t p-value :math:`2\,F_{df}(-|z|)` (NaN where ``df <= 0``):
    ``scipy.stats.t.sf`` without its argument handling (the same
    ``scipy.special.stdtr`` call, so the same bits)."""
    df = np.asarray(df, dtype=float)
    df = np.where(df > 0, df, np.nan)
    return 2.0 * special.stdtr(df, -np.abs(z))


def _sort_rows(
    x: np.ndarray, nan: np.ndarray | None = None, scratch: bool = False, want_flat: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Row-wise sort of ``x`` (C-contiguous float64), NaN last, ties in any order.

    Returns ``(order, xs, flat)``: column indices in sorted order, the sorted values and
    the flat positions ``row * width + order`` (for gathers and scatters). NaN is sorted
    as ``+inf`` so numpy's SIMD quicksort applies (a NaN key makes ``argsort`` several
    times slower); data with both NaN and infinities take the stable NaN-aware sort.
    ``nan`` is ``np.isnan(x)`` if the caller has it; ``scratch`` lets the NaN key be
    written into ``x`` (restored before returning) instead of into a copy. Without
    ``want_flat`` the flat positions are not returned (None). (Large panels sort with
    :func:`_sort_rows_compiled` instead.)
    """
    n, width = x.shape
    if nan is None:
        nan = np.isnan(x)
    if not nan.any():
        mode = "plain"
    elif np.isinf(x).any():
        mode = "stable"  # NaN after +inf
    else:
        mode = "scratch" if scratch else "key"
    order = np.empty((n, width), dtype=np.intp)
    flat = np.empty((n, width), dtype=np.intp)
    xs = np.empty((n, width))

    def run(a: int, b: int) -> None:  # rows a..b-1, on their own
        xa, na = x[a:b], nan[a:b]
        if mode == "plain":
            order[a:b] = np.argsort(xa, axis=1)
        elif mode == "stable":
            order[a:b] = np.argsort(xa, axis=1, kind="stable")
        elif mode == "scratch":
            xa[na] = np.inf
            order[a:b] = np.argsort(xa, axis=1)
            xa[na] = np.nan
        else:
            order[a:b] = np.argsort(np.where(na, np.inf, xa), axis=1)
        np.add(order[a:b], (np.arange(a, b) * width)[:, None], out=flat[a:b])
        np.take(x.ravel(), flat[a:b], out=xs[a:b], mode="clip")  # indices are valid

    _by_rows(n, run)
    return order, xs, (flat if want_flat else None)


def _sort_rows_compiled(
    left: np.ndarray, right: np.ndarray | None = None, valid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(order, xs, n_row, n_col)`` for a large panel: :func:`_sort_rows` of the rows of
    ``[left | right]`` (rows where ``valid`` is False as all NaN; the combined matrix
    is never formed) by sorting integer keys, and the non-NaN counts of each row and
    column. ``order`` is int16 when the rows are narrower than 32,768 columns.

    numpy's sort of unsigned 64-bit integers is much faster than its ``argsort`` of
    floats; the keys carry each value's column in their low bits
    (:func:`oilimpact.eventstudy._jit.pack_sort_keys`), so sorting them also gives the
    order. The keys are sorted in the memory of ``xs``, which the unpacking overwrites
    row by row. Same sorted values as :func:`_sort_rows`, NaN last (ties in another
    order).
    """
    jit = kernels.jit()
    assert jit is not None
    left = np.ascontiguousarray(left, dtype="float64")
    n, w1 = left.shape
    right = np.empty((n, 0)) if right is None else np.ascontiguousarray(right, dtype="float64")
    valid = np.ones(n, dtype=bool) if valid is None else np.ascontiguousarray(valid, dtype=bool)
    width = w1 + right.shape[1]
    low = np.uint64((1 << (width - 1).bit_length()) - 1)
    order = np.empty((n, width), dtype=np.int16 if width < 2**15 else np.intp)
    xs = np.empty((n, width))
    keys = xs.view(np.uint64)
    n_row = np.empty(n, dtype=np.int64)

    def run(a: int, b: int) -> np.ndarray:
        col = np.zeros(width, dtype=np.int64)
        lb, rb = left[a:b], right[a:b]
        jit.pack_sort_keys(
            lb, lb.view(np.uint64), rb, rb.view(np.uint64), valid[a:b], low, keys[a:b]
        )
        keys[a:b].sort(axis=1)
        jit.unpack_sorted_rows(
            lb, rb, valid[a:b], keys[a:b], low, order[a:b], xs[a:b], n_row[a:b], col
        )
        return col

    n_col = np.sum(kernels.by_blocks(n, run), axis=0)
    return order, xs, n_row, n_col


def _sorted_ranks(xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Average ranks (1-based) and strict-below counts at the sorted positions of ``xs``,
    and whether there are ties.

    ``xs`` holds sorted rows, NaN last (each NaN its own run; callers mask positions at
    or past a row's count of finite values). Ties are averaged only when present;
    without them both arrays are read-only broadcasts of ``arange``.
    """
    n, width = xs.shape
    pos = np.arange(width)
    new = np.empty((n, width), dtype=bool)
    new[:, 0] = True
    np.not_equal(xs[:, 1:], xs[:, :-1], out=new[:, 1:])
    if new.all():
        return np.broadcast_to(pos + 1.0, (n, width)), np.broadcast_to(pos, (n, width)), False
    gid = np.cumsum(new.ravel()) - 1
    ordinal = np.broadcast_to(pos + 1.0, (n, width)).ravel()
    avg = np.bincount(gid, weights=ordinal) / np.bincount(gid)
    lo = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
    return avg[gid].reshape(n, width), lo, True


def _rank_rows(x: np.ndarray) -> np.ndarray:
    """Ranks within each row (average ties), NaN kept as NaN (R's ``na.last='keep'``).

    Equals ``scipy.stats.rankdata(x, axis=1, nan_policy="omit")`` with NaN restored, at a
    fraction of its cost. (Used for a few rows at a time; the tests proper work in sorted
    coordinates and never scatter ranks back.)
    """
    x = np.ascontiguousarray(x, dtype=float)
    n, width = x.shape
    if width == 0 or n == 0:
        return x.copy()
    _, xs, flat = _sort_rows(x)
    ranks_sorted, _, _ = _sorted_ranks(xs)
    ranks = np.empty(n * width)
    ranks[flat.ravel()] = ranks_sorted.ravel()
    ranks = ranks.reshape(n, width)
    ranks[np.isnan(x)] = np.nan
    return ranks


def _count_below(sv: np.ndarray, cnt: np.ndarray, z: np.ndarray, strict: bool) -> np.ndarray:
    """Per row ``i``: ``#{k < cnt_i : sv[i, k] < z[i, j]}`` (``<=`` unless ``strict``).

    ``sv`` has sorted rows. A branchless binary search vectorised over all (i, j): one
    gather per halving step instead of ``len(row)`` comparisons per query.
    """
    out = np.empty(z.shape, dtype=np.int64)

    def run(a: int, b: int) -> None:  # rows are independent
        out[a:b] = _count_below_rows(sv[a:b], cnt[a:b], z[a:b], strict)

    _by_rows(sv.shape[0], run)
    return out


def _count_below_rows(sv: np.ndarray, cnt: np.ndarray, z: np.ndarray, strict: bool) -> np.ndarray:
    n, width = sv.shape
    cmp = np.less if strict else np.less_equal
    flat = sv.ravel()
    base = (np.arange(n) * width)[:, None]
    lim = cnt[:, None]
    out = np.zeros(z.shape, dtype=np.int64)
    step = 1 << max(int(width).bit_length() - 1, 0) if width else 0
    while step:
        cand = out + step
        ok = cand <= lim
        ok &= cmp(flat[base + np.minimum(cand, width) - 1], z)
        out += step * ok
        step >>= 1
    return out


def _one_hot(inv: np.ndarray, n_groups: int) -> sparse.csr_matrix:
    """Sparse ``(G, N)`` group-membership matrix."""
    n = inv.size
    return sparse.csr_matrix((np.ones(n), (inv, np.arange(n))), shape=(n_groups, n))


def _unique_columns(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct columns of a boolean ``(N, J)`` mask and, per column, its index
    among them (a complete panel has one pair set for all days)."""
    n_j = mask.shape[1]
    if n_j <= 1:
        return mask, np.arange(n_j)
    packed = np.packbits(mask.T, axis=1)  # one byte string per column
    first: dict[bytes, int] = {}
    inv = np.array([first.setdefault(row.tobytes(), len(first)) for row in packed])
    keep = np.unique(inv, return_index=True)[1]
    return mask[:, keep], inv
