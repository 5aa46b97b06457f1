"""Kolari-Pynnonen (2011) generalized rank test (GRANK).

References
----------
Kolari, J. W., Pynnonen, S. (2011). Nonparametric rank tests for event studies. Journal
of Empirical Finance 18, 953-971.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from .. import kernels
from ._arrays import _by_rows, _count_below, _div, _pvalue_t, _rank_rows, _sorted_ranks

#: Fewest pairs with an event value for which GRANK is reported (below it the
#: statistic and p-value are NaN and ``n`` is still the pairs available). GRANK divides
#: the event SARs by their cross-sectional sd, which is degenerate over a handful of
#: pairs. Null rejection at 5% of the daily test (simulated panels of 100 estimation
#: and 5 event days, normal / t(4) residuals; 2,000 panels, 4,000 for 20 and 30 pairs):
#: 10.0% / 9.7% with 5 pairs, 7.2% / 7.9% with 10, 5.7% / 6.3% with 20 and
#: 5.6% / 5.8% with 30; 20 is the smallest measured count within [3.5%, 6.5%] for both
#: laws, daily and over 3- and 5-day windows (see ``docs/methods-crosssection.md``).
GRANK_MIN_PAIRS: Final[int] = 20


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

    def __init__(self, p: Any) -> None:  # p: the panel's _Parts
        order, xs, _, n_col = p._full_sort
        n, l1 = p.n_pairs, p.l1
        self.s = np.sqrt(p.s2)
        self.qtype = np.uint8 if l1 < 255 else np.uint16 if l1 < 65535 else np.int64
        self.q_never = np.iinfo(self.qtype).max  # a "b" that no q exceeds
        order_e = np.empty((n, l1), dtype=order.dtype if kernels.enabled(n) else np.intp)
        fin = np.empty((n, l1), dtype=bool)
        jit = kernels.jit() if kernels.enabled(n) else None
        q, tied = self._split(jit, order, xs, l1, order_e, fin)
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
        if tied or not plain:  # sum_i K_it/(L_i+2) by column, from sorted positions
            unif = ranks * self.inv[:, None]
            unif *= fin
            base = np.bincount(order_e.ravel(), weights=unif.ravel(), minlength=l1)
        if q is None:
            q = self._scatter_q(order_e, lo, tied)
        self.q = q.reshape(n, l1)
        self._group_by_weight(n)
        if not (tied or not plain):  # ranks are q: integer column sums per weight group
            base = np.zeros(l1)
            for start, stop, wgt in self.groups:
                base += wgt * np.add.reduce(self.qp[start:stop], axis=0, dtype=np.int64)
        self.base = base

    def _split(
        self, jit: Any, order: np.ndarray, xs: np.ndarray, l1: int, order_e: np.ndarray,
        fin: np.ndarray,
    ) -> tuple[np.ndarray | None, bool]:  # fmt: skip
        """The estimation columns of the sorted rows: ``sv`` (SARs, sorted), ``li``,
        ``nn``, their column order ``order_e`` and (numpy path) ``fin``; on the kernel
        path also ``q`` and whether some row has ties (else ``(None, False)``)."""
        n = order.shape[0]
        self.sv = np.empty((n, l1))
        self.li = np.empty(n, dtype=np.intp)
        self.nn = np.empty(n, dtype=np.intp)
        if jit is not None:  # split and q in one compiled pass per row block
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
            return q, tied

        def split(a: int, b: int) -> None:  # the estimation columns of rows a..b-1
            is_e = order[a:b] < l1
            order_e[a:b] = order[a:b][is_e].reshape(b - a, l1)
            sv = xs[a:b][is_e].reshape(b - a, l1)
            np.divide(sv, self.s[a:b, None], out=self.sv[a:b])  # = est_sar, sorted
            np.isfinite(self.sv[a:b], out=fin[a:b])
            self.li[a:b] = np.count_nonzero(fin[a:b], axis=1)
            self.nn[a:b] = l1 - np.count_nonzero(np.isnan(self.sv[a:b]), axis=1)

        _by_rows(n, split)
        return None, False

    def _group_by_weight(self, n: int) -> None:
        """Rows sorted by weight ``1/(L_i+2)`` (``perm``, ``qp``) and the runs of equal
        weight (``groups``: start, stop, weight): the comparison counts of
        :meth:`above` are summed in uint8 blocks within a run."""
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
        """``sum_i 1[q_it > b_ij] / (L_i+2)`` for every (j, t): ``(J, L1)``.

        Integer counts per weight group (exact in any order), in uint8 partial sums of
        at most 255 rows, on row blocks (:func:`oilimpact.eventstudy.kernels.by_blocks`)."""
        bp = b[self.perm]
        shape = (len(self.groups), b.shape[1], self.q.shape[1])

        def count(a: int, z: int) -> np.ndarray:  # rows a..z-1 of the weight-sorted grid
            acc = np.zeros(shape, dtype=np.int64)
            for g, (start, stop, _) in enumerate(self.groups):
                for k in range(max(start, a), min(stop, z), 255):
                    kk = min(k + 255, stop, z)
                    hit = self.qp[k:kk, None, :] > bp[k:kk, :, None]
                    acc[g] += np.add.reduce(hit.view(np.uint8), axis=0, dtype=np.uint8)
            return acc

        acc_g = np.sum(kernels.by_blocks(self.q.shape[0], count), axis=0)
        out = np.zeros(shape[1:])
        for g, (_, _, wgt) in enumerate(self.groups):
            out += wgt * acc_g[g]
        return out


def grank_scale(event_sar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``event_sar`` (N, J): the pairs with a value and the
    cross-sectional sd (ddof 1) that GRANK divides by (NaN below
    :data:`GRANK_MIN_PAIRS` values)."""
    ok0 = np.isfinite(event_sar)
    n0 = ok0.sum(axis=0)
    sd = np.full(event_sar.shape[1], np.nan)
    for j in np.flatnonzero(n0 >= GRANK_MIN_PAIRS):  # below: too noisy
        sd[j] = np.std(event_sar[ok0[:, j], j], ddof=1)
    return n0, sd


def _grank_sums(
    parts: Any, event_sar: np.ndarray, sd: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each column ``j`` of ``event_sar`` (all with ``sd[j] > 0``), sums over the
    pairs with an event value: ``(sum_i K_it/(L_i+2)`` over estimation days ``t`` with
    the event value ranked in, the pairs ranked on each day ``n_t``, and the event
    values' ``K_i0/(L_i+2)`` (one per pair)).

    The estimation ranks are computed once per call; an event value only moves the
    estimation values above it up one rank (a tie half a rank). Its position in each row
    is found by a vectorised binary search of the sorted SARs, and the per-day column
    sums of the moved ranks by comparing small integer ranks, all event columns at once,
    so nothing is re-sorted per day.
    """
    g = parts.grank_prep
    ok = np.isfinite(event_sar)
    x = event_sar / sd  # NaN where the pair has no event value
    n, l1 = g.sv.shape
    a = _count_below(g.sv, g.nn, x, strict=True)  # estimation SARs below x
    nxt = g.sv.ravel()[np.minimum(a, l1 - 1) + (np.arange(n) * l1)[:, None]]
    if ((a < g.nn[:, None]) & (nxt == x)).any():  # x equals estimation values
        b = _count_below(g.sv, g.nn, x, strict=False)
    else:
        b = a
    # x < e_it  <=>  b <= lo_it  <=>  q_it > b; rows without an event value never count
    shift = g.above(np.where(ok, b, g.q_never).astype(g.qtype))
    out = []
    for col in range(event_sar.shape[1]):
        rows = ok[:, col]
        s_j = shift[col]
        tie = rows & (a[:, col] < b[:, col])
        if tie.any():  # half a rank for estimation values equal to the event value
            hit = g.q[tie] == (a[tie, col] + 1)[:, None]
            s_j = s_j + 0.5 * (g.inv[tie] @ hit)
        base, n_t = (g.base, g.n_t) if rows.all() else g.without(parts.est, ~rows)
        # the event value's rank: 1 + L_i - #{e > x} - #{e == x} / 2
        k_ev = 1.0 + (g.li - g.nn)[rows] + 0.5 * (a[rows, col] + b[rows, col])
        out.append((base + s_j, n_t, k_ev * g.inv[rows]))
    return out


def _grank_stat(
    est_sum: np.ndarray, n_t: np.ndarray, ubar_ev: float, nj: int, t_len: float
) -> float:
    """GRANK t statistic from the column sums of :func:`_grank_sums` and the event
    day's mean score ``ubar_ev``.

    Notes
    -----
    :math:`\\bar U_t = n_t^{-1}\\sum_i K_{it}/(L_i+2) - 1/2` on the estimation days,
    :math:`S_{\\bar U}^2 = T^{-1}[\\sum_t (n_t/n)\\bar U_t^2 + \\bar U_0^2]` with
    :math:`T = L_1 + 1`, :math:`Z = \\bar U_0 / S_{\\bar U}` (Kolari-Pynnonen 2011,
    eq. 12; :math:`|Z| \\le \\sqrt{T}`) and :math:`t = Z\\sqrt{(T-2)/(T-1-Z^2)}`.
    """
    ubar_est = _div(est_sum, n_t) - 0.5  # column means of U, estimation days
    ss = np.nansum((n_t / nj) * ubar_est**2) + ubar_ev**2
    s_u = float(np.sqrt(ss / t_len))
    z = float(ubar_ev / s_u) if s_u > 0 else np.nan
    rest = t_len - 1.0 - z**2
    return z * np.sqrt((t_len - 2.0) / rest) if rest > 0 else float(np.copysign(np.inf, z))


def _grank(parts: Any, event_sar: np.ndarray) -> list[tuple[float, float, int]]:
    """Kolari-Pynnonen (2011) GRANK for event "days" carrying ``event_sar`` (N, J):
    ``(statistic, pvalue, n)`` per column.

    Each column's event observation (re-standardized by its cross-sectional sd,
    :func:`grank_scale`) is ranked against each pair's estimation SARs
    (:func:`_grank_sums`, :func:`_grank_stat`); t(T - 2). A column with fewer than
    :data:`GRANK_MIN_PAIRS` event values (or a zero sd) gets NaN.
    """
    n0, sd = grank_scale(event_sar)
    run = np.flatnonzero(sd > 0)
    res: list[tuple[float, float, int]] = [(np.nan, np.nan, int(k)) for k in n0]
    if not run.size:
        return res
    t_len = parts.l1 + 1.0
    sums = _grank_sums(parts, event_sar[:, run], sd[run])
    t_all = np.array(
        [
            _grank_stat(est_sum, n_t, float(kev.mean() - 0.5), int(n0[j]), t_len)
            for j, (est_sum, n_t, kev) in zip(run, sums, strict=True)
        ],
        dtype=float,
    )
    p_all = _pvalue_t(t_all, t_len - 2.0)  # elementwise: as one call per column
    for j, t_stat, pv in zip(run, t_all.tolist(), p_all.tolist(), strict=True):
        res[j] = (float(t_stat), float(pv), int(n0[j]))
    return res
