"""Tests for many assets or events: daily AAR and multi-day CAAR statistics.

Every function here reads an :class:`~oilimpact.eventstudy.panel.AbnormalPanel` and returns a
tidy :class:`pandas.DataFrame`; nothing is re-estimated, so the functions are pure numpy
and vectorised over pairs (no Python loop over pairs; loops run over event-window days,
windows, or blocks of pairs). Each row of residuals is sorted once per panel, and the
panel-level pieces are reused by the next call on the same data (see "Implementation
and speed" in ``docs/methods-crosssection.md``).

Tests (the ``test`` column; formulas in ``docs/methods-crosssection.md``), each with its
reference law for the two-sided p-value:

- ``cross_sectional_t``: AAR over its cross-sectional standard error, t(n-1).
- ``brown_warner``: Brown-Warner crude dependence adjustment (sd of the
  estimation-window AAR series; estudy2's ``brown_warner_1985``), t(T-1).
- ``brown_warner_indep``: Brown-Warner under independence (estudy2's
  ``brown_warner_1980``), N(0, 1).
- ``patell``: Patell (1976) standardized residuals, PE-corrected, N(0, 1).
- ``bmp``: Boehmer-Musumeci-Poulsen (1991) standardized cross-sectional test, t(n-1).
- ``adjusted_patell``, ``adjusted_bmp``: Kolari-Pynnonen (2010) clustering
  adjustments with r-bar on calendar dates (:func:`calendar_rbar`), N(0, 1) and t(n-1).
- ``sign``: sign test with p = 1/2, exact binomial below :data:`SIGN_EXACT_BELOW`
  pairs, N(0, 1) from it on.
- ``generalized_sign``: Cowan (1992), the same switch with p-hat.
- ``rank``: Corrado (1989); Cowan (1992) over windows, N(0, 1).
- ``modified_rank``: Corrado-Zivney (1992) standardized ranks, N(0, 1).
- ``grank``: Kolari-Pynnonen (2011) generalized rank test, t(T-2); NaN with fewer than
  :data:`GRANK_MIN_PAIRS` pairs.

Which pooled tests :func:`cross_sectional_tests` runs and shows by default is decided
by :func:`pooled_plan`: none below :data:`POOLED_MIN_PAIRS` pairs unless asked, and for
pairs that share event dates only the tests valid under cross-sectional correlation
(:data:`CLUSTER_ROBUST_TESTS`); :data:`INDEPENDENCE_TESTS` on request, labelled.

Missing data: a day is tested on the pairs with an AR that day, and a window only on the
pairs with an AR on every day of it. Tests whose scale comes from the estimation window
(``brown_warner``, ``rank``, ``modified_rank``) take it from those same pairs (textbook
conventions), so a thin day or window is not judged against the full panel's scale.

``panel.conventions`` selects ``"textbook"`` (the papers) or ``"estudy2"`` (the R package
estudy2 0.10) where the two disagree at test level; the model-level differences (residual
variance divisor, prediction-error correction) are already in the panel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
from scipy import sparse, stats

from . import kernels
from .panel import _STORES, AbnormalPanel, panel_store  # noqa: F401 (_STORES: the shared cache)
from .single import _by_rows, _n_threads, _pool

__all__ = [
    "CLUSTER_ROBUST_TESTS",
    "DAILY_TESTS",
    "GRANK_MIN_PAIRS",
    "INDEPENDENCE_NOTE",
    "INDEPENDENCE_TESTS",
    "POOLED_MIN_PAIRS",
    "RBAR_MIN_OVERLAP",
    "SIGN_EXACT_BELOW",
    "WINDOW_COLUMNS",
    "WINDOW_TESTS",
    "PooledPlan",
    "RBar",
    "calendar_rbar",
    "cross_sectional_tests",
    "daily_tests",
    "pooled_plan",
    "residual_correlation",
]

#: Every test :func:`daily_tests` knows, in output order.
DAILY_TESTS: Final[tuple[str, ...]] = (
    "cross_sectional_t",
    "brown_warner",
    "brown_warner_indep",
    "patell",
    "bmp",
    "adjusted_patell",
    "adjusted_bmp",
    "sign",
    "generalized_sign",
    "rank",
    "modified_rank",
    "grank",
)

#: Every test :func:`cross_sectional_tests` knows (the same names, multi-day versions).
WINDOW_TESTS: Final[tuple[str, ...]] = DAILY_TESTS

#: Fewest pairs with an event value for which GRANK is reported (below it the
#: statistic and p-value are NaN and ``n`` is still the pairs available). GRANK divides
#: the event SARs by their cross-sectional sd, which is degenerate over a handful of
#: pairs. Null rejection at 5% of the daily test (simulated panels of 100 estimation
#: and 5 event days, normal / t(4) residuals; 2,000 panels, 4,000 for 20 and 30 pairs):
#: 10.0% / 9.7% with 5 pairs, 7.2% / 7.9% with 10, 5.7% / 6.3% with 20 and
#: 5.6% / 5.8% with 30; 20 is the smallest measured count within [3.5%, 6.5%] for both
#: laws, daily and over 3- and 5-day windows (see ``docs/methods-crosssection.md``).
GRANK_MIN_PAIRS: Final[int] = 20

_DAILY_COLUMNS = ["day", "date", "test", "statistic", "pvalue", "n", "mean_ar"]


# --------------------------------------------------------------------------------------
# small numpy helpers
# --------------------------------------------------------------------------------------


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
    return 2.0 * stats.norm.sf(np.abs(z))


def _pvalue_t(z: np.ndarray, df: np.ndarray | float) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    df = np.where(df > 0, df, np.nan)
    return 2.0 * stats.t.sf(np.abs(z), df)


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


# --------------------------------------------------------------------------------------
# the pieces every test needs, computed lazily once per panel
# --------------------------------------------------------------------------------------


# Panel-level intermediates (sorts, ranks) live in the panel's store
# (:func:`oilimpact.eventstudy.panel.panel_store`, ``_STORES``): they depend only on
# ``est_resid``, ``event_ar``, ``sigma2``, ``event_dates`` and ``conventions``, so
# :func:`daily_tests` and :func:`cross_sectional_tests` on the same panel sort and rank
# the residuals once.
_store_for = panel_store


class _shared:  # noqa: N801 - used like functools.cached_property
    """``cached_property`` whose value is also kept in the panel-level store."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __get__(self, obj: Any, cls: type | None = None) -> Any:
        if obj is None:
            return self
        store = obj.store
        if self.name not in store:
            store[self.name] = self.fn(obj)
        value = obj.__dict__[self.name] = store[self.name]
        return value


class _Parts:
    """Arrays derived from the panel on first use and shared by all tests (internal).

    Properties marked ``_shared`` are also kept across calls for the same panel object
    (see :data:`_STORES`); the others (SARs) are per call.
    """

    def __init__(self, panel: AbnormalPanel) -> None:
        self.panel = panel
        self.estudy2 = panel.conventions == "estudy2"
        self.ar = np.ascontiguousarray(panel.event_ar, dtype=float)
        self.est = np.ascontiguousarray(panel.est_resid, dtype=float)
        self.n_pairs = self.ar.shape[0]
        self.l1 = self.est.shape[1]
        s2 = np.asarray(panel.sigma2, dtype=float)
        self.valid = np.isfinite(s2) & (s2 > 0)  # pairs with a usable variance
        self.s2 = np.where(self.valid, s2, np.nan)
        self.ar_ok = np.isfinite(self.ar)

    @cached_property
    def store(self) -> dict[str, Any]:
        return _store_for(self.panel)

    @cached_property
    def est_ok(self) -> np.ndarray:
        return np.isfinite(self.est)

    @cached_property
    def pe_diag(self) -> np.ndarray:
        return np.diagonal(np.asarray(self.panel.pe_cov, dtype=float), axis1=1, axis2=2)

    @cached_property
    def sar(self) -> np.ndarray:
        return self.ar / np.sqrt(self.s2[:, None] * self.pe_diag)

    @cached_property
    def sar_ok(self) -> np.ndarray:
        return np.isfinite(self.sar)

    @cached_property
    def patell_w(self) -> np.ndarray:
        """``Var(SAR_i) = d_i / (d_i - 2)`` for a t(d_i) variable; NaN where d_i <= 2."""
        n_est = np.asarray(self.panel.n_est, dtype=float)
        df = n_est - (2 if self.estudy2 else self.panel.n_params)
        return np.where(df > 2, _div(df, df - 2), np.nan)

    @cached_property
    def est0(self) -> np.ndarray:
        """Estimation residuals with 0 for missing values."""
        return np.where(self.est_ok, self.est, 0.0)

    @cached_property
    def est_dev(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Demeaned estimation residuals (0 where missing), their row sums of squares
        and the row counts."""
        ok = self.est_ok
        cnt = ok.sum(axis=1)
        mean = _div(self.est0.sum(axis=1), cnt)
        dev = self.est0 - mean[:, None]
        np.multiply(dev, ok, out=dev)
        return dev, np.einsum("ij,ij->i", dev, dev), cnt

    @_shared
    def group_index(self) -> tuple[np.ndarray, int]:
        """Same-event-date group of each pair and the number of groups."""
        dates = np.asarray(self.panel.event_dates).astype("datetime64[ns]").ravel()
        _, inv = np.unique(dates, return_inverse=True)
        inv = inv.ravel()
        return inv, int(inv.max()) + 1 if inv.size else 0

    @_shared
    def est_stats(self) -> dict[str, Any] | None:
        """Moments of the estimation residuals from one compiled pass (large panels;
        None otherwise): see :func:`oilimpact.eventstudy._jit.est_row_stats`."""
        if not kernels.enabled(self.n_pairs):
            return None
        jit = kernels.jit()
        assert jit is not None
        n, l1 = self.est.shape
        group, n_groups = self.group_index
        group = group.astype(np.int64)
        out = {
            name: np.empty(n, dtype=dt)
            for name, dt in (("cnt", np.int64), ("mean", float), ("ss", float), ("z2", float),
                             ("n_pos", np.int64), ("use", np.bool_))
        }  # fmt: skip

        def run(a: int, b: int) -> tuple[np.ndarray, ...]:
            col_cnt, col_sum = np.zeros(l1), np.zeros(l1)
            gz, gm = np.zeros((n_groups, l1)), np.zeros((n_groups, l1))
            rows = [out[k][a:b] for k in ("cnt", "mean", "ss", "z2", "n_pos", "use")]
            jit.est_row_stats(self.est[a:b], group[a:b], *rows, col_cnt, col_sum, gz, gm)
            return col_cnt, col_sum, gz, gm

        parts = kernels.by_blocks(n, run)
        for k, name in enumerate(("col_cnt", "col_sum", "gz", "gm")):
            out[name] = np.sum([part[k] for part in parts], axis=0)
        return out

    @_shared
    def bw_var(self) -> np.ndarray:
        """Per-pair AR variance of the Brown-Warner independence test."""
        if not self.estudy2:  # textbook: the model's residual variance
            return self.s2
        # estudy2: colVars of the estimation residuals (demeaned, divisor n - 1)
        st = self.est_stats
        _, ss, cnt = self.est_dev if st is None else (None, st["ss"], st["cnt"])
        return _div(ss, cnt - 1)

    @_shared
    def bw_sd(self) -> tuple[float, int]:
        """sd (ddof 1) of the estimation-window daily AAR series of all N pairs and its
        length T (the estudy2 ``brown_warner_1985`` scale)."""
        st = self.est_stats
        if st is None:
            est_cnt = self.est_ok.sum(axis=0)
            est_aar = _div(self.est0.sum(axis=0), est_cnt)
        else:
            est_cnt, est_aar = st["col_cnt"], _div(st["col_sum"], st["col_cnt"])
        has = est_cnt > 0
        t_est = int(has.sum())
        sd = float(np.std(est_aar[has], ddof=1)) if t_est > 1 else np.nan
        return sd, t_est

    def bw_scales(self, sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Textbook Brown-Warner scales of the portfolios ``sets`` (a boolean ``(N, J)``
        mask, one column per portfolio): the sd (ddof 1) of the estimation-window daily
        AAR of the portfolio's own pairs, and T, the estimation days with at least one
        of them. A day tested on ``n_t`` pairs is thus scaled by the dispersion of an
        ``n_t``-pair average (about ``sqrt(N / n_t)`` times the full panel's under
        independence, and keeping the pairs' cross-correlation), and pairs that are
        not tested do not enter the scale."""
        uniq, inv = _unique_columns(sets)
        sd = np.full(uniq.shape[1], np.nan)
        t_est = np.zeros(uniq.shape[1], dtype=int)
        whole = uniq.all(axis=0)  # every pair: the shared full-panel scale
        if whole.any():
            sd[whole], t_est[whole] = self.bw_sd
        rest = np.flatnonzero(~whole)
        if rest.size:
            mf = uniq[:, rest].T.astype(float)
            cnt = mf @ self.est_ok.astype(float)
            aar = _div(mf @ self.est0, cnt)
            has = cnt > 0
            t_r = has.sum(axis=1)
            mean = _div(np.where(has, aar, 0.0).sum(axis=1), t_r)
            dev = np.where(has, aar - mean[:, None], 0.0)
            sd[rest] = np.sqrt(_div(np.einsum("ij,ij->i", dev, dev), t_r - 1))
            t_est[rest] = t_r
        return sd[inv], t_est[inv]

    @_shared
    def p_hat(self) -> float:
        """Generalized-sign p-hat: estimation-window fraction of positive residuals."""
        st = self.est_stats
        if st is not None:
            n_pos, cnt = st["n_pos"], st["cnt"]
            if self.estudy2:
                tot = cnt.sum()
                return float(n_pos.sum() / tot) if tot else np.nan
            frac = _div(n_pos, cnt)[cnt > 0]
            return float(frac.mean()) if frac.size else np.nan
        ok = self.est_ok
        pos = (self.est > 0) & ok
        if self.estudy2:  # pooled over all security-days
            tot = ok.sum()
            return float(pos.sum() / tot) if tot else np.nan
        cnt = ok.sum(axis=1)
        frac = _div(pos.sum(axis=1), cnt)[cnt > 0]
        return float(frac.mean()) if frac.size else np.nan

    @_shared
    def positive_fraction(self) -> tuple[np.ndarray, np.ndarray]:
        """Each pair's fraction of positive estimation residuals and whether it has
        any estimation residual."""
        st = self.est_stats
        if st is not None:
            n_pos, cnt = st["n_pos"], st["cnt"]
        else:
            ok = self.est_ok
            n_pos, cnt = ((self.est > 0) & ok).sum(axis=1), ok.sum(axis=1)
        return _div(n_pos, cnt), cnt > 0

    def p_hat_for(self, sets: np.ndarray) -> np.ndarray:
        """Generalized-sign p-hat of the portfolios ``sets`` (boolean ``(N, J)``): the
        mean over the portfolio's pairs of their fraction of positive estimation
        residuals (Cowan 1992; a pair without estimation residuals does not enter it),
        so a day or window tested on fewer pairs is judged against those pairs' own
        p-hat; NaN for an empty portfolio; under estudy2 conventions the pooled
        :attr:`p_hat` of all pairs for every portfolio."""
        if self.estudy2:
            return np.full(sets.shape[1], self.p_hat)
        frac, has = self.positive_fraction
        members = (sets & has[:, None]).astype(float)
        return _div(np.where(has, frac, 0.0) @ members, members.sum(axis=0))

    @cached_property
    def _full_sort(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One row sort of the combined (L1 + L2) grid, shared by the Corrado tests and
        GRANK: ``(order, sorted values, ranked count per row, ranked count per day)``
        (+-inf is ranked, NaN is not)."""
        if kernels.enabled(self.n_pairs) and self.l1 + self.ar.shape[1] > 1:
            return _sort_rows_compiled(self.est, self.ar, self.valid)
        full = np.concatenate([self.est, self.ar], axis=1)
        full[~self.valid] = np.nan
        nan = np.isnan(full)
        order, xs, _ = _sort_rows(full, nan, scratch=True, want_flat=False)
        width = full.shape[1]
        n_row = width - np.count_nonzero(nan, axis=1)
        n_col = self.n_pairs - np.count_nonzero(nan, axis=0)
        return order, xs, n_row, n_col

    @_shared
    def rank_days(self) -> tuple[np.ndarray, np.ndarray, float, float, np.ndarray]:
        """Daily rank-test ingredients on the combined (L1 + L2) grid.

        Returns ``(kbar, ubar, s_k, s_u, n_t)``: the day statistics of the Corrado and
        Corrado-Zivney tests (convention applied), their time-series scales and the
        number of ranked pairs per day. The column sums of ranks are accumulated in
        sorted coordinates (one ``bincount`` by column index each), so the rank matrix
        itself is never scattered back.
        """
        order, xs, li, n_t = self._full_sort
        width = xs.shape[1]
        n_t = n_t.astype(float)
        jit = kernels.jit() if kernels.enabled(xs.shape[0]) else None
        if jit is not None:  # one compiled pass per row block; block sums added in order
            li64 = li.astype(np.int64)

            def sums(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
                k_sum, u_sum = np.zeros(width), np.zeros(width)
                jit.rank_column_sums(order[a:b], xs[a:b], li64[a:b], k_sum, u_sum)
                return k_sum, u_sum

            parts = kernels.by_blocks(xs.shape[0], sums)
            k_sum = np.sum([part[0] for part in parts], axis=0)
            u_sum = np.sum([part[1] for part in parts], axis=0)
            return self._rank_day_stats(k_sum, u_sum, li, n_t)
        ranks, _, _ = _sorted_ranks(xs)
        inv = 1.0 / (li + 1.0)
        half = (li + 1.0) / 2.0
        idx = order.ravel()
        # sum_i (K_it - (L_i+1)/2) and sum_i (K_it/(L_i+1) - 1/2), by column
        buf = np.empty(xs.shape)
        unif = np.empty(xs.shape)
        pos = np.arange(width)

        def terms(a: int, b: int) -> None:  # row-wise, on a few threads
            used = pos < li[a:b, None]  # sorted positions holding a ranked value
            np.subtract(ranks[a:b], half[a:b, None], out=buf[a:b])
            buf[a:b] *= used
            np.multiply(ranks[a:b], inv[a:b, None], out=unif[a:b])
            unif[a:b] -= 0.5  # centred: no cancellation
            unif[a:b] *= used

        _by_rows(xs.shape[0], terms)
        k_sum = np.bincount(idx, weights=buf.ravel(), minlength=width)
        u_sum = np.bincount(idx, weights=unif.ravel(), minlength=width)
        return self._rank_day_stats(k_sum, u_sum, li, n_t)

    def _rank_day_stats(
        self, k_sum: np.ndarray, u_sum: np.ndarray, li: np.ndarray, n_t: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, float, float, np.ndarray]:
        """:attr:`rank_days` from the column sums of ``K - (L_i+1)/2`` and
        ``K/(L_i+1) - 1/2`` over the ranked pairs."""
        kbar = _div(k_sum, n_t)
        umean = _div(u_sum, n_t)
        t_len = float(li[li > 0].mean()) if (li > 0).any() else np.nan
        if self.estudy2:  # a missing rank replaced by the row mean: sum = mean * N
            kbar = kbar * _div(self.n_pairs, n_t)
            ubar = umean * _div(self.n_pairs, np.sqrt(n_t))
        else:
            ubar = umean * np.sqrt(n_t)
        s_k = float(np.sqrt(np.nansum(kbar**2) / t_len))
        s_u = float(np.sqrt(np.nansum(ubar**2) / t_len))
        return kbar, ubar, s_k, s_u, n_t

    @_shared
    def ranked_pairs(self) -> np.ndarray:
        """Pairs with at least one ranked value (the pairs of :attr:`rank_days`)."""
        return self._full_sort[2] > 0

    @cached_property
    def rank_grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Centred ranks ``K - (L_i+1)/2``, scores ``K/(L_i+1) - 1/2`` (0 where not
        ranked) and the ranked mask (0/1), each ``(N, L1 + L2)`` in column order.

        Only built when a test needs a portfolio other than all ranked pairs (missing
        event days); :attr:`rank_days` never scatters the ranks back."""
        order, xs, li, _ = self._full_sort
        n, width = xs.shape
        ranks, _, _ = _sorted_ranks(xs)
        dev = np.zeros(n * width)
        flat = (order + (np.arange(n) * width)[:, None]).ravel()
        vals = np.subtract(ranks, ((li + 1.0) / 2.0)[:, None])
        vals *= np.arange(width) < li[:, None]
        dev[flat] = vals.ravel()
        dev = dev.reshape(n, width)
        unif = dev * (1.0 / (li + 1.0))[:, None]  # = K/(L_i+1) - 1/2, 0 where unranked
        ranked = np.concatenate([self.est, self.ar], axis=1)
        ranked = (~np.isnan(ranked) & self.valid[:, None]).astype(float)
        return dev, unif, ranked

    def rank_sets(
        self, sets: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Rank-test ingredients of the portfolios ``sets`` (boolean ``(N, J)``, ranked
        pairs only): ``(kbar, ubar)`` of shape ``(J, L1 + L2)``, computed from the
        portfolio's own pairs on every day, their scales ``(s_k, s_u)`` and the
        portfolio sizes, each ``(J,)``. The day statistic of a portfolio is therefore
        scaled by the time-series dispersion of a mean over the same pairs; a
        portfolio of all ranked pairs is :attr:`rank_days`. Under estudy2 conventions
        a missing rank is imputed by the day's mean within the portfolio."""
        uniq, inv = _unique_columns(sets)
        n_j, width = uniq.shape[1], self.l1 + self.ar.shape[1]
        kbar = np.full((n_j, width), np.nan)
        ubar = np.full((n_j, width), np.nan)
        s_k = np.full(n_j, np.nan)
        s_u = np.full(n_j, np.nan)
        size = uniq.sum(axis=0).astype(float)
        full = self.ranked_pairs
        whole = (uniq == full[:, None]).all(axis=0)
        if self.estudy2 and not full.all():  # rank_days imputes over all N pairs
            whole[:] = False
        if whole.any():
            kb, ub, sk, su, _ = self.rank_days
            kbar[whole], ubar[whole], s_k[whole], s_u[whole] = kb, ub, sk, su
        rest = np.flatnonzero(~whole)
        if rest.size:
            dev, unif, ranked = self.rank_grid
            mf = uniq[:, rest].T.astype(float)
            cnt = mf @ ranked
            kb = _div(mf @ dev, cnt)
            um = _div(mf @ unif, cnt)
            n_set = size[rest][:, None]
            if self.estudy2:
                kb = kb * _div(n_set, cnt)
                ub = um * _div(n_set, np.sqrt(cnt))
            else:
                ub = um * np.sqrt(cnt)
            t_len = _div(mf @ self._full_sort[2].astype(float), size[rest])
            kbar[rest], ubar[rest] = kb, ub
            s_k[rest] = np.sqrt(_div(np.nansum(kb**2, axis=1), t_len))
            s_u[rest] = np.sqrt(_div(np.nansum(ub**2, axis=1), t_len))
        return kbar[inv], ubar[inv], s_k[inv], s_u[inv], size[inv]

    @_shared
    def groups(self) -> sparse.csr_matrix:
        """One-hot ``(G, N)`` membership of same-event-date clusters."""
        return _one_hot(*self.group_index)

    def cluster_index(self, span: int = 0) -> tuple[np.ndarray, int]:
        """Cluster of each pair and the number of clusters, for windows of ``span + 1``
        trading days: pairs whose event dates are at most ``span`` business days apart
        are chained into one cluster (their windows share calendar days); ``span = 0``
        gives the same-event-date groups. Pairs without an event date (NaT) form one
        cluster: unknown dates are not assumed apart."""
        if span <= 0:
            return self.group_index
        key = ("cluster_index", int(span))
        store = self.store
        if key not in store:
            store[key] = _overlap_clusters(self.panel.event_dates, int(span))
        return store[key]

    def cluster_matrix(self, span: int = 0) -> sparse.csr_matrix:
        """One-hot ``(G, N)`` membership of :meth:`cluster_index`."""
        if span <= 0:
            return self.groups
        key = ("cluster_matrix", int(span))
        if key not in self.store:
            self.store[key] = _one_hot(*self.cluster_index(span))
        return self.store[key]

    @_shared
    def rbar_use(self) -> np.ndarray:
        """Pairs whose estimation residuals enter r-bar: at least two values and a
        positive, finite sd (an exact fit has none). From the compiled moment pass on
        large panels (:attr:`est_stats`), else from :attr:`est_dev`."""
        st = self.est_stats
        if st is not None:
            return np.asarray(st["use"], dtype=bool)
        _, ss, cnt = self.est_dev
        sd = np.sqrt(_div(ss, cnt - 1))
        return np.isfinite(sd) & (sd > 0)

    def rbar_info(self, span: int = 0) -> RBar:
        """Kolari-Pynnonen r-bar of the clusters of :meth:`cluster_index` ``(span)``,
        residuals matched by calendar date (:func:`calendar_rbar`); cached per distinct
        clustering. Without ``est_dates`` the same-date r-bar for every span."""
        if span > 0 and getattr(self.panel, "est_dates", None) is None:
            # without calendar dates, residuals of pairs with different event dates
            # cannot be matched (column t is a different day for each): r-bar comes
            # from the same-date pairs, and the overlap clusters only set M
            return self.rbar_info(0)
        inv, n_groups = self.cluster_index(span)
        # spans that give the same clusters (one event date, say) share one computation
        key = ("rbar", n_groups, hash(np.asarray(inv, dtype=np.int64).tobytes()))
        store = self.store
        if key not in store:
            dates = getattr(self.panel, "est_dates", None)
            sums = None
            st = self.est_stats
            same = self.group_index[1] == n_groups and np.array_equal(self.group_index[0], inv)
            if st is not None and same and (dates is None or _one_calendar(dates, self.est_ok)):
                # the compiled pass summed z by same-date group and column (the pooled
                # form's numerator and denominator per group)
                gz, gm, use = st["gz"], st["gm"], st["use"]
                z2 = np.bincount(inv[use], weights=st["z2"][use], minlength=n_groups)
                n_g = np.bincount(inv[use], minlength=n_groups).astype(float)
                num = np.einsum("gt,gt->g", gz, gz) - z2
                den = (gm * gm - gm).sum(axis=1) - n_g * (n_g - 1.0)
                sums = (num, den, np.asarray(st["cnt"]))
            store[key] = calendar_rbar(
                self.est, dates, inv, n_groups, self.rbar_use, group_sums=sums
            )
        return store[key]

    @_shared
    def rbar(self) -> float:
        """r-bar of the same-event-date groups (the daily tests' adjustment); NaN when
        same-date pairs exist but no two of them share enough estimation dates."""
        return self.rbar_info(0).value

    def cluster_pairs(self, mask: np.ndarray, span: int = 0) -> np.ndarray:
        """``M = sum_g n_g (n_g - 1)`` (ordered pairs in one cluster) per column of
        ``mask``, clusters of :meth:`cluster_index` ``(span)``."""
        counts = np.asarray(self.cluster_matrix(span) @ mask.astype(float))
        return (counts * (counts - 1.0)).sum(axis=0)

    @_shared
    def grank_prep(self) -> _GrankPrep:
        return _GrankPrep(self)


class _GrankPrep:
    """Estimation-window GRANK ingredients, computed once per call (internal).

    The estimation SARs ``e_it / s_i`` of a pair have the order of its residuals, so
    their row order is read off the combined sort of :attr:`_Parts._full_sort` (the
    event-window columns dropped); ties are taken on the SARs themselves.

    Attributes: ``sv`` sorted SARs (NaN last), ``li`` finite and ``nn`` non-NaN counts,
    ``inv`` the weights ``1/(L_i+2)``, ``q`` (column order) ``1 +`` the number of the
    row's SARs strictly below each SAR (0 where NaN), ``base`` = ``sum_i K_it/(L_i+2)``
    over finite SARs and ``n_t``. (An infinite SAR is ranked but not counted in
    ``L_i``, as before this module was vectorised over days.)
    """

    def __init__(self, p: _Parts) -> None:
        order, xs, _, n_col = p._full_sort
        n, l1 = p.n_pairs, p.l1
        self.s = np.sqrt(p.s2)
        order_e = np.empty((n, l1), dtype=order.dtype if kernels.enabled(n) else np.intp)
        self.sv = np.empty((n, l1))
        fin = np.empty((n, l1), dtype=bool)
        self.li = np.empty(n, dtype=np.intp)
        self.nn = np.empty(n, dtype=np.intp)

        def split(a: int, b: int) -> None:  # the estimation columns of rows a..b-1
            is_e = order[a:b] < l1
            order_e[a:b] = order[a:b][is_e].reshape(b - a, l1)
            sv = xs[a:b][is_e].reshape(b - a, l1)
            np.divide(sv, self.s[a:b, None], out=self.sv[a:b])  # = est_sar, sorted
            np.isfinite(self.sv[a:b], out=fin[a:b])
            self.li[a:b] = np.count_nonzero(fin[a:b], axis=1)
            self.nn[a:b] = l1 - np.count_nonzero(np.isnan(self.sv[a:b]), axis=1)

        self.qtype = np.uint8 if l1 < 255 else np.uint16 if l1 < 65535 else np.int64
        self.q_never = np.iinfo(self.qtype).max  # a "b" that no q exceeds
        jit = kernels.jit() if kernels.enabled(n) else None
        if jit is not None:  # split and q (below) in one compiled pass per row block
            s = np.ascontiguousarray(self.s)
            li64, nn64 = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
            q = np.empty((n, l1), dtype=self.qtype)

            def split_compiled(a: int, b: int) -> bool:
                return jit.grank_split(
                    order[a:b], xs[a:b], l1, s[a:b], self.sv[a:b], order_e[a:b],
                    li64[a:b], nn64[a:b], q[a:b],
                )  # fmt: skip

            tied = any(kernels.by_blocks(n, split_compiled))
            self.li[:], self.nn[:] = li64, nn64
        else:
            _by_rows(n, split)
        self.inv = 1.0 / (self.li + 2.0)  # L_i estimation values + the event value, + 1
        plain = bool((self.nn == self.li).all())  # no infinite SAR (none ranked unused)
        n_t = n_col[:l1]  # non-NaN per estimation day: the finite ones if plain
        if jit is not None and (not plain or n_t.sum() != self.li.sum()):
            np.isfinite(self.sv, out=fin)  # the numpy split fills it on the way
        if not plain or n_t.sum() != self.li.sum():
            n_t = np.bincount(order_e[fin], minlength=l1)
        self.n_t = n_t.astype(float)
        if jit is not None:  # ranks only if they are needed
            if tied or not plain:
                ranks, _, _ = _sorted_ranks(self.sv)
                np.isfinite(self.sv, out=fin)
        else:
            ranks, lo, tied = _sorted_ranks(self.sv)
            q = None
        if tied or not plain:  # sum_i K_it/(L_i+2) by column, from sorted positions
            unif = ranks * self.inv[:, None]
            unif *= fin
            base = np.bincount(order_e.ravel(), weights=unif.ravel(), minlength=l1)
        if q is None:
            q = self._scatter_q(order_e, lo, tied)
        self.q = q.reshape(n, l1)
        # rows grouped by weight: the comparison counts are summed in uint8 blocks
        perm = np.argsort(self.li, kind="stable")
        self.perm = perm
        self.qp = self.q[perm]
        li_p = self.li[perm]
        cut = np.flatnonzero(np.diff(li_p)) + 1
        starts = np.r_[0, cut][: int(n > 0) + cut.size]
        stops = np.r_[cut, n][: starts.size]
        self.groups = list(
            zip(starts.tolist(), stops.tolist(), self.inv[perm][starts].tolist(), strict=True)
        )
        if not (tied or not plain):  # ranks are q: integer column sums per weight group
            base = np.zeros(l1)
            for start, stop, wgt in self.groups:
                base += wgt * np.add.reduce(self.qp[start:stop], axis=0, dtype=np.int64)
        self.base = base

    def _scatter_q(self, order_e: np.ndarray, lo: np.ndarray, tied: bool) -> np.ndarray:
        """``q`` (flat, column order) from the sorted positions; overwrites ``order_e``."""
        n, l1 = order_e.shape
        q = np.empty(n * l1, dtype=self.qtype)
        ranked = np.arange(l1) < self.nn[:, None]
        lo1 = (lo + 1).astype(self.qtype) if tied else np.arange(1, l1 + 1, dtype=self.qtype)

        def scatter(a: int, b: int) -> None:  # q in column order, rows a..b-1
            oe = order_e[a:b]
            oe += (np.arange(a, b) * l1)[:, None]  # now flat positions
            val = np.multiply(ranked[a:b], lo1[a:b] if tied else lo1)
            q[oe.ravel()] = val.ravel()

        _by_rows(n, scatter)
        return q

    def without(self, est: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(base, n_t)`` with the pairs ``rows`` (a few, typically) left out."""
        est_sar = est[rows] / self.s[rows, None]
        fin = np.isfinite(est_sar)
        ranks = np.where(fin, _rank_rows(est_sar), 0.0)
        return self.base - self.inv[rows] @ ranks, self.n_t - fin.sum(axis=0)

    def above(self, b: np.ndarray) -> np.ndarray:
        """``sum_i 1[q_it > b_ij] / (L_i+2)`` for every (j, t): ``(J, L1)``."""
        n_j = b.shape[1]
        bp = b[self.perm]
        out = np.zeros((n_j, self.q.shape[1]))
        block = 255  # uint8 partial sums cannot overflow
        tasks = [
            (g, k, min(k + block, stop))
            for g, (start, stop, _) in enumerate(self.groups)
            for k in range(start, stop, block)
        ]
        # integer counts per weight group (exact in any order): blocks on a few threads
        n_w = max(1, min(_n_threads(), len(tasks) // 8))
        accs = np.zeros((n_w, len(self.groups)) + out.shape, dtype=np.int64)

        def count(w: int) -> None:
            for g, k, kk in tasks[w::n_w]:
                hit = self.qp[k:kk, None, :] > bp[k:kk, :, None]
                accs[w, g] += np.add.reduce(hit.view(np.uint8), axis=0, dtype=np.uint8)

        if n_w == 1:
            count(0)
        else:
            list(_pool().map(count, range(n_w)))
        acc_g = accs.sum(axis=0)
        for g, (_, _, wgt) in enumerate(self.groups):
            out += wgt * acc_g[g]
        return out


#: Fewest estimation dates two pairs must both observe for their residual correlation to
#: enter r-bar. A correlation over T common dates has a standard error of about
#: ``(1 - r^2)/sqrt(T)``; 30 dates bound it by 0.18, while the engine's default
#: estimation window (240 sessions) gives far more. Pairs with less overlap are left out
#: of the average (their clusters still count in the adjustment, at the average r-bar
#: of the other pairs).
RBAR_MIN_OVERLAP: Final[int] = 30

#: Largest cluster whose pairwise correlations are computed one by one (``n_g^2`` of
#: them, each over the dates both pairs observe) when some of its pairs miss dates;
#: larger incomplete clusters use the pooled form of :func:`calendar_rbar` (exact for
#: complete data, a close approximation with a few missing dates), which costs
#: ``O(n_g D)`` instead of ``O(n_g^2 D)``.
RBAR_PAIRWISE_MAX: Final[int] = 1000


@dataclass(frozen=True)
class RBar:
    """Kolari-Pynnonen r-bar and how it was obtained (see :func:`calendar_rbar`).

    ``value``: the average correlation (0.0 when no two pairs share a cluster, NaN when
    they do but no two of them share :data:`RBAR_MIN_OVERLAP` estimation dates);
    ``n_corr``: pairwise correlations averaged; ``n_short``: same-cluster pairs left
    out for too little overlap; ``min_overlap``: the fewest common dates among the
    pairs used; ``approximate``: whether some cluster used the pooled form with
    missing dates; ``note``: why ``value`` is NaN or 0 (empty otherwise).
    """

    value: float
    n_corr: int
    n_short: int
    min_overlap: int
    approximate: bool
    note: str


def _overlap_clusters(event_dates: np.ndarray, span: int) -> tuple[np.ndarray, int]:
    """Connected components of "event dates at most ``span`` business days apart"."""
    d = np.asarray(event_dates).astype("datetime64[D]").ravel()
    n = d.size
    inv = np.empty(n, dtype=np.intp)
    nat = np.isnat(d)
    order = np.argsort(np.where(nat, np.datetime64("9999-12-31"), d), kind="stable")
    ok = order[~nat[order]]
    if ok.size:
        gaps = np.abs(np.busday_count(d[ok[:-1]], d[ok[1:]]))
        cid = np.concatenate([[0], np.cumsum(gaps > span)])
        inv[ok] = cid
        n_groups = int(cid[-1]) + 1
    else:
        n_groups = 0
    if nat.any():  # unknown dates: one cluster (as the same-date groups treat NaT)
        inv[nat] = n_groups
        n_groups += 1
    return inv, n_groups


def _one_calendar(dates: np.ndarray, ok: np.ndarray) -> bool:
    """Whether every pair has the same date in each estimation column it observes."""
    dates = np.asarray(dates).astype("datetime64[ns]")
    ok = ok & ~np.isnat(dates)
    first = np.where(ok, dates.view(np.int64), np.iinfo(np.int64).min).max(axis=0)
    return bool(((dates.view(np.int64) == first) | ~ok).all())


def _date_grid(est: np.ndarray, dates: np.ndarray | None) -> np.ndarray:
    """The rows of ``est`` on the union of their observed calendar dates, ``(n, D)``,
    NaN where a row has no residual on a date. Without ``dates`` (or when all rows carry
    the same date in every column) the columns already are the common dates."""
    if dates is None:
        return est
    dates = np.asarray(dates).astype("datetime64[ns]")
    ok = np.isfinite(est) & ~np.isnat(dates)
    if not ok.all():
        est = np.where(ok, est, np.nan)
    same = (dates == dates[:1]) | ~ok | np.isnat(dates[:1])
    if same.all():  # one calendar: the columns are the dates
        return est
    rows, cols = np.nonzero(ok)
    uniq, col = np.unique(dates[rows, cols], return_inverse=True)
    key = rows * uniq.size + col
    srt = np.sort(key)
    dup = np.flatnonzero(np.diff(srt) == 0)
    if dup.size:
        row, day = divmod(int(srt[dup[0]]), uniq.size)
        raise ValueError(
            f"est_dates repeats {np.datetime_as_string(uniq[day], unit='D')} in the "
            f"estimation window of pair {row} of its cluster; each residual needs its "
            "own date"
        )
    out = np.full((est.shape[0], uniq.size), np.nan)
    out[rows, col.ravel()] = est[rows, cols]
    return out


def _pairwise_corr(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlations of the rows of ``x`` over the columns both rows observe
    (pandas' ``DataFrame.corr()`` of the transposed matrix) and the common counts.
    ``x`` is ``(n, D)`` or a stack ``(B, n, D)`` of such matrices (one product each)."""
    m = np.isfinite(x)
    mf = m.astype(float)
    cnt = np.maximum(mf.sum(axis=-1), 1.0)
    mean = _div(np.where(m, x, 0.0).sum(axis=-1), cnt)
    x0 = np.where(m, x - mean[..., None], 0.0)
    n = x.shape[-2]
    mt = np.ascontiguousarray(np.swapaxes(mf, -1, -2))  # BLAS for stacked products
    # one product for the three sums over common dates: counts n_ij, s_x[i, j] = sum of
    # x_i over the dates j also observes, and s_xx the same for x_i^2
    stacked = np.concatenate([mf, x0, x0 * x0], axis=-2) @ mt
    n_ij, s_x, s_xx = stacked[..., :n, :], stacked[..., n : 2 * n, :], stacked[..., 2 * n :, :]
    s_xy = x0 @ np.ascontiguousarray(np.swapaxes(x0, -1, -2))
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = s_xy - s_x * np.swapaxes(s_x, -1, -2) / n_ij
        var = s_xx - s_x * s_x / n_ij
        r = cov / np.sqrt(var * np.swapaxes(var, -1, -2))
    return r, n_ij


def calendar_rbar(
    est: np.ndarray,
    est_dates: np.ndarray | None,
    cluster: np.ndarray,
    n_clusters: int,
    use: np.ndarray | None = None,
    *,
    min_overlap: int = RBAR_MIN_OVERLAP,
    group_sums: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> RBar:
    """Average correlation of estimation residuals within clusters, matched by date.

    Parameters
    ----------
    est : ndarray, shape (N, L1)
        Estimation residuals, NaN where missing.
    est_dates : ndarray of datetime64, shape (N, L1), or None
        Calendar date of each residual (NaT where missing). ``None``: the columns of
        ``est`` are taken as common dates (exact when all pairs trade on one calendar
        and share the event date).
    cluster : ndarray of int, shape (N,)
        Cluster of each pair (same event date, or overlapping windows).
    n_clusters : int
    use : ndarray of bool, shape (N,), optional
        Pairs allowed in (default: all); a pair with fewer than two residuals or a zero
        sd never enters.
    min_overlap : int, default :data:`RBAR_MIN_OVERLAP`
        Fewest common dates for a pair of pairs to enter the average.
    group_sums : (ndarray, ndarray, ndarray), optional
        ``(num, den, cnt)``: per cluster the numerator and denominator of the pooled
        form below, and per pair its residual count, from the compiled moment pass
        (valid only when ``est_dates`` is None or one calendar, so that the columns are
        the dates); used for complete clusters and large incomplete ones instead of
        recomputing them.

    Returns
    -------
    RBar

    Notes
    -----
    For pairs i and j of one cluster, :math:`r_{ij}` is the Pearson correlation of
    their residuals over the :math:`T_{ij}` calendar dates both observe (means and sds
    over those dates, as ``pandas.DataFrame.corr``), and

    .. math:: \\bar r = \\frac{1}{|P|}\\sum_{(i,j) \\in P} r_{ij},\\qquad
              P = \\{i<j \\text{ in one cluster}: T_{ij} \\ge T_{min}\\},

    Kolari and Pynnonen's (2010) average cross-correlation, computed on calendar dates
    rather than relative days (pairs whose estimation windows start on different dates,
    e.g. London vs New York holidays, have a different calendar day at each relative
    day). As numpy, per cluster of ``n_g`` pairs on its ``D`` dates::

        x0 = where(m, x - rowmean, 0); n = m @ m.T; sx = x0 @ m.T; sxx = x0**2 @ m.T
        r = (x0 @ x0.T - sx * sx.T / n) / sqrt((sxx - sx**2 / n) * (sxx - sx**2 / n).T)

    A cluster where every pair observes every date uses the equivalent
    :math:`O(n_g D)` form :math:`\\sum_t[(\\sum_i z_{it})^2 - \\sum_i z_{it}^2] /
    (n_g(n_g-1)(D-1))` (z standardized per row, ddof 1), which is exactly the mean of
    the pairwise correlations. An incomplete cluster of more than
    :data:`RBAR_PAIRWISE_MAX` pairs uses the same pooled form with each row standardized
    on its own dates and :math:`\\sum_{i \\ne j}(T_{ij} - 1)` in the denominator (an
    approximation; ``approximate`` is then True). Pairs that share a cluster but fewer
    than ``min_overlap`` dates are left out; if none is left, r-bar is NaN.

    References
    ----------
    .. [1] Kolari, J. W., Pynnonen, S. (2010). Event study testing with cross-sectional
       correlation of abnormal returns. Review of Financial Studies 23, 3996-4025.
    """
    est = np.asarray(est, dtype=float)
    n = est.shape[0]
    use = np.ones(n, dtype=bool) if use is None else np.asarray(use, dtype=bool)
    cluster = np.asarray(cluster)
    total, n_corr, n_short, approx = 0.0, 0, 0, False
    min_seen = np.iinfo(np.int64).max
    batch: dict[int, list[np.ndarray]] = {}
    sizes = np.bincount(cluster[use], minlength=n_clusters) if n else np.zeros(0, int)
    for g in np.flatnonzero(sizes >= 2):
        rows = np.flatnonzero((cluster == g) & use)
        n_g = rows.size
        if group_sums is not None:  # the columns are the dates: the compiled sums
            g_num, g_den, g_cnt = group_sums
            full = bool((g_cnt[rows] == est.shape[1]).all())
            if full or n_g > RBAR_PAIRWISE_MAX:
                if full and est.shape[1] < min_overlap:
                    n_short += n_g * (n_g - 1) // 2
                elif g_den[g] > 0:
                    total += float(g_num[g] / g_den[g]) * n_g * (n_g - 1.0)
                    n_corr += n_g * (n_g - 1) // 2
                    min_seen = min(min_seen, int(g_cnt[rows].min()))
                    approx = approx or not full
                continue
        if est_dates is None and n_g <= RBAR_PAIRWISE_MAX and not np.isfinite(est[rows]).all():
            batch.setdefault(n_g, []).append(rows)  # one stacked product per size below
            continue
        x = _date_grid(est[rows], None if est_dates is None else np.asarray(est_dates)[rows])
        m = np.isfinite(x)
        n_g, d = x.shape
        if m.all():  # every pair on every date: the O(n D) form is exact
            if d < min_overlap:
                n_short += n_g * (n_g - 1) // 2
                continue
            z = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, ddof=1, keepdims=True)
            num = float((z.sum(axis=0) ** 2).sum() - (z * z).sum())
            total += num / (d - 1.0)  # = the sum over ordered pairs of r_ij
            n_corr += n_g * (n_g - 1) // 2
            min_seen = min(min_seen, d)
            continue
        if n_g <= RBAR_PAIRWISE_MAX:
            r, n_ij = _pairwise_corr(x)
            iu = np.triu_indices(n_g, 1)
            r_u, n_u = r[iu], n_ij[iu]
            keep = (n_u >= min_overlap) & np.isfinite(r_u)
            n_short += int((~keep).sum())
            if keep.any():
                total += 2.0 * float(r_u[keep].sum())
                n_corr += int(keep.sum())
                min_seen = min(min_seen, int(n_u[keep].min()))
            continue
        approx = True  # pooled form over the cluster's dates
        cnt = m.sum(axis=1)
        z = np.where(m, x, 0.0)
        mean = _div(z.sum(axis=1), cnt)
        z -= mean[:, None]
        z *= m
        sd = np.sqrt(_div(np.einsum("ij,ij->i", z, z), cnt - 1))
        z /= sd[:, None]
        col = m.sum(axis=0).astype(float)
        num = float((z.sum(axis=0) ** 2).sum() - np.einsum("ij,ij->", z, z))
        den = float((col * col - col).sum()) - n_g * (n_g - 1.0)  # sum_{i!=j} (T_ij - 1)
        pairs = n_g * (n_g - 1) // 2
        if den > 0:
            total += num / den * 2.0 * pairs
            n_corr += pairs
            min_seen = min(min_seen, int(cnt.min()))
    for n_g, groups in batch.items():  # incomplete clusters on the column grid
        iu = np.triu_indices(n_g, 1)
        step = max(1, int(2**24 // (3 * n_g * max(est.shape[1], 1))))  # ~400 MB at most
        for k in range(0, len(groups), step):
            r, n_ij = _pairwise_corr(est[np.stack(groups[k : k + step])])
            r_u, n_u = r[:, iu[0], iu[1]], n_ij[:, iu[0], iu[1]]
            keep = (n_u >= min_overlap) & np.isfinite(r_u)
            n_short += int((~keep).sum())
            if keep.any():
                total += 2.0 * float(r_u[keep].sum())
                n_corr += int(keep.sum())
                min_seen = min(min_seen, int(n_u[keep].min()))
    if n_corr:
        return RBar(total / (2.0 * n_corr), n_corr, n_short, int(min_seen), approx, "")
    if n_short:
        note = (
            f"r-bar undefined: no two clustered pairs share {min_overlap} estimation "
            f"dates ({n_short} pair(s) with less overlap)"
        )
        return RBar(np.nan, 0, n_short, 0, False, note)
    return RBar(0.0, 0, 0, 0, False, "no two pairs share an event date: nothing to adjust")


def _kp_factors(rbar: float, m_pairs: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kolari-Pynnonen (2010) factors for Patell and BMP, generalised to partial clusters.

    With ``M`` ordered same-date pairs among ``n``: ``Var(sum SAR) = n + rbar M`` and
    ``E[s^2] = 1 - rbar M / (n (n-1))``. One cluster (``M = n(n-1)``) gives KP's
    ``sqrt((1 - rbar) / (1 + (n-1) rbar))``; no shared dates (``M = 0``) gives 1.
    """
    infl = 1.0 + rbar * _div(m_pairs, n)
    shrink = 1.0 - rbar * _div(m_pairs, n * (n - 1.0))
    f_patell = _div(1.0, np.sqrt(infl))
    f_bmp = np.sqrt(_div(shrink, infl))
    return f_patell, f_bmp


def _grank(parts: _Parts, event_sar: np.ndarray) -> list[tuple[float, float, int]]:
    """Kolari-Pynnonen (2011) GRANK for event "days" carrying ``event_sar`` (N, J).

    Each column's event observation (re-standardized by its cross-sectional sd) is
    ranked against each pair's estimation SARs; a column with fewer than
    :data:`GRANK_MIN_PAIRS` event values gets NaN. The estimation ranks are computed once
    per call; an event value only moves the estimation values above it up one rank (a
    tie half a rank). Its position in each row is found by a vectorised binary search
    of the sorted SARs, and the per-day column sums of the moved ranks by comparing small
    integer ranks, all event columns at once, so nothing is re-sorted per day.
    """
    n_j = event_sar.shape[1]
    res: list[tuple[float, float, int]] = [(np.nan, np.nan, 0)] * n_j
    ok0 = np.isfinite(event_sar)
    n0 = ok0.sum(axis=0)
    enough = n0 >= GRANK_MIN_PAIRS  # below it the re-standardization is too noisy
    sd = np.full(n_j, np.nan)
    for j in np.flatnonzero(enough):
        sd[j] = np.std(event_sar[ok0[:, j], j], ddof=1)
    run = np.flatnonzero(enough & (sd > 0))
    for j in np.flatnonzero(~(enough & (sd > 0))):
        res[j] = (np.nan, np.nan, int(n0[j]))
    if not run.size:
        return res
    g = parts.grank_prep
    x = event_sar[:, run] / sd[run]  # NaN where the pair has no event value
    ok = ok0[:, run]
    n, l1 = g.sv.shape
    a = _count_below(g.sv, g.nn, x, strict=True)  # estimation SARs below x
    nxt = g.sv.ravel()[np.minimum(a, l1 - 1) + (np.arange(n) * l1)[:, None]]
    if ((a < g.nn[:, None]) & (nxt == x)).any():  # x equals estimation values
        b = _count_below(g.sv, g.nn, x, strict=False)
    else:
        b = a
    # x < e_it  <=>  b <= lo_it  <=>  q_it > b; rows without an event value never count
    shift = g.above(np.where(ok, b, g.q_never).astype(g.qtype))
    t_len = parts.l1 + 1.0
    for col, j in enumerate(run):
        rows = ok[:, col]
        s_j = shift[col]
        tie = rows & (a[:, col] < b[:, col])
        if tie.any():  # half a rank for estimation values equal to the event value
            hit = g.q[tie] == (a[tie, col] + 1)[:, None]
            s_j = s_j + 0.5 * (g.inv[tie] @ hit)
        base, n_t = (g.base, g.n_t) if rows.all() else g.without(parts.est, ~rows)
        nj = int(n0[j])
        ubar_est = _div(base + s_j, n_t) - 0.5  # column means of U, estimation days
        # the event value's rank: 1 + L_i - #{e > x} - #{e == x} / 2
        k_ev = 1.0 + (g.li - g.nn)[rows] + 0.5 * (a[rows, col] + b[rows, col])
        ubar_ev = float((k_ev * g.inv[rows]).mean() - 0.5)
        ss = np.nansum((n_t / nj) * ubar_est**2) + ubar_ev**2
        s_u = float(np.sqrt(ss / t_len))
        z = float(ubar_ev / s_u) if s_u > 0 else np.nan  # KP 2011 eq. (12); |z| <= sqrt(T)
        rest = t_len - 1.0 - z**2
        t_stat = z * np.sqrt((t_len - 2.0) / rest) if rest > 0 else float(np.copysign(np.inf, z))
        res[j] = (float(t_stat), np.nan, nj)
    # the p-values of all columns in one call (elementwise: as one call per column)
    t_all = np.array([res[j][0] for j in run], dtype=float)
    p_all = _pvalue_t(t_all, t_len - 2.0)
    for j, pv in zip(run, p_all.tolist(), strict=True):
        res[j] = (res[j][0], float(pv), res[j][2])
    return res


def _put(res: dict[str, tuple[float, float, int]], name: str, *row: float) -> None:
    stat, pval, n_used = row
    res[name] = (float(stat), float(pval), int(n_used))


def _check_tests(tests: Sequence[str] | str, known: tuple[str, ...]) -> list[str]:
    if isinstance(tests, str):
        tests = [tests]
    tests = list(tests)
    bad = [t for t in tests if t not in known]
    if bad:
        raise ValueError(f"unknown test(s) {bad}; known: {', '.join(known)}")
    return tests


# --------------------------------------------------------------------------------------
# daily tests
# --------------------------------------------------------------------------------------


def daily_tests(
    panel: AbnormalPanel,
    tests: Sequence[str] = DAILY_TESTS,
    *,
    dates: Sequence[object] | pd.DatetimeIndex | None = None,
) -> pd.DataFrame:
    """Cross-sectional tests of the average abnormal return on each event-window day.

    Parameters
    ----------
    panel : AbnormalPanel
        Abnormal returns and variance ingredients of N (event, asset) pairs.
        ``panel.conventions`` selects textbook or estudy2 test formulas.
    tests : sequence of str, default :data:`DAILY_TESTS`
        Names of the tests to run (see the module docstring).
    dates : sequence of dates, optional
        Calendar dates of the event-window days (length ``L2``), for a panel whose pairs
        all share one event date and one calendar; fills the ``date`` column. Without
        it ``date`` is NaT.

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per (day, test): ``day`` (relative day), ``date``, ``test``,
        ``statistic``, ``pvalue`` (two-sided), ``n`` (pairs used that day) and
        ``mean_ar`` (the AAR over the pairs with an AR that day).

    Raises
    ------
    ValueError
        For an unknown test name, a ``dates`` of the wrong length, or ``dates`` given
        for pairs that do not share one event date.

    Notes
    -----
    For day ``t`` with ``n_t`` pairs, :math:`A_{it}` the AR, :math:`s_i^2` the residual
    variance, :math:`C_{it}` the diagonal of ``pe_cov`` and
    :math:`SAR_{it} = A_{it} / (s_i \\sqrt{C_{it}})`:

    * cross-sectional t: :math:`\\bar A_t / (s_t / \\sqrt{n_t})`, :math:`s_t` the
      cross-sectional sd of :math:`A_{it}`; t(n_t - 1).
    * Brown-Warner (crude dependence adjustment):
      :math:`\\bar A_t / S_t(\\bar A)`, :math:`S_t(\\bar A)` the sd (ddof 1) of the
      estimation-window daily AAR series of the same :math:`n_t` pairs (so a day with
      fewer pairs gets the larger scale of a smaller portfolio, about
      :math:`\\sqrt{N/n_t}` times the full panel's under independence, and pairs
      without an AR that day do not enter it); t(T - 1) with T estimation days.
      estudy2 (``brown_warner_1985``): one scale from all N pairs.
    * Brown-Warner under independence: :math:`\\bar A_t / (\\sqrt{\\sum_i s_i^2}/n_t)`
      (estudy2: all N pairs' ``var`` of residuals over N); N(0, 1).
    * Patell: :math:`\\sum_i SAR_{it} / \\sqrt{\\sum_i d_i/(d_i-2)}`, :math:`d_i` the
      residual degrees of freedom :math:`L_{1i} - k` (estudy2: :math:`L_{1i} - 2`, sums
      over all N pairs, a missing SAR replaced by the day's mean); N(0, 1).
    * BMP: :math:`\\overline{SAR}_t / (s(SAR_t)/\\sqrt{n_t})`; t(n_t - 1).
    * Kolari-Pynnonen: BMP times :math:`\\sqrt{(1-\\bar r)/(1+(n-1)\\bar r)}` and Patell
      over :math:`\\sqrt{1+(n-1)\\bar r}`, :math:`\\bar r` the average correlation of
      estimation residuals of pairs that share an event date, matched by calendar
      date (see :func:`residual_correlation`); pairs on different dates are treated as
      uncorrelated, so without shared dates the adjusted tests equal the plain ones.
    * sign: :math:`(w - n/2)/\\sqrt{n/4}`, w the number of positive ARs.
    * generalized sign: :math:`(w - n\\hat p)/\\sqrt{n \\hat p (1-\\hat p)}`,
      :math:`\\hat p` the mean over the day's pairs of their fraction of positive
      estimation residuals (estudy2: pooled over all pair-days of all pairs).
      Both sign tests take the exact binomial p-value (``scipy.stats.binomtest(w, n,
      p)``) below :data:`SIGN_EXACT_BELOW` pairs that day (textbook conventions), the
      normal one from it on; the statistic is the z above either way.
    * rank: ranks :math:`K_{it}` over the estimation and event windows,
      :math:`\\bar K_\\tau = n_\\tau^{-1}\\sum_i (K_{i\\tau} - (L_i+1)/2)`,
      :math:`S_K = \\sqrt{T^{-1}\\sum_\\tau \\bar K_\\tau^2}`, statistic
      :math:`\\bar K_0 / S_K`; T is the mean number of observations per pair
      (:math:`L_1 + L_2` with complete data). For event day t the sums over i (and
      T) run over the pairs ranked on day t only, on every day :math:`\\tau`, so
      :math:`S_K` is the dispersion of a mean rank of the same pairs. estudy2
      replaces a missing rank by the day's mean rank (``rowMeans(na.rm=TRUE) *
      ncol``), scaling :math:`\\bar K_\\tau` by :math:`N / n_\\tau`, over all N
      pairs.
    * modified rank: :math:`U_{it} = K_{it}/(L_i+1) - 1/2`,
      :math:`\\bar U_\\tau = n_\\tau^{-1/2}\\sum_i U_{i\\tau}`, statistic
      :math:`\\bar U_0 / \\sqrt{T^{-1}\\sum_\\tau \\bar U_\\tau^2}`, over the
      day's pairs as for rank (estudy2: row-mean imputation as above).
    * GRANK: ranks of generalized SARs (estimation :math:`e_{it}/s_i`, event day
      :math:`SAR_{i0}` re-standardized by its cross-sectional sd), uniform scores
      :math:`U_{it} = K_{it}/(L_i+1) - 1/2` on the :math:`T = L_1 + 1` points,
      :math:`Z = \\bar U_0 / S_{\\bar U}` with
      :math:`S_{\\bar U}^2 = T^{-1}\\sum_t (n_t/n) \\bar U_t^2`, reported as
      :math:`Z\\sqrt{(T-2)/(T-1-Z^2)}` ~ t(T-2). NaN (``n`` still the pairs
      available) when fewer than :data:`GRANK_MIN_PAIRS` (20) pairs have a SAR: the
      cross-sectional re-standardization is degenerate over a few pairs (null
      rejection at 5%: 29% with 2 pairs, 10% with 5, 7-8% with 10, 5.7-6.3% with 20).

    Sizes with missing data (20 pairs, 10 of them missing on each event day, 1,500
    null day-tests): brown_warner 5.0% and rank 4.7% (17.7% and 15.3% when the scale
    came from all N pairs), modified_rank 5.3%.

    References
    ----------
    .. [1] Brown, S. J., Warner, J. B. (1980). Measuring security price performance.
       Journal of Financial Economics 8, 205-258; (1985) Using daily stock returns,
       JFE 14, 3-31.
    .. [2] Patell, J. M. (1976). Corporate forecasts of earnings per share and stock
       price behavior. Journal of Accounting Research 14, 246-276.
    .. [3] Boehmer, E., Musumeci, J., Poulsen, A. B. (1991). Event-study methodology
       under conditions of event-induced variance. JFE 30, 253-272.
    .. [4] Kolari, J. W., Pynnonen, S. (2010). Event study testing with cross-sectional
       correlation of abnormal returns. Review of Financial Studies 23, 3996-4025.
    .. [5] Kolari, J. W., Pynnonen, S. (2011). Nonparametric rank tests for event
       studies. Journal of Empirical Finance 18, 953-971.
    .. [6] Corrado, C. J. (1989). A nonparametric test for abnormal security-price
       performance in event studies. JFE 23, 385-395.
    .. [7] Corrado, C. J., Zivney, T. L. (1992). The specification and power of the sign
       test in event study hypothesis tests using daily stock returns. JFQA 27, 465-478.
    .. [8] Cowan, A. R. (1992). Nonparametric event study tests. Review of Quantitative
       Finance and Accounting 2, 343-358.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from oilimpact.eventstudy.panel import AbnormalPanel
    >>> rng = np.random.default_rng(0)
    >>> n, l1, l2 = 20, 100, 3
    >>> panel = AbnormalPanel(
    ...     ids=pd.MultiIndex.from_product([["e"], range(n)], names=["event", "asset"]),
    ...     est_resid=rng.normal(0, 0.01, (n, l1)), n_est=np.full(n, l1), n_params=0,
    ...     sigma2=np.full(n, 1e-4), event_days=np.arange(-1, 2),
    ...     event_ar=rng.normal(0, 0.01, (n, l2)) + [0, 0.02, 0],
    ...     pe_cov=np.broadcast_to(np.eye(l2), (n, l2, l2)),
    ...     event_dates=np.full(n, np.datetime64("2025-12-17", "ns")))
    >>> out = daily_tests(panel, ["cross_sectional_t", "patell", "rank"])
    >>> print(out[out["day"] == 0][["test", "statistic", "n"]].round(2).to_string(index=False))
                 test  statistic  n
    cross_sectional_t      10.45 20
               patell       8.97 20
                 rank       5.44 20
    """
    tests = _check_tests(tests, DAILY_TESTS)
    p = _Parts(panel)
    days = np.asarray(panel.event_days)
    l2 = days.size
    date_col = _date_column(panel, dates, l2)

    ok = p.ar_ok
    mean_ar, n_ar = _col_mean(p.ar, ok)
    sar_ok = p.sar_ok
    n_sar = sar_ok.sum(axis=0)
    results: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def need(*names: str) -> bool:
        return any(t in tests for t in names)

    if need("cross_sectional_t"):
        sd = _col_sd(p.ar, ok)
        stat = _div(mean_ar * np.sqrt(n_ar), sd)
        results["cross_sectional_t"] = (stat, _pvalue_t(stat, n_ar - 1), n_ar)

    if need("brown_warner"):
        if p.estudy2:  # estudy2: one scale from all N pairs
            bw_sd, t_est = p.bw_sd
        else:  # the estimation-window AAR of the day's own pairs
            bw_sd, t_est = p.bw_scales(ok)
        stat = _div(mean_ar, bw_sd)
        results["brown_warner"] = (stat, _pvalue_t(stat, t_est - 1), n_ar)

    if need("brown_warner_indep"):
        var_ok = ok & np.isfinite(p.bw_var)[:, None]
        if p.estudy2:
            den = np.sqrt(np.nansum(p.bw_var)) / p.n_pairs
            stat = _div(mean_ar, den)
            n_used = n_ar
        else:
            m, n_used = _col_mean(p.ar, var_ok)
            den = _div(np.sqrt(np.where(var_ok, p.bw_var[:, None], 0.0).sum(axis=0)), n_used)
            stat = _div(m, den)
        results["brown_warner_indep"] = (stat, _pvalue_normal(stat), n_used)

    if need("patell", "adjusted_patell", "bmp", "adjusted_bmp"):
        w_ok = sar_ok & np.isfinite(p.patell_w)[:, None]
        if p.estudy2:
            sar_mean, _ = _col_mean(p.sar, sar_ok)
            num = sar_mean * p.n_pairs
            den = np.sqrt(np.nansum(p.patell_w))
            n_pat = n_sar
        else:
            num = np.where(w_ok, p.sar, 0.0).sum(axis=0)
            den = np.sqrt(np.where(w_ok, p.patell_w[:, None], 0.0).sum(axis=0))
            n_pat = w_ok.sum(axis=0)
        patell = _div(num, den)
        sar_mean, _ = _col_mean(p.sar, sar_ok)
        bmp = _div(sar_mean * np.sqrt(n_sar), _col_sd(p.sar, sar_ok))
        results["patell"] = (patell, _pvalue_normal(patell), n_pat)
        results["bmp"] = (bmp, _pvalue_t(bmp, n_sar - 1), n_sar)
        if need("adjusted_patell", "adjusted_bmp"):
            f_pat, f_bmp = _kp_factors(p.rbar, p.cluster_pairs(sar_ok), n_sar)
            stat = patell * f_pat
            results["adjusted_patell"] = (stat, _pvalue_normal(stat), n_pat)
            stat = bmp * f_bmp
            results["adjusted_bmp"] = (stat, _pvalue_t(stat, n_sar - 1), n_sar)

    if need("sign", "generalized_sign"):
        pos = (p.ar > 0) & ok
        w = _col_mean(pos.astype(float), ok)[0] * p.n_pairs if p.estudy2 else pos.sum(0)
        exact = not p.estudy2  # estudy2: the normal approximation, as the package
        stat = _div(w - 0.5 * n_ar, np.sqrt(0.25 * n_ar))
        pv = [
            _sign_pvalue(z, wt, nt, 0.5, exact)[0] for z, wt, nt in zip(stat, w, n_ar, strict=True)
        ]
        results["sign"] = (stat, np.array(pv, dtype=float), n_ar)
        ph = p.p_hat_for(ok)  # the day's own pairs
        stat = _div(w - n_ar * ph, np.sqrt(n_ar * ph * (1.0 - ph)))
        pv = [_sign_pvalue(*a, exact)[0] for a in zip(stat, w, n_ar, ph, strict=True)]
        results["generalized_sign"] = (stat, np.array(pv, dtype=float), n_ar)

    if need("rank", "modified_rank"):
        if p.estudy2:  # estudy2: missing ranks imputed, one scale from all N pairs
            kbar, ubar, s_k, s_u, n_t = p.rank_days
            ev = slice(p.l1, None)
            k0, u0, n0 = kbar[ev], ubar[ev], n_t[ev]
        else:  # each day against the time series of its own pairs' mean rank
            kbar, ubar, s_k, s_u, n0 = p.rank_sets(p.valid[:, None] & ~np.isnan(p.ar))
            ev = (np.arange(l2), p.l1 + np.arange(l2))
            k0, u0 = kbar[ev], ubar[ev]
        stat = _div(k0, s_k)
        results["rank"] = (stat, _pvalue_normal(stat), n0)
        stat = _div(u0, s_u)
        results["modified_rank"] = (stat, _pvalue_normal(stat), n0)

    if need("grank"):
        out = np.array(_grank(p, p.sar), dtype=float).reshape(l2, 3)
        results["grank"] = (out[:, 0], out[:, 1], out[:, 2])

    frames = []
    for name in tests:
        stat, pval, n_used = results[name]
        frames.append(
            pd.DataFrame(
                {
                    "day": days.astype(int),
                    "date": date_col,
                    "test": name,
                    "statistic": np.asarray(stat, dtype=float),
                    "pvalue": np.asarray(pval, dtype=float),
                    "n": np.asarray(n_used).astype(int),
                    "mean_ar": mean_ar,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=_DAILY_COLUMNS)
    out_df = pd.concat(frames, ignore_index=True)
    return out_df.sort_values(["day"], kind="stable", ignore_index=True)[_DAILY_COLUMNS]


def _date_column(
    panel: AbnormalPanel, dates: Sequence[object] | pd.DatetimeIndex | None, l2: int
) -> pd.DatetimeIndex:
    if dates is None:
        return pd.DatetimeIndex([pd.NaT] * l2, dtype="datetime64[ns]")
    idx = pd.DatetimeIndex(dates)
    if len(idx) != l2:
        raise ValueError(f"dates needs one date per event-window day ({l2}), got {len(idx)}")
    if np.unique(np.asarray(panel.event_dates).astype("datetime64[ns]")).size > 1:
        raise ValueError("dates given, but the pairs do not share one event date")
    return idx.as_unit("ns") if idx.tz is None else idx


# --------------------------------------------------------------------------------------
# multi-day windows
# --------------------------------------------------------------------------------------


def _window_label(lo: int, hi: int) -> str:
    def fmt(d: int) -> str:
        return f"+{d}" if d > 0 else str(d)

    return f"[{fmt(lo)},{fmt(hi)}]"


#: Pairs from which ``pooled="auto"`` runs the pooled (CAAR) tests. Below it the study is
#: read pair by pair (the single-series tests of the CAR table, valid for one pair):
#: with fewer than 10 pairs the BMP-type tests rest on a cross-sectional sd with fewer
#: than 9 degrees of freedom (t critical value above 2.26), the exact sign test cannot
#: reject at 5% at all below 6 pairs (n = 5, all of one sign: p = 0.0625), GRANK needs
#: :data:`GRANK_MIN_PAIRS`, and with pairs that share one event date (two prices of
#: nearly the same barrel) a handful of series add little information beyond their
#: own tests. ``pooled=True`` forces the tests at any n.
POOLED_MIN_PAIRS: Final[int] = 10

#: The sign tests use the exact binomial below this many pairs and the normal
#: approximation from it on (textbook conventions; estudy2 conventions keep the normal
#: approximation at every n, as estudy2 does). With 30 pairs the two two-sided p-values
#: agree within about 0.03 near the 5% level; at n = 4, all positive, the exact p is
#: 0.125 and the normal approximation 0.0455.
SIGN_EXACT_BELOW: Final[int] = 30

#: Tests that assume the pairs' abnormal returns are independent: their variance is
#: a sum of own variances (or a cross-sectional dispersion, or a binomial count), which
#: understates the variance of a mean over correlated pairs. Over-reject when the pairs
#: share an event date (size table in ``docs/methods-crosssection.md``).
INDEPENDENCE_TESTS: Final[tuple[str, ...]] = (
    "cross_sectional_t",
    "brown_warner_indep",
    "patell",
    "bmp",
    "sign",
    "generalized_sign",
)

#: Tests shown by default when the pairs are clustered (share an event date or have
#: windows that overlap in calendar time): each keeps its 5% size within [3%, 7%]
#: (measured 3.8% to 6.5%) in every cell of the one-date simulation of
#: ``benchmarks/bench_pooled_size.py`` (n = 2, 5, 10, 30; residual correlation 0, 0.5,
#: 0.9; 1,000 studies per cell). GRANK is left out: it rejected 6.5%, 10.0% and 0.0%
#: of one-date studies of 30 pairs at correlation 0, 0.5 and 0.9 (its cross-sectional
#: re-standardization of the event SARs is degenerate when the pairs move together).
CLUSTER_ROBUST_TESTS: Final[tuple[str, ...]] = (
    "brown_warner",
    "adjusted_patell",
    "adjusted_bmp",
    "rank",
    "modified_rank",
)

#: Why a test that is neither in :data:`CLUSTER_ROBUST_TESTS` nor independence-assuming
#: is not shown by default for clustered pairs.
_HIDDEN_WHY: Final[dict[str, str]] = {
    "grank": "GRANK: size 0-10% at 30 pairs on one date in the size simulation",
}

#: The ``note`` of an independence-assuming test shown for clustered pairs.
INDEPENDENCE_NOTE: Final[str] = "assumes independent pairs; invalid for clustered event dates"

#: Columns of :func:`cross_sectional_tests`.
WINDOW_COLUMNS: Final[list[str]] = [
    "window",
    "lo",
    "hi",
    "test",
    "statistic",
    "pvalue",
    "n",
    "caar",
    "rbar",
    "assumes_independence",
    "note",
]
_WINDOW_DTYPES = {
    "window": object,
    "lo": "int64",
    "hi": "int64",
    "test": object,
    "statistic": "float64",
    "pvalue": "float64",
    "n": "int64",
    "caar": "float64",
    "rbar": "float64",
    "assumes_independence": bool,
    "note": object,
}


@dataclass(frozen=True)
class PooledPlan:
    """What :func:`cross_sectional_tests` runs and shows, and why (see
    :func:`pooled_plan`).

    ``run``: whether any pooled test is computed; ``clustered``: whether two pairs share
    an event date or windows that overlap in calendar time; ``tests``: the tests
    computed, in output order; ``hidden``: tests left out of the default set;
    ``notes``: sentences for the reader (why nothing ran, what was hidden and how to
    ask for it).
    """

    run: bool
    clustered: bool
    n_pairs: int
    tests: list[str]
    hidden: list[str]
    notes: list[str]


def pooled_plan(
    panel: AbnormalPanel,
    windows: Sequence[tuple[int, int]],
    tests: Sequence[str] | None = None,
    *,
    pooled: bool | Literal["auto"] = "auto",
    independence_tests: bool = False,
) -> PooledPlan:
    """Decide which pooled tests :func:`cross_sectional_tests` runs and shows.

    Parameters
    ----------
    panel : AbnormalPanel
    windows : sequence of (int, int)
        The windows to be tested (their lengths decide calendar overlap).
    tests : sequence of str, optional
        An explicit list is run as given (rows still flagged and noted); ``None`` lets
        the policy choose.
    pooled : bool or "auto"
        ``True`` runs the pooled tests at any number of pairs, ``False`` never, and
        ``"auto"`` from :data:`POOLED_MIN_PAIRS` pairs on.
    independence_tests : bool
        Also show :data:`INDEPENDENCE_TESTS` when the pairs are clustered.

    Returns
    -------
    PooledPlan

    Notes
    -----
    Policy with ``tests=None``: pairs that are not clustered (all event dates more
    than a window's length apart in business days; pairs without a known event date,
    NaT, as from :func:`~oilimpact.eventstudy.models.fit_panel` without dates, do not count
    as clustered here, though the KP adjustment treats them as one cluster) get every
    test of
    :data:`WINDOW_TESTS`; clustered pairs get :data:`CLUSTER_ROBUST_TESTS`, plus
    :data:`INDEPENDENCE_TESTS` (noted :data:`INDEPENDENCE_NOTE`) only with
    ``independence_tests=True``. ``grank`` is run for clustered pairs only when named:
    its size in the one-date simulation (``docs/methods-crosssection.md``) leaves
    [3%, 7%].

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from oilimpact.eventstudy.panel import AbnormalPanel
    >>> panel = AbnormalPanel(
    ...     ids=pd.MultiIndex.from_product([["e"], ["brent", "wti"]], names=["event", "asset"]),
    ...     est_resid=np.zeros((2, 5)), n_est=np.full(2, 5), n_params=0,
    ...     sigma2=np.ones(2), event_days=np.arange(2), event_ar=np.zeros((2, 2)),
    ...     pe_cov=np.broadcast_to(np.eye(2), (2, 2, 2)),
    ...     event_dates=np.full(2, np.datetime64("2025-12-17", "ns")))
    >>> print(pooled_plan(panel, [(0, 1)]).notes[0])
    pooled tests not run: 2 pairs, fewer than 10 (pooled='auto'); pass pooled=True to run them
    """
    if pooled not in (True, False, "auto"):
        raise ValueError(f"pooled must be True, False or 'auto', got {pooled!r}")
    n = int(panel.n_pairs)
    explicit = tests is not None
    chosen = _check_tests(WINDOW_TESTS if tests is None else tests, WINDOW_TESTS)
    spans = [int(hi) - int(lo) for lo, hi in windows]
    span = max(spans, default=0)
    inv, n_groups = _overlap_clusters(panel.event_dates, span)
    known = ~np.isnat(np.asarray(panel.event_dates).astype("datetime64[D]").ravel())
    clustered = bool(known.sum() >= 2 and np.bincount(inv[known]).max() >= 2)
    if pooled is False or (pooled == "auto" and n < POOLED_MIN_PAIRS):
        why = "pooled=False" if pooled is False else "pooled='auto'"
        extra = "" if pooled is False else f", fewer than {POOLED_MIN_PAIRS}"
        note = (
            f"pooled tests not run: {n} pair{'s' * (n != 1)}{extra} ({why}); "
            "pass pooled=True to run them"
        )
        return PooledPlan(False, clustered, n, [], [], [note])
    notes: list[str] = []
    hidden: list[str] = []
    if clustered and not explicit:
        keep = set(CLUSTER_ROBUST_TESTS) | (
            set(INDEPENDENCE_TESTS) if independence_tests else set()
        )
        hidden = [t for t in chosen if t not in keep]
        chosen = [t for t in chosen if t in keep]
        indep = [t for t in hidden if t in INDEPENDENCE_TESTS]
        other = [t for t in hidden if t not in INDEPENDENCE_TESTS]
        if indep:
            notes.append(
                f"pairs share event dates (or windows overlap in calendar time): not shown, "
                f"as they assume independent pairs: {', '.join(indep)} "
                "(independence_tests=True shows them, labelled)"
            )
        for t in other:
            notes.append(
                f"not shown by default for clustered pairs: {_HIDDEN_WHY.get(t, t)} "
                "(name it in tests= to run it)"
            )
    if clustered and any(t in INDEPENDENCE_TESTS for t in chosen):
        notes.append(f"rows with assumes_independence: {INDEPENDENCE_NOTE}")
    if n < POOLED_MIN_PAIRS:
        notes.append(f"pooled tests forced on {n} pairs (pooled=True)")
    return PooledPlan(True, clustered, n, chosen, hidden, notes)


def _attach(frame: pd.DataFrame, plan: PooledPlan) -> pd.DataFrame:
    """The plan's notes and decisions in ``frame.attrs`` (for the engine to print)."""
    frame.attrs["notes"] = list(plan.notes)
    frame.attrs["pooled"] = {
        "run": plan.run,
        "clustered": plan.clustered,
        "n_pairs": plan.n_pairs,
        "min_pairs": POOLED_MIN_PAIRS,
        "hidden": list(plan.hidden),
    }
    return frame


def _sign_pvalue(stat: float, w: float, n: int, prob: float, exact: bool) -> tuple[float, str]:
    """Two-sided p-value of a sign test with ``w`` of ``n`` positive, success
    probability ``prob``, and a note on the method: the exact binomial
    (``scipy.stats.binomtest``, two-sided by the likelihood ordering of its outcomes)
    below :data:`SIGN_EXACT_BELOW` pairs when ``exact``, the normal approximation of the
    z statistic ``stat`` otherwise."""
    if exact and 0 < n < SIGN_EXACT_BELOW and 0.0 < prob < 1.0:
        pv = float(stats.binomtest(int(round(w)), int(n), float(prob)).pvalue)
        return pv, f"exact binomial p-value (n = {n} < {SIGN_EXACT_BELOW})"
    return float(_pvalue_normal(stat)), ""


def _nan_reason(name: str, n: int, known: str) -> str:
    """Why a test's statistic or p-value is NaN (never a bare NaN)."""
    if known:
        return ""
    if n == 0:
        return "no pair has an abnormal return on every day of the window"
    if name == "grank" and n < GRANK_MIN_PAIRS:
        return f"GRANK needs {GRANK_MIN_PAIRS} pairs, got {n}"
    if name in ("cross_sectional_t", "bmp", "adjusted_bmp") and n < 2:
        return f"needs 2 pairs for a cross-sectional sd, got {n}"
    return "statistic undefined: its scale is 0 or missing for these pairs"


def cross_sectional_tests(
    panel: AbnormalPanel,
    windows: Sequence[tuple[int, int]],
    tests: Sequence[str] | None = None,
    *,
    pooled: bool | Literal["auto"] = "auto",
    independence_tests: bool = False,
) -> pd.DataFrame:
    """Cross-sectional tests of the cumulative average abnormal return over windows.

    Parameters
    ----------
    panel : AbnormalPanel
        Abnormal returns and variance ingredients of N (event, asset) pairs.
    windows : sequence of (int, int)
        Inclusive relative-day windows, e.g. ``[(0, 0), (0, 5), (-1, 1)]``.
    tests : sequence of str, optional
        Names of the tests to run, as given (flagged and noted like the default rows).
        ``None`` (default): the policy of :func:`pooled_plan` chooses.
    pooled : bool or "auto", default "auto"
        Run the pooled tests: ``True`` at any number of pairs, ``False`` never,
        ``"auto"`` from :data:`POOLED_MIN_PAIRS` (10) pairs on. When they are not run
        the frame is empty and ``attrs["notes"]`` says why.
    independence_tests : bool, default False
        With ``tests=None`` and clustered pairs (a shared event date, or windows that
        overlap in calendar time), also show :data:`INDEPENDENCE_TESTS`, noted
        :data:`INDEPENDENCE_NOTE`. Without clustering they are always shown.

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per (window, test), columns :data:`WINDOW_COLUMNS`: ``window``
        (``"[0,+5]"``), ``lo``, ``hi``, ``test``, ``statistic``, ``pvalue``
        (two-sided), ``n`` (pairs used), ``caar`` (mean CAR over the pairs with an AR
        on every day of the window), ``rbar`` (the Kolari-Pynnonen r-bar used, on the
        ``adjusted_patell`` and ``adjusted_bmp`` rows; NaN on the others),
        ``assumes_independence`` (the test is one of :data:`INDEPENDENCE_TESTS`) and
        ``note`` (why a statistic or p-value is NaN, e.g. ``"GRANK needs 20 pairs, got
        7"``; ``"exact binomial p-value (n = 7 < 30)"`` on small sign tests;
        :data:`INDEPENDENCE_NOTE` on independence-assuming tests of clustered pairs;
        empty otherwise). A window that no pair covers has ``n == 0`` and NaN
        statistics, p-values and ``caar``, with a note.

        ``attrs["notes"]`` is a list of sentences for the reader (why no pooled test
        ran, which tests were left out and how to ask for them) and
        ``attrs["pooled"]`` a dict ``{"run", "clustered", "n_pairs", "min_pairs",
        "hidden"}``; both are set on every frame returned, empty or not.

    Raises
    ------
    ValueError
        For an unknown test or a window outside the panel's event days.

    Notes
    -----
    A pair enters a window only when it has an AR on every day of it (as the engine's
    single-pair CAR, which is NaN otherwise): data that end, or a pair that misses a
    day, inside the window leave the pair out, and ``n`` counts the complete pairs.
    :math:`CAR_i = \\sum_{t\\in w} A_{it}` has variance :math:`s_i^2\\, 1' C_i 1`,
    ``C_i`` the window block of ``pe_cov`` (MacKinlay 1997, eq. 9), so
    :math:`SCAR_i = CAR_i / (s_i \\sqrt{1' C_i 1})`. With :math:`\\tau` window days
    and n complete pairs:

    * cross-sectional t: :math:`\\overline{CAR}/(s(CAR)/\\sqrt n)`; t(n-1).
    * Brown-Warner CDA: :math:`\\overline{CAR} / (\\sqrt{\\tau} S(\\bar A))`,
      :math:`S(\\bar A)` from the estimation-window AAR of the same n pairs (estudy2:
      of all N pairs); t(T-1).
    * Brown-Warner independence: :math:`\\overline{CAR} / (\\sqrt{\\tau \\sum_i
      s_i^2}/n)`; N(0, 1).
    * Patell: :math:`\\sum_i SCAR_i / \\sqrt{\\sum_i d_i/(d_i-2)}`; N(0, 1).
    * BMP: :math:`\\overline{SCAR}/(s(SCAR)/\\sqrt n)`; t(n-1).
    * Kolari-Pynnonen (2010) adjusted Patell and BMP over clusters of pairs whose
      windows share calendar days (event dates at most ``hi - lo`` business days
      apart; one date for a one-day window), with ``M`` the ordered same-cluster pairs
      among the n and :math:`\\bar r` = ``rbar`` from :func:`calendar_rbar` (residuals
      matched by calendar date)::

          f_patell = 1 / sqrt(1 + rbar * M / n)
          f_bmp = sqrt((1 - rbar * M / (n * (n - 1))) / (1 + rbar * M / n))

      (one cluster: KP's :math:`\\sqrt{(1-\\bar r)/(1+(n-1)\\bar r)}`).
    * sign and generalized sign on the signs of :math:`CAR_i` (:math:`\\hat p` from
      the daily estimation residuals of the window's pairs, Cowan 1992), statistic
      ``(w - n * p) / sqrt(n * p * (1 - p))``; p-value from the exact binomial
      ``scipy.stats.binomtest(w, n, p)`` (two-sided) below :data:`SIGN_EXACT_BELOW`
      pairs, the normal law from it on (estudy2 conventions: normal at every n).
    * rank (Cowan 1992): :math:`\\sum_{t\\in w}\\bar K_t / (\\sqrt{\\tau} S_K)`,
      :math:`\\bar K_t` and :math:`S_K` from the window's n pairs (as the daily test
      for one day's pairs); modified rank likewise with :math:`\\bar U_t`.
    * GRANK on the cumulative SAR: :math:`SCAR_i` re-standardized by its cross-sectional
      sd is ranked as one extra observation against the estimation SARs (Kolari-Pynnonen
      2011, section 2.2); NaN below :data:`GRANK_MIN_PAIRS` pairs.

    estudy2 conventions change the same test-level details as in :func:`daily_tests`
    (Patell denominator over all pairs, pooled :math:`\\hat p`, row-mean imputation of
    missing signs, and of missing estimation-day ranks within the window's pairs,
    Brown-Warner scale from all pairs); estudy2's own CAR tests (``car_brown_warner_1985``,
    ``car_lamb``, ``car_rank_test``) are different statistics and are not reproduced.

    References
    ----------
    .. [1] MacKinlay, A. C. (1997). Event studies in economics and finance. Journal of
       Economic Literature 35, 13-39.
    .. [2] Cowan, A. R. (1992). Nonparametric event study tests. Review of Quantitative
       Finance and Accounting 2, 343-358.
    .. [3] Kolari, J. W., Pynnonen, S. (2010, 2011); Boehmer, Musumeci, Poulsen (1991);
       Patell (1976); Brown and Warner (1980, 1985): see :func:`daily_tests`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from oilimpact.eventstudy.panel import AbnormalPanel
    >>> rng = np.random.default_rng(1)
    >>> n, l1, l2 = 30, 120, 5
    >>> panel = AbnormalPanel(
    ...     ids=pd.MultiIndex.from_product([["e"], range(n)], names=["event", "asset"]),
    ...     est_resid=rng.normal(0, 0.01, (n, l1)), n_est=np.full(n, l1), n_params=0,
    ...     sigma2=np.full(n, 1e-4), event_days=np.arange(-2, 3),
    ...     event_ar=rng.normal(0.01, 0.01, (n, l2)),
    ...     pe_cov=np.broadcast_to(np.eye(l2), (n, l2, l2)),
    ...     event_dates=np.full(n, np.datetime64("2025-12-17", "ns")))
    >>> out = cross_sectional_tests(panel, [(0, 0), (0, 2)], ["cross_sectional_t", "bmp"])
    >>> print(out[["window", "test", "statistic", "n"]].round(2).to_string(index=False))
    window              test  statistic  n
     [0,0] cross_sectional_t       3.87 30
     [0,0]               bmp       3.87 30
    [0,+2] cross_sectional_t       9.07 30
    [0,+2]               bmp       9.07 30
    >>> bool((out["pvalue"] < 0.001).all())
    True

    The default choice for 30 pairs that share one event date: only tests valid under
    cross-sectional correlation, and the reason.

    >>> out = cross_sectional_tests(panel, [(0, 2)])
    >>> out["test"].tolist()
    ['brown_warner', 'adjusted_patell', 'adjusted_bmp', 'rank', 'modified_rank']
    >>> out.attrs["pooled"]["hidden"][:2]
    ['cross_sectional_t', 'brown_warner_indep']
    """
    spans = [(int(lo), int(hi)) for lo, hi in windows]
    col_sets = [panel.window_index(span) for span in spans]  # checks every window
    plan = pooled_plan(panel, spans, tests, pooled=pooled, independence_tests=independence_tests)
    if not plan.run:
        return _attach(pd.DataFrame(columns=WINDOW_COLUMNS).astype(_WINDOW_DTYPES), plan)
    tests = plan.tests
    p = _Parts(panel)
    scars: list[np.ndarray] = []
    done: list[tuple[str, int, int, float, dict[str, tuple[float, float, int]]]] = []
    whys: list[dict[str, str]] = []
    rbars: list[float] = []
    need_rank = any(t in tests for t in ("rank", "modified_rank"))
    need_scar = any(
        t in tests for t in ("patell", "bmp", "adjusted_patell", "adjusted_bmp", "grank")
    )
    # a pair enters a window only with an AR on every day of it (as the engine's CAR)
    complete = np.column_stack(
        [p.ar_ok[:, cols].all(axis=1) for cols in col_sets] or [np.zeros(p.n_pairs, bool)]
    )
    if "brown_warner" in tests and not p.estudy2:
        bw_sds, bw_ts = p.bw_scales(complete)
    if need_rank:
        kbars, ubars, s_ks, s_us, _ = p.rank_sets(complete & p.valid[:, None])
    if need_scar:  # 1' C_i 1 over each window
        quads = panel.window_pe_sums(spans)

    for k, ((lo, hi), cols) in enumerate(zip(spans, col_sets, strict=True)):
        tau = cols.size
        has = complete[:, k]
        n = int(has.sum())
        car = np.where(has, p.ar[:, cols].sum(axis=1), np.nan)
        if need_scar:
            scar = car / np.sqrt(p.s2 * quads[:, k])
            sc_ok = np.isfinite(scar)
            n_sc = int(sc_ok.sum())
            scars.append(scar)
        caar = float(car[has].mean()) if n else np.nan
        res: dict[str, tuple[float, float, int]] = {}
        why: dict[str, str] = {}
        rb_val = np.nan

        if "cross_sectional_t" in tests:
            sd = float(np.std(car[has], ddof=1)) if n > 1 else np.nan
            stat = float(_div(caar * np.sqrt(n), sd))
            _put(res, "cross_sectional_t", stat, float(_pvalue_t(stat, n - 1)), n)
        if "brown_warner" in tests:
            bw_sd, t_est = p.bw_sd if p.estudy2 else (bw_sds[k], bw_ts[k])
            stat = float(_div(caar, np.sqrt(tau) * bw_sd))
            _put(res, "brown_warner", stat, float(_pvalue_t(stat, t_est - 1)), n)
            if n and t_est < 2:
                why["brown_warner"] = (
                    f"Brown-Warner needs 2 estimation days with these pairs, got {int(t_est)}"
                )
        if "brown_warner_indep" in tests:
            if p.estudy2:
                den = np.sqrt(tau * np.nansum(p.bw_var)) / p.n_pairs
                stat = float(_div(caar, den))
                n_used = n
            else:
                use = has & np.isfinite(p.bw_var)
                n_used = int(use.sum())
                den = np.sqrt(tau * p.bw_var[use].sum()) / n_used if n_used else np.nan
                stat = float(_div(car[use].mean(), den)) if n_used else np.nan
            _put(res, "brown_warner_indep", stat, float(_pvalue_normal(stat)), n_used)
        if any(t in tests for t in ("patell", "bmp", "adjusted_patell", "adjusted_bmp")):
            w_ok = sc_ok & np.isfinite(p.patell_w)
            if p.estudy2:
                num = scar[sc_ok].mean() * p.n_pairs if n_sc else np.nan
                patell = float(_div(num, np.sqrt(np.nansum(p.patell_w))))
                n_pat = n_sc
            else:
                patell = float(_div(scar[w_ok].sum(), np.sqrt(p.patell_w[w_ok].sum())))
                n_pat = int(w_ok.sum())
            sd = float(np.std(scar[sc_ok], ddof=1)) if n_sc > 1 else np.nan
            mean_sc = float(scar[sc_ok].mean()) if n_sc else np.nan
            bmp = float(_div(mean_sc * np.sqrt(n_sc), sd))
            _put(res, "patell", patell, float(_pvalue_normal(patell)), n_pat)
            _put(res, "bmp", bmp, float(_pvalue_t(bmp, n_sc - 1)), n_sc)
            if n_pat < n_sc:
                why["patell"] = "pairs with 2 or fewer residual degrees of freedom left out"
            if "adjusted_patell" in tests or "adjusted_bmp" in tests:
                # KP (2010) over the clusters of pairs whose windows share calendar days
                span = hi - lo
                rb = p.rbar_info(span)
                rb_val = rb.value
                mp = p.cluster_pairs(sc_ok[:, None], span)
                f_pat, f_bmp = _kp_factors(rb.value, mp, np.array([float(n_sc)]))
                stat = patell * float(f_pat[0])
                _put(res, "adjusted_patell", stat, float(_pvalue_normal(stat)), n_pat)
                stat = bmp * float(f_bmp[0])
                _put(res, "adjusted_bmp", stat, float(_pvalue_t(stat, n_sc - 1)), n_sc)
                if rb.note and not np.isfinite(rb.value):
                    why["adjusted_patell"] = why["adjusted_bmp"] = rb.note
                elif rb.approximate:
                    why["adjusted_patell"] = why["adjusted_bmp"] = (
                        "r-bar pooled over a large cluster with missing dates (approximate)"
                    )
        if "sign" in tests or "generalized_sign" in tests:
            pos = (car > 0) & has
            w = pos.sum() / n * p.n_pairs if (p.estudy2 and n) else float(pos.sum())
            exact = not p.estudy2  # estudy2: the normal approximation, as the package
            stat = float(_div(w - 0.5 * n, np.sqrt(0.25 * n)))
            pv, note = _sign_pvalue(stat, w, n, 0.5, exact)
            _put(res, "sign", stat, pv, n)
            why["sign"] = note
            ph = float(p.p_hat_for(has[:, None])[0])  # the window's own pairs
            stat = float(_div(w - n * ph, np.sqrt(n * ph * (1.0 - ph))))
            pv, note = _sign_pvalue(stat, w, n, ph, exact)
            _put(res, "generalized_sign", stat, pv, n)
            why["generalized_sign"] = note
            if n and not 0.0 < ph < 1.0:
                why["generalized_sign"] = f"p-hat is {ph:g}: no binomial test"
        if need_rank:  # the window's complete pairs on every day (Cowan 1992)
            n_rank = int((has & p.valid).sum())
            ev = p.l1 + cols
            stat = float(_div(kbars[k, ev].sum(), np.sqrt(tau) * s_ks[k]))
            _put(res, "rank", stat, float(_pvalue_normal(stat)), n_rank)
            stat = float(_div(ubars[k, ev].sum(), np.sqrt(tau) * s_us[k]))
            _put(res, "modified_rank", stat, float(_pvalue_normal(stat)), n_rank)
        done.append((_window_label(lo, hi), lo, hi, caar, res))
        whys.append(why)
        rbars.append(rb_val)

    if "grank" in tests and done:  # all windows in one batch
        for (*_, res), row in zip(done, _grank(p, np.column_stack(scars)), strict=True):
            _put(res, "grank", *row)
    rows: list[dict[str, object]] = []
    for (label, lo, hi, caar, res), why, rb_val in zip(done, whys, rbars, strict=True):
        for name in tests:
            stat, pval, n_used = res[name]
            notes = [why.get(name, "")]
            if not np.isfinite(stat) or not np.isfinite(pval):
                notes.append(_nan_reason(name, n_used, why.get(name, "")))
            if plan.clustered and name in INDEPENDENCE_TESTS:
                notes.append(INDEPENDENCE_NOTE)
            rows.append(
                {
                    "window": label,
                    "lo": lo,
                    "hi": hi,
                    "test": name,
                    "statistic": stat,
                    "pvalue": pval,
                    "n": n_used,
                    "caar": caar,
                    "rbar": rb_val if name in ("adjusted_patell", "adjusted_bmp") else np.nan,
                    "assumes_independence": name in INDEPENDENCE_TESTS,
                    "note": "; ".join(dict.fromkeys(x for x in notes if x)),
                }
            )
    return _attach(pd.DataFrame(rows, columns=WINDOW_COLUMNS).astype(_WINDOW_DTYPES), plan)


# --------------------------------------------------------------------------------------
# cross-correlation of residuals
# --------------------------------------------------------------------------------------


def residual_correlation(panel: AbnormalPanel) -> float:
    """Average pairwise correlation of estimation residuals among same-date pairs.

    The :math:`\\bar r` of Kolari and Pynnonen (2010), used by the ``adjusted_patell``
    and ``adjusted_bmp`` daily tests, with residuals matched by calendar date.

    Parameters
    ----------
    panel : AbnormalPanel
        ``panel.est_dates`` (when present) gives the calendar date of each residual;
        without it the estimation columns are taken as common dates.

    Returns
    -------
    float
        :math:`\\bar r`; 0.0 when no two pairs share an event date; NaN when some do
        but no two of them observe :data:`RBAR_MIN_OVERLAP` common estimation dates.

    Notes
    -----
    :func:`calendar_rbar` over the same-event-date groups: the mean, over pairs
    ``i < j`` with the same event date, of the Pearson correlation of their residuals
    on the calendar dates both observe (as ``pandas.DataFrame.corr`` of the residual
    series keyed by date). Pairs that share fewer than :data:`RBAR_MIN_OVERLAP` dates
    are left out. Windows of several days use clusters of overlapping windows instead
    (:func:`cross_sectional_tests`, the ``rbar`` column).

    References
    ----------
    .. [1] Kolari, J. W., Pynnonen, S. (2010). Event study testing with cross-sectional
       correlation of abnormal returns. Review of Financial Studies 23, 3996-4025.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from oilimpact.eventstudy.panel import AbnormalPanel
    >>> rng = np.random.default_rng(2)
    >>> common = rng.normal(size=(1, 250))
    >>> e = 0.5 * common + rng.normal(size=(4, 250))
    >>> panel = AbnormalPanel(
    ...     ids=pd.MultiIndex.from_product([["e"], range(4)], names=["event", "asset"]),
    ...     est_resid=e, n_est=np.full(4, 250), n_params=0, sigma2=np.ones(4),
    ...     event_days=np.arange(1), event_ar=np.zeros((4, 1)),
    ...     pe_cov=np.ones((4, 1, 1)), event_dates=np.full(4, np.datetime64("2020-01-02")))
    >>> c = np.corrcoef(e)
    >>> bool(np.isclose(residual_correlation(panel), c[np.triu_indices(4, 1)].mean()))
    True
    """
    p = _Parts(panel)
    return float(p.rbar)
